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
