"""A 3-D stick-figure simulator: exercises as BlazePose would report them, seen from anywhere.

A posture script (:data:`SCRIPTS`) gives, for every moment, the body's pose in the
sagittal plane of a person on the floor (or a bench, a bar, standing): how far the
shoulders rise off the floor and the pelvis curls up, how high each leg is above the
floor, each knee's flexion, each arm's angle at the shoulder, face up or down. The
body (:func:`skeleton_world_m`) turns that into BlazePose's 33 landmarks in world
metres (X along the floor toward the feet, Y up, Z the body's left when supine).

:func:`simulate` films it through a pinhole camera placed anywhere: yaw off the side
view, elevation above the floor, roll, distance, a landscape or portrait frame, the
head on the left or the right of the picture. It returns a :class:`PoseTrack` with
``xy_px``, ``visibility`` (lower for the body's far side), ``z`` and ``world_xyz_m``
as BlazePose gives them: centred on the hips, axes aligned with the camera (x right,
y down, z away from the camera; so camera roll rotates them too).

Every script is the truth of its name: the tests assert what the recognizer calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from flatback.types import N_LANDMARKS, PoseTrack
from flatback.types import Landmark as L

# --- the body --------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """Segment lengths and half-widths of an adult, m."""

    torso_m: float = 0.50  # hip centre to shoulder centre
    thigh_m: float = 0.45
    shin_m: float = 0.43
    upper_arm_m: float = 0.30
    forearm_m: float = 0.27
    hip_half_width_m: float = 0.09
    shoulder_half_width_m: float = 0.18
    neck_m: float = 0.12  # shoulder centre to the ears, along the trunk
    face_m: float = 0.10  # ears to nose, in front
    thickness_m: float = 0.10  # hip centre above the floor when lying


@dataclass(frozen=True)
class Posture:
    """One moment of a script; arrays (N,) over time, deg unless named otherwise.

    ``trunk_rise_deg``: shoulders up off the floor about the hips (0 lying, 90 sitting
    or standing upright). ``pelvis_curl_deg``: hips up off the floor about the
    shoulders (bridge, reverse crunch); it tips the trunk the other way.
    ``leg_elev_deg``: each leg's hip-to-knee direction above the floor toward the feet
    side (0 on the floor, 90 vertical, > 90 toward the head, < 0 below the floor line,
    as on a bench); ``knee_deg``: knee flexion, 0 straight. ``arm_deg``: shoulder
    flexion from the trunk line toward the feet (0 at the sides, 90 pointing up when
    lying, 180 overhead); ``elbow_deg``: elbow flexion. ``prone``: face down.
    ``hip_height_m``: height of the hip centre above the floor. ``head_turn_deg``: the
    face turned toward the body's left side (a person watching the phone).
    """

    trunk_rise_deg: np.ndarray
    pelvis_curl_deg: np.ndarray
    leg_elev_deg: tuple[np.ndarray, np.ndarray]  # (left, right)
    knee_deg: tuple[np.ndarray, np.ndarray]
    arm_deg: tuple[np.ndarray, np.ndarray]
    elbow_deg: tuple[np.ndarray, np.ndarray]
    hip_height_m: np.ndarray
    prone: bool = False
    head_turn_deg: float = 0.0  # face turned about the trunk toward the body's left (looking at the camera)


def _dir(angle_deg: np.ndarray) -> np.ndarray:
    """Unit vectors (N, 3) in the sagittal X-Y plane at ``angle_deg`` from +X toward +Y."""
    a = np.radians(angle_deg)
    return np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], axis=-1)


def skeleton_world_m(p: Posture, body: Body = Body()) -> np.ndarray:
    """BlazePose's 33 landmarks (N, 33, 3) in world metres: X toward the feet, Y up, Z lateral.

    Angles in the sagittal plane are measured from +X (along the floor toward the feet)
    toward +Y (up). The trunk points from the hips toward the head at
    180 - rise + curl; a prone body's front faces down, so its knees and elbows bend
    the other way.
    """
    n = len(p.trunk_rise_deg)
    side = -1.0 if p.prone else 1.0  # the front of the body faces up (supine) or down (prone)
    trunk_angle = 180.0 - p.trunk_rise_deg + p.pelvis_curl_deg
    up_body = _dir(trunk_angle)
    anterior = _dir(trunk_angle - side * 90.0)
    left = np.cross(up_body, anterior)  # the body's left, from its own axes
    turn = np.radians(p.head_turn_deg)
    face = np.cos(turn) * anterior + np.sin(turn) * left
    hip = np.zeros((n, 3))
    hip[:, 1] = p.hip_height_m
    shoulder = hip + body.torso_m * up_body
    pts = np.full((n, N_LANDMARKS, 3), np.nan)
    for k, name in enumerate(("LEFT", "RIGHT")):
        lat = left if name == "LEFT" else -left
        h = hip + body.hip_half_width_m * lat
        sh = shoulder + body.shoulder_half_width_m * lat
        # legs: elevation above the floor (sagittal), knee flexion bends the shin back
        thigh_angle = p.leg_elev_deg[k]
        knee = h + body.thigh_m * _dir(thigh_angle)
        shin_angle = thigh_angle - side * p.knee_deg[k]
        ankle = knee + body.shin_m * _dir(shin_angle)
        foot_dir = _dir(shin_angle + side * 90.0)  # toes point the way the front faces
        heel = ankle - 0.05 * foot_dir - 0.03 * _dir(shin_angle)
        toe = ankle + 0.15 * foot_dir
        # arms: shoulder flexion from the trunk line toward the feet (0 = at the sides)
        arm_angle = trunk_angle - 180.0 + side * p.arm_deg[k]
        elbow = sh + body.upper_arm_m * _dir(arm_angle)
        fore_angle = arm_angle + side * p.elbow_deg[k]
        wrist = elbow + body.forearm_m * _dir(fore_angle)
        hand = _dir(fore_angle)
        for lm, pos in {
            "HIP": h, "KNEE": knee, "ANKLE": ankle, "HEEL": heel, "FOOT_INDEX": toe,
            "SHOULDER": sh, "ELBOW": elbow, "WRIST": wrist,
            "PINKY": wrist + 0.08 * hand - 0.02 * lat, "INDEX": wrist + 0.09 * hand,
            "THUMB": wrist + 0.05 * hand + 0.02 * lat,
        }.items():
            pts[:, L[f"{name}_{lm}"]] = pos
        ear = shoulder + body.neck_m * up_body + 0.07 * lat
        pts[:, L[f"{name}_EAR"]] = ear
        eye = shoulder + (body.neck_m + 0.03) * up_body + 0.8 * body.face_m * face + 0.03 * lat
        for lm in ("EYE_INNER", "EYE", "EYE_OUTER"):
            pts[:, L[f"{name}_{lm}"]] = eye
        pts[:, L[f"MOUTH_{name}"]] = shoulder + (body.neck_m - 0.03) * up_body + body.face_m * face + 0.02 * lat
    pts[:, L.NOSE] = shoulder + (body.neck_m + 0.01) * up_body + body.face_m * face
    return pts


# --- posture scripts ------------------------------------------------------------------


def cycle(t_s: np.ndarray, period_s: float, low: float, high: float, hold_frac: float = 0.15,
          phase: float = 0.0) -> np.ndarray:
    """A repeated low -> high -> low movement with rests at both ends (smooth cosine ramps).

    ``hold_frac`` of each period is spent resting at each end; ``phase`` in periods.
    """
    x = np.mod(t_s / period_s + phase, 1.0)
    move = 0.5 - hold_frac
    up = np.clip((x - hold_frac) / move, 0, 1) * (x < 0.5) + (x >= 0.5) * np.clip(1 - (x - 0.5 - hold_frac) / move, 0, 1)
    up = np.where(x < hold_frac, 0.0, up)
    return low + (high - low) * 0.5 * (1 - np.cos(np.pi * up))


def _const(t_s: np.ndarray, value: float) -> np.ndarray:
    return np.full(len(t_s), float(value))


def _posture(t, *, rise=0.0, curl=0.0, legs=(0.0, 0.0), knees=(5.0, 5.0), arms=(10.0, 10.0),
             elbows=(5.0, 5.0), hip_m=None, prone=False) -> Posture:
    """A Posture from scalars or arrays (scalars held for the whole clip).

    ``hip_m`` defaults to lying on the floor, the hips raised by a pelvis curl about
    the shoulders.
    """
    def arr(v):
        return np.asarray(v, float) if np.ndim(v) else _const(t, v)

    body = Body()
    if hip_m is None:
        hip_m = body.thickness_m + body.torso_m * np.sin(np.radians(arr(curl)))
    return Posture(arr(rise), arr(curl), (arr(legs[0]), arr(legs[1])), (arr(knees[0]), arr(knees[1])),
                   (arr(arms[0]), arr(arms[1])), (arr(elbows[0]), arr(elbows[1])), arr(hip_m), prone)


def double_leg_lift(t):
    """Both legs straight, floor to vertical and back, 6 s a rep, arms at the sides."""
    legs = cycle(t, 6.0, 5.0, 88.0)
    return _posture(t, legs=(legs, legs))


def double_leg_lift_propped(t):
    """Propped on the elbows (shoulders 35 deg up, forearms on the floor): legs floor to 75 deg."""
    legs = cycle(t, 6.0, 5.0, 75.0)
    return _posture(t, rise=35.0, legs=(legs, legs), arms=(-40.0, -40.0), elbows=(75.0, 75.0))


def double_leg_lift_bench(t):
    """Lying on a bench gripping it overhead: legs from 20 deg below the bench to vertical."""
    legs = cycle(t, 6.0, -20.0, 85.0)
    return _posture(t, legs=(legs, legs), arms=(160.0, 160.0), elbows=(70.0, 70.0), hip_m=0.50)


def double_leg_lift_arms_overhead(t):
    """Arms stretched overhead on the floor, legs 10 to 80 deg (a common cue)."""
    legs = cycle(t, 5.0, 10.0, 80.0)
    return _posture(t, legs=(legs, legs), arms=(175.0, 175.0))


def bent_knee_leg_lift(t):
    """Knees bent 80 deg, thighs from 15 deg to vertical, hands behind the head."""
    legs = cycle(t, 5.0, 15.0, 90.0)
    return _posture(t, legs=(legs, legs), knees=(80.0, 80.0), arms=(160.0, 160.0), elbows=(140.0, 140.0))


def bent_knee_leg_lift_straight_rests(t):
    """5 s lying flat with straight legs, then a 3 s bent-knee lift and lowering (thighs 5
    deg to vertical, the knees bending to 85 deg on the way up and straightening on the
    way down), again every 8 s: the legs lie straight 5 s of every 8 s."""
    phase = np.mod(t, 8.0) - 5.0
    lift = np.where(phase > 0.0, 0.5 * (1 - np.cos(2 * np.pi * np.clip(phase, 0.0, 3.0) / 3.0)), 0.0)
    knees = 5.0 + 80.0 * np.clip(3.0 * lift, 0.0, 1.0)
    legs = 5.0 + 85.0 * lift
    return _posture(t, legs=(legs, legs), knees=(knees, knees))


def single_leg_lift(t):
    """Left leg straight, floor to 60 deg; right knee bent 100 deg, foot planted."""
    lift = cycle(t, 5.0, 2.0, 60.0)
    return _posture(t, legs=(lift, 50.0), knees=(3.0, 100.0))


def heel_tap(t):
    """Tabletop (thighs vertical, knees 90), one heel at a time lowered to tap the floor."""
    left = cycle(t, 4.0, 90.0, 35.0, phase=0.0)
    right = cycle(t, 4.0, 90.0, 35.0, phase=0.5)
    return _posture(t, legs=(left, right), knees=(90.0, 90.0))


def hanging_leg_raise(t):
    """Hanging from a bar (upright, arms overhead), straight legs raised to 100 deg from hanging."""
    legs = cycle(t, 3.5, -90.0, 10.0)  # -90 = hanging straight down below the hips
    return _posture(t, rise=90.0, legs=(legs, legs), arms=(175.0, 175.0), hip_m=1.2)


def dead_bug(t):
    """Tabletop, arms up; one leg extends low while the opposite arm goes overhead, sides take turns.

    Each 3-s turn: 0.6 s in tabletop, 0.9 s out, 0.6 s held, 0.9 s back.
    """
    turn = np.floor(t / 3.0) % 2 == 0
    ext = cycle(t, 3.0, 0.0, 1.0, hold_frac=0.2)
    ext_l, ext_r = np.where(turn, ext, 0.0), np.where(turn, 0.0, ext)

    def leg(e):
        return 90.0 - 78.0 * e

    def knee(e):
        return 90.0 * (1 - e)

    def arm(e):
        return 90.0 + 80.0 * e

    return _posture(t, legs=(leg(ext_l), leg(ext_r)), knees=(knee(ext_l), knee(ext_r)),
                    arms=(arm(ext_r), arm(ext_l)))


def hollow_hold(t):
    """Flat, then shoulders up 25 deg, legs at 30 deg, arms overhead, held; then flat again."""
    span = t[-1] if len(t) else 1.0
    on = np.clip((t - 0.1 * span) / (0.1 * span), 0, 1) * np.clip((0.9 * span - t) / (0.1 * span), 0, 1)
    on = 0.5 * (1 - np.cos(np.pi * on))
    return _posture(t, rise=25.0 * on, legs=(30.0 * on, 30.0 * on), arms=(10.0 + 160.0 * on, 10.0 + 160.0 * on))


def flutter_kicks(t):
    """Straight legs held off the floor, kicked alternately between 15 and 40 deg, 1.25 a second."""
    left = 27.5 + 12.5 * np.sin(2 * np.pi * 1.25 * t)
    right = 27.5 - 12.5 * np.sin(2 * np.pi * 1.25 * t)
    return _posture(t, legs=(left, right), knees=(5.0, 5.0))


def scissors(t):
    """Vertical scissors: straight legs cross alternately between 15 and 55 deg, once a second."""
    left = 35.0 + 20.0 * np.sin(2 * np.pi * 1.0 * t)
    right = 35.0 - 20.0 * np.sin(2 * np.pi * 1.0 * t)
    return _posture(t, legs=(left, right), knees=(5.0, 5.0), arms=(5.0, 5.0))


def reverse_crunch(t):
    """From tabletop the knees curl to the chest, the pelvis peeling 25 deg off the floor."""
    c = cycle(t, 3.0, 0.0, 1.0)
    thigh = 90.0 + 60.0 * c  # above the floor: 150 with the pelvis curled 25 is 125 from the trunk line
    return _posture(t, curl=25.0 * c, legs=(thigh, thigh), knees=(95.0, 95.0))


def reverse_crunch_from_floor(t):
    """Feet on the floor, knees bent: the knees curl to the chest, the pelvis peeling 30 deg up."""
    c = cycle(t, 3.0, 0.0, 1.0)
    return _posture(t, curl=30.0 * c, legs=(45.0 + 105.0 * c, 45.0 + 105.0 * c), knees=(100.0, 100.0))


def v_up(t):
    """From flat with arms overhead, trunk and straight legs rise to meet, hands to the shins."""
    c = cycle(t, 3.5, 0.0, 1.0)
    return _posture(t, rise=50.0 * c, legs=(60.0 * c, 60.0 * c), arms=(175.0 - 120.0 * c, 175.0 - 120.0 * c))


def crunch(t):
    """Knees bent, feet planted, hands behind the head; shoulders curl up 30 deg."""
    c = cycle(t, 2.5, 0.0, 30.0)
    return _posture(t, rise=c, legs=(50.0, 50.0), knees=(105.0, 105.0), arms=(160.0, 160.0), elbows=(140.0, 140.0))


def glute_bridge(t):
    """Hips held up in a bridge (shoulders and feet down, knees 90), marching one foot at a time."""
    march_l = cycle(t, 4.0, 0.0, 1.0, phase=0.0)
    march_r = cycle(t, 4.0, 0.0, 1.0, phase=0.5)
    # shoulders down, hips 0.35 m up; thighs rise 20 deg to the knees, shins down to the feet;
    # a march lifts one knee toward the chest
    return _posture(t, curl=30.0, legs=(20.0 + 55.0 * march_l, 20.0 + 55.0 * march_r),
                    knees=(110.0 - 20 * march_l, 110.0 - 20 * march_r), arms=(-10.0, -10.0))


def plank(t):
    """Forearm plank: face down, body straight, elbows under the shoulders; still."""
    return _posture(t, rise=12.0, legs=(-12.0, -12.0), knees=(3.0, 3.0), arms=(90.0, 90.0),
                    elbows=(90.0, 90.0), hip_m=0.25, prone=True)


def standing_leg_raise(t):
    """Standing, one hand on a chair: the free leg swings forward to hip height and back."""
    swing = cycle(t, 2.5, -110.0, -5.0)  # -90 = straight down, -5 = near horizontal in front
    return _posture(t, rise=90.0, legs=(swing, -90.0), knees=(5.0, 3.0), arms=(30.0, 5.0), hip_m=0.95)


def single_leg_lift_other_straight(t):
    """Left leg straight, floor to 70 deg; the right leg stays straight on the floor."""
    lift = cycle(t, 5.0, 2.0, 70.0)
    return _posture(t, legs=(lift, 2.0), knees=(3.0, 3.0))


def alternating_single_leg_lift(t):
    """Straight legs lifted one at a time to 75 deg, slowly, the other resting on the floor."""
    turn = np.floor(t / 4.0) % 2 == 0
    lift = cycle(t, 4.0, 2.0, 75.0)
    return _posture(t, legs=(np.where(turn, lift, 2.0), np.where(turn, 2.0, lift)), knees=(3.0, 3.0))


def lying_still(t):
    """Lying flat, legs straight on the floor, arms at the sides: nothing to recognise."""
    return _posture(t)


# name -> (script, the exercise it is)
SCRIPTS: dict[str, tuple[Callable[[np.ndarray], Posture], str]] = {
    "double_leg_lift": (double_leg_lift, "double_leg_lift"),
    "double_leg_lift_propped": (double_leg_lift_propped, "double_leg_lift"),
    "double_leg_lift_bench": (double_leg_lift_bench, "double_leg_lift"),
    "double_leg_lift_arms_overhead": (double_leg_lift_arms_overhead, "double_leg_lift"),
    "bent_knee_leg_lift": (bent_knee_leg_lift, "bent_knee_leg_lift"),
    "bent_knee_leg_lift_straight_rests": (bent_knee_leg_lift_straight_rests, "bent_knee_leg_lift"),
    "single_leg_lift": (single_leg_lift, "single_leg_lift"),
    "single_leg_lift_other_straight": (single_leg_lift_other_straight, "single_leg_lift"),
    "alternating_single_leg_lift": (alternating_single_leg_lift, "single_leg_lift"),
    "heel_tap": (heel_tap, "heel_tap"),
    "hanging_leg_raise": (hanging_leg_raise, "hanging_leg_raise"),
    "dead_bug": (dead_bug, "dead_bug"),
    "hollow_hold": (hollow_hold, "hollow_hold"),
    "flutter_kicks": (flutter_kicks, "not_leg_lift"),
    "scissors": (scissors, "not_leg_lift"),
    "reverse_crunch": (reverse_crunch, "not_leg_lift"),
    "reverse_crunch_from_floor": (reverse_crunch_from_floor, "not_leg_lift"),
    "v_up": (v_up, "not_leg_lift"),
    "crunch": (crunch, "not_leg_lift"),
    "glute_bridge": (glute_bridge, "not_leg_lift"),
    "plank": (plank, "not_leg_lift"),
    "standing_leg_raise": (standing_leg_raise, "not_leg_lift"),
    "lying_still": (lying_still, "unknown"),
}


# --- the camera -----------------------------------------------------------------------


@dataclass(frozen=True)
class Camera:
    """Where the camera stands and how it is held.

    ``yaw_deg``: 0 = a true side view, turning toward the feet end; ``elevation_deg``:
    looking down from above the floor; ``roll_deg``: phone rotated about its optical
    axis; ``distance_m`` from the body's middle; ``portrait``: a tall frame;
    ``head_left``: the head on the left of the picture (else the right);
    ``hfov_deg``: the field of view across the longer side of the frame.
    """

    yaw_deg: float = 0.0
    elevation_deg: float = 5.0
    roll_deg: float = 0.0
    distance_m: float = 3.0
    portrait: bool = False
    head_left: bool = True
    hfov_deg: float = 65.0
    long_px: int = 1280
    short_px: int = 720

    @property
    def size_px(self) -> tuple[int, int]:
        """(width, height) of the frame, px."""
        return (self.short_px, self.long_px) if self.portrait else (self.long_px, self.short_px)


def camera_rotation(cam: Camera) -> np.ndarray:
    """Rotation (3, 3) from world (X feet-ward, Y up, Z lateral) to camera axes (x right, y down, z forward)."""
    yaw, el, roll = (np.radians(v) for v in (cam.yaw_deg, cam.elevation_deg, cam.roll_deg))
    # side view: the camera on the +Z side looking along -Z; head on the left = feet (+X) to the right
    sx = 1.0 if cam.head_left else -1.0
    base = np.array([[sx, 0, 0], [0, -1, 0], [0, 0, -sx]], float)  # rows: camera x, y, z in world
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(el), -np.sin(el)], [0, np.sin(el), np.cos(el)]])
    rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    return rz @ rx @ base @ ry


def simulate(name: str, camera: Camera = Camera(), *, duration_s: float = 12.0, fps: float = 30.0,
             noise_px: float = 1.0, noise_m: float = 0.01, far_visibility: float = 0.7,
             world: bool = True, head_turn_deg: float = 0.0, seed: int = 0) -> PoseTrack:
    """Film script ``name`` of :data:`SCRIPTS` with ``camera``; a PoseTrack as BlazePose reports it.

    ``far_visibility``: visibility of the landmarks on the body's side away from the
    camera (the near side gets 0.95); ``world=False`` leaves the world landmarks NaN
    (keypoints from a 2-D tool); ``head_turn_deg`` turns the face toward the body's left.
    """
    script, _ = SCRIPTS[name]
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0 / fps)
    pts = skeleton_world_m(replace(script(t), head_turn_deg=head_turn_deg))
    centre = np.nanmean(pts[:, [L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_SHOULDER, L.RIGHT_SHOULDER,
                                L.LEFT_KNEE, L.RIGHT_KNEE]], axis=(0, 1))
    rot = camera_rotation(camera)
    eye = centre - camera.distance_m * rot[2]  # the camera looks along its z axis at the body's middle
    cam_pts = (pts - eye) @ rot.T
    w, h = camera.size_px
    f_px = 0.5 * camera.long_px / np.tan(np.radians(camera.hfov_deg) / 2)
    xy = f_px * cam_pts[..., :2] / cam_pts[..., 2:3] + np.array([w / 2, h / 2])
    xy = xy + rng.normal(0, noise_px, xy.shape)
    hip_c = 0.5 * (cam_pts[:, L.LEFT_HIP] + cam_pts[:, L.RIGHT_HIP])
    world_xyz = cam_pts - hip_c[:, None, :] + rng.normal(0, noise_m, cam_pts.shape)
    depth = world_xyz[..., 2]
    vis = np.full(depth.shape, 0.95)
    for lm in L:
        if lm.name.startswith(("LEFT_", "RIGHT_", "MOUTH_")):
            twin = L[lm.name.replace("LEFT", "TMP").replace("RIGHT", "LEFT").replace("TMP", "RIGHT")]
            vis[:, lm] = np.where(depth[:, lm] > depth[:, twin] + 0.02, far_visibility, 0.95)
    if not world:
        world_xyz = np.full_like(world_xyz, np.nan)
    return PoseTrack.from_numpy(
        t, xy.astype(np.float32), vis.astype(np.float32), width=w, height=h, path=f"<simulate3d:{name}>",
        z=(depth / 2.0).astype(np.float32), world_xyz_m=world_xyz.astype(np.float32),
    )
