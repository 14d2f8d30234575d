"""Following several people and choosing the exerciser, on constructed stick figures."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from flatback.errors import VideoContentError
from flatback.measure.people import (
    PeopleSettings,
    PeopleTracker,
    associate,
    choose_exerciser,
    same_person,
    summarize,
    trunk_leg_deg,
)
from flatback.types import N_LANDMARKS, PeopleFrame, PoseFrame, PoseTrack, VideoInfo
from flatback.types import Landmark as L

FPS = 30.0
W, H = 1280, 720

HEAD = [L.NOSE, *range(L.LEFT_EYE_INNER, L.MOUTH_RIGHT + 1)]
LEFT_RIGHT_ARM = [(L.LEFT_ELBOW, L.RIGHT_ELBOW), (L.LEFT_WRIST, L.RIGHT_WRIST)]
HANDS = [L.LEFT_PINKY, L.RIGHT_PINKY, L.LEFT_INDEX, L.RIGHT_INDEX, L.LEFT_THUMB, L.RIGHT_THUMB]


def _rot(v: np.ndarray, deg: float) -> np.ndarray:
    """Rotate a 2-vector counter-clockwise (y up) by ``deg``."""
    a = np.radians(deg)
    return np.array([v[0] * np.cos(a) - v[1] * np.sin(a), v[0] * np.sin(a) + v[1] * np.cos(a)])


def figure(hip_xy, torso_px: float, trunk_deg: float, leg_deg: float, hands_up: bool = False) -> np.ndarray:
    """(33, 2) px landmarks of a stick figure.

    ``trunk_deg``: direction hip -> shoulder, counter-clockwise from image +x with y up
    (180 = lying head left, 90 = upright). ``leg_deg``: legs' angle from the trunk's line,
    rotated counter-clockwise (for a person lying head left: legs rise).
    """
    u = np.array([np.cos(np.radians(trunk_deg)), np.sin(np.radians(trunk_deg))])
    side = _rot(u, 90) * 0.03 * torso_px
    leg = _rot(-u, leg_deg)
    pts = np.zeros((N_LANDMARKS, 2))
    pts[HEAD] = u * 1.35 * torso_px
    pts[[L.LEFT_EAR, L.RIGHT_EAR]] = u * 1.3 * torso_px
    pts[L.LEFT_SHOULDER], pts[L.RIGHT_SHOULDER] = u * torso_px + side, u * torso_px - side
    arm = 1 if hands_up else -1
    for k, (left, right) in enumerate(LEFT_RIGHT_ARM, start=1):
        p = u * torso_px + arm * u * 0.45 * k * torso_px
        pts[left], pts[right] = p + side, p - side
    pts[HANDS] = pts[[L.LEFT_WRIST, L.RIGHT_WRIST] * 3]
    pts[L.LEFT_HIP], pts[L.RIGHT_HIP] = side, -side
    for name, r in (("KNEE", 0.9), ("ANKLE", 1.8), ("HEEL", 1.85), ("FOOT_INDEX", 1.95)):
        pts[L[f"LEFT_{name}"]], pts[L[f"RIGHT_{name}"]] = leg * r * torso_px + side, leg * r * torso_px - side
    # y up -> image y down
    return np.column_stack([hip_xy[0] + pts[:, 0], hip_xy[1] - pts[:, 1]])


def person_series(kind: str, n: int, hip_xy=(500, 550), torso_px=200.0, phase_s=0.0, period_s=4.0, seed=0):
    """(n, 33, 2) px landmarks of one person over ``n`` frames at 30 fps.

    ``kind``: "lifter" (lying head left, legs 0-90 deg), "standing" (upright, still legs
    with sway), "swinger" (upright, a leg swing), "hanging" (hands above, legs 0-90),
    "resting" (lying, legs still), "still" (a frozen figure: a graphic).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FPS
    swing = 45 - 45 * np.cos(2 * np.pi * (t + phase_s) / period_s)
    out = np.empty((n, N_LANDMARKS, 2))
    for i in range(n):
        if kind == "lifter":
            p = figure(hip_xy, torso_px, 180, swing[i])
        elif kind == "resting":
            p = figure(hip_xy, torso_px, 180 + 2 * np.sin(t[i]), 2)  # breathing
        elif kind == "standing":
            p = figure(hip_xy, torso_px, 90 + 2 * np.sin(t[i]), -3)
        elif kind == "swinger":
            p = figure(hip_xy, torso_px, 90, swing[i])
        elif kind == "hanging":
            p = figure(hip_xy, torso_px, 90, swing[i], hands_up=True)
        elif kind == "still":
            p = figure(hip_xy, torso_px, 180, 40)
        else:
            raise ValueError(kind)
        out[i] = p
    if kind != "still":
        out += rng.normal(0, 0.5, out.shape)  # landmark jitter, px
    return out


