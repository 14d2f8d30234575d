"""Posing the twin: forward kinematics, linear blend skinning, lying it on the floor.

Rotations are given in the standing rest frame (metres, z up, x to the body's left, -y to
its front) about each bone's rest head. The posed body is then laid supine in the scene
frame: X along the body (toward the head), Y up (the floor is Y = 0), Z to the body's left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from flatback.twin.body import JOINT_BONES, Body

ARM_POSITIONS = ("sides", "overhead", "chest", "glutes")
# Standing rest frame -> supine scene frame (rows: scene X, Y, Z in rest coordinates).
SUPINE = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
SINK_M = 0.008  # soft tissue pressed into the floor at the contacts, metres


@dataclass(frozen=True)
class PoseParams:
    """One instant of the movement, angles in degrees.

    leg_angle_deg: both legs, hip-to-ankle line vs the floor (0 = on the floor, 90 = vertical).
    knee_bend_deg: knee flexion, 0 = straight. lumbar_ext_deg: lumbar extension (arching)
    spread over the three lumbar bones, matched by the same anterior pelvic tilt so the chest
    stays on the floor. lumbar_lift_cm: height of the lower back's arch off the floor (the soft
tissue under the lumbar spine is shaped to it; a flat back is pressed down to flat_gap_cm).
pelvis_tilt_deg: extra anterior (+) / posterior (-) pelvic tilt.
    head_lift_deg: neck flexion lifting the head off the floor. arms: one of ARM_POSITIONS.
    """

    leg_angle_deg: float = 0.0
    knee_bend_deg: float = 0.0
    lumbar_ext_deg: float = 0.0
    lumbar_lift_cm: float = 0.0
    flat_gap_cm: float = 0.2
    pelvis_tilt_deg: float = 0.0
    head_lift_deg: float = 0.0
    arms: str = "chest"

    def __post_init__(self):
        if self.arms not in ARM_POSITIONS:
            raise ValueError(f"PoseParams.arms must be one of {ARM_POSITIONS}, got {self.arms!r}")


@dataclass(frozen=True)
class PosedBody:
    """A posed body in the scene frame (metres; floor Y = 0, X toward the head).

    vertices_m: (V, 3). joints_m: name -> (3,) for JOINT_BONES. params: the pose.
    """

    vertices_m: np.ndarray
    joints_m: dict[str, np.ndarray]
    params: PoseParams


def rot(axis: str, deg: float) -> np.ndarray:
    """3x3 rotation about the rest frame's ``axis`` ('x', 'y' or 'z') by ``deg`` degrees."""
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i = "xyz".index(axis)
    j, k = (i + 1) % 3, (i + 2) % 3
    m = np.eye(3)
    m[j, j], m[j, k], m[k, j], m[k, k] = c, -s, s, c
    return m


def bone_rotations(body: Body, p: PoseParams, hip_flex_deg: float) -> dict[str, np.ndarray]:
    """Local rotations (rest frame, about each bone head) for pose ``p``."""
    r: dict[str, np.ndarray] = {}
    tilt = p.lumbar_ext_deg + p.pelvis_tilt_deg
    # Anterior pelvic tilt turns the whole body (root); the lumbar bones turn the trunk back.
    r["root"] = rot("x", tilt)
    for b in ("spine05", "spine04", "spine03"):
        r[b] = rot("x", -p.lumbar_ext_deg / 3 - p.pelvis_tilt_deg / 3)
    for side in ("L", "R"):
        r[f"upperleg01.{side}"] = rot("x", -hip_flex_deg)
        r[f"lowerleg01.{side}"] = rot("x", p.knee_bend_deg)
    r["neck01"] = rot("x", p.head_lift_deg * 0.6)
    r["head"] = rot("x", p.head_lift_deg * 0.4)
    r.update(arm_rotations(body, p.arms))
    return r


def align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (3x3) turning direction ``a`` onto direction ``b``."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


# Arm positions: (shoulder extension, shoulder adduction from the rest A-pose, elbow swing
# across the body, elbow flexion), degrees. Extension (+) takes the arm back, toward the
# floor once supine; flexion 170 takes it overhead.
ARM_TABLE = {
    "sides": (18.0, 38.0, 0.0, 0.0),
    "glutes": (22.0, 46.0, 30.0, 0.0),
    "overhead": (-170.0, 40.0, 0.0, 0.0),
    "chest": (-25.0, 30.0, 100.0, 30.0),
}


