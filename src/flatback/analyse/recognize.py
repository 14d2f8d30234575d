"""Which exercise the clip shows: the leg-lift variation, or not a leg lift at all.

Every posture feature is measured in the body's own frame (DESIGN.md, Recognition):

- the trunk axis (hip centre -> shoulder centre) and the body's *anterior* direction,
  which span the sagittal plane. With 3-D landmarks the plane is the one across the
  hips' and shoulders' left-right axis and the face gives only which side is the
  front; from the picture alone the face (or, with the head cropped, the feet) gives it;
- leg and thigh angles in that plane from the trunk's continuation (hip flexion:
  0 = in line with the trunk, 90 = at a right angle in front, > 90 toward the chest,
  < 0 behind the body, as on a bench), knee flexion as the angle at the knee;
- the pelvis against the line from the shoulders to the lower foot (the floor line of
  a body whose shoulders and feet are down: a bridge lifts the hips off it);
- the trunk's turn from its own resting line (shoulders rising: crunch, V-up; pelvis
  curling: reverse crunch) and the arms against the trunk (overhead, pointing up).

Geometry comes from BlazePose's 3-D world landmarks (metres, so yaw off the side view
does not shorten a segment) where they exist, else from the picture. Gravity enters
only where the body cannot give it (upright or lying, face up or down), taken from the
camera's up direction with margins wider than the roll a phone is held at.

The rules go from the posture (upright, prone, bridge) to what the legs of a body
lying on its back do (one leg, alternating, held, curling with the trunk, reaching,
still, reverse crunch, together). The first rule that fires decides; its margins from
its thresholds give the confidence. Every threshold is a field of
:class:`flatback.settings.RecognitionSettings`, with its unit and reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flatback.measure.geometry import in_frame_visibility
from flatback.measure.signals import lowpass_zero_phase
from flatback.settings import GeometrySettings, RecognitionSettings
from flatback.types import Landmark as L
from flatback.types import PoseTrack

_SIDES = ("LEFT", "RIGHT")
ExerciseName = str  # an Exercise value (analyse/results.py)
# a landmark beyond the picture's edge is unseen, as in the geometry stage
_IN_FRAME_MARGIN = GeometrySettings().in_frame_margin_frac


@dataclass(frozen=True)
class Features:
    """What the rules look at; clip summaries in deg, torso lengths, fractions or Hz."""

    frames: int  # frames with the trunk seen
    trunk_elevation_deg: float  # median elevation of hips -> shoulders above the camera horizontal: 0 lying, 90 upright
    thigh_hang_deg: float  # 95th percentile elevation of hip above knee: ~90 when the legs hang (standing, hanging)
    face_down_fraction: float  # share of frames with the body's front toward the floor (prone)
    arms_raise_deg: float  # median angle of the upper arms from the trunk line toward the feet: 0 at the sides, 180 overhead
    wrists_forward_torso: float  # median reach of the wrists in front of the shoulders (anterior), torso lengths
    pelvis_lift_torso: float  # median height of the hips above the shoulder-to-lower-foot line, torso lengths
    knee_straighter_deg: float  # median knee flexion of the straighter leg (0 = straight), legs up (see lifted_frames)
    knee_bent_deg: float  # median knee flexion of the more bent leg
    knee_min_bend_deg: float  # 10th percentile of the straighter knee's flexion: both bent throughout if large
    support_knee_deg: float  # the larger of the two legs' 10th percentiles of knee flexion: one leg bent throughout
    leg_high_deg: float  # 95th percentile of the higher leg's angle from the trunk line (90 = vertical when lying)
    leg_range_deg: float  # 95th - 5th percentile of the moving leg's angle
    other_leg_range_deg: float  # same for the leg that moves less
    thigh_low_deg: float  # 5th percentile of the thighs' angle from the trunk line
    thigh_high_deg: float  # 95th percentile
    legs_alternate: float  # 1 - correlation of the two legs' angles: 0 together, ~1 independent, 2 opposite
    legs_apart_deg: float  # 90th percentile of the angle between the two legs
    kick_rate_hz: float  # alternations per second of the two legs (crossings of their difference / 2)
    leg_rate_hz: float  # up-and-down cycles per second of the legs' mean angle
    trunk_rise_deg: float  # 95th percentile of the shoulders' rise from the trunk's resting line, deg
    pelvis_curl_deg: float  # the trunk's largest turn the other way (5th percentile, sign flipped): hips curling up
    trunk_legs_coupling: float  # correlation of that rise with the legs' angle: +1 rising together
    arm_sweep_deg: float  # 95th - 5th percentile of the arms' angle from the trunk line, deg
    arms_legs_coupling: float  # correlation of the arms' and the legs' speeds: -1 hands sweep toward rising feet
    still_fraction: float  # share of frames with the legs held still and off the trunk line (a hold)


@dataclass(frozen=True)
class Recognition:
    """The recognised exercise.

    ``confidence`` in [0.5, 1) from the deciding rule's margins (0.0 for "unknown" with
    nothing to go on); ``reason`` in words a user can read; ``fallback`` names the
    leg-lift variation to measure the clip as when the call is a doubtful
    "not_leg_lift" or "unknown" on legs that clearly lift and lower while lying (the
    pipeline measures it and states the doubt), else None.
    """

    name: ExerciseName
    confidence: float
    reason: str
    features: Features | None
    fallback: str | None = None


# --- per-frame body geometry -------------------------------------------------------


def _unit(v: np.ndarray) -> np.ndarray:
    """Vectors (..., 3) scaled to length 1 (NaN where the length is 0 or unknown)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, v / n, np.nan)


