"""Scoring one analysis against its labels, and summing scores over clips.

Pure functions over frozen dataclasses: :class:`Measured` (the report's wire fields
that are scored), :class:`Outcome` (measured, refused or crashed), :class:`ClipScore`
(one clip under one transform) and :class:`Summary` (a set of clip scores).

Rules (also printed by ``flatback eval``):

- Rep count is scored on the leg-lift clips (label exercise not ``not_leg_lift``: the
  negatives' labelled reps are crunches, bridges... that flatback does not count);
  a refused or crashed clip counts as wrong.
- Recognition is scored on every clip; a refused clip is predicted ``refused``, a
  crash ``crashed``.
- Labelled reps (``bottom_s``; where only start, turn and end are labelled, the end for
  lifts resting on the floor and the turn otherwise, as flatback reports it) are matched
  one to one to reported reps by nearest ``bottom_s``, closest pairs first, at most
  ``max_match_s`` apart; the rest are missed (labelled) or extra (reported). Rep-level
  errors (bottom time, min/max leg angle, lowering time, back lift) come from matched
  pairs on leg-lift clips only. Errors are measured minus labelled.
- Back lift: labelled true/false against the rep's ``back_lift.state`` lifted/flat;
  ``occluded`` and ``unknown`` are "not judged", apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from flatback.evaluate.labels import ClipLabel, LabelledRep

MAX_MATCH_S = 1.5  # a labelled and a reported rep further apart than this are not the same rep, s
ANGLE_TOLERANCE_DEG = 10.0  # labels are +-10 deg estimates (LABELS.md)
LOWERING_TOLERANCE_S = 0.5  # issue #9's target for the lowering time

REFUSED = "refused"
CRASHED = "crashed"


@dataclass(frozen=True)
class MeasuredRep:
    """A reported rep's scored fields: times s, angles deg, back-lift state."""

    bottom_s: float
    min_leg_angle_deg: float
    max_leg_angle_deg: float
    descent_s: float
    back_lift: str  # flat, lifted, occluded, unknown


@dataclass(frozen=True)
class Measured:
    """The scored part of a :class:`flatback.outputs.report.Report`."""

    exercise: str
    rep_count: int
    reps: tuple[MeasuredRep, ...] = ()
    partial_reps: int = 0

    @classmethod
    def from_report(cls, report) -> Measured:
        """From a Report's wire fields only (rep_count, exercise.name, reps[], partial_reps)."""
        return cls(
            exercise=report.exercise.name,
            rep_count=report.rep_count,
            reps=tuple(
                MeasuredRep(
                    bottom_s=r.bottom_s,
                    min_leg_angle_deg=r.min_leg_angle_deg,
                    max_leg_angle_deg=r.max_leg_angle_deg,
                    descent_s=r.descent_s,
                    back_lift=r.back_lift.state,
                )
                for r in report.reps
            ),
            partial_reps=len(report.partial_reps),
        )


@dataclass(frozen=True)
class Outcome:
    """What the analysis of one clip under one transform gave: ``measured``, or a refusal
    (a FlatbackError: ``message``), or a crash (any other exception: ``message``)."""

    clip: str
    transform: str
    measured: Measured | None = None
    refused: str | None = None
    crashed: str | None = None

    @property
    def status(self) -> str:
        return "ok" if self.measured is not None else REFUSED if self.refused is not None else CRASHED

    @property
    def predicted(self) -> str:
        """The recognised exercise, or ``refused`` / ``crashed``."""
        return self.measured.exercise if self.measured is not None else self.status


@dataclass(frozen=True)
class RepMatch:
    """A labelled rep and the reported rep matched to it (None: missed). Errors are
    measured minus labelled: s for times, deg for angles; None where not labelled."""

    label: LabelledRep
    rep: MeasuredRep | None
    bottom_err_s: float | None = None
    min_angle_err_deg: float | None = None
    max_angle_err_deg: float | None = None
    lowering_err_s: float | None = None
    back_agrees: bool | None = None  # None: not labelled, or not judged by flatback
    back_judged: bool = False


@dataclass(frozen=True)
class ClipScore:
    """One clip under one transform, scored."""

    label: ClipLabel
    outcome: Outcome
    matches: tuple[RepMatch, ...] = ()
    extra_reps: int = 0

    @property
    def counted(self) -> int | None:
        return None if self.outcome.measured is None else self.outcome.measured.rep_count

    @property
    def rep_count_scored(self) -> bool:
        return self.label.is_leg_lift and "rep_count" not in self.label.exclude_from

    @property
    def rep_count_exact(self) -> bool:
        return self.counted == self.label.rep_count

    @property
    def rep_count_within_one(self) -> bool:
        return self.counted is not None and abs(self.counted - self.label.rep_count) <= 1

    @property
    def recognised(self) -> bool:
        return self.outcome.predicted == self.label.exercise


def match_reps(
    labelled: tuple[LabelledRep, ...], reported: tuple[MeasuredRep, ...], max_match_s: float = MAX_MATCH_S
) -> tuple[list[tuple[LabelledRep, MeasuredRep | None]], int]:
    """One-to-one matching by nearest bottom time, closest pairs first, at most
    ``max_match_s`` apart. Returns ([(labelled, reported or None)] in label order,
    number of reported reps left unmatched)."""
    pairs = sorted(
        (abs(r.bottom_s - lab.bottom_s), i, j)
        for i, lab in enumerate(labelled)
        for j, r in enumerate(reported)
        if abs(r.bottom_s - lab.bottom_s) <= max_match_s
    )
    by_label: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in pairs:
        if i not in by_label and j not in used:
            by_label[i] = j
            used.add(j)
    matched = [(lab, reported[by_label[i]] if i in by_label else None) for i, lab in enumerate(labelled)]
    return matched, len(reported) - len(used)


