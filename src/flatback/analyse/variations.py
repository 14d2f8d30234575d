"""The variation registry: one object per exercise, holding everything that differs.

Each :class:`Variation` says where its reps rest, whether it is counted per side, where
it stands on the progression ladder, which rules apply (tempo, back lift), and adds
its own rules and typed extras. The variation is chosen (recognised or forced) before
segmentation, so the clip is segmented once, per side where the variation needs it.
Adding a variation is one entry in :data:`VARIATIONS` (and, if it has new rules, one
subclass here).

- hollow_hold: a hold, not reps; its timer counts only while the back is seen flat.
- hanging_leg_raise: no floor, no back lift, no tempo rule; the body swinging back from
  the lats is momentum.
- single_leg_lift, heel_tap, dead_bug: each leg segmented on its own, reps per side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from flatback.analyse.assessment import assess_reps, holds_with_back
from flatback.analyse.backlift import BackTrack
from flatback.analyse.reps import Segmentation, find_holds, segment_reps
from flatback.analyse.results import (
    AssessedRep,
    Exercise,
    Fault,
    HangingExtras,
    Hold,
    HollowHoldExtras,
    MomentumReason,
    PartialRep,
    PerSideExtras,
    Rest,
    Side,
    VariationExtras,
)
from flatback.analyse.tempo import retime
from flatback.measure.geometry import BodyGeometry, midpoint
from flatback.measure.signals import SignalSet, derivative
from flatback.settings import Settings
from flatback.types import Landmark as L
from flatback.types import PoseTrack


@dataclass(frozen=True)
class Rung:
    """A step of the progression ladder (DESIGN.md, "Variations", easiest first)."""

    key: str
    exercise: Exercise
    pause_bottom_s: float = 0.0  # the pause-rep rung adds a pause at the bottom

    @property
    def title(self) -> str:
        return self.key.replace("_", " ")


LADDER: tuple[Rung, ...] = (
    Rung("dead_bug", Exercise.DEAD_BUG),
    Rung("heel_tap", Exercise.HEEL_TAP),
    Rung("single_leg_lift", Exercise.SINGLE_LEG_LIFT),
    Rung("double_leg_lift", Exercise.DOUBLE_LEG_LIFT),
    Rung("double_leg_lift_pause", Exercise.DOUBLE_LEG_LIFT, pause_bottom_s=3.0),
    Rung("hanging_leg_raise", Exercise.HANGING_LEG_RAISE),
)


@dataclass(frozen=True)
class Analysed:
    """What a variation's analysis yields: counted reps, partial reps, holds, extras."""

    reps: list[AssessedRep]
    partial: list[PartialRep]
    holds: list[Hold]
    rest: Rest
    hysteresis_deg: float
    extras: VariationExtras | None = None


@dataclass(frozen=True)
class Variation:
    """An exercise and its rules. ``rest`` None: chosen from the clip (settings.reps.rest)."""

    exercise: Exercise
    rung: int  # index into LADDER
    rest: Rest | None = None
    per_side: bool = False
    counts_reps: bool = True
    tempo_rule: bool = True  # a lowering of at least a count of four
    back_rule: bool = True  # the lower back is judged (lying variations)

    @property
    def title(self) -> str:
        return self.exercise.value.replace("_", " ")

    def analyse(
        self, track: PoseTrack, geometry: BodyGeometry, signals: SignalSet, back: BackTrack, settings: Settings,
    ) -> Analysed:
        """Segment and assess the clip under this variation's rules."""
        seg = self.segment(signals, geometry.posture, settings)
        reps = assess_reps(seg.reps, signals, self.rest_of(seg), back, settings.assessment, settings.back_lift,
                           tempo_rule=self.tempo_rule, back_rule=self.back_rule)
        holds = holds_with_back(seg.holds, signals.t_s, back)
        return self.finish(
            Analysed(reps, list(seg.partial), holds, self.rest_of(seg), seg.hysteresis_deg), track, geometry, signals,
            settings,
        )

    def segment(self, signals: SignalSet, posture: str, settings: Settings) -> Segmentation:
        reps = settings.reps if self.rest is None else settings.reps.model_copy(update={"rest": self.rest.value})
        seg = segment_reps(signals.t_s, signals.leg_angle_deg, signals.leg_speed_deg_s, reps, posture, signals.breaks,
                           signals.thighs_deg)
        return replace(seg, reps=retime(seg.reps, signals.t_s, signals.leg_angle_deg, seg.rest,
                                        settings.assessment, settings.reps))

    @staticmethod
    def rest_of(seg: Segmentation) -> Rest:
        return Rest(seg.rest)

    def finish(
        self, result: Analysed, track: PoseTrack, geometry: BodyGeometry, signals: SignalSet, settings: Settings,
    ) -> Analysed:
        """The variation's own rules and extras, on top of the common assessment."""
        return result