def _mean_of(points: np.ndarray, a: int, b: int) -> np.ndarray:
    """Midpoint of landmarks a and b (N, 3), or whichever is seen (NaN if neither)."""
    pa, pb = points[:, a], points[:, b]
    return np.where(np.isnan(pa), pb, np.where(np.isnan(pb), pa, 0.5 * (pa + pb)))


def body_points(track: PoseTrack, min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks (N, 33, 3) to measure the body with, NaN where unseen; and (N,) bool: frame is 3-D.

    BlazePose's world landmarks (m, hip-centred, x right, y down, z away from the
    camera) where the frame has them, else the picture's (x_px, y_px, 0). Points
    outside the picture or below ``min_visibility`` are NaN: BlazePose extrapolates
    them, often confidently, and a guess is not a measurement.
    """
    vis = in_frame_visibility(track.xy_px, track.visibility, track.info.width, track.info.height, _IN_FRAME_MARGIN)
    world = track.world_xyz_m.astype(float)
    picture = np.concatenate([track.xy_px, np.zeros_like(track.xy_px[..., :1])], axis=-1).astype(float)
    has_world = np.isfinite(world).all(axis=(1, 2))
    pts = np.where(has_world[:, None, None], world, picture)
    pts[vis < min_visibility] = np.nan
    return pts, has_world


@dataclass(frozen=True)
class BodyFrame:
    """Per-frame body axes from :func:`body_frame`: unit vectors (N, 3) and lengths."""

    hip: np.ndarray  # (N, 3) hip centre
    shoulder: np.ndarray  # (N, 3) shoulder centre
    up_trunk: np.ndarray  # (N, 3) unit, hip -> shoulder
    anterior: np.ndarray  # (N, 3) unit, perpendicular to the trunk, the body's front
    torso: np.ndarray  # (N,) hip-to-shoulder length, same unit as the points


def body_frame(pts: np.ndarray, three_d: np.ndarray | None = None) -> BodyFrame:
    """Trunk axis and anterior direction per frame.

    The anterior direction is the way the face points (the nose's offset from the
    ears' midpoint) with its component along the trunk removed; in frames where the
    head is not seen (cropped at the frame's edge), the way the feet point (heel to
    toes), which is also to the front for a neutral ankle, lying or standing. In
    frames with 3-D landmarks (``three_d``, (N,) bool) the body's own left-right axis
    (hips and shoulders) fixes the sagittal plane instead, and the face only its sign,
    so a head turned toward the camera does not tilt the plane. None of this relies on
    a frame's left/right labels being right: the sign is the face's (per frame where
    the face clearly agrees or disagrees, else the clip's majority).
    """
    hip = _mean_of(pts, L.LEFT_HIP, L.RIGHT_HIP)
    shoulder = _mean_of(pts, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    trunk = shoulder - hip
    torso = np.linalg.norm(trunk, axis=1)
    u = _unit(trunk)

    def across_trunk(v: np.ndarray) -> np.ndarray:
        return _unit(v - (v * u).sum(axis=1, keepdims=True) * u)

    face = across_trunk(pts[:, L.NOSE] - _mean_of(pts, L.LEFT_EAR, L.RIGHT_EAR))
    feet = across_trunk(
        _mean_of(pts, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX) - _mean_of(pts, L.LEFT_HEEL, L.RIGHT_HEEL)
    )
    anterior = np.where(np.isfinite(face).all(axis=1, keepdims=True), face, feet)
    if three_d is not None and three_d.any():
        anterior = np.where(three_d[:, None], _front_from_left_right_axis(pts, u, anterior), anterior)
    return BodyFrame(hip, shoulder, u, anterior, torso)


def _front_from_left_right_axis(pts: np.ndarray, u: np.ndarray, cue: np.ndarray) -> np.ndarray:
    """Anterior (N, 3) perpendicular to the trunk ``u`` and the hips' and shoulders' left-right axis.

    Signed to agree with ``cue`` (face or feet): per frame where they clearly agree or
    disagree (|cos| >= 0.5), else as most frames do. NaN where the axis is unseen.
    """
    lateral = (pts[:, L.LEFT_HIP] - pts[:, L.RIGHT_HIP]) + (pts[:, L.LEFT_SHOULDER] - pts[:, L.RIGHT_SHOULDER])
    front = _unit(np.cross(lateral, u))
    agree = (front * cue).sum(axis=1)
    clear = np.isfinite(agree) & (np.abs(agree) >= 0.5)
    majority = 1.0 if not clear.any() or np.mean(agree[clear] > 0) >= 0.5 else -1.0
    sign = np.where(clear, np.sign(agree), majority)
    return np.where(np.isfinite(front), front * sign[:, None], cue)


def sagittal_angle_deg(vec: np.ndarray, frame: BodyFrame) -> np.ndarray:
    """Angle (N,) of vectors (N, 3) in the sagittal plane from the trunk's continuation, deg.

    0 = pointing away from the head along the trunk line (legs in line with the body),
    90 = straight out in front (legs vertical when lying supine), 180 = toward the head,
    negative = behind the body. Range (-180, 180].
    """
    along = (vec * -frame.up_trunk).sum(axis=1)
    front = (vec * frame.anterior).sum(axis=1)
    return np.degrees(np.arctan2(front, along))


def arm_raise_deg(pts: np.ndarray, frame: BodyFrame, side: str) -> np.ndarray:
    """Angle (N,) of the upper arm from the trunk line toward the feet, deg, in 3-D.

    0 = arm along the side, 90 = pointing straight out (forward or sideways), 180 =
    overhead. From the elbow, which stays in the picture more often than the wrist
    (hands on a bar at the top edge).
    """
    arm = _unit(pts[:, L[f"{side}_ELBOW"]] - pts[:, L[f"{side}_SHOULDER"]])
    return np.degrees(np.arccos(np.clip((arm * -frame.up_trunk).sum(axis=1), -1, 1)))


def knee_flexion_deg(pts: np.ndarray, side: str) -> np.ndarray:
    """Knee flexion (N,), deg: 0 = straight, 90 = shin at a right angle to the thigh."""
    h, k, a = (pts[:, L[f"{side}_{j}"]] for j in ("HIP", "KNEE", "ANKLE"))
    cos = (_unit(k - h) * _unit(a - k)).sum(axis=1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def picture_points(track: PoseTrack, min_visibility: float) -> np.ndarray:
    """Landmarks in the picture (N, 33, 2), px; NaN where unseen or outside the frame."""
    vis = in_frame_visibility(track.xy_px, track.visibility, track.info.width, track.info.height, _IN_FRAME_MARGIN)
    xy = track.xy_px.astype(float).copy()
    xy[vis < min_visibility] = np.nan
    return xy


def elevation_deg(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Elevation (N,) of the picture line from ``start`` to ``end`` (N, 2) px, deg.

    Positive when ``end`` is higher in the picture; 90 = straight up. The camera's up
    direction is the one gravity reference a video has: a pinhole camera keeps
    vertical lines vertical except for its roll, whatever its yaw or elevation, so an
    upright body reads 90 - roll, while a lying one reads at most
    atan(tan(yaw) sin(elevation)) + roll.
    """
    d = end - start
    return np.degrees(np.arctan2(-d[:, 1], np.abs(d[:, 0])))


# --- clip features -------------------------------------------------------------------


def _pct(x: np.ndarray, q: float) -> float:
    """Percentile q of the finite values of x (NaN if there are none)."""
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if len(x) else float("nan")


def _median(x: np.ndarray) -> float:
    return _pct(x, 50)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of a and b over frames where both are finite; NaN if undefined."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def _smooth(t_s: np.ndarray, x: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Zero-phase low-pass of a signal that may have gaps (gaps of NaN stay NaN)."""
    return lowpass_zero_phase(t_s, x, cutoff_hz)


def _either(a: np.ndarray, b: np.ndarray, how) -> np.ndarray:
    """Per-frame combination of two legs' signals; the seen one where only one is."""
    with np.errstate(invalid="ignore"):
        both = how(np.stack([a, b]), axis=0)
    return np.where(np.isnan(a), b, np.where(np.isnan(b), a, both))


def alternation_rate_hz(t_s: np.ndarray, diff_deg: np.ndarray, hysteresis_deg: float) -> float:
    """How often a signal swings from one side of its median to the other and back, per second.

    For the two legs' difference: how often they swap which one is higher
    (one alternation = one kick of each leg); for one angle: up-and-down cycles.
    Counts sign changes (median removed) that swing past ``hysteresis_deg`` on both
    sides, halved.
    """
    d = diff_deg - _median(diff_deg)
    ok = np.isfinite(d)
    if ok.sum() < 2:
        return 0.0
    state, crossings = 0, 0
    for v in d[ok]:
        s = 1 if v > hysteresis_deg else -1 if v < -hysteresis_deg else 0
        if s and state and s != state:
            crossings += 1
        state = s or state
    duration = float(t_s[ok][-1] - t_s[ok][0])
    return 0.5 * crossings / duration if duration > 0 else 0.0


@dataclass(frozen=True)
class LegSignals:
    """Per-frame leg measures from :func:`leg_signals`, smoothed; (N,) deg, NaN where unseen."""

    leg: tuple[np.ndarray, np.ndarray]  # (left, right) hip -> ankle, sagittal angle from the trunk line
    thigh: tuple[np.ndarray, np.ndarray]  # hip -> knee, same convention
    knee: tuple[np.ndarray, np.ndarray]  # knee flexion
    pelvis_lift: np.ndarray  # hips above the shoulder-to-lower-foot line, torso lengths

    @property
    def legs(self) -> np.ndarray:
        """Both legs' mean angle (the seen one where only one is)."""
        return _either(*self.leg, np.mean)


def leg_signals(
    t_s: np.ndarray, pts: np.ndarray, fr: BodyFrame, cutoff_hz: float, picture: np.ndarray,
    straight_knee_max_deg: float, straightens_max_deg: float,
) -> LegSignals:
    """Leg, thigh and knee angles of both legs and the pelvis lift, per frame.

    A knee the picture (``picture``, (N, 33, 2) px, NaN where unseen) shows straight,
    within ``straight_knee_max_deg``, and the 3-D skeleton bends less than
    ``straightens_max_deg`` is taken at the picture's flexion: a straight leg is straight
    in any picture, while the skeleton's depth is the model's guess and bends it as the
    view turns off the side (a straight physio leg read 37 deg 40 deg off it, 16 in the
    picture). Otherwise the skeleton's flexion stays: turning off the side or looking down
    foreshortens the picture, so a truly bent knee can read less bent in it (a reverse
    crunch's 95 deg as 55 from 45 deg off the side and 45 deg up)."""
    def smooth(x: np.ndarray) -> np.ndarray:
        return _smooth(t_s, x, cutoff_hz)

    def per_side(fn) -> tuple[np.ndarray, np.ndarray]:
        return fn("LEFT"), fn("RIGHT")

    def joint(side: str, name: str) -> np.ndarray:
        return pts[:, L[f"{side}_{name}"]]

    leg = per_side(lambda sd: smooth(sagittal_angle_deg(joint(sd, "ANKLE") - joint(sd, "HIP"), fr)))
    thigh = per_side(lambda sd: smooth(sagittal_angle_deg(joint(sd, "KNEE") - joint(sd, "HIP"), fr)))
    picture_xyz = np.concatenate([picture, np.zeros_like(picture[..., :1])], axis=-1)

    def knee_deg(side: str) -> np.ndarray:
        skeleton = knee_flexion_deg(pts, side)
        shown = knee_flexion_deg(picture_xyz, side)
        with np.errstate(invalid="ignore"):
            straightened = (shown <= straight_knee_max_deg) & (skeleton < straightens_max_deg)
            return np.where(straightened, np.fmin(skeleton, shown), skeleton)

    knee = per_side(lambda sd: smooth(knee_deg(sd)))
    with np.errstate(invalid="ignore"):
        pelvis = _either(*per_side(lambda sd: pelvis_above_foot_line(joint(sd, "ANKLE"), fr)), np.max)
    return LegSignals(leg, thigh, knee, pelvis)


def _rate(t_s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d x / d t (NaN where x is)."""
    return np.gradient(x, t_s) if len(t_s) > 2 else np.full(len(t_s), np.nan)


def _range(x: np.ndarray) -> float:
    """5th to 95th percentile span of a signal."""
    return _pct(x, 95) - _pct(x, 5)


def posture_features(pic: np.ndarray, pts: np.ndarray, fr: BodyFrame) -> dict[str, float]:
    """Upright, face down, bridge, arms: the body's posture over the clip (``pic``: the
    landmarks in the picture, :func:`picture_points`)."""
    trunk_elev = elevation_deg(_mean_of(pic, L.LEFT_HIP, L.RIGHT_HIP), _mean_of(pic, L.LEFT_SHOULDER, L.RIGHT_SHOULDER))
    thigh_l, thigh_r = (elevation_deg(pic[:, L[f"{sd}_KNEE"]], pic[:, L[f"{sd}_HIP"]]) for sd in _SIDES)
    thigh_elev = _either(thigh_l, thigh_r, np.max)
    facing = fr.anterior[np.isfinite(fr.anterior).all(axis=1)]
    wrist = _mean_of(pts, L.LEFT_WRIST, L.RIGHT_WRIST) - fr.shoulder
    with np.errstate(invalid="ignore", divide="ignore"):
        forward = (wrist * fr.anterior).sum(axis=1) / fr.torso
    return {
        "trunk_elevation_deg": _median(trunk_elev),
        "thigh_hang_deg": _pct(thigh_elev, 95),
        "face_down_fraction": float(np.mean(facing[:, 1] > 0)) if len(facing) else float("nan"),
        "arms_raise_deg": _median(_either(arm_raise_deg(pts, fr, "LEFT"), arm_raise_deg(pts, fr, "RIGHT"), np.max)),
        "wrists_forward_torso": _median(forward),
    }


def movement_features(
    t_s: np.ndarray, pts: np.ndarray, fr: BodyFrame, s: RecognitionSettings, picture: np.ndarray
) -> dict[str, float]:
    """Knees, legs, trunk and arms: how the body moves over the clip (``picture``: see
    :func:`leg_signals`)."""
    sig = leg_signals(t_s, pts, fr, s.smooth_hz, picture, s.straight_knee_max_deg, s.picture_straightens_max_deg)
    (lo, ro), (kl, kr) = sig.leg, sig.knee
    legs = sig.legs
    straighter = _either(kl, kr, np.min)
    ranges = sorted((np.nan_to_num(_range(x), nan=0.0) for x in (lo, ro)), reverse=True)
    rise = _smooth(t_s, trunk_rise_deg(fr, legs, s.rest_quantile_pct), s.smooth_hz)
    arm_l, arm_r = (sagittal_angle_deg(pts[:, L[f"{sd}_WRIST"]] - pts[:, L[f"{sd}_SHOULDER"]], fr) for sd in _SIDES)
    arms = _smooth(t_s, _either(arm_l, arm_r, np.mean), s.smooth_hz)
    speed = windowed_speed(t_s, legs, s.still_window_s)
    held = np.isfinite(legs) & (speed < s.still_max_speed_deg_s) & (legs > s.hold_min_leg_deg)
    seen = np.isfinite(fr.torso)
    return {
        "pelvis_lift_torso": _median(sig.pelvis_lift),
        "knee_straighter_deg": _median(_where_seen(straighter, lifted_frames(legs))),
        "knee_bent_deg": _median(_either(kl, kr, np.max)),
        "knee_min_bend_deg": _pct(straighter, 10),
        "support_knee_deg": float(np.nanmax([_pct(kl, 10), _pct(kr, 10), -np.inf])),
        "leg_high_deg": _pct(_either(lo, ro, np.max), 95),
        "leg_range_deg": ranges[0],
        "other_leg_range_deg": ranges[1],
        "thigh_low_deg": _pct(_either(*sig.thigh, np.mean), 5),
        "thigh_high_deg": _pct(_either(*sig.thigh, np.max), 95),
        "legs_alternate": 1.0 - np.nan_to_num(_corr(lo, ro), nan=1.0),
        "legs_apart_deg": _pct(np.abs(lo - ro), 90),
        "kick_rate_hz": alternation_rate_hz(t_s, lo - ro, s.kick_hysteresis_deg),
        "leg_rate_hz": alternation_rate_hz(t_s, legs, s.kick_hysteresis_deg),
        "trunk_rise_deg": _pct(rise, 95),
        "pelvis_curl_deg": -_pct(rise, 5),
        "trunk_legs_coupling": np.nan_to_num(_corr(rise, legs), nan=0.0),
        "arm_sweep_deg": _range(arms),
        # of the two movements' speeds, not their levels: the hands moving once between reps
        # (from overhead to under the hips) is no sweep with every rise
        "arms_legs_coupling": np.nan_to_num(_corr(_rate(t_s, arms), _rate(t_s, legs)), nan=0.0),
        "still_fraction": float(held[seen].mean()) if seen.any() else 0.0,
    }


def windowed_speed(t_s: np.ndarray, x: np.ndarray, window_s: float) -> np.ndarray:
    """|change of ``x`` across ``window_s`` centred on each sample| / ``window_s``, per s
    (NaN where ``x`` is). Over a window, not frame to frame: the pose model's jitter
    differentiated frame to frame reads as speed, and a held position would look moving."""
    out = np.full(len(x), np.nan)
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return out
    tt, xx = t_s[ok], x[ok]
    half = 0.5 * window_s
    a, b = np.clip(tt - half, tt[0], tt[-1]), np.clip(tt + half, tt[0], tt[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        out[ok] = np.abs(np.interp(b, tt, xx) - np.interp(a, tt, xx)) / (b - a)
    return out


def lifted_frames(legs_deg: np.ndarray) -> np.ndarray:
    """Frames (bool) with the legs in the upper half of their range (5th to 95th
    percentile), or every frame if the legs were never seen.

    How the knees are held while lifting tells a bent-knee lift from a straight-leg one;
    at rest on the floor they are what they are. Over the whole clip a set trimmed to a
    straight-legged first raise, the set-up lying flat and two bent-knee reps read 35 deg
    (straight) where its lifts read 59."""
    if not np.isfinite(legs_deg).any():
        return np.ones(len(legs_deg), bool)
    lo, hi = np.nanpercentile(legs_deg, [5, 95])
    with np.errstate(invalid="ignore"):
        return legs_deg >= lo + 0.5 * (hi - lo)


def _where_seen(x: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """``x`` in ``frames``, or all of ``x`` where it was never seen in them."""
    return x[frames] if np.isfinite(x[frames]).any() else x


def compute_features(track: PoseTrack, settings: RecognitionSettings | None = None) -> Features:
    """The features of :class:`Features` from a pose track."""
    s = settings or RecognitionSettings()
    pts, three_d = body_points(track, s.min_visibility)
    fr = body_frame(pts, three_d)
    pic = picture_points(track, s.min_visibility)
    return Features(
        frames=int(np.isfinite(fr.torso).sum()),
        **posture_features(pic, pts, fr),
        **movement_features(track.t_s, pts, fr, s, pic),
    )


def pelvis_above_foot_line(ankle: np.ndarray, frame: BodyFrame) -> np.ndarray:
    """Height (N,) of the hips above the line from the shoulders to this foot, torso lengths.

    Measured in the sagittal plane, positive in the anterior direction. In a bridge the
    shoulders and feet bear the weight and the pelvis is held up (about 0.5 with the
    knees at a right angle); lying on a floor, bench or bed the pelvis rests on that
    line within the body's thickness (about 0.0-0.1); a lifted foot makes it negative.
    NaN where the foot is not beyond the hips along the body.
    """
    rel = ankle - frame.hip
    along = (rel * -frame.up_trunk).sum(axis=1)
    front = (rel * frame.anterior).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lift = -front / (along + frame.torso)
    return np.where(along > 0, lift, np.nan)


def trunk_rise_deg(frame: BodyFrame, legs_deg: np.ndarray, rest_quantile_pct: float) -> np.ndarray:
    """Rotation (N,) of the trunk from its resting line toward the front, deg.

    The resting line is the median trunk direction over the frames with the legs
    lowest (the ``rest_quantile_pct`` % lowest leg angles: lying flat between reps). Positive
    when the shoulders come up off the floor (crunch, sit-up, V-up, hollow hold),
    negative when the pelvis curls up instead (reverse crunch, hip lift at the top).
    A fixed camera's roll does not change a rotation between frames.
    """
    ok = np.isfinite(legs_deg)
    if ok.sum() < 3:
        return np.full(len(legs_deg), np.nan)
    low = ok & (legs_deg <= np.nanpercentile(legs_deg, rest_quantile_pct))
    u0 = _unit(np.nanmedian(frame.up_trunk[low], axis=0))
    a0 = np.nanmedian(frame.anterior[low], axis=0)
    a0 = _unit(a0 - (a0 @ u0) * u0)
    return np.degrees(np.arctan2(frame.up_trunk @ a0, frame.up_trunk @ u0))


# --- rules ---------------------------------------------------------------------------


class _Margins:
    """Confidence from how far each deciding feature clears its threshold.

    Each margin is scaled by the unit's confidence scale and mapped to 0.5 + 0.5 tanh;
    the call is as confident as its weakest condition, in [0.5, 0.99].
    """

    def __init__(self, s: RecognitionSettings) -> None:
        self.scale = {"deg": s.confidence_scale_deg, "ratio": s.confidence_scale_ratio, "hz": s.confidence_scale_hz}

    def __call__(self, *margins: tuple[float, str]) -> float:
        conf = [0.5 + 0.5 * np.tanh(m / self.scale[unit]) for m, unit in margins if np.isfinite(m)]
        return float(np.clip(min(conf, default=0.5), 0.5, 0.99))


def is_upright(f: Features, s: RecognitionSettings) -> bool:
    """Standing or hanging: the trunk upright and, at some moment, the thighs hanging below the hips.

    The thigh condition keeps a body propped on its elbows (trunk up to 45 deg, legs on
    the floor) lying; an unseen thigh does not veto, nor does one under a trunk too upright
    to be propped (``upright_sure_trunk_deg``).
    """
    thigh_hangs = not np.isfinite(f.thigh_hang_deg) or f.thigh_hang_deg >= s.upright_min_thigh_deg
    sure = f.trunk_elevation_deg >= s.upright_sure_trunk_deg
    return f.trunk_elevation_deg >= s.upright_min_trunk_deg and (thigh_hangs or sure)


def legs_lift_together(f: Features, s: RecognitionSettings) -> bool:
    """Both legs move through a lift's range, together."""
    return (f.other_leg_range_deg >= s.moving_min_range_deg and f.legs_alternate <= s.together_max_alternate)


def one_leg_moves_alone(f: Features, s: RecognitionSettings) -> bool:
    """One leg moves and the other far less (a single-leg lift with the other leg still)."""
    return f.other_leg_range_deg < s.single_other_max_range_frac * f.leg_range_deg


def _turns_margin(f: Features, s: RecognitionSettings) -> tuple[float, str]:
    """How far the legs clear the rule that makes them take turns (:func:`legs_take_turns`):
    anti-correlation above ``turns_min_alternate``, else one leg moving alone."""
    if f.legs_alternate > s.turns_min_alternate:
        return f.legs_alternate - s.turns_min_alternate, "ratio"
    return s.single_other_max_range_frac * f.leg_range_deg - f.other_leg_range_deg, "deg"


def legs_take_turns(f: Features, s: RecognitionSettings) -> bool:
    """The legs alternate: apart, a leg moving at least a single-leg lift's smallest range
    (``single_min_range_deg``: less is no movement to name), and either anti-correlated (one
    down while the other is up) or not moving together with one leg moving alone. Loosely
    coupled legs are neither (a crunch's feet read 1 - correlation 0.53)."""
    if (f.legs_apart_deg < s.alternate_min_apart_deg or f.legs_alternate <= s.together_max_alternate
            or f.leg_range_deg < s.single_min_range_deg):
        return False
    return f.legs_alternate > s.turns_min_alternate or one_leg_moves_alone(f, s)


def single_leg_posture(f: Features, s: RecognitionSettings) -> bool:
    """One leg straight, the other bent throughout with its foot planted (DESIGN.md: single-leg lift).

    "Throughout" tells it from a dead bug, whose legs take turns to straighten.
    """
    return f.knee_straighter_deg <= s.straight_knee_max_deg and f.support_knee_deg >= s.planted_knee_min_deg


def nearest_leg_lift(f: Features, s: RecognitionSettings) -> str:
    """The leg-lift variation whose posture the clip is closest to (for measuring in doubt):
    one leg moving or a single-leg posture, else knees bent or straight."""
    if single_leg_posture(f, s) or one_leg_moves_alone(f, s):
        return "single_leg_lift"
    return "bent_knee_leg_lift" if f.knee_straighter_deg >= s.bent_knee_min_deg else "double_leg_lift"


Call = tuple[ExerciseName, float, str]  # (name, confidence, reason)


def classify_posture(f: Features, s: RecognitionSettings) -> Call | None:
    """Upright (hanging or standing), prone or bridging; None for a body lying on its back."""
    m = _Margins(s)
    if is_upright(f, s):
        upright = (f.trunk_elevation_deg - s.upright_min_trunk_deg, "deg"), (max(
            f.thigh_hang_deg - s.upright_min_thigh_deg, f.trunk_elevation_deg - s.upright_sure_trunk_deg), "deg")
        if f.arms_raise_deg >= s.overhead_min_arm_deg:
            return ("hanging_leg_raise", m(*upright, (f.arms_raise_deg - s.overhead_min_arm_deg, "deg")),
                    "upright with the arms above the head: hanging")
        if np.isnan(f.arms_raise_deg) and legs_lift_together(f, s):
            # the arms are out of the picture (hands on a bar above its top edge); both feet
            # leave the floor together, which a standing body cannot do
            return ("hanging_leg_raise", m(*upright, (f.leg_range_deg - s.moving_min_range_deg, "deg"),
                                           (s.together_max_alternate - f.legs_alternate, "ratio")),
                    "upright, arms out of the picture, both legs lifting together: hanging")
        return ("not_leg_lift", m(*upright, (s.overhead_min_arm_deg - f.arms_raise_deg, "deg")),
                "upright with the hands below the head: standing, not lying or hanging")
    lying = (max(s.upright_min_trunk_deg - f.trunk_elevation_deg, s.upright_min_thigh_deg - f.thigh_hang_deg), "deg")
    if f.face_down_fraction >= s.face_down_min_fraction:
        return ("not_leg_lift", m(lying, (f.face_down_fraction - s.face_down_min_fraction, "ratio")),
                "lying face down (prone): a plank or similar")
    if f.pelvis_lift_torso >= s.bridge_min_pelvis_lift and f.knee_bent_deg >= s.bridge_min_knee_deg:
        return ("not_leg_lift", m((f.pelvis_lift_torso - s.bridge_min_pelvis_lift, "ratio"),
                                  (f.knee_bent_deg - s.bridge_min_knee_deg, "deg")),
                "hips held up above the shoulder-to-foot line, knees bent: a bridge")
    return None


def classify_alternating(f: Features, s: RecognitionSettings) -> Call:
    """Legs that take turns: flutter kicks or scissors, dead bug, heel taps, single-leg lifts."""
    m = _Margins(s)
    alternating = _turns_margin(f, s), (f.legs_apart_deg - s.alternate_min_apart_deg, "deg")
    if f.knee_bent_deg <= s.straight_knee_max_deg and f.kick_rate_hz >= s.flutter_min_rate_hz:
        return ("not_leg_lift", m(*alternating, (s.straight_knee_max_deg - f.knee_bent_deg, "deg"),
                                  (f.kick_rate_hz - s.flutter_min_rate_hz, "hz")),
                f"straight legs kicking alternately, {f.kick_rate_hz:.1f} times a second: flutter kicks or scissors")
    if f.wrists_forward_torso >= s.arms_up_min_torso:
        return ("dead_bug", m(*alternating, (f.wrists_forward_torso - s.arms_up_min_torso, "ratio")),
                "legs alternate, arms pointing up")
    if f.knee_straighter_deg >= s.bent_knee_min_deg:
        return ("heel_tap", m(*alternating, (f.knee_straighter_deg - s.bent_knee_min_deg, "deg"),
                              (s.arms_up_min_torso - f.wrists_forward_torso, "ratio")),
                "legs alternate with the knees bent, arms down: heel taps from tabletop")
    return ("single_leg_lift", m(*alternating, (s.bent_knee_min_deg - f.knee_straighter_deg, "deg"),
                                 (s.flutter_min_rate_hz - f.kick_rate_hz, "hz")),
            "straight legs lifting one at a time, slowly: single-leg lifts on alternate sides")


def is_reverse_crunch(f: Features, s: RecognitionSettings) -> bool:
    """Knees bent throughout, thighs curled past vertical, from tabletop or with the pelvis curling up."""
    from_tabletop = f.thigh_low_deg >= s.reverse_crunch_min_thigh_low_deg
    pelvis_curls = f.pelvis_curl_deg >= s.reverse_crunch_min_pelvis_curl_deg
    return (f.knee_min_bend_deg >= s.planted_knee_min_deg and f.thigh_high_deg >= s.reverse_crunch_min_thigh_high_deg
            and (from_tabletop or pelvis_curls))


def classify_lying(f: Features, s: RecognitionSettings) -> Call:
    """A body lying on its back (floor, bench, bed, propped on the elbows): what the legs do."""
    m = _Margins(s)
    if single_leg_posture(f, s) and f.leg_range_deg >= s.single_min_range_deg:
        return ("single_leg_lift", m((s.straight_knee_max_deg - f.knee_straighter_deg, "deg"),
                                     (f.support_knee_deg - s.planted_knee_min_deg, "deg"),
                                     (f.leg_range_deg - s.single_min_range_deg, "deg")),
                "one leg straight and lifting, the other bent with the foot down")
    if legs_take_turns(f, s):
        return classify_alternating(f, s)
    if (f.still_fraction >= s.hollow_min_still_fraction and f.leg_high_deg < s.hollow_max_leg_deg
            and f.knee_straighter_deg <= s.straight_knee_max_deg):
        return ("hollow_hold", m((f.still_fraction - s.hollow_min_still_fraction, "ratio"),
                                 (s.hollow_max_leg_deg - f.leg_high_deg, "deg"),
                                 (s.straight_knee_max_deg - f.knee_straighter_deg, "deg")),
                "legs held long, still, low and together, never near vertical: a hollow hold")
    if (f.knee_straighter_deg <= s.straight_knee_max_deg and f.leg_rate_hz >= s.flutter_min_rate_hz
            and f.leg_high_deg < s.flutter_max_leg_deg):
        # the far leg often copies the near one in a side view, hiding the alternation
        return ("not_leg_lift", m((f.leg_rate_hz - s.flutter_min_rate_hz, "hz"),
                                  (s.flutter_max_leg_deg - f.leg_high_deg, "deg")),
                (f"straight legs kicking {f.leg_rate_hz:.1f} times a second, never near vertical: "
                "flutter kicks or scissors"))
    if f.trunk_rise_deg >= s.curl_min_rise_deg and f.trunk_legs_coupling >= s.curl_min_coupling:
        return ("not_leg_lift", m((f.trunk_rise_deg - s.curl_min_rise_deg, "deg"),
                                  (f.trunk_legs_coupling - s.curl_min_coupling, "ratio")),
                (f"the shoulders rise {f.trunk_rise_deg:.0f} deg off the floor with the legs: "
                 "a V-up, jack-knife, sit-up or crunch"))
    if f.arm_sweep_deg >= s.reach_min_arm_sweep_deg and f.arms_legs_coupling <= s.reach_max_coupling:
        return ("not_leg_lift", m((f.arm_sweep_deg - s.reach_min_arm_sweep_deg, "deg"),
                                  (s.reach_max_coupling - f.arms_legs_coupling, "ratio")),
                "the hands sweep toward the feet as the legs rise: a V-up or jack-knife")
    if f.wrists_forward_torso >= s.arms_up_min_torso and f.knee_bent_deg >= s.planted_knee_min_deg:
        # legs seen moving together: the far leg copying the near one in a side view
        return ("dead_bug", m((f.wrists_forward_torso - s.arms_up_min_torso, "ratio"),
                              (f.knee_bent_deg - s.planted_knee_min_deg, "deg")),
                "arms pointing up, knees bent in tabletop: a dead bug (the legs' turns not seen apart)")
    if f.leg_range_deg < s.moving_min_range_deg:
        still = (s.moving_min_range_deg - f.leg_range_deg, "deg")
        if f.knee_min_bend_deg >= s.planted_knee_min_deg:
            return ("not_leg_lift", m(still, (f.knee_min_bend_deg - s.planted_knee_min_deg, "deg")),
                    "the legs stay still with the knees bent: a crunch or similar")
        return ("unknown", m(still),
                f"lying, but the legs hardly move ({f.leg_range_deg:.0f} deg): no lift to measure")
    if is_reverse_crunch(f, s):
        curl = max(f.thigh_low_deg - s.reverse_crunch_min_thigh_low_deg,
                   f.pelvis_curl_deg - s.reverse_crunch_min_pelvis_curl_deg)
        return ("not_leg_lift", m((f.knee_min_bend_deg - s.planted_knee_min_deg, "deg"),
                                  (f.thigh_high_deg - s.reverse_crunch_min_thigh_high_deg, "deg"), (curl, "deg")),
                "knees bent throughout, thighs curled past vertical to the chest: a reverse crunch")
    if f.knee_min_bend_deg >= s.tucked_knee_min_deg:
        return ("not_leg_lift", m((f.knee_min_bend_deg - s.tucked_knee_min_deg, "deg")),
                "the knees stay bent tight throughout, heels by the buttocks: a crunch or similar, not a leg lift")
    moving = (f.leg_range_deg - s.moving_min_range_deg, "deg")
    together = (s.together_max_alternate - f.legs_alternate, "ratio")
    if f.knee_straighter_deg >= s.bent_knee_min_deg:
        return ("bent_knee_leg_lift", m(moving, together, (f.knee_straighter_deg - s.bent_knee_min_deg, "deg")),
                "both legs lift and lower together, knees bent")
    return ("double_leg_lift", m(moving, together, (s.bent_knee_min_deg - f.knee_straighter_deg, "deg")),
            "both legs lift and lower together, knees straight")


def recognize(track: PoseTrack, settings: RecognitionSettings | None = None) -> Recognition:
    """The exercise in a clip, with a confidence in [0.5, 1), the deciding reason and a fallback.

    Posture first (upright, prone, bridge), then what the legs of a body lying on its
    back do. ``fallback`` is set when a lying body's call is "not_leg_lift" or
    "unknown" below ``fallback_max_confidence`` while its legs clearly lift and lower
    (range >= ``lifting_min_range_deg``): it names the leg-lift variation to measure
    the clip as, and the reason says so.
    """
    s = settings or RecognitionSettings()
    if len(track) == 0 or not track.detected.any():
        return Recognition("unknown", 0.0, "no person was found in the clip", None)
    f = compute_features(track, s)
    if f.frames < s.min_frames:
        return Recognition("unknown", 0.0, f"the body is seen in only {f.frames} frames: too few to tell the exercise", f)
    posture = classify_posture(f, s)
    if posture is not None:
        return Recognition(*posture, f)
    name, confidence, reason = classify_lying(f, s)
    fallback = None
    doubtful = name in ("not_leg_lift", "unknown") and confidence < s.fallback_max_confidence
    if doubtful and f.leg_range_deg >= s.lifting_min_range_deg:
        fallback = nearest_leg_lift(f, s)
        reason += f"; but the legs lift and lower through {f.leg_range_deg:.0f} deg, so it is measured as a {fallback}"
    return Recognition(name, confidence, reason, f, fallback)
