"""Assessment: per-rep metrics, momentum, faults and quality (DESIGN.md coaching rules).

Pure functions of the segmentation and the cleaned signals.
"""

from __future__ import annotations

import numpy as np

from flatback.reps import RepPhases, Segmentation
from flatback.report import Cue, HoldReport, PartialRepReport, RepReport
from flatback.settings import AssessmentSettings
from flatback.signals import SignalSet

# One cue per fault, in priority order (1 first): the safety of the back comes first,
# then control, then tempo. Text is what the person hears.
CUES: dict[str, tuple[int, str]] = {
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
    if lift is not None and lift > s.pelvis_lift_ratio:
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
    index: int, rep: RepPhases, signals: SignalSet, rest: str, head_baseline_deg: float | None, s: AssessmentSettings
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
        faults=faults,
        aids=aids,
        quality_rep=not faults,
    )


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def head_baseline(signals: SignalSet) -> float | None:
    """The person's own head angle when resting on the floor: its 10th percentile, deg."""
    h = signals.head_angle_deg[np.isfinite(signals.head_angle_deg)]
    return float(np.percentile(h, 10)) if len(h) else None


def assess(segmentation: Segmentation, signals: SignalSet, settings: AssessmentSettings | None = None):
    """Reps, partial reps, holds and cues of a clip: (reps, partial, holds, cues)."""
    settings = settings or AssessmentSettings()
    baseline = head_baseline(signals)
    reps = [
        assess_rep(i + 1, rep, signals, segmentation.rest, baseline, settings)
        for i, rep in enumerate(segmentation.complete_reps)
    ]
    partial = [
        PartialRepReport(
            start_s=p.start_s, end_s=p.end_s, min_leg_angle_deg=p.min_leg_angle_deg,
            max_leg_angle_deg=p.max_leg_angle_deg, reason=p.reason,
        )
        for p in segmentation.partial
    ]
    holds = [
        HoldReport(start_s=h.start_s, end_s=h.end_s, duration_s=h.duration_s, mean_leg_angle_deg=h.mean_leg_angle_deg)
        for h in segmentation.holds
    ]
    return reps, partial, holds, cues_for(reps)


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
        elif code == "momentum":
            evidence += "; " + ", ".join(f"rep {r.index}: {'+'.join(r.momentum_reasons)}" for r in hits)
        cues.append(Cue(t_s=first.start_s, code=code, text=text, priority=priority, evidence=evidence))
    return sorted(cues, key=lambda c: c.priority)
