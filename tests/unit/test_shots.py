"""Shots of an edited video, on constructed tracks: which show the exercise, which are skipped."""

from __future__ import annotations

import numpy as np
import pytest

from flatback.measure.shots import (
    Shot,
    ShotSettings,
    exercise_only,
    find_shots,
    shot_bounds,
    skipped_notes,
    track_cuts,
)
from flatback.types import N_LANDMARKS
from tests.unit.test_people import FPS, H, W, figure, person_series, track_of


def talking_head(n: int) -> np.ndarray:
    """(n, 33, 2) px: an upright person so close that only face and shoulders are in the picture."""
    out = np.stack([figure((640, 1400), 700, 90 + np.sin(i / 10), 0) for i in range(n)])
    return out + np.random.default_rng(5).normal(0, 1, out.shape)


def close_up_of_feet(n: int) -> np.ndarray:
    """(n, 33, 2) px: a lying lifter so close that only the lower legs and feet are in the picture."""
    return person_series("lifter", n, hip_xy=(-900, 700), torso_px=600)


def splice(*parts: tuple[np.ndarray | None, int]) -> np.ndarray:
    """Concatenate (series or None for nobody, frames) into one (N, 33, 2) px series."""
    return np.concatenate([np.full((n, N_LANDMARKS, 2), np.nan) if p is None else p[:n] for p, n in parts])


def cuts_at(n: int, *frames: int) -> np.ndarray:
    c = np.zeros(n, bool)
    c[list(frames)] = True
    return c


def test_an_edited_tutorial_is_split_into_its_shots_and_classified():
    # talking head 0-2 s | title 2-3 s | exercise 3-7 s | close-up 7-9 s | exercise 9-12 s
    parts = [(talking_head(60), 60), (None, 30), (person_series("lifter", 120), 120),
             (close_up_of_feet(60), 60), (person_series("lifter", 90, phase_s=1), 90)]
    xy = splice(*parts)
    n = len(xy)
    # the editor's cuts; the title has no person, so the cuts around it come from absence
    shots = find_shots([track_of(xy)], cuts_at(n, 210, 270))
    assert [s.kind for s in shots] == ["talking_head", "title", "exercise", "close_up", "exercise"]
    assert [(s.start, s.stop) for s in shots] == [(0, 60), (60, 90), (90, 210), (210, 270), (270, 360)]
    assert shots[2].start_s == pytest.approx(3.0) and shots[2].end_s == pytest.approx(209 / FPS)
    assert [s.analysed for s in shots] == [False, False, True, False, True]
    assert skipped_notes(shots) == [
        "Skipped a talking head at 0.0-2.0 s.",
        "Skipped shots with no person found (a title, a graphic, or a close-up too tight to find one) at 2.0-3.0 s.",
        "Skipped a close-up at 7.0-9.0 s.",
    ]


def test_a_standing_instructor_beside_the_exerciser_leaves_the_shot_an_exercise_shot():
    n = 90
    lifter = track_of(person_series("lifter", n, hip_xy=(400, 600), torso_px=150))
    instructor = track_of(person_series("standing", n, hip_xy=(1100, 400), torso_px=120))
    assert [s.kind for s in find_shots([instructor, lifter], np.zeros(n, bool))] == ["exercise"]


def test_a_standing_demonstration_is_other():
    n = 60
    shots = find_shots([track_of(person_series("standing", n, hip_xy=(640, 400), torso_px=120))], np.zeros(n, bool))
    assert [s.kind for s in shots] == ["other"]


def test_two_pictures_of_one_person_are_a_split_screen_and_two_people_are_not():
    n = 120
    left = track_of(person_series("lifter", n, hip_xy=(300, 500), torso_px=120, seed=1))
    twin = track_of(person_series("lifter", n, hip_xy=(950, 500), torso_px=120, seed=2))
    other = track_of(person_series("lifter", n, hip_xy=(950, 500), torso_px=120, phase_s=1.3, seed=2))
    assert [s.kind for s in find_shots([left, twin], np.zeros(n, bool))] == ["split_screen"]
    assert [s.kind for s in find_shots([left, other], np.zeros(n, bool))] == ["exercise"]


def test_a_pose_blink_does_not_split_a_shot_but_a_short_shot_joins_the_one_before():
    n = 90
    present = np.ones(n, bool)
    present[40:45] = False  # 0.17 s lost: the model blinked
    t = np.arange(n) / FPS
    assert shot_bounds(np.zeros(n, bool), present, t, ShotSettings()) == [(0, 90)]
    # a cross-fade read as two cuts 5 frames apart: one cut
    assert shot_bounds(cuts_at(n, 30, 35), np.ones(n, bool), t, ShotSettings()) == [(0, 35), (35, 90)]