def score_rep(label: LabelledRep, rep: MeasuredRep | None) -> RepMatch:
    """Errors of one matched pair (measured minus labelled)."""
    if rep is None:
        return RepMatch(label, None)
    judged = rep.back_lift in ("flat", "lifted")
    return RepMatch(
        label=label,
        rep=rep,
        bottom_err_s=rep.bottom_s - label.bottom_s,
        min_angle_err_deg=_diff(rep.min_leg_angle_deg, label.min_leg_angle_deg),
        max_angle_err_deg=_diff(rep.max_leg_angle_deg, label.max_leg_angle_deg),
        lowering_err_s=_diff(rep.descent_s, label.descent_s),
        back_agrees=None if label.lower_back_lifts is None or not judged
        else (rep.back_lift == "lifted") == label.lower_back_lifts,
        back_judged=judged,
    )


def _diff(measured: float | None, labelled: float | None) -> float | None:
    if measured is None or labelled is None or not np.isfinite(measured):
        return None
    return float(measured) - float(labelled)


def score_clip(label: ClipLabel, outcome: Outcome, max_match_s: float = MAX_MATCH_S) -> ClipScore:
    """Score one outcome; rep-level matching only for a measured leg-lift clip."""
    if outcome.measured is None or not label.is_leg_lift:
        return ClipScore(label, outcome)
    matched, extra = match_reps(label.reps, outcome.measured.reps, max_match_s)
    return ClipScore(label, outcome, tuple(score_rep(lab, rep) for lab, rep in matched), extra)


# --- summaries ---


@dataclass(frozen=True)
class ErrorStats:
    """Absolute errors of one quantity: count, median, max, share within ``tolerance``."""

    n: int
    median_abs: float | None
    max_abs: float | None
    within_pct: float | None
    tolerance: float | None = None

    @classmethod
    def of(cls, errors: Sequence[float | None], tolerance: float | None = None) -> ErrorStats:
        a = np.abs(np.asarray([e for e in errors if e is not None], np.float64))
        if not len(a):
            return cls(0, None, None, None, tolerance)
        within = None if tolerance is None else float(100.0 * np.mean(a <= tolerance + 1e-9))
        return cls(len(a), float(np.median(a)), float(a.max()), within, tolerance)


@dataclass(frozen=True)
class Summary:
    """Scores summed over a set of (clip, transform) pairs. Percentages are 0-100, None
    when nothing was scored."""

    pairs: int
    refused: int
    crashed: int
    rep_count_scored: int
    rep_count_exact: int
    rep_count_within_one: int
    recognition_scored: int
    recognition_right: int
    reps_labelled: int
    reps_matched: int
    reps_extra: int
    bottom_time_s: ErrorStats
    min_leg_angle_deg: ErrorStats
    max_leg_angle_deg: ErrorStats
    lowering_time_s: ErrorStats
    back_agree: int
    back_disagree: int
    back_not_judged: int
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def rep_count_exact_pct(self) -> float | None:
        return _pct(self.rep_count_exact, self.rep_count_scored)

    @property
    def rep_count_within_one_pct(self) -> float | None:
        return _pct(self.rep_count_within_one, self.rep_count_scored)

    @property
    def recognition_pct(self) -> float | None:
        return _pct(self.recognition_right, self.recognition_scored)

    @property
    def back_agreement_pct(self) -> float | None:
        return _pct(self.back_agree, self.back_agree + self.back_disagree)


def _pct(k: int, n: int) -> float | None:
    return None if n == 0 else 100.0 * k / n


def summarise(scores: list[ClipScore]) -> Summary:
    """Sum clip scores into one :class:`Summary` (the caller chooses which clips)."""
    rep_scored = [s for s in scores if s.rep_count_scored]
    matches = [m for s in scores for m in s.matches]
    found = [m for m in matches if m.rep is not None]
    back = [m for m in found if m.label.lower_back_lifts is not None]
    confusion: dict[str, dict[str, int]] = {}
    for s in scores:
        row = confusion.setdefault(s.label.exercise, {})
        row[s.outcome.predicted] = row.get(s.outcome.predicted, 0) + 1
    return Summary(
        pairs=len(scores),
        refused=sum(s.outcome.status == REFUSED for s in scores),
        crashed=sum(s.outcome.status == CRASHED for s in scores),
        rep_count_scored=len(rep_scored),
        rep_count_exact=sum(s.rep_count_exact for s in rep_scored),
        rep_count_within_one=sum(s.rep_count_within_one for s in rep_scored),
        recognition_scored=len(scores),
        recognition_right=sum(s.recognised for s in scores),
        reps_labelled=len(matches),
        reps_matched=len(found),
        reps_extra=sum(s.extra_reps for s in scores),
        bottom_time_s=ErrorStats.of([m.bottom_err_s for m in found]),
        min_leg_angle_deg=ErrorStats.of(
            [m.min_angle_err_deg for m in found if m.min_angle_err_deg is not None], ANGLE_TOLERANCE_DEG
        ),
        max_leg_angle_deg=ErrorStats.of(
            [m.max_angle_err_deg for m in found if m.max_angle_err_deg is not None], ANGLE_TOLERANCE_DEG
        ),
        lowering_time_s=ErrorStats.of(
            [m.lowering_err_s for m in found if m.lowering_err_s is not None], LOWERING_TOLERANCE_S
        ),
        back_agree=sum(m.back_agrees is True for m in back),
        back_disagree=sum(m.back_agrees is False for m in back),
        back_not_judged=sum(not m.back_judged for m in back),
        confusion=confusion,
    )
