"""Per-variation rules (DESIGN.md, "Variations"), applied after the common assessment.

- hollow_hold: a hold, not reps; its timer counts only while the back is flat (target 20 s).
- hanging_leg_raise: the body swinging from the lats is momentum.
- single_leg_lift, heel_tap, dead_bug: each leg segmented on its own (``reps_per_side``),
  reps counted per side; single-leg end range per leg.
"""

from __future__ import annotations

import numpy as np

from flatback.measure.geometry import BodyGeometry
from flatback.outputs.report import Cue, HoldReport, RepReport
from flatback.settings import RecognitionSettings
from flatback.measure.signals import SignalSet

ONE_SIDE_AT_A_TIME = {"single_leg_lift", "heel_tap", "dead_bug"}

VARIATION_CUES: dict[str, tuple[int, str]] = {
    "swinging": (2, "Don't swing: curl the pelvis up towards the ribs, no kick from the lats."),
    "hollow_hold_short": (3, "Build the hollow hold up to {target:.0f} s with the lower back pressed down."),
}


def moving_arm_side(rep: RepReport, geometry: BodyGeometry) -> str | None:
    """Which arm moved in a rep: the wrist that travelled further (torso lengths)."""
    from flatback.types import Landmark as L

    w = (geometry.t_s >= rep.start_s) & (geometry.t_s <= rep.end_s)
    travel = {}
    for side in ("left", "right"):
        p = geometry.xy_px[w, L[f"{side.upper()}_WRIST"]]
        p = p[np.isfinite(p).all(axis=1)]
        travel[side] = float(np.ptp(p, axis=0).max() / geometry.torso_length_px) if len(p) > 3 else -1.0
    if max(travel.values()) < 0.3:  # no arm moved clearly
        return None
    return max(travel, key=travel.get)


def backward_swing(geometry: BodyGeometry) -> float:
    """How far the hips swing back behind the hands (the hanging line), torso lengths.

    A clean hanging raise curls the pelvis forward, towards the ribs; a kip from the
    lats first swings the hips back behind the bar. Measured at the 5th percentile.
    """
    from flatback.measure.geometry import midpoint
    from flatback.types import Landmark as L

    xy = geometry.xy_px
    seen = np.isfinite(xy[..., 0]).astype(np.float32)
    wrist = midpoint(xy, seen, L.LEFT_WRIST, L.RIGHT_WRIST, 0.5)
    facing = np.sign(np.nanmedian(xy[:, L.NOSE, 0] - geometry.shoulder_px[:, 0])) or 1.0
    ahead = (geometry.hip_px[:, 0] - wrist[:, 0]) * facing / geometry.torso_length_px
    ahead = ahead[np.isfinite(ahead)]
    return float(max(-np.percentile(ahead, 5), 0.0)) if len(ahead) > 5 else 0.0


def reps_per_side(
    name: str, track, geometry: BodyGeometry, signals: SignalSet, back, settings,
) -> tuple[list[RepReport], list, list[Cue]]:
    """One-leg-at-a-time variations: each leg's angle segmented on its own.

    A single-leg lift rests on the floor; dead bugs and heel taps rest in tabletop (legs
    up) and reach down. A leg's rep counts only if the leg was seen at its turn (knee and
    ankle visibility at least ``recognition.side_turn_min_visibility``): a far leg is
    mostly the pose model's guess. Returns the reps (with ``side``), partial reps, cues.
    """
    from dataclasses import replace

    from flatback.analyse.assessment import assess, cues_for
    from flatback.analyse.reps import Segmentation, segment_reps
    from flatback.measure.signals import clean_offline, derivative
    from flatback.types import Landmark as L

    rest = "floor" if name == "single_leg_lift" else "top"
    rep_settings = settings.reps.model_copy(update={"rest": rest})
    t = signals.t_s
    reps, partial = [], []
    for side in ("left", "right"):
        x = clean_offline(t, getattr(geometry, f"leg_angle_{side}_deg"), settings.signals, signals.breaks)
        v = derivative(t, x, signals.breaks)
        seg = segment_reps(t, x, v, rep_settings, geometry.posture, signals.breaks)
        vis = np.minimum(track.visibility[:, L[f"{side.upper()}_KNEE"]], track.visibility[:, L[f"{side.upper()}_ANKLE"]])
        min_vis = settings.recognition.side_turn_min_visibility
        seen = [r for r in seg.reps if vis[np.abs(t - r.turn_s) <= 0.2].mean() >= min_vis]
        side_signals = replace(signals, leg_angle_deg=x, leg_speed_deg_s=v)
        side_reps, side_partial, _, _ = assess(
            Segmentation(seen, seg.partial, [], seg.rest, seg.hysteresis_deg), side_signals, settings.assessment,
            back, settings.back_lift,
        )
        reps += [r.model_copy(update={"side": side}) for r in side_reps]
        partial += side_partial
    reps = [r.model_copy(update={"index": k}) for k, r in enumerate(sorted(reps, key=lambda r: r.start_s), start=1)]
    return reps, sorted(partial, key=lambda p: p.start_s), cues_for(reps)