class HollowHold(Variation):
    """A hold, not reps: the timer counts only while the back is seen flat (target 20 s)."""

    def finish(self, result, track, geometry, signals, settings):
        seen = [h.back_flat_s for h in result.holds if h.back_flat_s is not None]
        extras = HollowHoldExtras(
            hold_target_s=settings.variations.hollow_hold_target_s,
            longest_flat_hold_s=max(seen) if seen else None,
            holds_s=tuple(h.duration_s for h in result.holds),
        )
        # the lift into the hold and the lowering out of it are not reps
        return replace(result, reps=[], extras=extras)


class HangingLegRaise(Variation):
    """Hanging: the hips swinging back behind the hands is a kip from the lats."""

    def finish(self, result, track, geometry, signals, settings):
        swing = backward_swing(geometry)
        reps = result.reps
        if swing > settings.variations.hanging_swing_ratio:
            reps = [
                replace(r, momentum_reasons=(*r.momentum_reasons, MomentumReason.SWING),
                        faults=tuple(sorted({*r.faults, Fault.SWINGING})))
                for r in reps
            ]
        return replace(result, reps=reps, extras=HangingExtras(swing_ratio=swing))


class OneLegVariation(Variation):
    """One leg at a time: the working leg's angle (:func:`working_leg_deg`) is segmented,
    each rep credited to the leg that was working at its turn.

    A rep counts only if that leg was seen at its turn (:func:`leg_seen`): a far leg
    hidden behind the near one is the model's guess.
    """

    def segment(self, signals, posture, settings):
        rep_settings = settings.reps.model_copy(update={"rest": self.rest.value if self.rest else "auto"})
        t = signals.t_s
        left, right = signals.leg_angle_for(Side.LEFT), signals.leg_angle_for(Side.RIGHT)
        x = signals.legs_lower_deg if working_leg_is_lower(self.rest) else signals.legs_higher_deg
        seg = segment_reps(t, x, derivative(t, x, signals.breaks), rep_settings, posture, signals.breaks,
                           signals.thighs_deg)
        retimed = retime(seg.reps, t, x, seg.rest, settings.assessment, settings.reps)
        reps = [replace(r, side=working_side_at(t, left, right, r.turn_s, self.rest)) for r in retimed]
        partial = [replace(p, side=working_side_at(t, left, right, 0.5 * (p.start_s + p.end_s), self.rest))
                   for p in seg.partial]
        # holds are of the working leg(s), as for every variation
        holds = find_holds(t, signals.leg_angle_deg, signals.leg_speed_deg_s, settings.reps)
        return Segmentation(reps, sorted(partial, key=lambda p: p.start_s), holds, seg.rest, seg.hysteresis_deg)

    def analyse(self, track, geometry, signals, back, settings):
        seg = self.segment(signals, geometry.posture, settings)
        seen = [r for r in seg.reps if leg_seen_at_turn(track, r.side, r.turn_s, settings)]
        seg = replace(seg, reps=seen)
        reps = assess_reps(seg.reps, signals, self.rest_of(seg), back, settings.assessment, settings.back_lift,
                           tempo_rule=self.tempo_rule, back_rule=self.back_rule)
        holds = holds_with_back(seg.holds, signals.t_s, back)
        return self.finish(Analysed(reps, list(seg.partial), holds, self.rest_of(seg), seg.hysteresis_deg),
                           track, geometry, signals, settings)

    def finish(self, result, track, geometry, signals, settings):
        reps = result.reps
        extras = PerSideExtras(reps_per_side={side: sum(r.side is side for r in reps) for side in Side})
        if self.exercise is Exercise.SINGLE_LEG_LIFT:
            per_side = {side: [r.end_range_deg for r in reps if r.side is side and r.end_range_deg is not None]
                        for side in Side}
            extras = replace(extras, end_range_per_side_deg={s: float(np.median(v)) for s, v in per_side.items() if v})
        if self.exercise is Exercise.DEAD_BUG:
            arms = [moving_arm_side(r, geometry, settings.variations.arm_travel_ratio) for r in reps]
            extras = replace(extras, opposite_arm_and_leg=tuple(
                None if arm is None or r.side is None else arm is not r.side for r, arm in zip(reps, arms)
            ))
        if self.exercise is Exercise.HEEL_TAP:
            knee = signals.knee_flexion_deg[np.isfinite(signals.knee_flexion_deg)]
            extras = replace(extras, tabletop_knee_deg=float(np.percentile(knee, 75)) if len(knee) else None)
        return replace(result, extras=extras)


