"""Assessment: per-rep metrics, momentum, faults and aids (DESIGN.md coaching rules).

Pure functions of the rep timings and the cleaned signals; what a variation changes
(which faults apply) comes from its :class:`~flatback.analyse.variations.Variation`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flatback.analyse.backlift import SEEN, BackTrack, rep_back
from flatback.analyse.results import (
    Aid,
    AssessedRep,
    BackState,
    Fault,
    Hold,
    MomentumReason,
    Phase,
    RepBack,
    RepTiming,
    Rest,
)
from flatback.measure.signals import SignalSet
from flatback.settings import AssessmentSettings, BackLiftSettings


def _window(t_s: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    return (t_s >= start_s) & (t_s <= end_s)


def _nan_stat(fn, x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(fn(x)) if len(x) else None


def momentum_reasons(rep: RepTiming, signals: SignalSet, rest: Rest, s: AssessmentSettings) -> tuple[MomentumReason, ...]:
    """Why a rep counts as momentum (DESIGN.md): fast ascent, overshoot past vertical,
    a bounce at the bottom, the pelvis swinging up."""
    reasons = []
    up_speed = rep.peak_speed_up_deg_s
    if (
        rep.descent_s > 0
        and rep.ascent_s < s.momentum_ascent_ratio * rep.descent_s
        and np.isfinite(up_speed)
        and up_speed > s.momentum_min_speed_deg_s
    ):
        reasons.append(MomentumReason.FAST_ASCENT)
    if rest is not Rest.HANG and rep.max_leg_angle_deg > s.overshoot_deg:
        reasons.append(MomentumReason.OVERSHOOT)
    if (
        rest is Rest.TOP
        and rep.pause_bottom_s < s.bounce_max_pause_s
        and rep.peak_speed_down_deg_s > s.bounce_min_speed_deg_s
        and up_speed > s.bounce_min_speed_deg_s
    ):
        reasons.append(MomentumReason.BOUNCE)
    lift = pelvis_lift(rep, signals)
    if rest is not Rest.HANG and lift is not None and lift > s.pelvis_lift_ratio:  # hanging, the pelvis should curl up
        reasons.append(MomentumReason.PELVIS_LIFT)
    return tuple(reasons)


def pelvis_lift(rep: RepTiming, signals: SignalSet) -> float | None:
    """Largest rise of the hips above their height at the rep's start, torso lengths."""
    w = _window(signals.t_s, rep.start_s, rep.end_s)
    h = signals.hip_height_ratio[w]
    h = h[np.isfinite(h)]
    if len(h) < 2:
        return None
    return float(np.max(h) - h[0])


def assess_rep(
    index: int, rep: RepTiming, signals: SignalSet, rest: Rest, head_baseline_deg: float | None,
    s: AssessmentSettings, back: RepBack, *, tempo_rule: bool = True,
) -> AssessedRep:
    """Metrics, faults and aids of one complete rep (``tempo_rule``: the count-of-four
    lowering applies to this variation)."""
    w = _window(signals.t_s, rep.start_s, rep.end_s)
    knee_max = _nan_stat(np.max, signals.knee_flexion_deg[w])
    knee_mean = _nan_stat(np.mean, signals.knee_flexion_deg[w])
    head_lift = None
    if head_baseline_deg is not None:
        head_med = _nan_stat(np.median, signals.head_angle_deg[w])
        head_lift = None if head_med is None else head_med - head_baseline_deg
    reasons = momentum_reasons(rep, signals, rest, s)
    faults, aids = [], []
    if back.state is BackState.LIFTED:
        faults.append(Fault.BACK_LIFTED)
    if reasons:
        faults.append(Fault.MOMENTUM)
    if tempo_rule and rep.descent_s < s.min_descent_s:
        faults.append(Fault.DESCENT_TOO_FAST)
    if knee_mean is not None and knee_mean > s.knee_bent_deg:
        faults.append(Fault.KNEES_BENT)
    elif knee_max is not None and knee_max > s.slight_knee_bend_deg:
        aids.append(Aid.SLIGHT_KNEE_BEND)
    head_lifted = None if head_lift is None else bool(head_lift > s.head_lift_deg)
    if head_lifted:
        aids.append(Aid.HEAD_LIFTED)
    return AssessedRep(
        index=index, timing=rep, back=back, momentum_reasons=reasons, knee_flexion_max_deg=knee_max,
        knee_flexion_mean_deg=knee_mean, head_lifted=head_lifted, head_lift_deg=head_lift,
        pelvis_lift_ratio=pelvis_lift(rep, signals), faults=tuple(faults), aids=tuple(aids),
    )


def head_baseline(signals: SignalSet, s: AssessmentSettings) -> float | None:
    """The person's own head angle when resting on the floor, deg."""
    h = signals.head_angle_deg[np.isfinite(signals.head_angle_deg)]
    return float(np.percentile(h, s.head_rest_percentile)) if len(h) else None


def assess_reps(
    reps: Sequence[RepTiming], signals: SignalSet, rest: Rest, back: BackTrack, settings: AssessmentSettings,
    back_settings: BackLiftSettings, *, tempo_rule: bool = True, back_rule: bool = True,
) -> list[AssessedRep]:
    """Every counted rep assessed, indexed 1.. in time order. ``back_rule``: the back
    lift applies to this variation (not hanging); ``tempo_rule``: the count of four."""
    baseline = head_baseline(signals, settings)
    out = []
    for i, rep in enumerate(sorted(reps, key=lambda r: r.start_s), start=1):
        leg = signals.leg_angle_for(rep.side)
        back_state = rep_back(rep, signals.t_s, back, leg, back_settings) if back_rule else RepBack(BackState.UNKNOWN)
        out.append(assess_rep(i, rep, signals, rest, baseline, settings, back_state, tempo_rule=tempo_rule))
    return out


def flat_seconds(t_s: np.ndarray, back: BackTrack, start_s: float, end_s: float) -> float | None:
    """Seconds of [start_s, end_s] with the back seen flat (None if never seen)."""
    w = np.flatnonzero((t_s >= start_s) & (t_s <= end_s))
    if len(w) < 2 or not np.isin(back.state[w], SEEN).any():
        return None
    # each frame lasts until the next one
    dt = np.diff(np.append(t_s[w], t_s[w[-1] + 1] if w[-1] + 1 < len(t_s) else t_s[w[-1]]))
    return float(np.sum(dt[back.state[w] == BackState.FLAT]))


def holds_with_back(holds: Sequence[Hold], t_s: np.ndarray, back: BackTrack) -> list[Hold]:
    """The holds with the seconds the back was seen flat in each."""
    return [Hold(h.start_s, h.end_s, h.mean_leg_angle_deg, flat_seconds(t_s, back, h.start_s, h.end_s)) for h in holds]


def setup_back_not_flat(t_s: np.ndarray, back: BackTrack, first: RepTiming, s: BackLiftSettings) -> bool:
    """The back is lifted, or clearly off the floor, before the first lowering begins."""
    descent = first.phase_span(Phase.DESCENT)
    until = descent[0] if descent else first.start_s
    w = t_s < until
    if not w.any():
        return False
    states = back.state[w]
    if (states == BackState.LIFTED).mean() > 0.5:
        return True
    c = back.clearance_ratio[w]
    c = c[np.isfinite(c)]
    return bool(len(c) >= 3 and np.median(c) > s.setup_flat_max_ratio)
