"""The per-frame table: what every frame shows, computed once from the final reps.

timeseries.csv, the annotated video's overlay and the HTML report's shading all
render this one table, so they never disagree with the counts in report.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flatback.analyse.results import AssessedRep, BackState, Hold, Phase
from flatback.coach.cues import Cue, rep_cue


@dataclass(frozen=True)
class FrameTable:
    """Per-frame state, each (N,).

    ``phase`` (Phase values; numpy may hold them as plain str: compare with ==), ``rep`` (1-based index of the counted rep, 0 outside reps),
    ``side`` (the rep's leg, or None), ``phase_start_s`` (when the frame's phase began,
    s), ``tempo_count`` (during a lowering, the count a person says: 1 from the moment
    the legs leave the top, +1 each second; 0 otherwise), ``back_state`` (BackState),
    ``reps_done`` / ``quality_done`` (counted reps finished by then), ``cue`` (the cue
    shown: after a rep, that rep's; before the first, the set-up cue if any).
    """

    t_s: np.ndarray
    phase: np.ndarray
    rep: np.ndarray
    side: np.ndarray
    phase_start_s: np.ndarray
    tempo_count: np.ndarray
    back_state: np.ndarray
    reps_done: np.ndarray
    quality_done: np.ndarray
    cue: np.ndarray

    def __len__(self) -> int:
        return len(self.t_s)


def tempo_count(elapsed_s: np.ndarray) -> np.ndarray:
    """The count said during a lowering: 1 at the start, 2 after one second... (ints)."""
    return (np.floor(np.maximum(elapsed_s, 0.0)) + 1).astype(np.int32)


def frame_table(
    t_s: np.ndarray, reps: Sequence[AssessedRep], holds: Sequence[Hold], back_state: np.ndarray | None,
    setup_cue: Cue | None = None,
) -> FrameTable:
    """The table for frames at ``t_s`` from the final reps and holds."""
    n = len(t_s)
    phase = np.full(n, Phase.NONE, dtype=object)
    rep = np.zeros(n, np.int32)
    side = np.full(n, None, dtype=object)
    start = np.zeros(n)
    for hold in holds:
        w = (t_s >= hold.start_s) & (t_s <= hold.end_s)
        phase[w], start[w] = Phase.HOLD, hold.start_s
    for r in reps:
        for name, a, b in r.timing.phases:
            w = (t_s >= a) & (t_s < b)
            phase[w], rep[w], side[w], start[w] = Phase(name), r.index, r.side, a
    count = np.where(phase == Phase.DESCENT, tempo_count(t_s - start), 0).astype(np.int32)
    ends = np.array([r.end_s for r in reps])
    done = np.searchsorted(np.sort(ends), t_s, side="right").astype(np.int32) if len(ends) else np.zeros(n, np.int32)
    order = sorted(reps, key=lambda r: r.end_s)
    quality = np.concatenate(([0], np.cumsum([r.quality_rep for r in order]))).astype(np.int32)
    cue = np.full(n, setup_cue.text if setup_cue else "", dtype=object)
    for r in order:
        cue[t_s >= r.end_s] = rep_cue(r).text
    states = back_state if back_state is not None else np.full(n, BackState.UNKNOWN, dtype=object)
    return FrameTable(t_s, phase, rep, side, start, count, states, done, quality[done], cue)
