"""Geometry on simulated bodies: floor line, facing, roll, swaps, leg and knee angles."""

from __future__ import annotations

import numpy as np
import pytest

from flatback.measure.geometry import combine_legs, compute_body_geometry, lower_tangent, unswap_left_right
from flatback.settings import GeometrySettings
from flatback.simulate import RepSpec, simulate
from flatback.types import Landmark as L


@pytest.mark.parametrize("feet_right", [True, False])
@pytest.mark.parametrize("roll_deg", [-6.0, 0.0, 5.0])
def test_leg_angle_follows_truth_for_either_facing_and_camera_roll(feet_right, roll_deg):
    clip = simulate(n_reps=2, feet_right=feet_right, roll_deg=roll_deg, seed=1)
    g = compute_body_geometry(clip.track)
    assert g.floor.roll_deg == pytest.approx(roll_deg, abs=1.0)
    assert g.floor.feet_sign == (1 if feet_right else -1) * (1 if abs(roll_deg) < 90 else -1)
    err = np.abs(g.leg_angle_deg - clip.leg_angle_deg)
    assert np.nanmax(err) < 3.0


def test_knee_flexion_is_measured():
    clip = simulate([RepSpec(knee_flexion_deg=60, descent_s=3, ascent_s=2)] * 2, seed=2)
    g = compute_body_geometry(clip.track)
    moving = clip.knee_flexion_deg > 55
    assert np.nanmedian(g.knee_flexion_deg[moving]) == pytest.approx(60, abs=4)
    # leg angle is the hip-to-ankle line whatever the knee does
    assert np.nanmax(np.abs(g.leg_angle_deg - clip.leg_angle_deg)) < 3.0


def test_left_right_swaps_are_undone(messy_clip):
    g = compute_body_geometry(messy_clip.track)
    # after repair, the legs keep their identity: the near (left) leg stays the well-seen one
    seen = np.isfinite(g.leg_angle_left_deg) & np.isfinite(g.leg_angle_right_deg)
    assert g.swapped.sum() > 0
    assert np.nanmax(np.abs(g.leg_angle_deg - messy_clip.leg_angle_deg)[seen]) < 6.0


def test_unswap_restores_identity_on_a_labelled_swap():
    clip = simulate(n_reps=1, seed=0)
    xy, vis = clip.track.xy_px.copy(), clip.track.visibility.copy()
    # make the legs distinct, then swap labels in frames 100-110
    xy[:, [L.RIGHT_KNEE, L.RIGHT_ANKLE]] += np.array([0.0, 60.0], np.float32)
    swapped = xy.copy()
    for a, b in [(L.LEFT_KNEE, L.RIGHT_KNEE), (L.LEFT_ANKLE, L.RIGHT_ANKLE)]:
        swapped[100:110, [a, b]] = xy[100:110, [b, a]]
    fixed, _, flags = unswap_left_right(swapped, vis, margin=0.7)
    assert flags[100:110].all() and not flags[:100].any() and not flags[110:].any()
    np.testing.assert_allclose(fixed[:, L.LEFT_KNEE], xy[:, L.LEFT_KNEE])


def test_legs_apart_pick_the_lifted_leg_when_both_are_seen_and_the_visible_one_otherwise():
    al, ar = np.array([60.0]), np.array([10.0])
    one = np.array([1], np.int8)
    leg, _, _ = combine_legs(al, one, np.array([0.95]), np.zeros(1), ar, one, np.array([0.95]), np.zeros(1), 20.0, 0.8)
    assert leg[0] == 60.0
    leg, _, _ = combine_legs(al, one, np.array([0.3]), np.zeros(1), ar, one, np.array([0.95]), np.zeros(1), 20.0, 0.8)
    assert leg[0] == 10.0
    leg, _, _ = combine_legs(np.array([50.0]), one, np.array([0.5]), np.zeros(1), np.array([54.0]), one, np.array([0.5]), np.zeros(1), 20.0, 0.8)
    assert leg[0] == pytest.approx(52.0)


def test_lower_tangent_touches_buttocks_and_upper_back():
    x = np.arange(0, 400, 2.0)
    # underside: contact at y=300 near x=50 and x=350, arched (lifted) in between
    y = 300 - 20 * np.sin(np.clip((x - 50) / 300, 0, 1) * np.pi)
    slope, intercept = lower_tangent(x, y, 0, 400)
    assert slope == pytest.approx(0.0, abs=1e-6)
    assert intercept == pytest.approx(300.0)


def test_feet_out_of_frame_fall_back_to_the_thigh():
    clip = simulate(n_reps=1, seed=0)
    xy = clip.track.xy_px.copy()
    xy[:, [L.LEFT_ANKLE, L.RIGHT_ANKLE, L.LEFT_HEEL, L.RIGHT_HEEL], 1] = -500  # above the picture
    g = compute_body_geometry(clip.track.replaced(xy_px=xy))
    assert (g.leg_source == 2).all()
    assert np.isfinite(g.leg_angle_deg).all()


