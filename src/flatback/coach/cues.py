"""Cues: what the coach says, one thing at a time, the most important first.

A cue is a code with its words and its evidence (which reps, which numbers). The
analysis finds faults; this module turns them into cues. The order is the coaching's:
the safety of the back first (set-up, then the back lifting), then control (momentum,
swinging), then tempo, then form details.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from flatback.analyse.results import AssessedRep, Fault, HollowHoldExtras, VariationExtras


class CueCode(StrEnum):
    SETUP_BACK_NOT_FLAT = "setup_back_not_flat"
    BACK_LIFTED = "back_lifted"
    MOMENTUM = "momentum"
    SWINGING = "swinging"
    DESCENT_TOO_FAST = "descent_too_fast"
    KNEES_BENT = "knees_bent"
    HOLLOW_HOLD_SHORT = "hollow_hold_short"
    GOOD_REP = "good_rep"


# (priority: 0 first, what the person hears). Text may name {target_s}.
CUE_WORDS: dict[CueCode, tuple[int, str]] = {
    CueCode.SETUP_BACK_NOT_FLAT: (0, "Press your lower back into the floor before the legs move: no hand should slide under it."),
    CueCode.BACK_LIFTED: (1, "Your lower back lifted: stop lowering where it starts to rise, press it to the floor."),
    CueCode.MOMENTUM: (2, "No swinging: bring the legs up with a forceful exhale, under control."),
    CueCode.SWINGING: (2, "Don't swing: curl the pelvis up towards the ribs, no kick from the lats."),
    CueCode.DESCENT_TOO_FAST: (3, "Lower slower: take at least a count of four on the way down."),
    CueCode.HOLLOW_HOLD_SHORT: (3, "Build the hollow hold up to {target_s:.0f} s with the lower back pressed down."),
    CueCode.KNEES_BENT: (4, "Keep the legs long: a slight knee bend is fine, more makes it a different exercise."),
    CueCode.GOOD_REP: (9, "Good rep."),
}

FAULT_CUES: dict[Fault, CueCode] = {
    Fault.BACK_LIFTED: CueCode.BACK_LIFTED,
    Fault.MOMENTUM: CueCode.MOMENTUM,
    Fault.SWINGING: CueCode.SWINGING,
    Fault.DESCENT_TOO_FAST: CueCode.DESCENT_TOO_FAST,
    Fault.KNEES_BENT: CueCode.KNEES_BENT,
}


@dataclass(frozen=True)
class Cue:
    """One cue: its code, words, priority (0 first), when it applies (s) and its evidence."""

    code: CueCode
    text: str
    priority: int
    t_s: float | None = None
    evidence: str = ""


def make_cue(code: CueCode, t_s: float | None = None, evidence: str = "", **words: float) -> Cue:
    """The cue for ``code``; ``words`` fill its text's placeholders."""
    priority, text = CUE_WORDS[code]
    return Cue(code, text.format(**words), priority, t_s, evidence)


def rep_cue(rep: AssessedRep) -> Cue:
    """The one cue after a rep: its most important fault's, or praise."""
    codes = sorted((FAULT_CUES[f] for f in rep.faults), key=lambda c: CUE_WORDS[c][0])
    return make_cue(codes[0] if codes else CueCode.GOOD_REP, rep.end_s, f"rep {rep.index}")


def _evidence(code: CueCode, hits: Sequence[AssessedRep], total: int) -> str:
    text = f"rep(s) {', '.join(str(r.index) for r in hits)} of {total}"
    if code is CueCode.DESCENT_TOO_FAST:
        text += f"; descent {', '.join(f'{r.descent_s:.1f}' for r in hits)} s"
    elif code is CueCode.BACK_LIFTED:
        onsets = [f"{r.back.onset_leg_angle_deg:.0f}" for r in hits if r.back.onset_leg_angle_deg is not None]
        if onsets:
            text += f"; onset at {', '.join(onsets)} deg"
    elif code in (CueCode.MOMENTUM, CueCode.SWINGING):
        text += "; " + ", ".join(f"rep {r.index}: {'+'.join(r.momentum_reasons)}" for r in hits)
    return text


def session_cues(
    reps: Sequence[AssessedRep], *, setup_back_not_flat: bool = False, extras: VariationExtras | None = None,
    first_hold_s: float | None = None,
) -> list[Cue]:
    """Every cue of a set, most important first: one per fault seen, each with its evidence."""
    cues = []
    if setup_back_not_flat:
        cues.append(make_cue(CueCode.SETUP_BACK_NOT_FLAT, 0.0, "lumbar clearance before the first lowering"))
    for fault, code in FAULT_CUES.items():
        hits = [r for r in reps if fault in r.faults]
        if hits:
            cues.append(make_cue(code, hits[0].start_s, _evidence(code, hits, len(reps))))
    if isinstance(extras, HollowHoldExtras):
        longest = extras.longest_flat_hold_s
        if longest is not None and longest < extras.hold_target_s:
            cues.append(make_cue(CueCode.HOLLOW_HOLD_SHORT, first_hold_s,
                                 f"longest hold with the back flat: {longest:.1f} s", target_s=extras.hold_target_s))
    return sorted(cues, key=lambda c: c.priority)