def test_an_opening_title_is_its_own_shot():
    n = 90
    xy = splice((None, 30), (person_series("lifter", 60), 60))
    shots = find_shots([track_of(xy)], np.zeros(n, bool))
    assert [(s.kind, s.start, s.stop) for s in shots] == [("title", 0, 30), ("exercise", 30, 90)]


def test_a_glimpse_of_the_exercise_shorter_than_a_second_is_skipped():
    n = 120
    xy = splice((talking_head(45), 45), (person_series("lifter", 15), 15), (talking_head(60), 60))
    shots = find_shots([track_of(xy)], cuts_at(n, 45, 60))
    assert [s.kind for s in shots] == ["talking_head", "brief", "talking_head"]


def test_nobody_at_all_is_one_title_shot():
    n = 30
    shots = find_shots([track_of(np.full((n, N_LANDMARKS, 2), np.nan))], np.zeros(n, bool))
    assert shots == [Shot(0, 30, 0.0, 29 / FPS, "title")]
    assert W == 1280 and H == 720  # the picture the constructed figures are placed in


def test_cuts_of_a_track_and_the_exercise_frames_only():
    # the same lifter filmed from two distances: the editor cut at 3 s
    near = person_series("lifter", 90, hip_xy=(500, 600), torso_px=220)
    far = person_series("lifter", 90, hip_xy=(700, 500), torso_px=110, phase_s=3)
    track = track_of(np.concatenate([near, far]))
    cuts = track_cuts(track)
    assert np.flatnonzero(cuts).tolist() == [90]
    shots = [Shot(0, 90, 0.0, 89 / FPS, "close_up"), Shot(90, 180, 3.0, 179 / FPS, "exercise")]
    kept = exercise_only(track, shots)
    assert not kept.detected[:90].any() and kept.detected[90:].all()
    np.testing.assert_array_equal(kept.t_s, track.t_s)


def test_a_person_walking_out_of_a_continuous_shot_is_lost_not_a_new_shot():
    # the lifter slides out through the left edge at 2 s and is gone for 1.5 s, then a
    # title card (nobody) follows the same length of absence with the lifter mid-picture
    n = 100
    xy = person_series("lifter", n, hip_xy=(640, 500), torso_px=150)
    xy = xy - np.clip(np.arange(n) - 40, 0, None)[:, None, None] * np.array([30.0, 0.0])
    walked = find_shots([track_of(xy, np.arange(n) < 60)], np.zeros(n, bool))  # hips at x = 40 px when lost
    assert [(s.kind, s.start, s.stop) for s in walked] == [("exercise", 0, 100)]
    n = 150
    stays = person_series("lifter", n, hip_xy=(640, 500), torso_px=150)
    titled = find_shots([track_of(stays, np.arange(n) < 60)], np.zeros(n, bool))
    assert [(s.kind, s.start, s.stop) for s in titled] == [("exercise", 0, 60), ("title", 60, 150)]


def test_the_picture_edge_is_judged_at_the_hips():
    from flatback.measure.shots import at_picture_edge

    xy = np.stack([person_series("lifter", 1, hip_xy=xy, torso_px=150)[0]
                   for xy in ((640, 500), (200, 500), (100, 500), (-50, 500), (640, 1400))])
    # mid-picture, inside, within 10 % of the width, just outside; a talking head's hips far below
    np.testing.assert_array_equal(at_picture_edge(track_of(xy), 0.1), [False, False, True, True, False])


def test_the_selection_skips_shots_only_when_some_shot_shows_the_exercise():
    from flatback.pipeline import select_exerciser

    xy = splice((talking_head(60), 60), (person_series("lifter", 120), 120))
    track, notes = select_exerciser([track_of(xy)])
    assert [n.text for n in notes] == ["Skipped a talking head at 0.0-2.0 s."]
    assert not track.detected[:60].any() and track.detected[60:].all() and track.skipped[:60].all()
    # a clip with no shot of the exercise (a standing demonstration) is analysed whole, nothing skipped
    standing = track_of(person_series("standing", 90, hip_xy=(640, 400), torso_px=120))
    track, notes = select_exerciser([standing])
    assert notes == [] and track.detected.all() and track.in_scope.all()
