"""The next session, planned from the training log (DESIGN.md, "Programming").

2-3 sets of 10-15 quality reps, twice a week with at least 48 h between sessions.
Progress up the ladder when the reps are quality and the end range holds low; regress
when the back lifts early, the tempo is rushed, or pain or a pop was reported. Many
easy reps mean cheating: slow down and add a three-second pause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flatback.log.history import SessionSummary

# Easiest to hardest (DESIGN.md). "double_leg_lift_pause" is the double-leg lift with a
# three-second pause at the bottom.
LADDER = ["dead_bug", "heel_tap", "single_leg_lift", "double_leg_lift", "double_leg_lift_pause", "hanging_leg_raise"]
ALIASES = {"bent_knee_leg_lift": "heel_tap", "hollow_hold": "dead_bug"}

MIN_GAP = timedelta(hours=48)
SESSIONS_PER_WEEK = 2
GOOD_END_RANGE_DEG = 45.0  # an end range at or below this is "held low" (about the athletes' norm)
EARLY_LIFT_DEG = 60.0  # the back lifting above this leg angle is early
LIFTED_SHARE = 0.3  # more reps than this with the back lifting: regress
MIN_DESCENT_S = 3.0  # the steady-speed lowering a count of four gives (settings.assessment)
EASY_REPS = 30  # this many reps in one set (or 50 in a session) means it is too easy


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
    i = LADDER.index(ALIASES.get(variation, variation)) if ALIASES.get(variation, variation) in LADDER else 3
    return LADDER[max(0, min(len(LADDER) - 1, i + k))]


def next_date(history: list[SessionSummary], now: datetime) -> datetime:
    """At least 48 h after the last session and no more than twice in any 7 days."""
    if not history:
        return now
    date = max(now, history[-1].started_at + MIN_GAP)
    recent = [h.started_at for h in history if h.started_at > date - timedelta(days=7)]
    if len(recent) >= SESSIONS_PER_WEEK:
        date = max(date, sorted(recent)[-SESSIONS_PER_WEEK] + timedelta(days=7))
    return date


def plan_next(history: list[SessionSummary], now: datetime | None = None) -> Plan:
    """The next session from the history (oldest first)."""
    now = now or datetime.now(UTC)
    date = next_date(history, now)
    if not history:
        return Plan(date, "dead_bug", 2, 10, 12, 4.0, 0.0, None, [
            "No history yet: start with the foundation (dead bug), and film an end-range test (flatback test).",
        ])
    last = history[-1]
    variation = ALIASES.get(last.exercise, last.exercise)
    if variation not in LADDER:
        variation = "double_leg_lift"
    if last.exercise == "double_leg_lift" and (last.pause_bottom_s or 0) >= 2.5:
        variation = "double_leg_lift_pause"
    per_set = last.quality_reps / max(last.sets, 1)
    reasons: list[str] = []
    lower_to = last.end_range_deg if last.back_lifted_fraction > 0 else None
    pause = 3.0 if variation == "double_leg_lift_pause" else 0.0

    if last.pop:
        return Plan(date + timedelta(days=7), _step(variation, -2), 2, 8, 10, 4.0, 0.0, lower_to, [
            "You reported a pop: stop, and see a physiotherapist or doctor before training this again. "
            "When you are cleared, restart two steps easier.",
        ])
    if last.pain:
        return Plan(date, _step(variation, -1), 2, 10, 12, 4.0, 0.0, lower_to, [
            "You reported pain: one step easier, shorter range, and stop if it returns.",
        ])
    early = last.end_range_deg is not None and last.end_range_deg > EARLY_LIFT_DEG
    if last.back_lifted_fraction > LIFTED_SHARE or early:
        where = f" at {last.end_range_deg:.0f} deg" if last.end_range_deg is not None else ""
        return Plan(date, _step(variation, -1), 2, 10, 12, 4.0, 0.0, lower_to, [
            f"Your lower back lifted{where} in {last.back_lifted_fraction:.0%} of reps: one step easier until it stays down.",
        ])
    if last.max_reps_in_a_set >= EASY_REPS or last.reps >= 50:
        return Plan(date, variation if variation == "double_leg_lift_pause" else _step(variation, 0), 3, 10, 12, 5.0, 3.0,
                    lower_to, [
                        f"{last.reps} reps in a session is too easy to be honest work: slow down (5 s down) and add a "
                        "three-second pause at the bottom.",
                    ])
    if last.median_descent_s is not None and last.median_descent_s < MIN_DESCENT_S:
        return Plan(date, variation, 2, 10, 12, 4.0, pause, lower_to, [
            f"Your lowering took {last.median_descent_s:.1f} s: rushed. Same exercise, count four on the way down.",
        ])
    held = [h for h in history[-2:] if h.exercise == last.exercise]
    all_quality = all(h.quality_reps == h.reps and h.reps > 0 for h in held)
    range_low = all(h.end_range_deg is not None and h.end_range_deg <= GOOD_END_RANGE_DEG for h in held)
    if len(held) == 2 and all_quality and range_low and per_set >= 10:
        nxt = _step(variation, 1)
        reasons.append(
            f"Two sessions of quality reps with the back flat to {last.end_range_deg:.0f} deg: progress to "
            f"{nxt.replace('_', ' ')}."
        )
        return Plan(date, nxt, 2, 10, 12, 4.0, 3.0 if nxt == "double_leg_lift_pause" else 0.0, None, reasons)
    sets, low, high = (3, 12, 15) if per_set >= 12 else (2, 10, 12) if per_set >= 8 else (2, 8, 10)
    reasons.append(f"{last.quality_reps} quality reps last time ({per_set:.0f} a set): build to 3 sets of 12-15.")
    return Plan(date, variation, sets, low, high, 4.0, pause, lower_to, reasons)