def test_a_hidden_ankle_inside_the_picture_gives_the_hip_ankle_line_not_the_thigh():
    """Tabletop (dead bug): the far ankle hides behind the near shin. The model still
    places it; the thigh alone would read the knee bend (~45 degrees) too high."""
    clip = simulate([RepSpec(knee_flexion_deg=80, descent_s=3, ascent_s=2)] * 2, seed=2)
    vis = clip.track.visibility.copy()
    vis[:, [L.RIGHT_ANKLE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX]] = 0.35  # hidden, below min_visibility 0.5
    g = compute_body_geometry(clip.track.replaced(visibility=vis))
    bent = clip.knee_flexion_deg > 70
    assert (g.leg_source[bent] != 2).all()  # never the thigh
    assert np.nanmax(np.abs(g.leg_angle_right_deg - clip.leg_angle_deg)[bent]) < 4.0
    assert np.isnan(g.knee_flexion_deg).sum() == 0 or np.nanmedian(g.knee_flexion_deg[bent]) == pytest.approx(80, abs=5)


def test_hanging_leg_angle_is_hip_flexion_from_the_hanging_line_whatever_the_camera_roll():
    """Hanging, 0 = legs in line with the trunk, 90 = level with the hips; the trunk
    tilting back at the top and the camera's roll do not add to it."""
    from flatback.measure.geometry import hanging_frame, leg_angles
    from flatback.settings import GeometrySettings

    def body(roll_deg: float, trunk_tilt_deg: float, flexion_deg: float) -> tuple[np.ndarray, np.ndarray]:
        xy = np.full((1, 33, 2), np.nan)
        vis = np.zeros((1, 33))
        r = np.radians(roll_deg)
        rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
        def at(p):  # image coordinates: y down; the person faces +x
            return rot @ np.asarray(p) + 300.0
        tilt = np.radians(trunk_tilt_deg)
        down = np.array([-np.sin(tilt), np.cos(tilt)])  # trunk leaning back (away from +x) at the top
        shoulder, hip = np.zeros(2), 100 * down
        leg_dir = np.radians(flexion_deg)
        fwd = np.array([down[1], -down[0]])  # the body's front
        ankle = hip + 90 * (np.cos(leg_dir) * down + np.sin(leg_dir) * fwd)
        knee = 0.5 * (hip + ankle)
        for side in ("LEFT", "RIGHT"):
            for name, p in (("SHOULDER", shoulder), ("HIP", hip), ("KNEE", knee), ("ANKLE", ankle)):
                xy[0, L[f"{side}_{name}"]] = at(p)
                vis[0, L[f"{side}_{name}"]] = 0.9
        xy[0, L.NOSE] = at(shoulder - 20 * down + 10 * fwd)  # the head above the shoulders, face in front
        vis[0, L.NOSE] = 0.9
        return xy, vis

    for roll in (-20.0, 0.0, 15.0):
        for tilt, flexion in ((0.0, 0.0), (0.0, 90.0), (30.0, 160.0)):
            xy, vis = body(roll, tilt, flexion)
            shoulder, hip = xy[:, L.LEFT_SHOULDER], xy[:, L.LEFT_HIP]
            along, _ = hanging_frame(shoulder, hip, xy[:, L.NOSE])
            assert np.allclose(np.linalg.norm(along, axis=1), 1.0)
            (angle, source, *_), _ = leg_angles(xy, vis, shoulder, hip, None, "upright", GeometrySettings())  # type: ignore[arg-type]
            assert source[0] == 1
            assert angle[0] == pytest.approx(flexion, abs=0.5), (roll, tilt, flexion)


def test_the_floor_turns_from_the_mask_to_the_trunk_line_gradually():
    """Past floor_agree_deg apart, the floor goes from the mask's underside to the trunk
    line over a second floor_agree_deg: readings either side of the limit stay close."""
    from flatback.measure.geometry import FloorEstimator

    def floor_roll(apart_deg: float) -> tuple[float, str]:
        est = FloorEstimator(GeometrySettings(trunk_floor_offset_deg=0.0, floor_agree_deg=4.0))
        est._trunk_frames = 10
        est._feet_dx = [100.0] * 10
        est._trunk_line = [np.float32(0.0)] * 10
        est._slopes = [float(np.tan(np.radians(apart_deg)))] * 10
        floor = est._floor()
        return floor.roll_deg, floor.source

    assert floor_roll(3.9) == (pytest.approx(3.9), "mask")
    assert floor_roll(4.1)[0] == pytest.approx(4.1 * 0.975, abs=1e-6)  # nearly the mask's
    assert floor_roll(6.0)[0] == pytest.approx(3.0)  # half way
    assert floor_roll(8.0)[0] == pytest.approx(0.0, abs=1e-9) and floor_roll(12.0) == (0.0, "trunk")


