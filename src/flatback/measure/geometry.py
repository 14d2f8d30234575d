"""Geometry: from image landmarks to body angles in the floor's frame of reference.

Conventions (DESIGN.md, "Measurements"):

- Floor line: the line the body lies on. Its direction comes from the tangent under
  the body's underside contact points (buttocks and upper back) in the segmentation
  mask, or, without a mask, from the trunk's hip-to-shoulder line; the camera may be
  rolled a few degrees and the person may face either way.
- Leg angle: between the floor line (pointing to the feet) and the hip-to-ankle line,
  deg: 0 = legs on the floor, 90 = vertical, above 90 = past vertical. For a person
  upright (hanging) the reference is straight down instead: 0 = hanging, 90 =
  horizontal.
- Knee flexion, hip flexion: 0 = straight. Trunk and head angles: 0 = along the floor.

All functions are pure: arrays in, new arrays out, NaN where a point is unseen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

import numpy as np

from flatback.errors import VideoContentError
from flatback.measure.view import (
    IDENTITY_VIEW,
    ViewCorrection,
    body_frame_3d,
    leg_angles_3d,
    trunk_elevation_deg,
    view_for,
)
from flatback.settings import GeometrySettings
from flatback.types import LEFT_RIGHT_PAIRS, Landmark, PoseTrack

L = Landmark

# Where the body rests on the floor, along the trunk from the hip (torso lengths): the
# buttocks lie a little beyond the hip joint, the upper back short of the shoulder.
BUTTOCKS_BEYOND_HIP = 0.25
UPPER_BACK_SHORT_OF_SHOULDER = 0.1


class LegSource(IntEnum):
    """What a frame's leg angle measures."""

    NONE = 0
    HIP_ANKLE = 1  # the hip-to-ankle line (DESIGN.md)
    THIGH = 2  # hip to knee only: the ankle is out of the picture
    HIP_ANKLE_ESTIMATED = 3  # the hip-to-ankle line to a hidden ankle the model placed inside the picture


def floor_contact_x(hip_x, shoulder_x):
    """(buttocks x, upper back x), px: the span under which the floor tangent is drawn."""
    return (hip_x + BUTTOCKS_BEYOND_HIP * (hip_x - shoulder_x),
            shoulder_x - UPPER_BACK_SHORT_OF_SHOULDER * (hip_x - shoulder_x))


@dataclass(frozen=True)
class AngleDef:
    """An angle between two segments, each given as (from, to) landmark names.

    The result is the angle from segment ``a`` to segment ``b``, deg, in [0, 180].
    """

    a: tuple[str, str]
    b: tuple[str, str]
    doc: str


# Joint angles measured in the image plane; 0 = segment b continues segment a (straight).
ANGLES: dict[str, AngleDef] = {
    "knee_flexion_left": AngleDef(("LEFT_HIP", "LEFT_KNEE"), ("LEFT_KNEE", "LEFT_ANKLE"), "0 = straight knee"),
    "knee_flexion_right": AngleDef(("RIGHT_HIP", "RIGHT_KNEE"), ("RIGHT_KNEE", "RIGHT_ANKLE"), "0 = straight knee"),
}


@dataclass(frozen=True)
class FloorLine:
    """The floor in image coordinates.

    ``roll_deg``: angle of the floor line to the image x axis (positive = clockwise on
    screen, image y points down). ``feet_sign``: +1 when the feet lie towards +x along the
    floor, -1 when towards -x. ``source``: "mask", "trunk" or "vertical" (upright).
    ``contact_roll_deg``: the tilt of the line through the body's floor contacts (buttocks
    and upper back) most frames agree on, whether or not it was taken as the floor for the
    leg angles; each frame's lumbar reading draws its floor through those contacts when
    they lie near it (None: the mask gave no such line).
    """

    roll_deg: float
    feet_sign: int
    source: Literal["mask", "trunk", "vertical"]
    contact_roll_deg: float | None = None

    @property
    def feet_dir(self) -> np.ndarray:
        """Unit vector along the floor towards the feet, image px."""
        r = np.deg2rad(self.roll_deg)
        return self.feet_sign * np.array([np.cos(r), np.sin(r)])

    @property
    def up_dir(self) -> np.ndarray:
        """Unit vector perpendicular to the floor, pointing up (away from it)."""
        r = np.deg2rad(self.roll_deg)
        return np.array([np.sin(r), -np.cos(r)])


# the picture as it shows the legs; the picture corrected for the camera's place (turned off
# the side or raised); the 3-D skeleton's own angles (from the feet or the head)
LegAnglesFrom = Literal["picture", "picture, corrected for the camera's place", "3-D skeleton"]


