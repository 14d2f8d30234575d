"""Which exercise the clip shows: the leg-lift variation, or not a leg lift at all.

Rules on posture and movement features of the landmark sequence, each feature named
and measured without the floor line (so a bridge or a standing person does not first
fail a leg-lift check). Order matters: the first rule that fires decides; its margin
from the threshold gives the confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flatback.measure.geometry import in_frame_visibility, midpoint, segment_angle_deg
from flatback.measure.signals import lowpass_zero_phase
from flatback.types import Landmark as L
from flatback.types import PoseTrack


@dataclass(frozen=True)
class Features:
    """What the rules look at; medians over the frames with a person, deg or torso lengths."""

    trunk_tilt_deg: float  # trunk to the image horizontal: 0 lying, 90 upright
    wrists_above_shoulders: float  # torso lengths, > 0: wrists higher in the picture than the shoulders
    nose_above_ears: float  # torso lengths, > 0: face up (supine), < 0 face down (prone)
    knee_bend_straighter_deg: float  # median knee flexion of the straighter leg
    knee_bend_bent_deg: float  # ... of the more bent leg
    leg_lift_deg: float  # median angle of the legs away from the trunk line (0 = body straight)
    leg_range_deg: float  # 5th to 95th percentile of that angle
    leg_lift_high_deg: float  # its 95th percentile: how high the legs go
    legs_alternate: float  # 1 - correlation of the two legs' angles: 0 together, ~1 independent, 2 opposite
    legs_apart_deg: float  # 90th percentile of the difference between the legs
    still_fraction: float  # share of frames with the legs still and up (a hold)


@dataclass(frozen=True)
class Recognition:
    name: str  # an Exercise value
    confidence: float
    reason: str
    features: Features


def _conf(margin: float, scale: float) -> float:
    """Confidence from how far a feature clears its threshold (0.5 at the threshold)."""
    return float(np.clip(0.5 + 0.5 * np.tanh(margin / scale), 0.5, 0.99))


def compute_features(track: PoseTrack) -> Features:
    """The features of :class:`Features` from a pose track."""
    vis = in_frame_visibility(track.xy_px, track.visibility, track.info.width, track.info.height, 0.02)
    xy = track.xy_px
    sh = midpoint(xy, vis, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, 0.5)
    hip = midpoint(xy, vis, L.LEFT_HIP, L.RIGHT_HIP, 0.5)
    trunk = sh - hip
    torso = np.linalg.norm(trunk, axis=1)
    tilt = np.degrees(np.arctan2(np.abs(trunk[:, 1]), np.abs(trunk[:, 0])))
    wrist = midpoint(xy, vis, L.LEFT_WRIST, L.RIGHT_WRIST, 0.3)
    ear = midpoint(xy, vis, L.LEFT_EAR, L.RIGHT_EAR, 0.3)
    nose = xy[:, L.NOSE]

    def knee_flexion(side: str) -> np.ndarray:
        h, k, a = (xy[:, L[f"{side}_{j}"]] for j in ("HIP", "KNEE", "ANKLE"))
        return segment_angle_deg(k - h, a - k)

    def leg_lift(side: str) -> np.ndarray:
        # angle between the trunk's continuation (shoulder -> hip, onwards) and hip -> ankle
        h, a = xy[:, L[f"{side}_HIP"]], xy[:, L[f"{side}_ANKLE"]]
        return segment_angle_deg(hip - sh, a - h)

    kl, kr = knee_flexion("LEFT"), knee_flexion("RIGHT")
    ll, lr = leg_lift("LEFT"), leg_lift("RIGHT")
    t = track.t_s
    ll_s, lr_s = lowpass_zero_phase(t, ll, 2.0), lowpass_zero_phase(t, lr, 2.0)
    both = np.isfinite(ll_s) & np.isfinite(lr_s)
    corr = float(np.corrcoef(ll_s[both], lr_s[both])[0, 1]) if both.sum() > 10 and np.std(ll_s[both]) > 0 and np.std(lr_s[both]) > 0 else 1.0
    legs = np.where(np.isfinite(ll_s) & np.isfinite(lr_s), 0.5 * (ll_s + lr_s), np.where(np.isfinite(ll_s), ll_s, lr_s))
    speed = np.abs(np.gradient(np.nan_to_num(legs), t)) if len(t) > 1 else np.zeros(len(t))
    still_up = np.isfinite(legs) & (speed < 10.0) & (legs > 12.0)
    return Features(
        trunk_tilt_deg=float(np.nanmedian(tilt)),
        wrists_above_shoulders=float(np.nanmedian((sh[:, 1] - wrist[:, 1]) / torso)),
        nose_above_ears=float(np.nanmedian((ear[:, 1] - nose[:, 1]) / torso)),
        knee_bend_straighter_deg=float(np.nanmedian(np.fmin(kl, kr))),
        knee_bend_bent_deg=float(np.nanmedian(np.fmax(kl, kr))),
        leg_lift_deg=float(np.nanmedian(legs)),
        leg_range_deg=float(np.nanpercentile(legs, 95) - np.nanpercentile(legs, 5)),
        leg_lift_high_deg=float(np.nanpercentile(legs, 95)),
        legs_alternate=1.0 - corr,
        legs_apart_deg=float(np.nanpercentile(np.abs(ll_s - lr_s), 90)),
        still_fraction=float(still_up[track.detected].mean()) if track.detected.any() else 0.0,
    )


def recognize(track: PoseTrack) -> Recognition:
    """The exercise in a clip, with a confidence in [0.5, 1) and the deciding reason."""
    f = compute_features(track)
    if f.trunk_tilt_deg >= 45:
        if f.wrists_above_shoulders > 0.5:
            return Recognition("hanging_leg_raise", _conf(f.wrists_above_shoulders - 0.5, 0.3),
                               "upright, hands above the head (hanging)", f)
        return Recognition("not_leg_lift", _conf(0.5 - f.wrists_above_shoulders, 0.3),
                           "upright with the hands low: standing, not lying or hanging", f)
    if f.nose_above_ears < 0:
        return Recognition("not_leg_lift", _conf(-f.nose_above_ears, 0.05), "face down (prone): a plank or similar", f)
    if f.trunk_tilt_deg >= 15:
        return Recognition("not_leg_lift", _conf(f.trunk_tilt_deg - 15, 5), "hips raised off the floor: a bridge", f)
    if f.knee_bend_straighter_deg > 100 and f.leg_lift_deg < 45:
        return Recognition("not_leg_lift", _conf(f.knee_bend_straighter_deg - 100, 15),
                           "both knees bent, feet planted: a crunch or similar", f)
    if f.knee_bend_bent_deg > 90 and f.knee_bend_straighter_deg < 30:
        return Recognition("single_leg_lift", _conf(min(f.knee_bend_bent_deg - 90, 30 - f.knee_bend_straighter_deg), 15),
                           "one leg straight, the other bent with the foot down", f)
    if f.legs_alternate > 0.5 and f.legs_apart_deg > 30:
        if f.wrists_above_shoulders > 0.4:
            return Recognition("dead_bug", _conf(f.legs_alternate - 0.5, 0.3), "legs alternate, arms up", f)
        return Recognition("heel_tap", _conf(f.legs_alternate - 0.5, 0.3), "legs alternate from tabletop, arms down", f)
    if f.still_fraction > 0.35 and f.leg_lift_high_deg < 60:
        return Recognition("hollow_hold", _conf(min(f.still_fraction - 0.35, (60 - f.leg_lift_high_deg) / 100), 0.15),
                           "legs held still, low, together, never near vertical", f)
    if f.leg_range_deg < 25:
        return Recognition("unknown", 0.5, "the legs hardly move", f)
    if f.knee_bend_straighter_deg > 45:
        return Recognition("bent_knee_leg_lift", _conf(f.knee_bend_straighter_deg - 45, 10), "both legs move together, knees bent", f)
    return Recognition("double_leg_lift", _conf(45 - f.knee_bend_straighter_deg, 10), "both legs move together, knees straight", f)
