"""Exact truth of a posed twin, with the DESIGN.md definitions (Measurements).

Scene frame: metres, floor Y = 0, X toward the head. Leg angle: hip-to-ankle line vs the
floor, 0 = on the floor, 90 = vertical. Lumbar clearance: the largest gap between the
torso's underside and the floor over the lumbar span (20-60 % of the way from hip to
shoulder), also divided by the torso length (hip-to-shoulder joint distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flatback.twin.body import Body
from flatback.twin.pose import TRUNK_BONES, PosedBody, measure_leg_angle_deg, trunk_mask  # noqa: F401

LUMBAR_SPAN = (0.2, 0.6)  # fractions of the hip -> shoulder distance (DESIGN.md)


@dataclass(frozen=True)
class FrameTruth:
    """Truth of one posed body. Angles in degrees, lengths in metres unless named _cm."""

    leg_angle_deg: float
    knee_bend_deg: float
    torso_length_m: float
    clearance_cm: float
    clearance_ratio: float


# Barycentric sample points on a triangle (10 points: corners, edge thirds, centre).
_BARY = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [2, 1, 0], [1, 2, 0], [0, 2, 1],
                  [0, 1, 2], [1, 0, 2], [2, 0, 1], [1, 1, 1]], np.float64) / 3.0
_BARY[:3] *= 3.0


def trunk_surface_points(body: Body, vertices_m: np.ndarray) -> np.ndarray:
    """Dense points (N, 3) on the trunk's surface triangles, metres."""
    tm = trunk_mask(body)
    faces = body.faces[tm[body.faces].all(axis=1)]
    tri = vertices_m[faces]  # (F, 3, 3)
    return np.einsum("sk,fkd->fsd", _BARY, tri).reshape(-1, 3)


def torso_length_m(joints: dict[str, np.ndarray]) -> float:
    """Distance between mid-hip and mid-shoulder joints, metres."""
    hip = (joints["hip_l"] + joints["hip_r"]) / 2
    sho = (joints["shoulder_l"] + joints["shoulder_r"]) / 2
    return float(np.linalg.norm(sho - hip))


def underside_profile(body: Body, posed: PosedBody, bin_m: float = 0.01):
    """The trunk's underside along the body: bin centres X (N,) and lowest Y (N,), metres."""
    v = trunk_surface_points(body, posed.vertices_m)
    lo, hi = v[:, 0].min(), v[:, 0].max()
    edges = np.arange(lo, hi + bin_m, bin_m)
    idx = np.clip(np.digitize(v[:, 0], edges) - 1, 0, len(edges) - 2)
    low = np.full(len(edges) - 1, np.inf)
    np.minimum.at(low, idx, v[:, 1])
    return (edges[:-1] + edges[1:]) / 2, low


def lumbar_clearance_m(body: Body, posed: PosedBody) -> float:
    """Largest trunk-underside height above the floor over the lumbar span, metres."""
    j = posed.joints_m
    hip_x = (j["hip_l"][0] + j["hip_r"][0]) / 2
    sho_x = (j["shoulder_l"][0] + j["shoulder_r"][0]) / 2
    x, low = underside_profile(body, posed)
    a, b = hip_x + LUMBAR_SPAN[0] * (sho_x - hip_x), hip_x + LUMBAR_SPAN[1] * (sho_x - hip_x)
    sel = (x >= min(a, b)) & (x <= max(a, b)) & np.isfinite(low)
    return float(low[sel].max())


def frame_truth(body: Body, posed: PosedBody) -> FrameTruth:
    """Leg angle, knee bend and lumbar clearance of a posed body."""
    c = lumbar_clearance_m(body, posed)
    torso = torso_length_m(posed.joints_m)
    return FrameTruth(
        leg_angle_deg=measure_leg_angle_deg(posed.joints_m),
        knee_bend_deg=posed.params.knee_bend_deg,
        torso_length_m=torso,
        clearance_cm=100 * c,
        clearance_ratio=c / torso,
    )
