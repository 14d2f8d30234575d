"""The next session, planned from the training log (DESIGN.md, "Programming").

2-3 sets of 10-15 quality reps, twice a week with at least 48 h between sessions.
Progress up the ladder when the reps are quality and the end range holds low; regress
when the back lifts early, the tempo is rushed, or pain or a pop was reported. Many
easy reps mean cheating: slow down and add a three-second pause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flatback.analyse.results import Exercise
from flatback.analyse.variations import LADDER as RUNGS
from flatback.analyse.variations import rung_of
from flatback.settings import Settings

# The progression ladder's steps by name, easiest first (analyse/variations.py, DESIGN.md).
# "double_leg_lift_pause" is the double-leg lift with a three-second pause at the bottom.
LADDER: tuple[str, ...] = tuple(r.key for r in RUNGS)


@dataclass(frozen=True)
class SessionSummary:
    """One session from the training log, as the planner sees it."""

    started_at: datetime
    exercise: str
    sets: int
    reps: int
    quality_reps: int
    max_reps_in_a_set: int
    end_range_deg: float | None
    back_lifted_fraction: float  # share of reps whose back lifted
    median_descent_s: float | None
    pause_bottom_s: float | None  # median pause at the bottom
    pain: bool = False
    pop: bool = False


@dataclass(frozen=True)
class Plan:
    """The next session."""

    date: datetime
    variation: str
    sets: int
    reps_low: int
    reps_high: int
    tempo_down_s: float
    pause_bottom_s: float
    lower_to_deg: float | None
    reasons: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [
            f"Next session: {self.date:%A %d %B} (at least 48 h after the last, twice a week)",
            f"{self.variation.replace('_', ' ')}: {self.sets} sets of {self.reps_low}-{self.reps_high} quality reps, "
            f"{self.tempo_down_s:.0f} s down" + (f", {self.pause_bottom_s:.0f} s pause at the bottom" if self.pause_bottom_s else ""),
        ]
        if self.lower_to_deg is not None:
            lines.append(f"Lower only to {self.lower_to_deg:.0f} deg, where your back stays flat.")
        lines += [f"- {r}" for r in self.reasons]
        return "\n".join(lines)


def _step(variation: str, k: int) -> str:
    i = LADDER.index(variation)
    return LADDER[max(0, min(len(LADDER) - 1, i + k))]


def _rung_key(exercise: str, pause_bottom_s: float | None, pause_rep_min_s: float) -> str:
    """The ladder step a session's exercise stands on (unknown names: the double-leg lift)."""
    try:
        name = Exercise(exercise)
    except ValueError:
        name = Exercise.DOUBLE_LEG_LIFT
    return LADDER[rung_of(name, pause_bottom_s, pause_rep_min_s)]


def next_date(history: list[SessionSummary], now: datetime, settings: Settings | None = None) -> datetime:
    """At least ``plan.min_gap_h`` after the last session and no more than
    ``plan.sessions_per_week`` in any 7 days."""
    s = (settings or Settings()).plan
    if not history:
        return now
    date = max(now, history[-1].started_at + timedelta(hours=s.min_gap_h))
    recent = [h.started_at for h in history if h.started_at > date - timedelta(days=7)]
    if len(recent) >= s.sessions_per_week:
        date = max(date, sorted(recent)[-s.sessions_per_week] + timedelta(days=7))
    return date


def plan_next(history: list[SessionSummary], now: datetime | None = None, settings: Settings | None = None) -> Plan:
    """The next session from the history (oldest first)."""
    settings = settings or Settings()
    s = settings.plan
    now = now or datetime.now(UTC)
    date = next_date(history, now, settings)
    if not history:
        return Plan(date, "dead_bug", 2, 10, 12, 4.0, 0.0, None, [
            "No history yet: start with the foundation (dead bug), and film an end-range test (flatback test).",
        ])
    last = history[-1]
    variation = _rung_key(last.exercise, last.pause_bottom_s, settings.variations.pause_rep_min_s)
    per_set = last.quality_reps / max(last.sets, 1)
    reasons: list[str] = []
    lower_to = last.end_range_deg if last.back_lifted_fraction > 0 else None
    pause = RUNGS[LADDER.index(variation)].pause_bottom_s

    if last.pop:
        return Plan(date + timedelta(days=7), _step(variation, -2), 2, 8, 10, 4.0, 0.0, lower_to, [
            "You reported a pop: stop, and see a physiotherapist or doctor before training this again. "
            "When you are cleared, restart two steps easier.",
        ])
    if last.pain:
        return Plan(date, _step(variation, -1), 2, 10, 12, 4.0, 0.0, lower_to, [
            "You reported pain: one step easier, shorter range, and stop if it returns.",
        ])
    early = last.end_range_deg is not None and last.end_range_deg > s.early_lift_deg
    if last.back_lifted_fraction > s.lifted_share or early:
        where = f" at {last.end_range_deg:.0f} deg" if last.end_range_deg is not None else ""
        return Plan(date, _step(variation, -1), 2, 10, 12, 4.0, 0.0, lower_to, [
            f"Your lower back lifted{where} in {last.back_lifted_fraction:.0%} of reps: one step easier until it stays down.",
        ])
    if last.max_reps_in_a_set >= s.easy_reps_per_set or last.reps >= s.easy_reps_per_session:
        pause_rung = RUNGS[LADDER.index("double_leg_lift_pause")]
        return Plan(date, variation if variation == "double_leg_lift_pause" else _step(variation, 0), 3, 10, 12, 5.0,
                    pause_rung.pause_bottom_s,
                    lower_to, [
                        f"{last.reps} reps in a session is too easy to be honest work: slow down (5 s down) and add a "
                        "three-second pause at the bottom.",
                    ])
    if last.median_descent_s is not None and last.median_descent_s < settings.assessment.min_descent_s:
        return Plan(date, variation, 2, 10, 12, 4.0, pause, lower_to, [
            f"Your lowering took {last.median_descent_s:.1f} s: rushed. Same exercise, count four on the way down.",
        ])
    held = [h for h in history[-2:] if h.exercise == last.exercise]
    all_quality = all(h.quality_reps == h.reps and h.reps > 0 for h in held)
    range_low = all(h.end_range_deg is not None and h.end_range_deg <= s.good_end_range_deg for h in held)
    if len(held) == 2 and all_quality and range_low and per_set >= 10:
        nxt = _step(variation, 1)
        reasons.append(
            f"Two sessions of quality reps with the back flat to {last.end_range_deg:.0f} deg: progress to "
            f"{nxt.replace('_', ' ')}."
        )
        return Plan(date, nxt, 2, 10, 12, 4.0, RUNGS[LADDER.index(nxt)].pause_bottom_s, None, reasons)
    sets, low, high = (3, 12, 15) if per_set >= 12 else (2, 10, 12) if per_set >= 8 else (2, 8, 10)
    reasons.append(f"{last.quality_reps} quality reps last time ({per_set:.0f} a set): build to 3 sets of 12-15.")
    return Plan(date, variation, sets, low, high, 4.0, pause, lower_to, reasons)