@dataclass(frozen=True)
class BodyGeometry:
    """Per-frame body measurements, each (N,), deg unless named otherwise.

    ``leg_angle_deg`` is the working leg(s): both legs averaged when they move together,
    the lifted one when they do not; ``leg_angle_left_deg`` / ``_right_deg`` are per leg
    after undoing the model's left/right swaps. ``leg_source`` (LegSource values) tells
    what was measured: none, hip-to-ankle, or thigh only (ankle unseen, e.g. feet out of frame).
    """

    t_s: np.ndarray
    posture: Literal["lying", "upright"]
    floor: FloorLine
    torso_length_px: float  # the clip's median, px
    torso_px: np.ndarray  # (N,) this moment's torso length (median over ZOOM_WINDOW_S), px: follows a zoom
    leg_angle_deg: np.ndarray
    leg_angle_left_deg: np.ndarray
    leg_angle_right_deg: np.ndarray
    thigh_left_deg: np.ndarray  # each thigh's angle (hip to knee), deg, measured as the leg angle is: the hip's own movement
    thigh_right_deg: np.ndarray
    leg_source: np.ndarray
    knee_flexion_deg: np.ndarray
    hip_flexion_deg: np.ndarray
    trunk_angle_deg: np.ndarray
    head_angle_deg: np.ndarray
    hip_height_ratio: np.ndarray
    view_yaw_deg: float  # camera off the side view (3-D skeleton), deg; NaN without one
    view_elevation_deg: float  # camera looking down on the floor (3-D skeleton), deg; NaN without one
    view: ViewCorrection  # how the picture shows the upright direction; identity unless corrected
    leg_angles_from: LegAnglesFrom  # what the leg angles were measured on
    xy_px: np.ndarray  # (N, 33, 2) landmarks after left/right repair, px
    shoulder_px: np.ndarray  # (N, 2) visibility-weighted shoulder midpoint, px
    hip_px: np.ndarray  # (N, 2) hip midpoint, px
    swapped: np.ndarray  # (N,) bool: left/right labels were exchanged in this frame
    cut: np.ndarray  # (N,) bool: a new shot starts at this frame (the body jumps in size or place)

    @property
    def view_corrected(self) -> bool:
        """Leg angles corrected for the camera's place (well off the side view, or raised)."""
        return self.view != IDENTITY_VIEW


def midpoint(xy: np.ndarray, vis: np.ndarray, a: int, b: int, min_vis: float) -> np.ndarray:
    """Visibility-weighted midpoint of landmarks a and b, (N, 2); NaN if neither is seen."""
    wa = np.where(vis[:, a] >= min_vis, vis[:, a], 0.0)[:, None]
    wb = np.where(vis[:, b] >= min_vis, vis[:, b], 0.0)[:, None]
    total = wa + wb
    with np.errstate(invalid="ignore", divide="ignore"):
        mid = (np.nan_to_num(xy[:, a]) * wa + np.nan_to_num(xy[:, b]) * wb) / total
    mid[total[:, 0] == 0] = np.nan
    return mid


def segment_angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between vectors a and b (N, 2), deg in [0, 180] (atan2 of cross and dot)."""
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    dot = (a * b).sum(axis=1)
    return np.degrees(np.abs(np.arctan2(cross, dot)))


def compute_angle(xy: np.ndarray, angle: AngleDef) -> np.ndarray:
    """One entry of :data:`ANGLES` for every frame, deg."""
    a = xy[:, Landmark[angle.a[1]]] - xy[:, Landmark[angle.a[0]]]
    b = xy[:, Landmark[angle.b[1]]] - xy[:, Landmark[angle.b[0]]]
    return segment_angle_deg(a, b)


def direction_angle_deg(vec: np.ndarray, along: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Angle of vectors (N, 2) measured from ``along`` towards ``up``, deg in (-180, 180]."""
    return np.degrees(np.arctan2(vec @ up, vec @ along))


def in_frame_visibility(xy: np.ndarray, vis: np.ndarray, width: int, height: int, margin_frac: float) -> np.ndarray:
    """Visibility with points outside the picture set to 0.

    BlazePose extrapolates joints that leave the frame (feet above the top edge, say),
    often with a confident visibility; an extrapolated ankle is a guess, not a measurement.
    """
    mx, my = margin_frac * width, margin_frac * height
    inside = (
        (xy[..., 0] >= -mx) & (xy[..., 0] <= width + mx) & (xy[..., 1] >= -my) & (xy[..., 1] <= height + my)
    )
    return np.where(inside, vis, 0.0).astype(np.float32)