def track_of(xy: np.ndarray, seen: np.ndarray | None = None) -> PoseTrack:
    """A PoseTrack from (n, 33, 2) px, NaN where ``seen`` is False."""
    xy = xy.astype(np.float32).copy()
    if seen is not None:
        xy[~seen] = np.nan
    n = len(xy)
    return PoseTrack.from_numpy(np.arange(n) / FPS, xy, width=W, height=H)


def people_frames(*series: np.ndarray, seen: list[np.ndarray | None] | None = None, shuffle=True) -> list[PeopleFrame]:
    """Per-frame people from several (n, 33, 2) series, in a random order each frame."""
    rng = np.random.default_rng(1)
    n = len(series[0])
    seen = seen or [None] * len(series)
    frames = []
    for i in range(n):
        people = [
            PoseFrame(i, i / FPS, s[i].astype(np.float32), np.zeros(N_LANDMARKS, np.float32),
                      np.ones(N_LANDMARKS, np.float32), np.full((N_LANDMARKS, 3), np.nan, np.float32))
            for s, ok in zip(series, seen) if ok is None or ok[i]
        ]
        if shuffle:
            rng.shuffle(people)
        frames.append(PeopleFrame(i, i / FPS, tuple(people)))
    return frames


INFO = VideoInfo("<test>", 6.0, FPS, W, H)


# ------------------------------------------------------------ association


def test_two_people_in_shuffled_order_become_two_steady_tracks():
    n = 90
    lifter = person_series("lifter", n, hip_xy=(400, 550))
    standing = person_series("standing", n, hip_xy=(1050, 400), torso_px=150)
    tracks = associate(people_frames(lifter, standing), INFO, "test")
    assert len(tracks) == 2
    assert all(t.detected.all() for t in tracks)
    by_x = sorted(tracks, key=lambda t: np.nanmedian(t.xy_px[:, L.LEFT_HIP, 0]))
    np.testing.assert_allclose(by_x[0].xy_px, lifter, atol=1e-3)
    np.testing.assert_allclose(by_x[1].xy_px, standing, atol=1e-3)


def test_a_missed_frame_keeps_the_track_and_a_long_absence_starts_a_new_one():
    n = 150
    lifter = person_series("lifter", n)
    seen = np.ones(n, bool)
    seen[30:33] = False  # 0.1 s missed: same track
    seen[60:120] = False  # 2 s away: longer than max_gap_s
    tracks = associate(people_frames(lifter, seen=[seen]), INFO, "test")
    assert len(tracks) == 2
    assert tracks[0].detected[:60].sum() == 57 and not tracks[0].detected[60:].any()
    assert tracks[1].detected[120:].all()


def test_people_crossing_close_by_keep_their_identity():
    """Two lifters 0.3 torso lengths apart: the landmark distance still tells them apart."""
    n = 60
    a = person_series("lifter", n, hip_xy=(500, 500))
    b = person_series("lifter", n, hip_xy=(560, 520), phase_s=1.0, seed=3)
    tracks = associate(people_frames(a, b), INFO, "test")
    assert len(tracks) == 2
    first = min(tracks, key=lambda t: t.xy_px[0, L.LEFT_HIP, 0])
    np.testing.assert_allclose(first.xy_px, a, atol=1e-3)


