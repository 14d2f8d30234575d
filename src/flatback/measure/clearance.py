"""Lumbar clearance: the gap under the lower back, from the person's segmentation mask.

DESIGN.md, "Lumbar clearance": the largest gap between the underside contour of the
torso and the floor line over the lumbar span (20-60 % of the way from hip to
shoulder), divided by torso length. About 0.2 while the back arches, 0.0-0.04 flat.

The floor line here is the frame's own: the lower tangent of the underside through the
buttocks and the upper back (their contact with the floor), so a shifting camera or a
person sliding on the mat does not matter. Where the underside is hidden the reading
is "occluded", never a guess; the top contour at the waist then stands in, as a
secondary cue, reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from flatback.measure.geometry import BodyGeometry, floor_contact_x, lower_tangent, without_arms
from flatback.settings import ClearanceSettings
from flatback.types import Landmark as L
from flatback.types import PoseTrack


class ClearanceStatus(IntEnum):
    """Why a frame has, or has not, a clearance reading."""

    MEASURED = 0
    NO_POSE = 1  # no hips and shoulders
    NO_MASK = 2  # no segmentation under the lumbar span
    ARM = 3  # an arm lies along the underside of the lumbar span
    RAGGED_MASK = 4  # the underside contour is torn or jagged (loose clothing, poor mask)
    NO_FLOOR = 5  # no contact under buttocks and upper back to draw the floor through
    CAMERA_HIGH = 6  # the camera looks down on the person: the gap is out of sight
    NOT_LYING = 7  # the person is upright
    OBLIQUE = 8  # the camera stands off the side view: the gap is out of sight

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Clearance:
    """Per-frame lumbar readings, each (N,).

    ``ratio``: lumbar clearance in torso lengths, NaN unless ``status`` is MEASURED.
    ``waist_ratio``: height of the torso's top contour over the lumbar span above the
    floor line, torso lengths (the secondary cue, NaN where no floor line is known).
    ``camera_elevation_deg``: the clip's camera elevation above the floor plane,
    estimated from the 3-D hip axis (0 = floor level).
    """

    ratio: np.ndarray
    status: np.ndarray
    waist_ratio: np.ndarray
    camera_elevation_deg: float
    floor_line: np.ndarray  # (N, 2) the frame's floor tangent as (slope, intercept) in image px, NaN if none


def camera_elevation_deg(track: PoseTrack) -> float:
    """How far the camera looks down on a lying person, deg, from the 3-D hip axis.

    BlazePose's world landmarks share the camera's axes. The hip axis of a person lying
    on their back is horizontal; seen from a camera at floor level it points straight
    away from the camera, and from a raised camera it tilts upwards in the picture.
    """
    axis = track.world_xyz_m[:, L.RIGHT_HIP] - track.world_xyz_m[:, L.LEFT_HIP]
    ok = np.isfinite(axis).all(axis=1)
    if not ok.any():
        return float("nan")
    a = axis[ok]
    # which hip is far does not matter: the tilt's size is what counts
    tilt = np.degrees(np.arctan2(np.abs(a[:, 1]), np.hypot(a[:, 0], a[:, 2])))
    return float(np.median(tilt))


# The lumbar span, as fractions of the way from hip to shoulder (DESIGN.md's definition).
LUMBAR_SPAN = (0.2, 0.6)


def lumbar_span(hip_x: float, shoulder_x: float) -> tuple[float, float]:
    """x range of the lumbar span: 20-60 % of the way from hip to shoulder, px."""
    a = hip_x + LUMBAR_SPAN[0] * (shoulder_x - hip_x)
    b = hip_x + LUMBAR_SPAN[1] * (shoulder_x - hip_x)
    return min(a, b), max(a, b)


def frame_clearance(
    x_px: np.ndarray, bottom_y: np.ndarray, top_y: np.ndarray, xy: np.ndarray, shoulder: np.ndarray,
    hip: np.ndarray, torso_px: float, roll_deg: float, settings: ClearanceSettings, arm_underside_ratio: float,
) -> tuple[float, ClearanceStatus, float, tuple[float, float] | None]:
    """(clearance ratio, status, waist ratio, floor line) of one frame; see :class:`Clearance`."""
    nan = float("nan")
    if not (np.isfinite(shoulder).all() and np.isfinite(hip).all()):
        return nan, ClearanceStatus.NO_POSE, nan, None
    lo, hi = lumbar_span(hip[0], shoulder[0])
    span = (x_px >= lo) & (x_px <= hi)
    if span.sum() < 3 or np.isnan(bottom_y[span]).mean() > settings.max_hidden_fraction:
        return nan, ClearanceStatus.NO_MASK, nan, None
    bottom_no_arms = without_arms(x_px, bottom_y, xy, shoulder, hip, arm_underside_ratio)
    line = lower_tangent(x_px, bottom_no_arms, *floor_contact_x(hip[0], shoulder[0]))
    if line is not None and abs(np.degrees(np.arctan(line[0])) - roll_deg) > settings.max_floor_tilt_deg:
        line = None  # a line through something else (a hand, a cushion), not the floor
    waist = nan
    if line is not None:
        floor_y = line[0] * x_px[span] + line[1]
        top = top_y[span]
        if np.isfinite(top).any():
            waist = float(np.nanmax(floor_y - top) / torso_px)
    arm_hidden = np.isnan(bottom_no_arms[span]).mean() - np.isnan(bottom_y[span]).mean()
    if arm_hidden > settings.max_hidden_fraction:
        return nan, ClearanceStatus.ARM, waist, line
    if line is None:
        return nan, ClearanceStatus.NO_FLOOR, waist, None
    under = bottom_y[span]
    if np.isnan(under).mean() > settings.max_hidden_fraction:
        return nan, ClearanceStatus.NO_MASK, waist, line
    steps = np.abs(np.diff(under[np.isfinite(under)], n=2))
    if len(steps) and np.median(steps) > settings.ragged_ratio * torso_px:
        return nan, ClearanceStatus.RAGGED_MASK, waist, line
    gap = np.nanmax(line[0] * x_px[span] + line[1] - under)
    return float(max(gap, 0.0) / torso_px), ClearanceStatus.MEASURED, waist, line


def compute_clearance(
    track: PoseTrack, geometry: BodyGeometry, settings: ClearanceSettings, arm_underside_ratio: float,
) -> Clearance:
    """Lumbar clearance of every frame of a clip, in its torso lengths (``arm_underside_ratio``:
    ``geometry.arm_underside_ratio``, the same rule the floor line used)."""
    xy, shoulder, hip = geometry.xy_px, geometry.shoulder_px, geometry.hip_px
    # a frame's contact line must lie near the line most frames' contacts agree on (the
    # trunk's line can tilt from the floor with the head and shoulders lifted)
    clip_floor = geometry.floor
    roll_deg = clip_floor.contact_roll_deg if clip_floor.contact_roll_deg is not None else clip_floor.roll_deg
    lying = geometry.posture == "lying"
    n = len(track)
    ratio = np.full(n, np.nan)
    waist = np.full(n, np.nan)
    floor = np.full((n, 2), np.nan)
    status = np.full(n, int(ClearanceStatus.NO_MASK), np.int8)
    elevation = camera_elevation_deg(track)
    if not lying:
        return Clearance(ratio, np.full(n, int(ClearanceStatus.NOT_LYING), np.int8), waist, elevation, floor)
    if track.mask_bottom_y_px is not None and track.mask_top_y_px is not None:
        for i in range(n):
            r, st, w, line = frame_clearance(
                track.mask_x_px, track.mask_bottom_y_px[i], track.mask_top_y_px[i], xy[i], shoulder[i], hip[i],
                float(geometry.torso_px[i]), roll_deg, settings, arm_underside_ratio,
            )
            ratio[i], status[i], waist[i] = r, int(st), w
            if line is not None:
                floor[i] = line
    # the camera's place is the first reason the gap cannot be seen, mask or no mask: from
    # above or off the side it is out of sight whatever the outline shows
    seen = (status != ClearanceStatus.NO_POSE) & track.detected
    if np.isfinite(elevation) and elevation > settings.max_camera_elevation_deg:
        ratio[:] = np.nan
        status[seen] = int(ClearanceStatus.CAMERA_HIGH)
    elif geometry.view_corrected:  # off the side view the gap under the back is behind the body
        ratio[:] = np.nan
        status[seen] = int(ClearanceStatus.OBLIQUE)
    return Clearance(ratio, status, waist, elevation, floor)
