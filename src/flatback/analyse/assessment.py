"""Assessment: per-rep metrics, momentum, faults and quality (DESIGN.md coaching rules).

Pure functions of the segmentation and the cleaned signals.
"""

from __future__ import annotations

import numpy as np

from flatback.analyse.backlift import BackTrack, RepBack, rep_back
from flatback.analyse.reps import RepPhases, Segmentation
from flatback.outputs.report import BackLift, Cue, HoldReport, PartialRepReport, RepReport
from flatback.settings import AssessmentSettings, BackLiftSettings
from flatback.measure.signals import SignalSet

# One cue per fault, in priority order (1 first): the safety of the back comes first,
# then control, then tempo. Text is what the person hears.
CUES: dict[str, tuple[int, str]] = {
    "setup_back_not_flat": (0, "Press your lower back into the floor before the legs move: no hand should slide under it."),
    "back_lifted": (1, "Your lower back lifted: stop lowering where it starts to rise, press it to the floor."),
    "momentum": (2, "No swinging: bring the legs up with a forceful exhale, under control."),
    "descent_too_fast": (3, "Lower slower: take at least a count of four on the way down."),
    "knees_bent": (4, "Keep the legs long: a slight knee bend is fine, more makes it a different exercise."),
}


def _window(t_s: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    return (t_s >= start_s) & (t_s <= end_s)


def _nan_stat(fn, x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(fn(x)) if len(x) else None


def momentum_reasons(rep: RepPhases, signals: SignalSet, rest: str, s: AssessmentSettings) -> list[str]:
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
        reasons.append("fast_ascent")
    if rest != "hang" and rep.max_leg_angle_deg > s.overshoot_deg:
        reasons.append("overshoot")
    if (
        rest == "top"
        and rep.pause_bottom_s < s.bounce_max_pause_s
        and rep.peak_speed_down_deg_s > s.bounce_min_speed_deg_s
        and up_speed > s.bounce_min_speed_deg_s
    ):
        reasons.append("bounce")
    lift = pelvis_lift(rep, signals)
    if rest != "hang" and lift is not None and lift > s.pelvis_lift_ratio:  # hanging, the pelvis should curl up
        reasons.append("pelvis_lift")
    return reasons


def pelvis_lift(rep: RepPhases, signals: SignalSet) -> float | None:
    """Largest rise of the hips above their height at the rep's start, torso lengths."""
    w = _window(signals.t_s, rep.start_s, rep.end_s)
    h = signals.hip_height_ratio[w]
    h = h[np.isfinite(h)]
    if len(h) < 2:
        return None
    return float(np.max(h) - h[0])


def assess_rep(
    index: int, rep: RepPhases, signals: SignalSet, rest: str, head_baseline_deg: float | None, s: AssessmentSettings,
    back: RepBack | None = None, back_confidence_scale: float = 1.0,
) -> RepReport:
    """Metrics, faults and quality of one complete rep."""
    w = _window(signals.t_s, rep.start_s, rep.end_s)
    knee_max = _nan_stat(np.max, signals.knee_flexion_deg[w])
    knee_mean = _nan_stat(np.mean, signals.knee_flexion_deg[w])
    head_lift = None
    if head_baseline_deg is not None:
        head_med = _nan_stat(np.median, signals.head_angle_deg[w])
        head_lift = None if head_med is None else head_med - head_baseline_deg
    reasons = momentum_reasons(rep, signals, rest, s)
    faults, aids = [], []
    if back is not None and back.state == "lifted":
        faults.append("back_lifted")
    if reasons:
        faults.append("momentum")
    if rest != "hang" and rep.descent_s < s.min_descent_s:
        faults.append("descent_too_fast")
    if knee_mean is not None and knee_mean > s.knee_bent_deg:
        faults.append("knees_bent")
    elif knee_max is not None and knee_max > 0.5 * s.knee_bent_deg:
        aids.append("slight_knee_bend")
    head_lifted = None if head_lift is None else bool(head_lift > s.head_lift_deg)
    if head_lifted:
        aids.append("head_lifted")
    return RepReport(
        index=index,
        start_s=rep.start_s,
        bottom_s=rep.bottom_s,
        end_s=rep.end_s,
        descent_s=rep.descent_s,
        ascent_s=rep.ascent_s,
        pause_bottom_s=rep.pause_bottom_s,
        pause_top_s=rep.pause_top_s,
        min_leg_angle_deg=rep.min_leg_angle_deg,
        max_leg_angle_deg=rep.max_leg_angle_deg,
        peak_speed_down_deg_s=_finite(rep.peak_speed_down_deg_s),
        peak_speed_up_deg_s=_finite(rep.peak_speed_up_deg_s),
        momentum=bool(reasons),
        momentum_reasons=reasons,
        knee_flexion_max_deg=knee_max,
        knee_flexion_mean_deg=knee_mean,
        head_lifted=head_lifted,
        head_lift_deg=head_lift,
        pelvis_lift_ratio=pelvis_lift(rep, signals),
        back_lift=_back_lift(back, back_confidence_scale),
        end_range_deg=None if back is None else back.end_range_deg,
        faults=faults,
        aids=aids,
        quality_rep=not faults,
    )


def _back_lift(back: RepBack | None, scale: float) -> BackLift:
    if back is None:
        return BackLift()
    return BackLift(
        state=back.state,
        onset_s=back.onset_s,
        onset_leg_angle_deg=back.onset_leg_angle_deg,
        confidence=round(back.measured_fraction * scale, 3) if back.state in ("flat", "lifted") else 0.0,
        peak_clearance_ratio=back.peak_clearance_ratio,
        secondary=back.secondary if back.state != "lifted" else None,
    )


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def head_baseline(signals: SignalSet) -> float | None:
    """The person's own head angle when resting on the floor: its 10th percentile, deg."""
    h = signals.head_angle_deg[np.isfinite(signals.head_angle_deg)]
    return float(np.percentile(h, 10)) if len(h) else None


def assess(
    segmentation: Segmentation, signals: SignalSet, settings: AssessmentSettings | None = None,
    back: BackTrack | None = None, back_settings: BackLiftSettings | None = None,
):
    """Reps, partial reps, holds and cues of a clip: (reps, partial, holds, cues)."""
    settings = settings or AssessmentSettings()
    back_settings = back_settings or BackLiftSettings()
    baseline = head_baseline(signals)
    complete = segmentation.reps
    backs: list[RepBack | None] = [None] * len(complete)
    scale = 1.0
    if back is not None:
        backs = [rep_back(rep, signals.t_s, back, signals.leg_angle_deg, back_settings) for rep in complete]
        if back.baseline is not None and not back.baseline.source.startswith("legs above"):
            scale = 0.5  # no legs-up baseline: the flat level is a guess from the lowest readings
    reps = [
        assess_rep(i + 1, rep, signals, segmentation.rest, baseline, settings, backs[i], scale)
        for i, rep in enumerate(complete)
    ]
    partial = [
        PartialRepReport(
            start_s=p.start_s, end_s=p.end_s, min_leg_angle_deg=p.min_leg_angle_deg,
            max_leg_angle_deg=p.max_leg_angle_deg, reason=p.reason,
        )
        for p in segmentation.partial
    ]
    holds = [
        HoldReport(
            start_s=h.start_s, end_s=h.end_s, duration_s=h.duration_s, mean_leg_angle_deg=h.mean_leg_angle_deg,
            back_flat_s=None if back is None else _flat_seconds(signals.t_s, back, h.start_s, h.end_s),
        )
        for h in segmentation.holds
    ]
    cues = cues_for(reps)
    if back is not None and complete and setup_back_not_flat(signals.t_s, back, complete[0], back_settings):
        priority, text = CUES["setup_back_not_flat"]
        cues.insert(0, Cue(t_s=0.0, code="setup_back_not_flat", text=text, priority=priority,
                           evidence="lumbar clearance before the first lowering"))
    return reps, partial, holds, cues


def _flat_seconds(t_s: np.ndarray, back: BackTrack, start_s: float, end_s: float) -> float | None:
    """Seconds of [start_s, end_s] with the back seen flat (None if never seen)."""
    w = np.flatnonzero((t_s >= start_s) & (t_s <= end_s))
    if len(w) < 2 or not np.isin(back.state[w], ["flat", "lifted"]).any():
        return None
    dt = np.diff(t_s[w[0] : w[-1] + 2]) if w[-1] + 1 < len(t_s) else np.diff(t_s[w[0] : w[-1] + 1])
    dt = dt[: len(w)] if len(dt) >= len(w) else np.append(dt, dt[-1] if len(dt) else 0.0)
    return float(np.sum(dt[back.state[w] == "flat"]))


def setup_back_not_flat(t_s: np.ndarray, back: BackTrack, first: RepPhases, s: BackLiftSettings) -> bool:
    """The back is lifted, or clearly off the floor, before the first lowering begins."""
    descent = [p for p in first.phases if p[0] == "descent"]
    until = descent[0][1] if descent else first.start_s
    w = t_s < until
    if not w.any():
        return False
    states = back.state[w]
    if (states == "lifted").mean() > 0.5:
        return True
    c = back.clearance_ratio[w]
    c = c[np.isfinite(c)]
    return bool(len(c) >= 3 and np.median(c) > s.setup_flat_max_ratio)


def cues_for(reps: list[RepReport]) -> list[Cue]:
    """One cue per fault seen, most important first, each naming its evidence."""
    cues = []
    for code, (priority, text) in CUES.items():
        hits = [r for r in reps if code in r.faults]
        if not hits:
            continue
        first = hits[0]
        evidence = f"rep(s) {', '.join(str(r.index) for r in hits)} of {len(reps)}"
        if code == "descent_too_fast":
            evidence += f"; descent {', '.join(f'{r.descent_s:.1f}' for r in hits)} s"
        elif code == "back_lifted":
            evidence += "; onset at " + ", ".join(
                f"{r.back_lift.onset_leg_angle_deg:.0f}" for r in hits if r.back_lift.onset_leg_angle_deg is not None
            ) + " deg"
        elif code == "momentum":
            evidence += "; " + ", ".join(f"rep {r.index}: {'+'.join(r.momentum_reasons)}" for r in hits)
        cues.append(Cue(t_s=first.start_s, code=code, text=text, priority=priority, evidence=evidence))
    return sorted(cues, key=lambda c: c.priority)
