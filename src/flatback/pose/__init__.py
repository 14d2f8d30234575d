"""Pose backends: one small interface, ``backend(frame) -> PoseFrame``.

``mediapipe`` (BlazePose full, in the wheel) is the default; ``replay`` plays back a
keypoint file so the analysis can re-run without the model. Only
``pose/mediapipe.py`` imports mediapipe.
"""

from __future__ import annotations

from typing import Protocol

from flatback.types import Frame, PoseFrame


class PoseBackend(Protocol):
    """Turns one frame into a PoseFrame; ``close()`` frees the model."""

    name: str

    def __call__(self, frame: Frame) -> PoseFrame: ...

    def close(self) -> None: ...