def arm_rotations(body: Body, arms: str) -> dict[str, np.ndarray]:
    """Shoulder and elbow rotations for an arm position (both sides, mirrored).

    The rest forearm is bent forward; it is first straightened along the upper arm.
    """
    ext, add, swing, flex = ARM_TABLE[arms]
    out = {}
    for side, sgn in (("L", 1.0), ("R", -1.0)):
        h = {n: body.heads_m[body.bone(f"{n}.{side}")] for n in ("upperarm01", "lowerarm01",
                                                                    "wrist")}
        straight = align(h["wrist"] - h["lowerarm01"], h["lowerarm01"] - h["upperarm01"])
        out[f"upperarm01.{side}"] = rot("x", ext) @ rot("y", sgn * add)
        out[f"lowerarm01.{side}"] = rot("y", sgn * swing) @ rot("x", -flex) @ straight
    return out


def skin(body: Body, rotations: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Linear blend skinning. Returns posed vertices (V, 3) and bone heads (B, 3), rest frame."""
    n = len(body.bone_names)
    glob = np.zeros((n, 3, 4))
    heads = body.heads_m
    for b in range(n):  # parents come before children
        r = rotations.get(body.bone_names[b], np.eye(3))
        local = np.concatenate([r, (heads[b] - r @ heads[b])[:, None]], axis=1)
        par = body.parents[b]
        if par < 0:
            glob[b] = local
        else:
            pr, pt = glob[par][:, :3], glob[par][:, 3]
            glob[b] = np.concatenate([pr @ r, (pr @ local[:, 3] + pt)[:, None]], axis=1)
    blended = np.einsum("vk,vkij->vij", body.top_weights, glob[body.top_bones])
    verts = np.einsum("vij,vj->vi", blended[:, :, :3], body.vertices_m) + blended[:, :, 3]
    posed_heads = np.einsum("bij,bj->bi", glob[:, :, :3], heads) + glob[:, :, 3]
    return verts, posed_heads


def _contact_sets(body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Vertex masks of the buttocks (pelvis bones) and the upper back (thoracic bones)."""
    dom = np.asarray(body.bone_names)[body.weights.argmax(axis=1)]
    rendered = np.zeros(len(dom), bool)
    rendered[body.faces.ravel()] = True
    butt = rendered & np.isin(dom, ["root", "pelvis.L", "pelvis.R", "spine05"])
    back = rendered & np.isin(dom, ["spine02", "spine01", "shoulder01.L", "shoulder01.R",
                                    "clavicle.L", "clavicle.R"])
    return butt, back


def rest_on_floor(body: Body, verts_rest: np.ndarray, heads_rest: np.ndarray):
    """Lay a posed body supine so the buttocks and the upper back both touch the floor.

    Returns (vertices, heads) in the scene frame; vertices pushed below the floor by the
    contact (SINK_M) are flattened onto it, like soft tissue.
    """
    v = verts_rest @ SUPINE.T
    h = heads_rest @ SUPINE.T
    butt, back = _contact_sets(body)
    for _ in range(4):  # rock about the lateral axis until both contacts are level
        i1 = np.flatnonzero(butt)[np.argmin(v[butt, 1])]
        i2 = np.flatnonzero(back)[np.argmin(v[back, 1])]
        ang = -np.arctan2(v[i2, 1] - v[i1, 1], v[i2, 0] - v[i1, 0])
        c, s = np.cos(ang), np.sin(ang)
        rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        v, h = v @ rz.T, h @ rz.T
        if abs(ang) < 1e-6:
            break
    y0 = min(v[butt, 1].min(), v[back, 1].min()) + SINK_M
    v = v - [0.0, y0, 0.0]
    h = h - [0.0, y0, 0.0]
    v[:, 1] = np.maximum(v[:, 1], 0.0)
    return v, h


ARCH_SPAN = (0.0, 0.85)  # fractions of hip -> shoulder: the arch meets the floor at both ends
PRESS_DEPTH_M = 0.25  # the arch fades out over this height above the underside (trunk depth)


def shape_lumbar_arch(body: Body, v: np.ndarray, joints: dict[str, np.ndarray],
                      lift_m: float, flat_gap_m: float) -> np.ndarray:
    """Shape the trunk's underside between buttocks and shoulder blades to an arch.

    v: (V, 3) scene-frame vertices of a body lying on the floor. The underside (lowest trunk
    surface per 1 cm along X) is moved to ``flat_gap + lift * sin^2`` over the arch span,
    the shift fading linearly to zero PRESS_DEPTH_M above it, so a flat back is pressed flat
    and a lifted one opens a real gap. Returns new vertices; ``v`` is not changed.
    """

    hip_x = (joints["hip_l"][0] + joints["hip_r"][0]) / 2
    sho_x = (joints["shoulder_l"][0] + joints["shoulder_r"][0]) / 2
    xa, xb = (hip_x + f * (sho_x - hip_x) for f in ARCH_SPAN)
    trunk = trunk_mask(body)
    sel = trunk & (v[:, 0] > xa) & (v[:, 0] < xb)
    if not sel.any():
        return v
    edges = np.arange(xa, xb + 0.01, 0.01)
    idx = np.clip(np.digitize(v[sel, 0], edges) - 1, 0, len(edges) - 2)
    low = np.full(len(edges) - 1, np.inf)
    np.minimum.at(low, idx, v[sel, 1])
    centres = (edges[:-1] + edges[1:]) / 2
    ok = np.isfinite(low)
    low = np.interp(centres, centres[ok], low[ok])
    low = np.lib.stride_tricks.sliding_window_view(np.pad(low, 1, mode="edge"), 3).min(axis=1)
    u = (centres - xa) / (xb - xa)
    # The flat gap fades in from the contacts so both ends still touch the floor.
    target = (flat_gap_m + lift_m) * np.sin(np.pi * u) ** 2
    out = v.copy()
    x = v[sel, 0]
    low_v = np.interp(x, centres, low)
    shift = np.interp(x, centres, target - low)
    fade = np.clip(1 - (v[sel, 1] - low_v) / PRESS_DEPTH_M, 0.0, 1.0)
    # Nothing of the trunk lies below the arch (vertices between bins would otherwise poke out).
    out[sel, 1] = np.maximum(v[sel, 1] + shift * fade, np.interp(x, centres, target))
    return out


def measure_leg_angle_deg(joints: dict[str, np.ndarray]) -> float:
    """Leg angle of a posed body: mean-hip to mean-ankle line vs the floor plane, degrees.

    Measured in the sagittal plane (X, Y of the scene frame): 0 = on the floor, 90 = vertical,
    above 90 past vertical toward the head.
    """
    hip = (joints["hip_l"] + joints["hip_r"]) / 2
    ankle = (joints["ankle_l"] + joints["ankle_r"]) / 2
    d = ankle - hip
    return float(np.degrees(np.arctan2(d[1], -d[0])))


def _pose_once(body: Body, p: PoseParams, hip_flex_deg: float) -> PosedBody:
    verts, heads = skin(body, bone_rotations(body, p, hip_flex_deg))
    v, h = rest_on_floor(body, verts, heads)
    joints_all = {k: h[body.bone(b)] for k, b in JOINT_BONES.items()}
    v = shape_lumbar_arch(body, v, joints_all, p.lumbar_lift_cm / 100, p.flat_gap_cm / 100)
    joints = {k: h[body.bone(b)] for k, b in JOINT_BONES.items()}
    return PosedBody(vertices_m=v, joints_m=joints, params=p)


def pose_body(body: Body, p: PoseParams) -> PosedBody:
    """Pose ``body`` so its leg angle vs the floor is exactly ``p.leg_angle_deg``.

    The hip flexion is solved (two corrections) to account for pelvis tilt, knee bend and
    how the body rests on the floor.
    """
    flex = p.leg_angle_deg
    posed = _pose_once(body, p, flex)
    for _ in range(3):
        err = p.leg_angle_deg - measure_leg_angle_deg(posed.joints_m)
        if abs(err) < 0.01:
            break
        flex += err
        posed = _pose_once(body, p, flex)
    return replace(posed, params=p)


# the bones of the trunk (no limbs, no head)
TRUNK_BONES = ("root", "pelvis.L", "pelvis.R", "spine05", "spine04", "spine03", "spine02",
               "spine01", "breast.L", "breast.R", "clavicle.L", "clavicle.R")


def trunk_mask(body: Body) -> np.ndarray:
    """(V,) bool: rendered vertices whose heaviest bone is a trunk bone (no limbs, no head)."""
    dominant = body.weights.argmax(axis=1)
    rendered = np.zeros(len(dominant), bool)
    rendered[body.faces.ravel()] = True
    return rendered & np.isin(dominant, [body.bone(n) for n in TRUNK_BONES])