def _caption_over_the_near_leg(clip, t0_s: float, t1_s: float, seed: int = 0):
    """The simulated clip with its near (left) leg turned about the hip by 20-40 deg either
    way, frame after frame between ``t0_s`` and ``t1_s`` (what a caption burned over the legs
    made BlazePose do to a leg it still scored 0.99 visible); the far leg seen at 0.6."""
    rng = np.random.default_rng(seed)
    xy, vis = clip.track.xy_px.copy(), clip.track.visibility.copy()
    during = np.flatnonzero((clip.track.t_s >= t0_s) & (clip.track.t_s <= t1_s))
    turn = np.radians(rng.choice([-1.0, 1.0], len(during)) * rng.uniform(20, 40, len(during)))
    c, s = np.cos(turn)[:, None], np.sin(turn)[:, None]
    for j in (L.LEFT_KNEE, L.LEFT_ANKLE):
        v = xy[during, j] - xy[during, L.LEFT_HIP]
        xy[during, j] = xy[during, L.LEFT_HIP] + np.c_[c[:, 0] * v[:, 0] - s[:, 0] * v[:, 1],
                                                         s[:, 0] * v[:, 0] + c[:, 0] * v[:, 1]]
    vis[:, [L.LEFT_KNEE, L.LEFT_ANKLE]] = 0.99
    vis[:, [L.RIGHT_KNEE, L.RIGHT_ANKLE]] = 0.6
    mask = np.zeros(len(xy), bool)
    mask[during] = True
    return clip.track.replaced(xy_px=xy, visibility=vis), mask


def test_a_leg_the_model_does_not_follow_gives_way_to_the_steady_one():
    """Offline: while the near leg jumps from frame to frame the working leg is the steady
    far leg, whatever the visibility scores say; elsewhere the rules are unchanged."""
    clip = simulate(n_reps=2, seed=1)
    track, during = _caption_over_the_near_leg(clip, 3.0, 5.0)
    g = compute_body_geometry(track)
    # from half a window after the jumps start to half a window before they end: a median of mostly jumps
    inside = during & (clip.track.t_s >= 3.5) & (clip.track.t_s <= 4.5)
    np.testing.assert_allclose(g.leg_angle_deg[inside], g.leg_angle_right_deg[inside])
    assert np.nanmax(np.abs(g.leg_angle_deg - clip.leg_angle_deg)[inside]) < 8.0  # the far leg's own error
    assert np.nanmax(np.abs(g.leg_angle_deg - clip.leg_angle_deg)[~during]) < 3.0
    off = compute_body_geometry(track, GeometrySettings(legs_unsteady_deg=1e9))  # the rule turned off
    assert np.nanmax(np.abs(off.leg_angle_deg - clip.leg_angle_deg)[inside]) > 10.0


def test_smooth_legs_and_a_fast_kick_are_steady():
    from flatback.measure.geometry import leg_jitter_deg, off_line_deg

    t = np.cumsum(np.r_[0.0, np.random.default_rng(2).uniform(1 / 30, 1 / 6, 199)])  # the sampler's uneven times
    np.testing.assert_allclose(off_line_deg(t, 3.0 + 40.0 * t)[1:-1], 0.0, atol=1e-9)
    u = np.clip(t / 4.0, 0, 1)
    lift = 80 * (10 * u**3 - 15 * u**4 + 6 * u**5)  # a 4 s minimum-jerk lift, sampled unevenly
    assert np.nanmax(leg_jitter_deg(t, lift, None, 0.5)) < 2.0
    t15 = np.arange(0, 4, 1 / 15)
    kicks = 25 + 12 * np.sin(2 * np.pi * 2.5 * t15)  # flutter kicks: 2.5 a second, +-12 deg, at 15 frames/s
    assert np.nanmax(leg_jitter_deg(t15, kicks, None, 0.5)) < GeometrySettings().legs_unsteady_deg


def test_live_steadiness_flags_the_jumping_leg_as_offline_does():
    from flatback.measure.geometry import LegSteadiness, leg_jitter_deg, unsteady_legs

    s = GeometrySettings()
    t = np.arange(0, 6, 1 / 30)
    steady = 40 + 30 * np.sin(t)
    jumpy = steady + np.where((t > 2) & (t < 4), np.resize([25.0, -25.0], len(t)), 0.0)
    offline = unsteady_legs(leg_jitter_deg(t, jumpy, None, s.legs_unsteady_window_s),
                            leg_jitter_deg(t, steady, None, s.legs_unsteady_window_s), s)
    live = LegSteadiness(s)
    flags = np.array([live.update(float(ti), float(a), float(b)) for ti, a, b in zip(t, jumpy, steady)])[:, :, 0]
    middle = (t > 2.6) & (t < 3.9)
    assert offline[0][middle].all() and flags[middle, 0].all()
    assert not offline[1].any() and not flags[:, 1].any()
    assert not flags[t < 2, 0].any() and not offline[0][t < 1.7].any()