def working_leg_is_lower(rest: Rest | None) -> bool:
    """A one-leg variation's working leg is the lower of the two where the legs rest up (a
    dead bug's or heel tap's leg reaching down from the tabletop), the higher where they
    rest on the floor (a single-leg lift)."""
    return rest is Rest.TOP


def working_leg_deg(left_deg: np.ndarray, right_deg: np.ndarray, rest: Rest | None) -> np.ndarray:
    """The working leg's angle in a one-leg variation, deg (:func:`working_leg_is_lower`);
    the one seen where the other is not. Live mode picks it from each leg's readings;
    offline takes the signals' ``legs_lower_deg`` / ``legs_higher_deg``, picked the same way
    before the low-pass.

    Segmenting this rather than each leg on its own makes the count blind to the pose
    model confusing near and far leg mid-set (a small, far-off or mirrored picture): a
    swap exchanges the two readings, and their lower (or higher) one stays the same; a
    resting far leg read onto the working near one reads where the working leg is.
    """
    pick = np.fmin if working_leg_is_lower(rest) else np.fmax
    return pick(left_deg, right_deg)


def working_side_at(
    t_s: np.ndarray, left_deg: np.ndarray, right_deg: np.ndarray, at_s: float, rest: Rest | None
) -> Side | None:
    """Which leg :func:`working_leg_deg` followed at time ``at_s`` (None: neither seen)."""
    if not len(t_s):
        return None
    k = int(np.argmin(np.abs(t_s - at_s)))
    a, b = float(left_deg[k]), float(right_deg[k])
    if not (math.isfinite(a) and math.isfinite(b)):
        return Side.LEFT if math.isfinite(a) else Side.RIGHT if math.isfinite(b) else None
    left_lower = a <= b
    return Side.LEFT if left_lower == (rest is Rest.TOP) else Side.RIGHT


def leg_seen(working: float, other: float, settings: Settings) -> bool:
    """The working leg was seen, not guessed: its visibility (0-1) is at least
    ``variations.side_turn_min_visibility_ratio`` of the other leg's at the same frames, and
    at least ``geometry.min_visibility`` (below it a point is unseen however the other leg
    scores; a lost pose scores both legs 0). Relative to the other leg above that: a dim,
    noisy, captioned or oblique picture lowers every landmark's score, a leg hidden behind
    the other lowers only its own."""
    return working >= max(settings.geometry.min_visibility, settings.variations.side_turn_min_visibility_ratio * other)


def leg_seen_in(visibility: np.ndarray, side: Side | None, settings: Settings) -> bool:
    """:func:`leg_seen` over frames' ``visibility`` (K, 33), each leg's the lower of its
    knee's and ankle's, averaged over the frames (none: not seen; no side: seen)."""
    if side is None:
        return True
    if not len(visibility):
        return False
    mean = {s: float(np.minimum(visibility[:, L[f"{s.value.upper()}_KNEE"]],
                                visibility[:, L[f"{s.value.upper()}_ANKLE"]]).mean()) for s in Side}
    other = Side.RIGHT if side is Side.LEFT else Side.LEFT
    return leg_seen(mean[side], mean[other], settings)


