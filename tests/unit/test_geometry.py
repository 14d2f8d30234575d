"""Geometry on simulated bodies: floor line, facing, roll, swaps, leg and knee angles."""

from __future__ import annotations

import numpy as np
import pytest

from flatback.measure.geometry import combine_legs, compute_body_geometry, lower_tangent, unswap_left_right
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