def test_the_streaming_tracker_gives_steady_ids_frame_by_frame_and_forgets_on_reset():
    n = 30
    a = person_series("lifter", n, hip_xy=(400, 550))
    b = person_series("standing", n, hip_xy=(1050, 400), torso_px=150)
    frames = people_frames(a, b)
    tracker = PeopleTracker()
    ids = [dict(zip((round(float(p.xy_px[0, 0])) for p in f.people), tracker.update(f))) for f in frames]
    first_a = ids[0][round(float(a[0, 0, 0]))]
    assert all(d[round(float(a[i, 0, 0]))] == first_a for i, d in enumerate(ids))
    tracker.reset()
    assert sorted(tracker.update(frames[0])) == [0, 1]


# ------------------------------------------------------------ features


def test_trunk_leg_angle_follows_the_lift():
    xy = person_series("lifter", 61)
    angle = trunk_leg_deg(track_of(xy))
    expected = 45 - 45 * np.cos(2 * np.pi * (np.arange(61) / FPS) / 4.0)
    np.testing.assert_allclose(angle, expected, atol=1.5)


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        ("lifter", "exercising"),
        ("hanging", "exercising"),
        ("standing", "standing"),
        ("swinger", "standing"),
        ("resting", "lying_still"),
        ("still", "still"),
    ],
)
def test_roles(kind, role):
    assert summarize(track_of(person_series(kind, 120)), 0).role == role


def test_legs_guessed_in_a_close_up_or_a_jump_between_shots_are_no_leg_movement():
    """An edited crunch, as one track: a close-up of the torso (the model carries the legs
    over the cut for 0.3 s, ankles 70 deg from the trunk scored 0.85-0.55, then guesses them,
    scored 0.2, for 2.4 s), a wide shot with the legs still at 5-13 deg, and the person
    sitting up at the end (trunk upright, legs 80 deg from it). Over all frames (old code)
    the trunk-leg range is 65-75 deg: 'exercising'. The legs are seen still in every
    stretch they are in sight lying down: the carried-over frames are their own stretch
    (8 % of the lying frames in sight, enough to set the 95th percentile), and sitting up
    is not lying."""
    rng = np.random.default_rng(1)
    carry, guessed, wide, sitting = 9, 72, 100, 60
    n = carry + guessed + wide + sitting
    xy = np.empty((n, N_LANDMARKS, 2))
    vis = np.ones((n, N_LANDMARKS), np.float32)
    xy[: carry + guessed] = figure((500, 550), 200.0, 180, 70)
    ankles = [L.LEFT_ANKLE, L.RIGHT_ANKLE]
    vis[:carry, ankles] = np.linspace(0.85, 0.55, carry)[:, None]
    vis[carry : carry + guessed, ankles] = 0.2
    legs_deg = 9 + 4 * np.sin(np.arange(wide) / 10)
    xy[carry + guessed : carry + guessed + wide] = [figure((500, 550), 200.0, 180, a) for a in legs_deg]
    xy[carry + guessed + wide :] = figure((500, 550), 200.0, 90, 80)
    xy += rng.normal(0, 0.5, xy.shape)
    track = PoseTrack.from_numpy(np.arange(n) / FPS, xy.astype(np.float32), vis, width=W, height=H)
    summary = summarize(track, 0)
    assert summary.leg_range_deg < 15
    assert summary.role == "lying_still"
    lifter = np.ones((n, N_LANDMARKS), np.float32)
    assert summarize(PoseTrack.from_numpy(np.arange(n) / FPS, person_series("lifter", n).astype(np.float32), lifter,
                                          width=W, height=H), 0).role == "exercising"


def test_a_short_detection_is_brief():
    seen = np.zeros(120, bool)
    seen[10:25] = True
    assert summarize(track_of(person_series("standing", 120), seen), 0).role == "brief"


# ------------------------------------------------------------ choosing


def test_the_lifter_is_chosen_and_the_standing_instructor_named():
    n = 180
    lifter = track_of(person_series("lifter", n, hip_xy=(400, 550)))
    seen = np.ones(n, bool)
    seen[150:] = False
    instructor = track_of(person_series("standing", n, hip_xy=(1050, 400), torso_px=150), seen)
    chosen, notes = choose_exerciser([instructor, lifter])
    assert chosen is lifter
    assert notes == ["A standing person (right of the picture) at 0.0-5.0 s was ignored."]


