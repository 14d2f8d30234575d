"""Replay a stored PoseTrack (keypoint file) frame by frame, in place of the model."""

from __future__ import annotations

from collections.abc import Iterator

from flatback.types import Frame, PoseFrame, PoseTrack


class ReplayPose:
    """A backend whose answers come from a recorded track, matched by frame index."""

    def __init__(self, track: PoseTrack):
        self.track = track
        self.name = f"replay:{track.backend}"

    def __call__(self, frame: Frame) -> PoseFrame:
        return self.track.frame(frame.index)

    def frames(self) -> Iterator[PoseFrame]:
        """All recorded frames in order (no images needed)."""
        for i in range(len(self.track)):
            yield self.track.frame(i)

    def close(self) -> None:
        pass
