"""Frames chosen by the legs' motion (pose/sampling.py): every frame while the legs turn
fast, the still grid while they rest, and the frames between filled in so the analysis
sees the video's own rate."""

from __future__ import annotations

import numpy as np
import pytest

from flatback.pipeline import Analyzer
from flatback.pose.replay import ReplayPose
from flatback.pose.sampling import MotionSampler, fill_between, segment_angles_deg, turn_rate_deg_s
from flatback.settings import Settings
from flatback.types import Landmark as L
from flatback.types import PoseTrack

FPS = 30.0


def body(leg_deg: float) -> np.ndarray:
    """A person lying along x with both legs (straight) raised ``leg_deg`` from the floor, px."""
    xy = np.zeros((33, 2))
    xy[:] = (400.0, 400.0)
    hip = np.array([500.0, 400.0])
    direction = np.array([np.cos(np.radians(leg_deg)), -np.sin(np.radians(leg_deg))])
    for h, k, a in ((L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE), (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE)):
        xy[h], xy[k], xy[a] = hip, hip + 200 * direction, hip + 400 * direction
    return xy


def run(sampler: MotionSampler, angle_at, seconds: float, present=lambda t: True) -> list[float]:
    """Times the sampler poses over ``seconds`` of a 30 fps video of ``angle_at(t)``."""
    taken = []
    for t in np.arange(0.0, seconds, 1 / FPS):
        if sampler.take(float(t)):
            taken.append(float(t))
            sampler.posed(float(t), [body(angle_at(t))] if present(t) else [])
    return taken


def test_segment_angles_and_turn_rate():
    assert segment_angles_deg(body(0.0)) == pytest.approx([0.0] * 4)
    assert segment_angles_deg(body(90.0)) == pytest.approx([-90.0] * 4)
    assert turn_rate_deg_s(body(10.0), body(30.0), 0.5) == pytest.approx(40.0)
    assert turn_rate_deg_s(body(179.0), body(-179.0), 1.0) == pytest.approx(2.0)  # across the wrap, the short way


def test_still_legs_are_posed_on_the_still_grid():
    taken = run(MotionSampler(6.0, 8.0, 0.1), lambda t: 0.0, 10.0)
    assert len(taken) == pytest.approx(60, abs=3)  # 6 a second (and the first frames, to measure the motion)
    assert np.max(np.diff(taken)) <= 1 / 6 + 1 / FPS + 1e-9


def test_a_fast_movement_is_posed_every_frame():
    # 90 deg in 1 s at constant speed: 90 deg/s, 8 deg a step -> every 0.089 s; 300 deg/s -> every frame
    slow = run(MotionSampler(6.0, 8.0, 0.1), lambda t: 90.0 * t, 1.0)
    fast = run(MotionSampler(6.0, 8.0, 0.1), lambda t: 300.0 * t % 360, 1.0)
    assert len(fast) >= 29  # every frame
    assert 9 <= len(slow) <= 14  # about 90 / 8 = 11
    gaps = np.diff(slow[3:])
    assert np.all(gaps <= 8.0 / 90.0 + 1 / FPS + 1e-9)  # no step longer than 8 deg (within a frame)


def test_nobody_in_the_picture_is_looked_for_on_the_grid():
    taken = run(MotionSampler(6.0, 8.0, 0.1), lambda t: 0.0, 5.0, present=lambda t: False)
    assert len(taken) == pytest.approx(30, abs=1)


def test_two_samplers_started_apart_share_the_grid_frames():
    """A video posed in parts (pipeline/parts.py): each part's sampler poses the grid's
    frames whatever it posed before, so the parts have frames in common to stitch at."""
    times = np.arange(0.0, 6.0, 1 / FPS)

    def grid_taken(start: float) -> set[float]:
        s = MotionSampler(6.0, 8.0, 0.1)
        out = set()
        for t in times[times >= start]:
            if s.take(float(t)):
                out.add(round(float(t), 6))
                s.posed(float(t), [body(0.0)])
        return out

    a, b = grid_taken(0.0), grid_taken(2.3)
    common = {t for t in a & b if t >= 2.5}
    assert len(common) >= 3 * 6 - 1  # every grid point from 2.5 s to 6 s


