"""The planner's rules, each on a constructed history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flatback.coach.plan import LADDER, SessionSummary, next_date, plan_next

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def session(days_ago: float, exercise="double_leg_lift", sets=3, reps=36, quality=36, max_set=12, end_range=40.0,
            lifted=0.0, descent=4.0, pause=0.5, pain=False, pop=False) -> SessionSummary:
    return SessionSummary(NOW - timedelta(days=days_ago), exercise, sets, reps, quality, max_set, end_range, lifted,
                          descent, pause, pain, pop)


def test_no_history_starts_at_the_foundation():
    p = plan_next([], NOW)
    assert p.variation == "dead_bug" and p.date == NOW and "end-range test" in p.reasons[0]


def test_a_pop_stops_training_and_regresses_two_steps():
    p = plan_next([session(1, pop=True)], NOW)
    assert p.variation == LADDER[LADDER.index("double_leg_lift") - 2]
    assert p.date >= NOW + timedelta(days=7) and "physiotherapist" in p.reasons[0]


def test_pain_regresses_one_step():
    p = plan_next([session(3, pain=True)], NOW)
    assert p.variation == "single_leg_lift" and "pain" in p.reasons[0]


def test_the_back_lifting_in_many_reps_regresses_and_limits_the_range():
    p = plan_next([session(3, lifted=0.5, end_range=50.0)], NOW)
    assert p.variation == "single_leg_lift"
    assert p.lower_to_deg == 50.0 and "lifted" in p.reasons[0]


def test_the_back_lifting_early_regresses():
    p = plan_next([session(3, lifted=0.2, end_range=70.0)], NOW)
    assert p.variation == "single_leg_lift"


def test_fifty_easy_reps_means_slow_down_and_pause():
    p = plan_next([session(3, reps=60, quality=60, max_set=30)], NOW)
    assert p.pause_bottom_s == 3.0 and p.tempo_down_s == 5.0 and "too easy" in p.reasons[0]


def test_a_rushed_tempo_keeps_the_exercise_and_asks_for_four_counts():
    p = plan_next([session(3, descent=1.5)], NOW)
    assert p.variation == "double_leg_lift" and p.tempo_down_s == 4.0 and "rushed" in p.reasons[0]


def test_two_quality_sessions_with_the_end_range_held_low_progress():
    p = plan_next([session(6), session(3)], NOW)
    assert p.variation == "double_leg_lift_pause" and p.pause_bottom_s == 3.0 and "progress" in p.reasons[0]


def test_one_good_session_is_not_enough_to_progress():
    p = plan_next([session(3)], NOW)
    assert p.variation == "double_leg_lift"
    assert (p.sets, p.reps_low, p.reps_high) == (3, 12, 15)


def test_few_quality_reps_build_volume_first():
    p = plan_next([session(3, reps=20, quality=14, sets=2, max_set=10, end_range=40.0)], NOW)
    assert (p.sets, p.reps_low, p.reps_high) == (2, 8, 10)


@pytest.mark.parametrize(
    "ago_h, expected_h",
    [(24, 24), (72, 0)],  # 24 h ago: wait another 24 h; 72 h ago: today
)
def test_at_least_48_hours_between_sessions(ago_h, expected_h):
    history = [session(ago_h / 24)]
    assert next_date(history, NOW) == NOW + timedelta(hours=expected_h)


def test_no_more_than_twice_a_week():
    history = [session(5), session(2.5)]
    # two sessions in the last 7 days: the next waits until a week after the first of them
    assert next_date(history, NOW) == NOW - timedelta(days=5) + timedelta(days=7)
