"""Replay a stored PoseTrack (keypoint file) frame by frame, in place of the model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from flatback.types import Frame, PoseFrame, PoseTrack


class ReplayPose:
    """A backend whose answers come from a recorded track, matched by frame index (and
    given the frame's own time, as the model's answers are)."""

    def __init__(self, track: PoseTrack):
        self.track = track
        self.name = f"replay:{track.backend}"

    def __call__(self, frame: Frame) -> PoseFrame:
        return replace(self.track.frame(frame.index), t_s=frame.t_s)

    def frames(self) -> Iterator[PoseFrame]:
        """All recorded frames in order (no images needed)."""
        for i in range(len(self.track)):
            yield self.track.frame(i)

    def close(self) -> None:
        pass
