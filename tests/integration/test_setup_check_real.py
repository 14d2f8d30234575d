"""The live set-up check on real footage (each clip's cached pose track, frame by frame
through the LiveAnalyzer): what it says at the end of each clip, against what the clip's
labels and sources say about how it was filmed."""

from __future__ import annotations

import pytest

from flatback.pipeline.live import LiveAnalyzer
from flatback.pipeline.setup_check import SetupCheck


def final_items(track) -> dict[str, bool | None]:
    live, check = LiveAnalyzer(track.info), SetupCheck(track.info)
    items = []
    for i in range(len(track)):
        frame = track.frame(i)
        items = check.update(frame, live.update(frame))
    return {item.key: item.ok for item in items}


@pytest.mark.parametrize("clip, expected", [
    # floor-level side view, whole body, arms by the sides (labels: "lumbar partly hidden by the arm")
    ("double_leg_lift_studio.mp4", {"in_frame": True, "side_view": True, "camera_height": True, "arms": False}),
    ("double_leg_lift_home.mp4", {"in_frame": True, "side_view": True, "camera_height": True, "arms": False}),
    # feet leave the frame (labels: "lower legs/feet leave the frame at the right"); arms overhead
    ("double_leg_lift_arch_then_flat.mp4", {"in_frame": False, "camera_height": True, "arms": True}),
    # filmed from above (the camera elevation reads about 30 degrees: the near side hides the back)
    ("single_leg_lift.mp4", {"camera_height": False}),
])
def test_setup_check_on_real_clips(clip_track, clip, expected):
    got = final_items(clip_track(clip))
    assert {k: got[k] for k in expected} == expected, got