def leg_seen_at_turn(track: PoseTrack, side: Side | None, turn_s: float, settings: Settings) -> bool:
    """The leg was seen around its turn (:func:`leg_seen_in`), not the model's guess."""
    near = np.abs(track.t_s - turn_s) <= settings.variations.side_turn_window_s
    return leg_seen_in(track.visibility[near], side, settings)


def moving_arm_side(rep: AssessedRep, geometry: BodyGeometry, min_travel_ratio: float) -> Side | None:
    """Which arm moved in a rep: the wrist that travelled further (torso lengths)."""
    w = (geometry.t_s >= rep.start_s) & (geometry.t_s <= rep.end_s)
    travel = {}
    for side in Side:
        p = geometry.xy_px[w, L[f"{side.value.upper()}_WRIST"]]
        p = p[np.isfinite(p).all(axis=1)]
        travel[side] = float(np.ptp(p, axis=0).max() / geometry.torso_length_px) if len(p) > 3 else -1.0
    if max(travel.values()) < min_travel_ratio:  # no arm moved clearly
        return None
    return max(travel, key=lambda s: travel[s])


def backward_swing(geometry: BodyGeometry) -> float:
    """How far the hips swing back behind the hands (the hanging line), torso lengths.

    A clean hanging raise curls the pelvis forward, towards the ribs; a kip from the
    lats first swings the hips back behind the bar. Measured at the 5th percentile
    (the furthest back, less a stray frame).
    """
    xy = geometry.xy_px
    seen = np.isfinite(xy[..., 0]).astype(np.float32)
    wrist = midpoint(xy, seen, L.LEFT_WRIST, L.RIGHT_WRIST, 0.5)
    facing = np.sign(np.nanmedian(xy[:, L.NOSE, 0] - geometry.shoulder_px[:, 0])) or 1.0
    ahead = (geometry.hip_px[:, 0] - wrist[:, 0]) * facing / geometry.torso_length_px
    ahead = ahead[np.isfinite(ahead)]
    return float(max(-np.percentile(ahead, 5), 0.0)) if len(ahead) > 5 else 0.0


VARIATIONS: dict[Exercise, Variation] = {
    v.exercise: v
    for v in (
        OneLegVariation(Exercise.DEAD_BUG, rung=0, rest=Rest.TOP, per_side=True),
        OneLegVariation(Exercise.HEEL_TAP, rung=1, rest=Rest.TOP, per_side=True),
        OneLegVariation(Exercise.SINGLE_LEG_LIFT, rung=2, rest=Rest.FLOOR, per_side=True),
        Variation(Exercise.BENT_KNEE_LEG_LIFT, rung=1),
        Variation(Exercise.DOUBLE_LEG_LIFT, rung=3),
        HangingLegRaise(Exercise.HANGING_LEG_RAISE, rung=5, tempo_rule=False, back_rule=False),
        HollowHold(Exercise.HOLLOW_HOLD, rung=0, counts_reps=False),
    )
}


def variation_for(exercise: Exercise) -> Variation:
    """The registry entry for an exercise (unknown and not-leg-lift clips measured as a
    double-leg lift when they are measured at all)."""
    return VARIATIONS.get(exercise, VARIATIONS[Exercise.DOUBLE_LEG_LIFT])


def rung_of(exercise: Exercise, pause_bottom_s: float | None, pause_rep_min_s: float) -> int:
    """The ladder rung a set of ``exercise`` stands on (pause reps one above double-leg)."""
    rung = variation_for(exercise).rung
    if LADDER[rung].key == "double_leg_lift" and (pause_bottom_s or 0.0) >= pause_rep_min_s:
        rung += 1
    return rung


def median_pause_bottom_s(reps: Sequence[AssessedRep]) -> float | None:
    return float(np.median([r.pause_bottom_s for r in reps])) if reps else None
