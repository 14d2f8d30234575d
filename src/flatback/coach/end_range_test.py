"""The end-range test: the double-leg-lowering test of physiotherapy, from video.

Protocol (PROTOCOL below): legs vertical, lower back pressed down, lower both legs
slowly until the lower back starts to lift, return; three tries. Each try's result is
the leg angle at the back's lift-off (or, if it never lifted, the lowest angle reached
with it flat: the end range is at or below that). The test's result is the median of
the valid tries, with how sure it is and the published norms beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from flatback.analyse.results import AssessedRep, BackState
from flatback.settings import EndRangeTestSettings
from flatback.types import Note, NoteCode

PROTOCOL = [
    "Lie on your back, side-on to the camera. Camera at floor height, 1-2 m away, your whole body in frame.",
    "Arms overhead on the floor or folded on your chest (not beside you: they hide your lower back).",
    "Lift both legs to vertical, knees straight, and press your lower back into the floor.",
    "Lower both legs together, slowly (a count of five), until you feel your lower back start to lift.",
    "Bring the legs back to vertical. Do it three times.",
]

# Published means of the double-leg-lowering test, deg (lower is better: DESIGN.md).
NORMS_DEG: dict[str, float] = {
    "college athletes, men": 47.0,
    "college athletes, women": 55.0,
    "adolescents": 72.0,
}


@dataclass(frozen=True)
class Try:
    index: int
    result_deg: float | None
    how: Literal["back lifted", "back stayed flat", "back not visible"]
    onset_s: float | None


@dataclass(frozen=True)
class TestResult:
    """The end-range test's verdict (written as test.json)."""

    __test__ = False  # not a pytest test class

    end_range_deg: float | None
    at_or_below: bool  # the back never lifted: the true end range is this or lower
    confidence: Literal["high", "medium", "low", "none"]
    confidence_reason: str
    tries: list[Try]
    spread_deg: float | None
    norms_deg: dict[str, float]
    comparison: list[str]


def evaluate(
    reps: Sequence[AssessedRep], notes: Sequence[Note] = (), settings: EndRangeTestSettings | None = None,
) -> TestResult:
    """The end-range test's result from the reps of the test video (and its notes)."""
    s = settings or EndRangeTestSettings()
    tries = []
    for rep in reps[: s.tries]:
        back = rep.back
        if back.state is BackState.LIFTED and back.onset_leg_angle_deg is not None:
            tries.append(Try(rep.index, back.onset_leg_angle_deg, "back lifted", back.onset_s))
        elif back.state is BackState.FLAT and back.end_range_deg is not None:
            tries.append(Try(rep.index, back.end_range_deg, "back stayed flat", None))
        else:
            tries.append(Try(rep.index, None, "back not visible", None))
    valid = [t for t in tries if t.result_deg is not None]
    values = [t.result_deg for t in valid if t.result_deg is not None]
    if not valid:
        return TestResult(
            end_range_deg=None, at_or_below=False, confidence="none",
            confidence_reason=_no_result_reason(tries, notes),
            tries=tries, spread_deg=None, norms_deg=NORMS_DEG, comparison=[],
        )
    result = float(np.median(values))
    at_or_below = all(t.how == "back stayed flat" for t in valid)
    spread = float(max(values) - min(values))
    used = {t.index for t in valid}
    seen = float(np.mean([r.back.confidence for r in reps if r.index in used]))
    confidence: Literal["high", "medium", "low", "none"]
    if seen < s.min_seen_fraction:
        confidence, reason = "low", f"the lower back was in sight in only {seen:.0%} of the tries' frames"
    elif len(valid) >= s.tries and spread <= s.max_spread_deg:
        confidence, reason = "high", f"{len(valid)} tries within {spread:.0f} deg of each other"
    elif len(valid) >= 2 and spread <= 1.5 * s.max_spread_deg:
        confidence, reason = "medium", f"{len(valid)} valid tries, {spread:.0f} deg apart"
    else:
        confidence = "low"
        reason = f"{len(valid)} valid tr{'y' if len(valid) == 1 else 'ies'}" + (
            f", {spread:.0f} deg apart" if len(valid) > 1 else ""
        ) + "; do three slow, even tries"
    return TestResult(
        end_range_deg=result, at_or_below=at_or_below, confidence=confidence, confidence_reason=reason,
        tries=tries, spread_deg=spread, norms_deg=NORMS_DEG, comparison=compare(result, at_or_below, s.norm_band_deg),
    )


def compare(end_range_deg: float, at_or_below: bool, band_deg: float = EndRangeTestSettings().norm_band_deg) -> list[str]:
    """How an end range stands beside the published means (lower is better); within
    ``band_deg`` of a mean is about the mean."""
    out = []
    for group, mean in NORMS_DEG.items():
        if end_range_deg <= mean - band_deg or (at_or_below and end_range_deg <= mean):
            out.append(f"better than the mean of {group} ({mean:.0f} deg)")
        elif end_range_deg >= mean + band_deg:
            out.append(f"short of the mean of {group} ({mean:.0f} deg)")
        else:
            out.append(f"about the mean of {group} ({mean:.0f} deg)")
    return out


# Notes that say why the lower back could not be seen, with what to change.
HIDDEN_BACK_NOTES = (NoteCode.ARM_HIDES_BACK, NoteCode.CAMERA_HIGH, NoteCode.RAGGED_MASK)


def _no_result_reason(tries: Sequence[Try], notes: Sequence[Note]) -> str:
    if not tries:
        return "no lowering from vertical was found: lift the legs to vertical and lower them three times"
    hint = next((n.text for n in notes if n.code in HIDDEN_BACK_NOTES), "")
    return "the lower back was not visible in any try" + (f": {hint}" if hint else "")
