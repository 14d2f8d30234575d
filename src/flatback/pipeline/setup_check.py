"""The set-up check before a live set: what to change until all is green.

DESIGN.md's set-up, checked on the last ``serve.setup_window_s`` of frames with the
offline rules where they exist:

- ``in_frame``: the whole body (head, trunk, knees, feet) is in the picture
  (:func:`~flatback.measure.geometry.in_frame_visibility`, ``checks.max_out_of_frame_fraction``);
- ``side_view``: the camera faces the body's side (the 3-D skeleton's yaw,
  :func:`~flatback.measure.view.body_frame_3d`; without one, the 2-D shoulder-width ratio of
  :func:`~flatback.measure.checks.side_view_ratio`);
- ``camera_height``: the camera at floor height (the live analyzer's running median of
  :func:`~flatback.measure.clearance.camera_elevation_deg`'s hip-axis tilt, against
  ``clearance.max_camera_elevation_deg``: above it the gap under the back is out of sight);
- ``arms``: the arms do not lie along the lower back (the live clearance status "arm");
- ``back_flat``: the lower back pressed down (clearance at most ``back_lift.setup_flat_max_ratio``).

Each item is green (True), red (False) or not judged yet (None), with the words to say.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from flatback.measure.checks import side_view_ratio
from flatback.measure.geometry import in_frame_visibility
from flatback.measure.view import body_frame_3d, trunk_elevation_deg
from flatback.pipeline.live import LiveState
from flatback.settings import Settings
from flatback.types import Landmark as L
from flatback.types import PoseFrame, PoseTrack, VideoInfo

# Body parts the picture must hold, each seen by either side's landmark.
PARTS: dict[str, tuple[L, ...]] = {
    "head": (L.NOSE, L.LEFT_EAR, L.RIGHT_EAR),
    "shoulders": (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    "hips": (L.LEFT_HIP, L.RIGHT_HIP),
    "knees": (L.LEFT_KNEE, L.RIGHT_KNEE),
    "feet": (L.LEFT_ANKLE, L.RIGHT_ANKLE),
}

ITEMS = ("in_frame", "side_view", "camera_height", "arms", "back_flat")


@dataclass(frozen=True)
class SetupItem:
    """One check: ``key`` (one of :data:`ITEMS`), ``ok`` (None: not judged yet), ``text``."""

    key: str
    ok: bool | None
    text: str


def side_view_max_yaw_deg(picture_max_error_deg: float) -> float:
    """The camera's largest turn off the side view, deg, at which the picture's leg angle
    errs by at most ``picture_max_error_deg`` (the offline rule for trusting the picture).

    From a yaw ``y`` at floor height a leg at angle ``a`` reads ``atan(tan a / cos y)``;
    the error is largest near 45 degrees, so ``cos y = tan 45 / tan(45 + e)``.
    """
    return math.degrees(math.acos(1.0 / math.tan(math.radians(45.0 + picture_max_error_deg))))


class SetupCheck:
    """``SetupCheck(info, settings).update(pose_frame, live_state) -> list[SetupItem]``."""

    def __init__(self, info: VideoInfo, settings: Settings | None = None):
        self.info = info
        self.settings = settings or Settings()
        self._frames: deque[PoseFrame] = deque()
        self._status: deque[tuple[float, str, float]] = deque()  # t_s, clearance status, clearance ratio

    def update(self, frame: PoseFrame, state: LiveState) -> list[SetupItem]:
        window = self.settings.serve.setup_window_s
        self._frames.append(frame)
        self._status.append((frame.t_s, state.clearance_status, state.clearance_ratio))
        while self._frames and self._frames[0].t_s < frame.t_s - window:
            self._frames.popleft()
        while self._status and self._status[0][0] < frame.t_s - window:
            self._status.popleft()
        seen = [f for f in self._frames if np.isfinite(f.xy_px).all(axis=1).any()]
        if len(seen) < self.settings.serve.setup_min_frames:
            return [SetupItem("in_frame", False, "Nobody in the picture yet: lie down on your back, side-on to the camera.")] + [
                SetupItem(k, None, "Waiting to see you.") for k in ITEMS[1:]
            ]
        track = PoseTrack.from_frames(list(self._frames), self.info, "live")
        return [self._in_frame(track), self._side_view(track), self._camera_height(state.camera_elevation_deg), *self._back()]

    def _in_frame(self, track: PoseTrack) -> SetupItem:
        s = self.settings
        vis = in_frame_visibility(track.xy_px, track.visibility, self.info.width, self.info.height, 0.0)
        seen = vis >= s.geometry.min_visibility
        allowed = s.checks.max_out_of_frame_fraction
        missing = [name for name, points in PARTS.items() if 1.0 - float(seen[:, list(points)].any(axis=1).mean()) > allowed]
        if not missing:
            return SetupItem("in_frame", True, "Your whole body is in the picture.")
        return SetupItem("in_frame", False, f"Your {_words(missing)} {'is' if len(missing) == 1 else 'are'} out of the "
                         "picture: step the camera back, or turn it to landscape.")

    def _side_view(self, track: PoseTrack) -> SetupItem:
        g = self.settings.geometry
        lying = trunk_elevation_deg(track) <= g.lying_max_trunk_tilt_deg
        frame = body_frame_3d(track, lying) if lying.sum() >= 3 else None
        if frame is not None:
            limit = side_view_max_yaw_deg(g.picture_max_error_deg)
            if frame.yaw_deg <= limit:
                return SetupItem("side_view", True, "The camera sees you from the side.")
            return SetupItem("side_view", False, f"The camera stands {frame.yaw_deg:.0f} degrees off your side: move it "
                             "level with your hips, facing your side (within "
                             f"{limit:.0f} degrees).")
        ratio = side_view_ratio(track)
        if not math.isfinite(ratio):
            return SetupItem("side_view", None, "Lie down on your back, side-on to the camera.")
        if ratio <= self.settings.checks.front_view_ratio:
            return SetupItem("side_view", True, "The camera sees you from the side.")
        return SetupItem("side_view", False, "The camera sees your front, head or feet: turn it to face your side.")

    def _camera_height(self, elevation: float) -> SetupItem:
        """From the live analyzer's running elevation (the one its clearance reading uses)."""
        limit = self.settings.clearance.max_camera_elevation_deg
        if not math.isfinite(elevation):
            return SetupItem("camera_height", None, "Waiting to see your hips.")
        if elevation <= limit:
            return SetupItem("camera_height", True, "The camera is at floor height.")
        return SetupItem("camera_height", False, f"The camera looks down on you from about {elevation:.0f} degrees above the "
                         f"floor: put it on the floor (under {limit:.0f} degrees), or the gap under your back is out of sight.")

    def _back(self) -> list[SetupItem]:
        """The arms and the back, from the live clearance readings of the window."""
        statuses = [st for _, st, _ in self._status]
        read = [st for st in statuses if st not in ("no_pose", "not_lying")]
        if not read:
            return [SetupItem("arms", None, "Waiting to see you lying down."),
                    SetupItem("back_flat", None, "Waiting to see your lower back.")]
        arm_share = read.count("arm") / len(read)
        arms = (SetupItem("arms", False, "Your arms hide your lower back: fold them on your chest or put them overhead.")
                if arm_share > 0.5 else SetupItem("arms", True, "Your lower back is in sight."))
        ratios = [r for _, st, r in self._status if st == "measured" and math.isfinite(r)]
        if not ratios or len(ratios) < 0.5 * len(read):
            hidden = "camera_high" in read or "oblique" in read or arm_share > 0.5
            why = "fix the items above" if hidden else "keep still a moment"
            return [arms, SetupItem("back_flat", None, f"Cannot see the gap under your lower back yet: {why}.")]
        ratio = float(np.median(ratios))
        flat = self.settings.back_lift.setup_flat_max_ratio
        if ratio <= flat:
            return [arms, SetupItem("back_flat", True, "Your lower back is pressed flat.")]
        return [arms, SetupItem("back_flat", False, "Press your lower back into the floor: squish a grape under it "
                                f"(the gap reads {ratio:.2f} of your torso, flat is under {flat:.2f}).")]


def _words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


__all__ = ["ITEMS", "PARTS", "SetupCheck", "SetupItem", "side_view_max_yaw_deg"]