def test_the_cap_and_off():
    assert len(run(MotionSampler(0.0, 8.0, 0.1), lambda t: 0.0, 2.0)) == 60  # off: every frame
    capped = run(MotionSampler(6.0, 8.0, 0.1, max_rate_hz=10.0), lambda t: 300.0 * t % 360, 2.0)
    assert len(capped) == pytest.approx(20, abs=1)  # fast, but at most 10 a second
    with pytest.raises(ValueError):
        MotionSampler(6.0, 0.0, 0.1)


def test_fill_between_interpolates_holds_the_ends_and_keeps_gaps():
    t_all = np.arange(10) / 10.0
    posed = np.array([1, 3, 4, 8])  # frames 1, 3, 4, 8 posed; frame 4 found nobody
    xy = np.stack([body(10.0 * i) for i in posed]).astype(np.float32)
    xy[2] = np.nan
    track = PoseTrack.from_numpy(t_all[posed], xy)
    full = fill_between(track, t_all)
    assert np.array_equal(full.t_s, t_all)
    assert full.posed.tolist() == [False, True, False, True, True, False, False, False, True, False]
    ankle = full.xy_px[:, L.LEFT_ANKLE]
    np.testing.assert_allclose(ankle[2], (xy[0, L.LEFT_ANKLE] + xy[1, L.LEFT_ANKLE]) / 2, atol=1e-3)  # halfway
    np.testing.assert_allclose(ankle[0], xy[0, L.LEFT_ANKLE])  # before the first: held
    np.testing.assert_allclose(ankle[9], xy[3, L.LEFT_ANKLE])  # after the last: held
    assert np.isnan(ankle[4:8]).all()  # nobody at 0.4 s: missing up to the next frame with a person
    assert fill_between(full, t_all).posed.all()  # every frame already there: nothing filled


def test_a_cut_between_posed_frames_stays_a_cut():
    """An edited video cuts to another shot between two posed frames: the frames between
    hold each side's pose up to the middle instead of gliding from one shot to the other,
    so the cut is still found where it is (geometry.detect_cuts) and nobody is measured
    half-way between two shots."""
    t_all = np.arange(8) / 30.0
    near = body(20.0)
    far = (near - 500.0) * 0.5 + 200.0  # the next shot: half the size, elsewhere
    track = PoseTrack.from_numpy(t_all[[0, 6, 7]], np.stack([near, far, far]).astype(np.float32))
    full = fill_between(track, t_all)
    hips = full.xy_px[:, L.LEFT_HIP]
    np.testing.assert_allclose(hips[:4], np.repeat(near[None, L.LEFT_HIP], 4, axis=0))  # up to the middle
    np.testing.assert_allclose(hips[4:], np.repeat(far[None, L.LEFT_HIP], 4, axis=0))
    moving = PoseTrack.from_numpy(t_all[[0, 6]], np.stack([body(20.0), body(40.0)]).astype(np.float32))
    assert fill_between(moving, t_all).xy_px[3, L.LEFT_ANKLE] == pytest.approx(body(30.0)[L.LEFT_ANKLE], abs=15)


@pytest.fixture(scope="module")
def sampled_and_every(demo):
    clip, video, _ = demo

    def run_with(**changes: str):
        return Analyzer(Settings.load(None, changes), backend=ReplayPose(clip.track)).run(video)

    return run_with(), run_with(**{"pose.still_rate_hz": "0"})


def test_a_video_posed_by_its_motion_measures_as_every_frame(sampled_and_every, demo):
    clip, _, _ = demo
    sampled, every = sampled_and_every
    assert sampled.track.posed.mean() < 0.6  # the simulated set: a 4 s lowering, a 1 s lift, rests
    assert np.array_equal(sampled.track.t_s, every.track.t_s)
    assert sampled.rep_count == every.rep_count == clip.truth.rep_count
    for a, b in zip(every.reps, sampled.reps, strict=True):
        for name in ("start_s", "end_s", "descent_s", "ascent_s", "pause_bottom_s"):
            assert getattr(b, name) == pytest.approx(getattr(a, name), abs=0.1), name  # one pose interval
        # the lowest reading of a 0.5 s pause at the bottom, level within 0.2 deg: any moment of it
        assert b.bottom_s == pytest.approx(a.bottom_s, abs=a.pause_bottom_s + 0.1)
        assert b.min_leg_angle_deg == pytest.approx(a.min_leg_angle_deg, abs=1.0)
        assert b.max_leg_angle_deg == pytest.approx(a.max_leg_angle_deg, abs=1.0)