def unswap_left_right(xy: np.ndarray, vis: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undo the pose model's left/right label swaps by continuity of the legs.

    A frame is swapped back when exchanging the labels moves the knees and ankles less
    than ``margin`` times the unexchanged motion since the previous frame. Returns the
    corrected (xy, vis) and a (N,) bool array marking the exchanged frames. A
    :class:`LeftRightRepair` run over the clip, the object live mode uses.
    """
    repair = LeftRightRepair(margin)
    rows = [repair.update(xy[i], vis[i]) for i in range(len(xy))]
    if not rows:
        return xy.copy(), vis.copy(), np.zeros(0, bool)
    return (
        np.stack([r[0] for r in rows]).astype(xy.dtype, copy=False),
        np.stack([r[1] for r in rows]).astype(vis.dtype, copy=False),
        np.array([r[2] for r in rows], bool),
    )


def lower_tangent(x: np.ndarray, bottom_y: np.ndarray, x_from: float, x_to: float) -> tuple[float, float] | None:
    """Line (slope, intercept) touching the body's underside from below between two x.

    It is the lower convex hull edge of the contour (image y grows downwards, so the
    hull is taken over the largest y) that spans the middle of [x_from, x_to]: under a
    lying person, the line through the buttocks and the upper back, i.e. the floor.
    """
    lo, hi = min(x_from, x_to), max(x_from, x_to)
    sel = (x >= lo) & (x <= hi) & np.isfinite(bottom_y)
    if sel.sum() < 5:
        return None
    px, py = x[sel].astype(float), bottom_y[sel].astype(float)
    hull: list[tuple[float, float]] = []  # monotone chain, keeping the side with large y
    for p in zip(px, py):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    mid = 0.5 * (lo + hi)
    for (x1, y1), (x2, y2) in zip(hull, hull[1:]):
        if x1 <= mid <= x2 and x2 > x1:
            slope = (y2 - y1) / (x2 - x1)
            return slope, y1 - slope * x1
    return None


def compute_floor_line(
    track: PoseTrack, xy: np.ndarray, vis: np.ndarray, settings: GeometrySettings,
) -> tuple[FloorLine, Literal["lying", "upright"], np.ndarray]:
    """Estimate the floor line and posture of the whole clip.

    Returns the FloorLine, the posture ("lying" or "upright") and the (N,) mask of
    frames in which the trunk lies within ``lying_max_trunk_tilt_deg`` of horizontal.
    A :class:`FloorEstimator` fed every frame, asked once at the end (the look-ahead:
    live mode asks it at every frame).
    """
    estimator = FloorEstimator(settings)
    mask_x = track.mask_x_px if track.mask_bottom_y_px is not None else None
    mv = settings.min_visibility
    shoulder = midpoint(xy, vis, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, mv)
    hip = midpoint(xy, vis, L.LEFT_HIP, L.RIGHT_HIP, mv)
    world_tilt = trunk_elevation_deg(track)
    bottoms = track.mask_bottom_y_px
    lying = np.array([
        estimator.update(
            xy[i], vis[i], mask_x, None if bottoms is None else bottoms[i], shoulder[i], hip[i], float(world_tilt[i]),
        )
        for i in range(len(xy))
    ], dtype=bool)
    floor, posture = estimator.estimate()
    return floor, posture, lying


def without_arms(x_px, bottom_y, xy, shoulder, hip, arm_underside_ratio: float) -> np.ndarray:
    """The underside contour without the columns where an arm forms it.

    An arm on the floor beside the trunk is nearer the camera than the back, so its
    outline can sit below the back's contact line and would tilt the floor estimate.
    The arm forms the underside where its elbow or wrist lies just above the contour.
    """
    bottom = bottom_y.copy()
    trunk_len = np.linalg.norm(shoulder - hip)
    step = float(x_px[1] - x_px[0]) if len(x_px) > 1 else 1.0
    for side in ("LEFT", "RIGHT"):
        elbow, wrist = xy[Landmark[f"{side}_ELBOW"]], xy[Landmark[f"{side}_WRIST"]]
        if not (np.isfinite(elbow).all() and np.isfinite(wrist).all()):
            continue
        forms_underside = False
        for joint in (elbow, wrist):
            col = int(round(joint[0] / step))
            if 0 <= col < len(bottom) and np.isfinite(bottom_y[col]):
                forms_underside |= bool(bottom_y[col] - joint[1] < arm_underside_ratio * trunk_len)
        if forms_underside:
            lo = min(shoulder[0], elbow[0], wrist[0]) - 0.1 * trunk_len
            hi = max(shoulder[0], elbow[0], wrist[0]) + 0.1 * trunk_len
            bottom[(x_px >= lo) & (x_px <= hi)] = np.nan
    return bottom


def compute_leg_angles(
    hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, ankle_seen: np.ndarray, along: np.ndarray, up: np.ndarray,
    ankle_placed: np.ndarray | None = None, view: ViewCorrection = IDENTITY_VIEW,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leg angle of one leg, deg, its :class:`LegSource`, and its thigh's angle (hip to
    knee), deg.

    ``ankle_seen``: knee and ankle visible; ``ankle_placed``: the ankle hidden but inside
    the picture with the knee placed (the hip-to-ankle line, estimated); otherwise the
    thigh stands in (ankle out of the picture). ``along``/``up``: (2,) or per frame (N, 2);
    ``view``: how the camera shows the body's upright direction (:func:`~flatback.measure.view.view_for`).
    """
    placed = np.zeros_like(ankle_seen) if ankle_placed is None else ankle_placed & ~ankle_seen
    to_ankle = _angle_from(ankle - hip, along, up, view)
    thigh = _angle_from(knee - hip, along, up, view)
    placed &= np.isfinite(thigh)
    angle = np.where(ankle_seen | placed, to_ankle, thigh)
    source = np.where(ankle_seen, LegSource.HIP_ANKLE, np.where(
        placed, LegSource.HIP_ANKLE_ESTIMATED, np.where(np.isfinite(thigh), LegSource.THIGH, LegSource.NONE)))
    angle = np.where(source > 0, angle, np.nan)
    return angle, source, thigh


def _angle_from(vec: np.ndarray, along: np.ndarray, up: np.ndarray, view: ViewCorrection) -> np.ndarray:
    return view.angle_deg((vec * along).sum(axis=-1), (vec * up).sum(axis=-1))


def hanging_frame(shoulder: np.ndarray, hip: np.ndarray, nose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hanging line per frame: ``along`` the trunk (shoulder to hip, (N, 2) unit vectors)
    and ``up`` its normal toward the front of the body (the nose's side of the trunk).

    Hanging, the leg angle is hip flexion from this line (0 = hanging straight, 90 = legs
    level with the hips, ~160 = toes at the bar): the body's own frame, so camera roll and
    the trunk swinging back at the top do not add to it. A frame without a trunk is NaN.
    """
    d = hip - shoulder
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    normal = np.stack([-d[..., 1], d[..., 0]], axis=-1)
    facing = np.sign(np.nanmedian(((nose - shoulder) * normal).sum(axis=-1))) or 1.0
    return d, facing * normal


def leg_angles(
    xy: np.ndarray, vis: np.ndarray, shoulder: np.ndarray, hip: np.ndarray, floor: FloorLine, posture: str,
    settings: GeometrySettings, view: ViewCorrection = IDENTITY_VIEW,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Each leg's (left, right) angle (deg), :class:`LegSource`, visibility weight, knee
    flexion (deg), whether knee and ankle were seen, and its thigh's angle (hip to knee,
    deg, measured as the leg angle; NaN where the knee is unseen or, lying, where the leg
    reading is implausible), for frames ``xy`` (N, 33, 2) px.

    Lying, against the floor line, with the body's upright direction as ``view`` shows it;
    upright (hanging), hip flexion from the hanging line (:func:`hanging_frame`), kept
    continuous past 180 instead of wrapping.
    """
    mv = settings.min_visibility
    if posture == "lying":
        along, up = floor.feet_dir, floor.up_dir
    else:
        along, up = hanging_frame(shoulder, hip, xy[:, L.NOSE])
    legs = []
    for side in ("LEFT", "RIGHT"):
        h, k, a = (Landmark[f"{side}_{j}"] for j in ("HIP", "KNEE", "ANKLE"))
        seen = (vis[:, a] >= mv) & (vis[:, k] >= mv)
        knee_ok = vis[:, k] >= settings.partial_min_visibility
        placed = knee_ok & (vis[:, a] >= settings.hidden_ankle_min_visibility)
        knee = np.where(knee_ok[:, None], xy[:, k], np.nan)
        angle, source, thigh = compute_leg_angles(xy[:, h], knee, xy[:, a], seen, along, up, placed,
                                                  view if posture == "lying" else IDENTITY_VIEW)
        weight = np.minimum(vis[:, k], np.where(source == LegSource.THIGH, vis[:, k], vis[:, a]))
        # knee bend needs a seen ankle: a hidden one gives a made-up bend
        knee_flexion = np.where(seen, compute_angle(xy, ANGLES[f"knee_flexion_{side.lower()}"]), np.nan)
        if posture == "upright":
            angle = np.where(angle < -90, angle + 360, angle)
            thigh = np.where(thigh < -90, thigh + 360, thigh)
        else:  # a leg far below the floor or folded over the face is the model's mistake (head and feet swapped)
            implausible = (angle < settings.lying_leg_min_deg) | (angle > settings.lying_leg_max_deg)
            angle = np.where(implausible, np.nan, angle)
            source = np.where(implausible, LegSource.NONE, source)
            thigh = np.where(implausible, np.nan, thigh)
        legs.append((angle, source, weight, knee_flexion, seen, thigh))
    return legs


def compute_body_geometry(track: PoseTrack, settings: GeometrySettings | None = None) -> BodyGeometry:
    """All per-frame geometry of a clip (offline: the floor line uses the whole clip)."""
    settings = settings or GeometrySettings()
    mv = settings.min_visibility
    vis = in_frame_visibility(track.xy_px, track.visibility, track.info.width, track.info.height,
                              settings.in_frame_margin_frac)
    xy, vis, swapped = unswap_left_right(track.xy_px, vis, settings.swap_margin)
    floor, posture, lying = compute_floor_line(track, xy, vis, settings)
    frame3d = body_frame_3d(track, lying) if posture == "lying" else None
    if posture == "lying" and abs(floor.roll_deg) > settings.max_camera_roll_deg and frame3d is None:
        raise VideoContentError(
            f"The floor line is tilted {floor.roll_deg:.0f} degrees in the picture (at most "
            f"{settings.max_camera_roll_deg:.0f} expected): hold the camera level, or rotate "
            "the video so the floor is horizontal."
        )

    shoulder = midpoint(xy, vis, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, mv)
    hip = midpoint(xy, vis, L.LEFT_HIP, L.RIGHT_HIP, mv)
    torso = np.linalg.norm(shoulder - hip, axis=1)
    torso_length = float(np.nanmedian(torso[lying])) if lying.any() else float(np.nanmedian(torso))

    if posture == "lying":
        along, up = floor.feet_dir, floor.up_dir
    else:  # upright: heights and the trunk against straight down
        facing = np.sign(np.nanmedian(xy[:, L.NOSE, 0] - shoulder[:, 0])) or 1.0
        along, up = np.array([0.0, 1.0]), np.array([facing, 0.0])

    view = view_for(frame3d, settings.picture_max_error_deg)
    # from the feet or the head the legs' picture is a fraction of their length (cos of the
    # yaw), too short to correct: there the 3-D skeleton's own angles, rough as they are
    along_legs = frame3d is not None and frame3d.yaw_deg > settings.max_measurable_yaw_deg
    per_leg, thighs = {}, {}
    for side, (angle, source, weight, knee_flexion, seen, thigh) in zip(
        ("LEFT", "RIGHT"), leg_angles(xy, vis, shoulder, hip, floor, posture, settings, view)
    ):
        if along_legs and frame3d is not None:
            angle = np.where(source > 0, leg_angles_3d(track, frame3d, side, seen), np.nan)
            thigh = np.full(len(thigh), np.nan)  # the picture's thigh is foreshortened there
        per_leg[side] = (angle, source, weight, knee_flexion)
        thighs[side] = thigh

    (al, sl, wl, kl), (ar, sr, wr, kr) = per_leg["LEFT"], per_leg["RIGHT"]
    jitter_l, jitter_r = (leg_jitter_deg(track.t_s, np.where(src > 0, a, np.nan), track.posed,
                                         settings.legs_unsteady_window_s) for a, src in ((al, sl), (ar, sr)))
    unsteady = unsteady_legs(jitter_l, jitter_r, settings)
    leg, source, knee_flexion = combine_legs(al, sl, wl, kl, ar, sr, wr, kr, settings.legs_agree_deg,
                                             settings.legs_clear_visibility, *unsteady)

    trunk_angle = direction_angle_deg(shoulder - hip, -along, up) if posture == "lying" else np.full(len(hip), np.nan)
    ear = midpoint(xy, vis, L.LEFT_EAR, L.RIGHT_EAR, settings.partial_min_visibility)
    head_angle = direction_angle_deg(ear - shoulder, -along, up) if posture == "lying" else np.full(len(hip), np.nan)
    thigh = midpoint(xy, vis, L.LEFT_KNEE, L.RIGHT_KNEE, settings.partial_min_visibility) - hip
    hip_flexion = 180.0 - segment_angle_deg(shoulder - hip, thigh)
    torso_now = rolling_torso_px(track.t_s, torso, torso_length)
    hip_height = (hip @ up)
    hip_height_ratio = (hip_height - np.nanpercentile(hip_height, 10)) / torso_length

    return BodyGeometry(
        cut=detect_cuts(hip, torso, settings.cut_size_change, settings.cut_jump_ratio, settings.cut_window_frames),
        t_s=track.t_s,
        posture=posture,
        view_yaw_deg=float("nan") if frame3d is None else frame3d.yaw_deg,
        view_elevation_deg=float("nan") if frame3d is None else frame3d.elevation_deg,
        view=view,
        leg_angles_from=("3-D skeleton" if along_legs else "picture, corrected for the camera's place"
                         if view != IDENTITY_VIEW else "picture"),
        floor=floor,
        torso_length_px=torso_length,
        torso_px=torso_now,
        leg_angle_deg=leg,
        leg_angle_left_deg=al,
        leg_angle_right_deg=ar,
        thigh_left_deg=thighs["LEFT"],
        thigh_right_deg=thighs["RIGHT"],
        leg_source=source,
        knee_flexion_deg=knee_flexion,
        hip_flexion_deg=hip_flexion,
        trunk_angle_deg=trunk_angle,
        head_angle_deg=head_angle,
        hip_height_ratio=hip_height_ratio,
        xy_px=xy,
        shoulder_px=shoulder,
        hip_px=hip,
        swapped=swapped,
    )


# A zoom or a walk towards the camera changes the body's size over seconds; a second's
# median follows it while a bent or foreshortened torso in a few frames does not.
ZOOM_WINDOW_S = 1.0


def rolling_torso_px(t_s: np.ndarray, torso_px: np.ndarray, fallback_px: float) -> np.ndarray:
    """(N,) the torso length around each moment, px: the median over ``ZOOM_WINDOW_S``."""
    out = np.full(len(t_s), fallback_px, float)
    lo = np.searchsorted(t_s, t_s - ZOOM_WINDOW_S / 2)
    hi = np.searchsorted(t_s, t_s + ZOOM_WINDOW_S / 2, side="right")
    for i in range(len(t_s)):
        w = torso_px[lo[i] : hi[i]]
        w = w[np.isfinite(w)]
        if len(w):
            out[i] = float(np.median(w))
    return out


def detect_cuts(hip: np.ndarray, torso_px: np.ndarray, size_change: float, jump_ratio: float, k: int) -> np.ndarray:
    """(N,) bool: frames where an edited video cuts to another shot.

    The body's size (torso length) or place (hip) changes abruptly and stays changed:
    the medians of the ``k`` frames before and after differ by more than
    ``size_change`` (relative) or ``jump_ratio`` torso lengths. A one- or two-frame
    glitch of the pose model leaves the medians alone.
    """
    n = len(torso_px)
    cut = np.zeros(n, bool)
    if n < 2 * k + 1:
        return cut
    for i in range(k, n - k + 1):
        before, after = slice(i - k, i), slice(i, i + k)
        if not (np.isfinite(torso_px[before]).all() and np.isfinite(torso_px[after]).all()):
            continue
        la, lb = np.median(torso_px[before]), np.median(torso_px[after])
        jump = np.linalg.norm(np.median(hip[after], axis=0) - np.median(hip[before], axis=0))
        if abs(lb / la - 1) > size_change or jump > jump_ratio * max(la, lb):
            # the exact frame: the largest single-frame change in the window
            local = np.abs(np.diff(torso_px[i - k : i + k])) / torso_px[i - k : i + k - 1]
            local += np.linalg.norm(np.diff(hip[i - k : i + k], axis=0), axis=1) / max(la, lb)
            cut[i - k + 1 + int(np.argmax(local))] = True
    # one cut per change: keep the first of neighbouring marks
    marks = np.flatnonzero(cut)
    for a, b in zip(marks, marks[1:]):
        if b - a <= k:
            cut[b] = False
    return cut


def combine_legs(al, sl, wl, kl, ar, sr, wr, kr, agree_deg: float, clear_visibility: float,
                 unsteady_l=None, unsteady_r=None):
    """The working leg angle from both legs' angles (deg), sources and visibility weights.

    Legs within ``agree_deg`` of each other move together: visibility-weighted mean. Legs
    apart and both seen clearly (visibility >= ``clear_visibility``): the lifted (higher)
    leg, as in a single-leg lift; otherwise the better-seen (near) leg. A leg seen only as
    a thigh, or to a hidden ankle, counts half. A leg the model does not follow
    (``unsteady_l`` / ``unsteady_r``, bool per frame: :func:`unsteady_legs`) is left out of
    the mix while the other leg is seen, whatever its visibility score says (its own reading
    stays in the per-leg angles).
    """
    if unsteady_l is not None and unsteady_r is not None:
        sl = np.where(unsteady_l & (sr > 0), 0, sl)
        sr = np.where(unsteady_r & (sl > 0), 0, sr)
    both = (sl > 0) & (sr > 0)
    wl = np.where(sl == 1, wl, 0.5 * wl)
    wr = np.where(sr == 1, wr, 0.5 * wr)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.nan_to_num(al) * wl + np.nan_to_num(ar) * wr) / (wl + wr)
        mean_knee = (np.nan_to_num(kl) * wl + np.nan_to_num(kr) * wr) / (wl + wr)
    apart = both & (np.abs(al - ar) >= agree_deg)
    # Legs apart: both clearly seen means one is lifted (take the higher); otherwise the
    # far leg is hidden and its landmarks are the model's guess (take the seen one).
    clear = np.minimum(wl, wr) >= clear_visibility
    left_higher = np.nan_to_num(al, nan=-999) >= np.nan_to_num(ar, nan=-999)
    pick_left = np.where(clear, left_higher, wl >= wr)
    leg = np.where(apart, np.where(pick_left, al, ar), mean)
    knee = np.where(apart, np.where(pick_left, kl, kr), mean_knee)
    only_l, only_r = (sl > 0) & ~(sr > 0), (sr > 0) & ~(sl > 0)
    leg = np.where(only_l, al, np.where(only_r, ar, leg))
    knee = np.where(only_l, kl, np.where(only_r, kr, knee))
    none = ~(sl > 0) & ~(sr > 0)
    leg[none] = np.nan
    knee[none] = np.nan
    source = np.where(both, np.minimum(sl, sr), np.maximum(sl, sr))
    source = np.where(apart, np.where(pick_left, sl, sr), source)
    return leg, source.astype(np.int8), knee


def off_line_deg(t_s: np.ndarray, angle_deg: np.ndarray) -> np.ndarray:
    """How far each reading lies from the line through its two neighbours', deg (NaN at the
    ends and next to a gap): a smooth movement follows that line to a degree or two at 15-30
    frames a second (times may be uneven: the pose is sampled as fast as the legs move)."""
    out = np.full(len(angle_deg), np.nan)
    if len(angle_deg) >= 3:
        t0, t1, t2 = t_s[:-2], t_s[1:-1], t_s[2:]
        a0, a1, a2 = angle_deg[:-2], angle_deg[1:-1], angle_deg[2:]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[1:-1] = np.abs(a1 - (a0 + (a2 - a0) * (t1 - t0) / (t2 - t0)))
    return out


def leg_jitter_deg(t_s: np.ndarray, angle_deg: np.ndarray, posed: np.ndarray | None, window_s: float,
                   centred: bool = True) -> np.ndarray:
    """One leg's jitter per frame, deg: the median :func:`off_line_deg` of the posed frames
    within ``window_s`` around each frame (``centred``, offline) or before it (live). Frames
    filled in between posed ones (``posed`` False) lie on lines by construction and are left
    out; NaN where the window holds fewer than three readings."""
    keep = np.isfinite(angle_deg) if posed is None else posed & np.isfinite(angle_deg)
    idx = np.flatnonzero(keep)
    out = np.full(len(angle_deg), np.nan)
    if len(idx) < 3:
        return out
    tp, resid = t_s[idx], off_line_deg(t_s[idx], angle_deg[idx])
    lo = np.searchsorted(tp, t_s - (0.5 * window_s if centred else window_s), side="left")
    hi = np.searchsorted(tp, t_s + (0.5 * window_s if centred else 0.0), side="right")
    for i in range(len(t_s)):
        r = resid[lo[i] : hi[i]]
        r = r[np.isfinite(r)]
        if len(r) >= 3:
            out[i] = np.median(r)
    return out


def unsteady_legs(jitter_l: np.ndarray, jitter_r: np.ndarray, settings: GeometrySettings
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) bool per frame: the leg's reading jumps by ``legs_unsteady_deg`` or more
    and ``legs_unsteady_ratio`` times the other leg's (both measured)."""
    with np.errstate(invalid="ignore"):
        ul = (jitter_l >= settings.legs_unsteady_deg) & (jitter_l >= settings.legs_unsteady_ratio * jitter_r)
        ur = (jitter_r >= settings.legs_unsteady_deg) & (jitter_r >= settings.legs_unsteady_ratio * jitter_l)
    return ul, ur


# --- streaming: per-frame geometry objects live and offline share ---------------------


class LeftRightRepair:
    """Left/right label repair, one frame at a time, by continuity of the legs.

    ``update(xy (33, 2) px, vis (33,))`` returns new (xy, vis, swapped): the labels are
    exchanged when that moves the knees and ankles less than ``margin`` times the
    unexchanged motion since the last frame with both legs seen. ``reset()`` forgets it.
    """

    _LEFT = np.array([L.LEFT_KNEE, L.LEFT_ANKLE])
    _RIGHT = np.array([L.RIGHT_KNEE, L.RIGHT_ANKLE])
    _LI = np.array([p[0] for p in LEFT_RIGHT_PAIRS])
    _RI = np.array([p[1] for p in LEFT_RIGHT_PAIRS])

    def __init__(self, margin: float):
        self.margin = margin
        self.reset()

    def reset(self) -> None:
        self._prev: tuple[np.ndarray, np.ndarray] | None = None  # (left, right) knee and ankle, px

    def update(self, xy: np.ndarray, vis: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        xy, vis = xy.copy(), vis.copy()
        cur_l, cur_r = xy[self._LEFT], xy[self._RIGHT]
        if not (np.isfinite(cur_l).all() and np.isfinite(cur_r).all()):
            return xy, vis, False
        swapped = False
        if self._prev is not None:
            prev_l, prev_r = self._prev
            same = np.linalg.norm(cur_l - prev_l, axis=1).sum() + np.linalg.norm(cur_r - prev_r, axis=1).sum()
            cross = np.linalg.norm(cur_l - prev_r, axis=1).sum() + np.linalg.norm(cur_r - prev_l, axis=1).sum()
            if cross < self.margin * same:
                xy[self._LI], xy[self._RI] = xy[self._RI].copy(), xy[self._LI].copy()
                vis[self._LI], vis[self._RI] = vis[self._RI].copy(), vis[self._LI].copy()
                swapped = True
        self._prev = (xy[self._LEFT].copy(), xy[self._RIGHT].copy())
        return xy, vis, swapped


class FloorEstimator:
    """The floor line and posture from the frames seen so far (DESIGN.md, "Floor line").

    ``update(xy, vis, mask_x_px, mask_bottom_y_px)`` takes one frame (after left/right
    repair) and returns whether its trunk lies within ``lying_max_trunk_tilt_deg`` of
    horizontal. The estimate is the rules of :func:`compute_floor_line`, over what was
    seen: the person is upright unless at least half the frames with a trunk are lying;
    the feet side is the median hip-minus-shoulder x; the roll is the median trunk line
    turned back by ``trunk_floor_offset_deg`` (hips sit higher than shoulders), replaced
    by the median underside tangent of the mask (frames whose buttocks and upper back
    give one, at least 3 and a fifth of the lying frames) when the two agree within
    ``floor_agree_deg``. Memory: three numbers per lying frame.
    """

    def __init__(self, settings: GeometrySettings | None = None):
        self.settings = settings or GeometrySettings()
        self.reset()

    def reset(self) -> None:
        self._trunk_frames = 0  # frames with hips and shoulders seen
        self._feet_dx: list[float] = []  # hip x - shoulder x of lying frames, px
        self._trunk_line: list[np.floating] = []  # trunk line angle of lying frames, deg in [-90, 90)
        self._slopes: list[float] = []  # underside tangent slopes of lying frames (dy/dx)

    def update(
        self, xy: np.ndarray, vis: np.ndarray, mask_x_px: np.ndarray | None = None,
        mask_bottom_y_px: np.ndarray | None = None, shoulder: np.ndarray | None = None,
        hip: np.ndarray | None = None, world_tilt_deg: float = float("nan"),
    ) -> bool:
        """Add one frame: landmarks (33, 2) px, visibility (33,), and the mask's underside
        (columns ``mask_x_px`` px, bottom y per column px, NaN where none); True if lying.
        ``shoulder`` / ``hip`` (2,) px: the frame's :func:`midpoint` s, when already known;
        ``world_tilt_deg``: the trunk's elevation in the 3-D skeleton (:func:`trunk_elevation_deg`):
        lying is the trunk near the floor's plane in the picture or in the skeleton (a diagonal
        mat seen from above tilts the trunk in the picture, not in the body's frame)."""
        if shoulder is None or hip is None:
            shoulder, hip = shoulder_hip(xy, vis, self.settings.min_visibility)
        trunk = shoulder - hip
        if not np.isfinite(trunk).all():
            return False
        self._trunk_frames += 1
        tilt = np.degrees(np.arctan2(np.abs(trunk[1]), np.abs(trunk[0])))
        limit = self.settings.lying_max_trunk_tilt_deg
        if not (tilt <= limit or world_tilt_deg <= limit):
            return False
        self._feet_dx.append(float(hip[0] - shoulder[0]))
        # kept in the landmarks' dtype, so the median matches the vectorised one bit for bit
        self._trunk_line.append(((np.degrees(np.arctan2(trunk[1:], trunk[:1])) + 90) % 180 - 90)[0])
        if mask_x_px is not None and mask_bottom_y_px is not None:
            bottom = without_arms(mask_x_px, mask_bottom_y_px, xy, shoulder, hip, self.settings.arm_underside_ratio)
            line = lower_tangent(mask_x_px, bottom, *floor_contact_x(hip[0], shoulder[0]))
            if line is not None:
                self._slopes.append(line[0])
        return True

    @property
    def posture(self) -> Literal["lying", "upright"] | None:
        """None before any trunk was seen."""
        if not self._trunk_frames:
            return None
        return "upright" if len(self._feet_dx) < 0.5 * self._trunk_frames else "lying"

    def current(self, skeleton_3d: bool = False) -> FloorLine | None:
        """The floor line so far, or None while unknown (no trunk yet, or the tilt is
        beyond ``max_camera_roll_deg`` with no 3-D skeleton to measure by: with one, a
        camera well off the side and above the floor tilts the floor line in the picture
        and the leg angles are corrected for its place, as offline); never raises, for
        live use."""
        if self.posture is None:
            return None
        floor = self._floor()
        too_tilted = abs(floor.roll_deg) > self.settings.max_camera_roll_deg
        return None if too_tilted and not (skeleton_3d and self.posture == "lying") else floor

    def estimate(self) -> tuple[FloorLine, Literal["lying", "upright"]]:
        """The floor line and posture of everything seen (offline: the whole clip).

        Raises VideoContentError when no trunk was ever seen. (A floor tilted beyond
        ``max_camera_roll_deg`` is judged by the caller, which may have the 3-D skeleton's
        floor to measure by instead.)
        """
        posture = self.posture
        if posture is None:
            raise VideoContentError(
                "The person's hips and shoulders are never visible together: film the whole "
                "body from the side."
            )
        return self._floor(), posture

    def _floor(self) -> FloorLine:
        if self.posture == "upright":
            return FloorLine(0.0, 1, "vertical")
        feet_sign = int(np.sign(np.median(self._feet_dx)) or 1)
        # lying on the back, the hip joints sit higher above the floor than the shoulders:
        # the shoulder-to-hip line rises toward the feet; turned back, it is the floor's
        trunk_roll = float(np.median(self._trunk_line)) + feet_sign * self.settings.trunk_floor_offset_deg
        floor = FloorLine(trunk_roll, feet_sign, "trunk")
        if len(self._slopes) >= max(3, 0.2 * len(self._feet_dx)):
            roll = float(np.degrees(np.arctan(np.median(self._slopes))))
            # The mask tangent is the better floor, unless something other than the back
            # (a hand, a cushion) touches the floor under the body and tilts it.
            agree = self.settings.floor_agree_deg
            apart = abs(roll - trunk_roll)
            if apart <= agree:
                floor = FloorLine(roll, feet_sign, "mask", roll)
            else:  # the contacts' line disagrees with the trunk's: the trunk for the angles, the contacts for the gap
                # ... reached gradually over a second floor_agree_deg, so two readings either side of
                # the limit (a clip posed twice, re-filmed) differ by a fraction of a degree, not by the limit
                mask_weight = max(0.0, 2.0 - apart / agree)
                floor = FloorLine(trunk_roll + mask_weight * (roll - trunk_roll), feet_sign, "trunk", roll)
        return floor


@dataclass(frozen=True)
class FrameLegs:
    """One frame's working-leg measurements: leg angle, deg (NaN if unseen), its source
    (0 none, 1 hip-to-ankle, 2 thigh only), knee flexion, deg, the shoulder and hip
    midpoints, px (NaN if unseen), and the hip's height along the floor's up direction, px."""

    leg_angle_deg: float
    leg_source: int
    knee_flexion_deg: float
    shoulder_px: np.ndarray
    hip_px: np.ndarray
    hip_height_px: float
    left_deg: float = float("nan")  # each leg's own angle, deg (one-leg variations)
    right_deg: float = float("nan")
    thigh_left_deg: float = float("nan")  # each thigh's angle (hip to knee), deg
    thigh_right_deg: float = float("nan")


def shoulder_hip(xy: np.ndarray, vis: np.ndarray, min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """One frame's shoulder and hip midpoints (:func:`midpoint`), (2,) px each."""
    xy1, vis1 = xy[None], vis[None]
    return (
        midpoint(xy1, vis1, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, min_visibility)[0],
        midpoint(xy1, vis1, L.LEFT_HIP, L.RIGHT_HIP, min_visibility)[0],
    )


class LegSteadiness:
    """Each leg's jumps over the last ``geometry.legs_unsteady_window_s`` of frames, live
    (offline, :func:`leg_jitter_deg` centres the window): ``update(t_s, left_deg, right_deg)
    -> (unsteady_left, unsteady_right)`` (:func:`unsteady_legs`). A reading's own jump counts
    once the next frame is in."""

    def __init__(self, settings: GeometrySettings):
        self.settings = settings
        self._frames: deque[tuple[float, float, float]] = deque()

    def update(self, t_s: float, left_deg: float, right_deg: float) -> tuple[np.ndarray, np.ndarray]:
        self._frames.append((t_s, left_deg, right_deg))
        while self._frames[0][0] < t_s - self.settings.legs_unsteady_window_s - 1e-9:
            self._frames.popleft()
        t, left, right = (np.array(c, float) for c in zip(*self._frames, strict=True))
        jitter = []
        for a in (left, right):
            seen = np.isfinite(a)
            resid = off_line_deg(t[seen], a[seen])
            resid = resid[np.isfinite(resid)]
            jitter.append(np.array([np.median(resid) if len(resid) >= 3 else np.nan]))
        return unsteady_legs(jitter[0], jitter[1], self.settings)


def frame_leg_angles(
    xy: np.ndarray, vis: np.ndarray, floor: FloorLine, posture: str, settings: GeometrySettings,
    shoulder: np.ndarray | None = None, hip: np.ndarray | None = None, view: ViewCorrection = IDENTITY_VIEW,
    steadiness: LegSteadiness | None = None, t_s: float = float("nan"),
) -> FrameLegs:
    """The working leg of one frame (landmarks (33, 2) px after left/right repair,
    visibility (33,) with out-of-picture points at 0) against a known floor line: the
    per-leg rules of :func:`compute_body_geometry` for a single frame (live mode), with the
    legs' steadiness over the frames before (``steadiness``, fed this frame at ``t_s``)."""
    mv = settings.min_visibility
    xy1, vis1 = xy[None], vis[None]
    if shoulder is None or hip is None:
        shoulder, hip = shoulder_hip(xy, vis, mv)
    shoulder, hip = shoulder[None], hip[None]
    (al, sl, wl, kl, _, tl), (ar, sr, wr, kr, _, tr) = leg_angles(xy1, vis1, shoulder, hip, floor, posture,
                                                                  settings, view)
    facing = np.sign(np.nan_to_num(xy[L.NOSE, 0] - shoulder[0, 0])) or 1.0
    up = floor.up_dir if posture == "lying" else np.array([facing, 0.0])
    unsteady_l = unsteady_r = None
    if steadiness is not None:
        unsteady_l, unsteady_r = steadiness.update(
            t_s, float(al[0]) if sl[0] > 0 else float("nan"), float(ar[0]) if sr[0] > 0 else float("nan"))
    leg, source, knee = combine_legs(al, sl, wl, kl, ar, sr, wr, kr, settings.legs_agree_deg,
                                     settings.legs_clear_visibility, unsteady_l, unsteady_r)
    return FrameLegs(
        float(leg[0]), int(source[0]), float(knee[0]), shoulder[0], hip[0], float(hip[0] @ up),
        float(al[0]), float(ar[0]), float(tl[0]), float(tr[0]),
    )