def apply_variation(
    name: str, reps: list[RepReport], holds: list[HoldReport], cues: list[Cue], geometry: BodyGeometry,
    signals: SignalSet, settings: RecognitionSettings,
) -> tuple[list[RepReport], list[HoldReport], list[Cue], dict]:
    """The variation's rules: (reps, holds, cues, extra report fields)."""
    extra: dict = {}
    if name == "hollow_hold":
        flat = [h.back_flat_s if h.back_flat_s is not None else h.duration_s for h in holds]
        longest = max(flat, default=0.0)
        extra = {"hold_target_s": settings.hollow_hold_target_s, "longest_flat_hold_s": longest,
                 "holds_s": [h.duration_s for h in holds]}
        if longest < settings.hollow_hold_target_s:
            priority, text = VARIATION_CUES["hollow_hold_short"]
            cues = [*cues, Cue(t_s=holds[0].start_s if holds else None, code="hollow_hold_short",
                               text=text.format(target=settings.hollow_hold_target_s), priority=priority,
                               evidence=f"longest hold with the back flat: {longest:.1f} s")]
        # a hold is the unit here: the lift into it and the lowering out of it are not reps
        return [], holds, [c for c in cues if c.code not in ("descent_too_fast", "momentum")], extra
    if name == "hanging_leg_raise":
        swing = backward_swing(geometry)
        extra = {"swing_ratio": swing}
        if swing > settings.hanging_swing_ratio:
            reps = [r.model_copy(update={"momentum": True, "momentum_reasons": [*r.momentum_reasons, "swing"],
                                         "faults": sorted(set(r.faults) | {"swinging"}), "quality_rep": False}) for r in reps]
            priority, text = VARIATION_CUES["swinging"]
            cues = [*cues, Cue(t_s=reps[0].start_s if reps else None, code="swinging", text=text, priority=priority,
                               evidence=f"hips swing {swing:.2f} torso lengths (limit {settings.hanging_swing_ratio})")]
        # descent tempo and back lift do not apply hanging
        cues = [c for c in cues if c.code not in ("descent_too_fast", "back_lifted", "setup_back_not_flat")]
        reps = [r.model_copy(update={"faults": [f for f in r.faults if f != "descent_too_fast"]}) for r in reps]
        reps = [r.model_copy(update={"quality_rep": not r.faults}) for r in reps]
        return reps, holds, sorted(cues, key=lambda c: c.priority), extra
    if name in ONE_SIDE_AT_A_TIME:
        per_side = {side: sum(r.side == side for r in reps) for side in ("left", "right")}
        extra = {"reps_per_side": per_side}
        if name == "single_leg_lift":
            extra["end_range_per_side_deg"] = {
                side: float(np.median([r.end_range_deg for r in reps if r.side == side and r.end_range_deg is not None]))
                for side in ("left", "right")
                if any(r.side == side and r.end_range_deg is not None for r in reps)
            }
        if name == "dead_bug":
            pairs = [(r.side, moving_arm_side(r, geometry)) for r in reps]
            extra["opposite_arm_and_leg"] = [None if arm is None or leg is None else arm != leg for leg, arm in pairs]
        if name == "heel_tap":
            knee = signals.knee_flexion_deg[np.isfinite(signals.knee_flexion_deg)]
            extra["tabletop_knee_deg"] = float(np.percentile(knee, 75)) if len(knee) else None
        # in a side view the pose model often swaps left and right: "left" and "right" are
        # the model's labels after flatback's repair, good for balance, not for naming a limb
        extra["side_note"] = "sides as the pose model labels them after swap repair"
    return reps, holds, cues, extra