def test_a_leg_swinging_standing_person_is_not_the_exerciser():
    n = 150
    lifter = track_of(person_series("lifter", n, hip_xy=(600, 600), torso_px=150))
    swinger = track_of(person_series("swinger", n, hip_xy=(150, 350), torso_px=120))
    chosen, notes = choose_exerciser([swinger, lifter])
    assert chosen is lifter
    assert "standing person (left of the picture)" in notes[0]


def test_a_graphic_is_ignored_still_or_small():
    n = 150
    lifter = track_of(person_series("lifter", n, hip_xy=(500, 600)))
    still = track_of(person_series("still", n, hip_xy=(1100, 200), torso_px=60))
    inset = track_of(person_series("lifter", n, hip_xy=(1150, 150), torso_px=50, seed=4))
    chosen, notes = choose_exerciser([still, inset, lifter])
    assert chosen is lifter
    assert any(s.startswith("A still figure (a graphic or a photo)") for s in notes)
    assert any(s.startswith("A small figure doing the exercise (an inset or a graphic)") for s in notes)


def test_a_second_panel_of_the_same_person_is_ignored():
    n = 150
    left = track_of(person_series("lifter", n, hip_xy=(300, 500), torso_px=130, seed=1))
    right = track_of(person_series("lifter", n, hip_xy=(950, 500), torso_px=130, seed=2))
    assert same_person(left, right, PeopleSettings())
    chosen, notes = choose_exerciser([left, right])
    assert chosen is left or chosen is right
    assert len(notes) == 1 and "second picture of the same person (split screen)" in notes[0]


def test_two_people_exercising_side_by_side_are_refused_with_times():
    n = 150
    a = track_of(person_series("lifter", n, hip_xy=(300, 500), torso_px=130, seed=1))
    seen = np.ones(n, bool)
    seen[:30] = False
    b = track_of(person_series("lifter", n, hip_xy=(950, 500), torso_px=130, phase_s=1.3, seed=2), seen)
    with pytest.raises(VideoContentError) as err:
        choose_exerciser([a, b])
    message = str(err.value)
    assert "person 1 (left of the picture) at 0.0-5.0 s" in message
    assert "person 2 (right of the picture) at 1.0-5.0 s" in message


def test_one_clearly_busier_exerciser_wins():
    n = 150
    a = track_of(person_series("lifter", n, hip_xy=(300, 500), torso_px=130, seed=1))
    seen = np.zeros(n, bool)
    seen[:75] = True
    b = track_of(person_series("lifter", n, hip_xy=(950, 500), torso_px=130, phase_s=1.3, seed=2), seen)
    chosen, notes = choose_exerciser([a, b])
    assert chosen is a
    assert "Another person moving their legs less (right of the picture) at 0.0-2.5 s" in notes[0]


def test_pieces_of_one_exerciser_are_joined():
    n = 180
    xy = person_series("lifter", n)
    first, second = np.zeros(n, bool), np.zeros(n, bool)
    first[:80], second[100:] = True, True
    chosen, notes = choose_exerciser([track_of(xy, first), track_of(xy, second)])
    assert chosen.detected.sum() == 160
    assert notes == ["The exerciser was followed in 2 pieces (0.0-2.6 s, 3.3-6.0 s), joined as one person."]


def test_with_nobody_exercising_a_lying_person_is_preferred_and_named_only_among_others():
    n = 120
    holder = track_of(person_series("resting", n, hip_xy=(400, 600)))  # a hollow hold
    standing = track_of(person_series("standing", n, hip_xy=(1100, 400), torso_px=120))
    alone, alone_notes = choose_exerciser([holder])
    assert alone is holder and alone_notes == []
    chosen, notes = choose_exerciser([standing, holder])
    assert chosen is holder
    assert notes == [
        (
            "No one was seen lying or hanging with the legs moving; analysed a person lying with the legs "
            "still (left of the picture) at 0.0-4.0 s."
        ),
        "A standing person (right of the picture) at 0.0-4.0 s was ignored.",
    ]


@pytest.mark.parametrize(
    ("tracks", "expectation"),
    [([], pytest.raises(VideoContentError, match="No person found")), (None, does_not_raise())],
)
def test_no_person_at_all(tracks, expectation):
    with expectation:
        choose_exerciser(tracks if tracks is not None else [track_of(person_series("lifter", 60))])
