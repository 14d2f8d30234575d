"""A simulator of leg-lift pose tracks with known truth, for tests and benchmarks.

It draws a 2-D side-view body lying on a floor, moves the legs through a programmed
sequence of reps (tempo, pauses, range, knee bend), and renders what a pose backend
would report: 33 landmarks with visibility, the mask's top and bottom contours, and
the imperfections of real footage on demand: pixel noise, dropped frames, left/right
label swaps, variable frame rate, camera roll, either facing direction.

Movements run at a steady speed eased over ``ease_s`` around each end (what the coaching
asks for: lower at an even tempo), or with the minimum-jerk profile of natural human
movement, whose slow start and finish any speed threshold reads as slightly shorter.
The truth records the programmed durations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from flatback.pose.mediapipe import mask_contours
from flatback.types import LEFT_RIGHT_PAIRS, N_LANDMARKS, PoseTrack, VideoInfo
from flatback.types import Landmark as L


@dataclass(frozen=True)
class RepSpec:
    """One rep's programme: angles in deg, durations in s."""

    top_deg: float = 90.0
    bottom_deg: float = 5.0
    descent_s: float = 4.0
    ascent_s: float = 2.0
    pause_top_s: float = 0.5
    pause_bottom_s: float = 1.0
    knee_flexion_deg: float = 0.0


@dataclass(frozen=True)
class TrueRep:
    """What the simulator did in one counted rep, s and deg."""

    start_s: float
    bottom_s: float  # arrival at the bottom (the lowest angle holds until the next move)
    bottom_end_s: float  # when the legs leave the bottom again
    end_s: float
    descent_s: float
    ascent_s: float
    pause_bottom_s: float
    pause_top_s: float
    min_leg_angle_deg: float
    max_leg_angle_deg: float


@dataclass(frozen=True)
class Truth:
    rest: Literal["floor", "top"]
    reps: list[TrueRep]
    holds: list[tuple[float, float]] = field(default_factory=list)

    @property
    def rep_count(self) -> int:
        return len(self.reps)


@dataclass(frozen=True)
class Scene:
    """How the simulated body is placed in the picture: enough to draw it again."""

    body: Body
    width: int
    height: int
    feet_right: bool
    roll_deg: float
    arms: str

    def to_image(self, p: np.ndarray) -> np.ndarray:
        """Floor coordinates (x to the feet, y up), px -> image px."""
        sign = 1.0 if self.feet_right else -1.0
        cx = self.width / 2 - sign * 0.1 * self.body.torso_px
        floor_y = 0.8 * self.height
        r = np.deg2rad(self.roll_deg)
        rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
        centre = np.array([self.width / 2, self.height / 2])
        img = np.stack([cx + sign * p[..., 0], floor_y - p[..., 1]], axis=-1)
        return (img - centre) @ rot.T + centre


@dataclass(frozen=True)
class SimulatedClip:
    track: PoseTrack
    truth: Truth
    leg_angle_deg: np.ndarray  # (N,) the true leg angle at each frame
    knee_flexion_deg: np.ndarray
    lumbar_gap_ratio: np.ndarray  # (N,) the true gap under the lower back, torso lengths
    scene: Scene | None = None

    def frames(self):
        """RGB pictures of the simulated person (a silhouette on a floor), one per frame."""
        import cv2

        sc = self.scene
        floor = sc.to_image(np.array([[-10_000.0, 0.0], [10_000.0, 0.0]]))
        for i in range(len(self.track)):
            image = np.full((sc.height, sc.width, 3), (236, 240, 245), np.uint8)
            ground = np.array([floor[0], floor[1], [sc.width * 3, sc.height * 3], [-sc.width * 2, sc.height * 3]])
            cv2.fillPoly(image, [np.round(ground).astype(np.int32)], (196, 170, 140))
            canvas = np.zeros((sc.height, sc.width), np.uint8)
            pts = body_points(self.leg_angle_deg[i], self.knee_flexion_deg[i], sc.body, sc.arms)
            _draw_body(cv2, canvas, pts, sc.body, sc.to_image, self.lumbar_gap_ratio[i])
            image[canvas > 0] = (70, 90, 140)
            yield image

    def write_video(self, path, fps: float | None = None):
        """The simulated clip as an H.264 MP4 (for demos and end-to-end tests)."""
        from fractions import Fraction

        import av

        sc = self.scene
        assert sc is not None, "only a simulated scene can be drawn"
        with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream("libx264", rate=int(round(fps or self.track.info.fps or 30)))
            stream.width, stream.height, stream.pix_fmt = sc.width, sc.height, "yuv420p"
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
            for t, image in zip(self.track.t_s, self.frames()):
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = int(round(t * 1000))
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        return path

    def lift_onsets(self) -> list[tuple[float, float]]:
        """(t_s, leg angle deg) where the true gap starts to open, one per lowering."""
        open_ = self.lumbar_gap_ratio > 0
        starts = np.flatnonzero(open_[1:] & ~open_[:-1]) + 1
        return [(float(self.track.t_s[i]), float(self.leg_angle_deg[i - 1])) for i in starts]


@dataclass(frozen=True)
class Body:
    """Segment lengths and thicknesses as multiples of the torso length (hip-shoulder)."""

    torso_px: float = 170.0
    thigh: float = 0.85
    shank: float = 0.8
    torso_thickness: float = 0.42
    thigh_thickness: float = 0.28
    shank_thickness: float = 0.18


class _Timeline:
    """Piecewise angle programme: holds and moves, each move a ramp of the given profile."""

    def __init__(self, start_deg: float, ease_s: float, profile: str = "steady"):
        self.segments: list[tuple[float, float, float, float]] = []  # (t0, t1, v0, v1)
        self.t = 0.0
        self.v = start_deg
        self.ease_s = ease_s
        self.profile = profile

    def hold(self, duration_s: float) -> None:
        if duration_s > 0:
            self.segments.append((self.t, self.t + duration_s, self.v, self.v))
            self.t += duration_s

    def move(self, to_deg: float, duration_s: float) -> None:
        self.segments.append((self.t, self.t + duration_s, self.v, to_deg))
        self.t += duration_s
        self.v = to_deg

    def __call__(self, t: np.ndarray) -> np.ndarray:
        # every move is an eased ramp added to the starting value; holds add nothing
        out = np.full(len(t), self.segments[0][2] if self.segments else self.v, float)
        for t0, t1, v0, v1 in self.segments:
            if v0 == v1:
                continue
            u = (t - t0) / (t1 - t0)
            if self.profile == "minjerk":
                ramp = _minimum_jerk(u)
            else:
                ramp = _ramp(u, self.ease_s / (t1 - t0))
            out += (v1 - v0) * ramp
        return out


def _minimum_jerk(u: np.ndarray) -> np.ndarray:
    """The smooth bell-shaped speed profile of human reaching (Flash and Hogan, 1985)."""
    u = np.clip(u, 0.0, 1.0)
    return 10 * u**3 - 15 * u**4 + 6 * u**5


def _ramp(u: np.ndarray, e: float) -> np.ndarray:
    """0 -> 1 at constant speed over u in [0, 1], with quadratic easing over a width e
    centred on each end (so easing spills e/2 into the neighbouring pauses).

    Extending the constant-speed part meets 0 at u=0 and 1 at u=1 exactly: the
    movement's duration is the programmed one, as flatback measures it (reps.py).
    """
    h = max(e, 1e-9) / 2
    return np.where(
        u <= -h, 0.0,
        np.where(u < h, (u + h) ** 2 / (4 * h),
                 np.where(u <= 1 - h, u,
                          np.where(u < 1 + h, 1 - (1 + h - u) ** 2 / (4 * h), 1.0))),
    )


def simulate(
    reps: list[RepSpec] | None = None,
    *,
    n_reps: int = 5,
    rest: Literal["floor", "top"] = "floor",
    lie_before_s: float = 1.5,
    lie_after_s: float = 1.5,
    holds: tuple[tuple[float, float], ...] = (),
    fps: float = 30.0,
    fps_jitter: float = 0.0,
    noise_px: float = 0.0,
    dropout_fraction: float = 0.0,
    swap_fraction: float = 0.0,
    feet_right: bool = True,
    roll_deg: float = 0.0,
    ease_s: float = 0.06,
    profile: Literal["steady", "minjerk"] = "steady",
    lift_onset_deg: float | None = None,
    lift_gap_ratio: float = 0.0,
    lift_ramp_deg: float = 10.0,
    arms: Literal["sides", "floor", "overhead"] = "sides",
    mask_noise_px: float = 0.0,
    camera_elevation_deg: float = 0.0,
    width: int = 960,
    height: int = 540,
    body: Body = Body(),
    seed: int = 0,
) -> SimulatedClip:
    """Simulate a set of leg lifts; returns the track and its truth.

    ``rest="floor"``: each rep lifts from the floor and lowers back to it. ``rest="top"``:
    one set-up lift to the first rep's top, then lower-and-return reps, then a set-down.
    ``holds``: (angle_deg, duration_s) static holds appended after the reps.
    ``dropout_fraction``, ``swap_fraction``: share of frames lost / with left and right
    exchanged, in bursts of about 0.2 s. ``profile``: "steady" (constant speed, eased
    over ``ease_s``) or "minjerk" (the smooth bell-shaped speed of human movement).

    The lower back: below ``lift_onset_deg`` of leg angle it lifts, the gap under the
    lumbar span growing to ``lift_gap_ratio`` torso lengths over ``lift_ramp_deg``.
    ``arms``: "sides" (beside the body, just off the floor: they hide a gap deeper than
    0.08 torso lengths), "floor" (on the floor beside the lumbar span: they hide any
    gap) or "overhead" (on the floor beyond the head: the gap is in full view);
    ``mask_noise_px`` jitters the mask's outline; ``camera_elevation_deg``
    tilts the 3-D hip axis as a raised camera would see it.
    """
    rng = np.random.default_rng(seed)
    specs = reps if reps is not None else [RepSpec() for _ in range(n_reps)]
    floor_deg = 0.0
    tl = _Timeline(floor_deg, ease_s, profile)
    knee_tl = _Timeline(0.0, ease_s, profile)
    truth: list[TrueRep] = []
    tl.hold(lie_before_s)
    knee_tl.hold(lie_before_s)

    def knee_follow(duration: float, to: float) -> None:
        knee_tl.move(to, duration) if to != knee_tl.v else knee_tl.hold(duration)

    if rest == "floor":
        for k, spec in enumerate(specs):
            start = tl.t
            from_deg = tl.v
            last = k == len(specs) - 1
            tl.move(spec.top_deg, spec.ascent_s)
            knee_follow(spec.ascent_s, spec.knee_flexion_deg)
            tl.hold(spec.pause_top_s)
            knee_tl.hold(spec.pause_top_s)
            tl.move(spec.bottom_deg, spec.descent_s)
            knee_follow(spec.descent_s, spec.knee_flexion_deg)
            arrive = tl.t
            tl.hold(spec.pause_bottom_s)
            knee_tl.hold(spec.pause_bottom_s)
            # the lie after the last rep extends its bottom pause
            pause_bottom = spec.pause_bottom_s + (lie_after_s if last and not holds else 0.0)
            truth.append(TrueRep(start, arrive, arrive + pause_bottom, tl.t, spec.descent_s, spec.ascent_s, pause_bottom,
                                 spec.pause_top_s, min(from_deg, spec.bottom_deg), spec.top_deg))
        tl.hold(lie_after_s)
        knee_tl.hold(lie_after_s)
    else:
        tl.move(specs[0].top_deg, 2.0)  # set-up lift, not a rep
        knee_follow(2.0, specs[0].knee_flexion_deg)
        tl.hold(1.0)
        knee_tl.hold(1.0)
        for spec in specs:
            start = tl.t
            tl.move(spec.bottom_deg, spec.descent_s)
            knee_follow(spec.descent_s, spec.knee_flexion_deg)
            arrive = tl.t
            tl.hold(spec.pause_bottom_s)
            knee_tl.hold(spec.pause_bottom_s)
            leave = tl.t
            tl.move(spec.top_deg, spec.ascent_s)
            knee_follow(spec.ascent_s, spec.knee_flexion_deg)
            tl.hold(spec.pause_top_s)
            knee_tl.hold(spec.pause_top_s)
            truth.append(TrueRep(start, arrive, leave, tl.t, spec.descent_s, spec.ascent_s, spec.pause_bottom_s,
                                 spec.pause_top_s, spec.bottom_deg, spec.top_deg))
        tl.move(floor_deg, 2.0)  # set-down
        knee_follow(2.0, 0.0)
        tl.hold(lie_after_s)
        knee_tl.hold(lie_after_s)
    true_holds = []
    for hold_deg, duration in holds:
        tl.move(hold_deg, 1.5)
        knee_follow(1.5, 0.0)
        true_holds.append((tl.t, tl.t + duration))
        tl.hold(duration)
        knee_tl.hold(duration)
        tl.move(floor_deg, 1.5)
        knee_follow(1.5, 0.0)
        tl.hold(lie_after_s)
        knee_tl.hold(lie_after_s)

    t = _timestamps(tl.t, fps, fps_jitter, rng)
    angle = tl(t)
    knee = knee_tl(t)
    gap = np.zeros(len(t))
    if lift_onset_deg is not None:
        gap = lift_gap_ratio * np.clip((lift_onset_deg - angle) / max(lift_ramp_deg, 1e-6), 0.0, 1.0)
    track = render(
        t, angle, knee, body=body, width=width, height=height, feet_right=feet_right, roll_deg=roll_deg,
        noise_px=noise_px, dropout_fraction=dropout_fraction, swap_fraction=swap_fraction, rng=rng,
        lumbar_gap=gap, arms=arms, mask_noise_px=mask_noise_px,
        camera_elevation_deg=camera_elevation_deg,
    )
    scene = Scene(body, width, height, feet_right, roll_deg, arms)
    return SimulatedClip(track, Truth(rest, truth, true_holds), angle, knee, gap, scene)


def _timestamps(duration_s: float, fps: float, jitter: float, rng: np.random.Generator) -> np.ndarray:
    n = int(duration_s * fps * (1 + jitter)) + 2  # enough frames to cover the programme
    dt = np.full(n, 1.0 / fps)
    if jitter:
        dt *= rng.uniform(1 - jitter, 1 + jitter, n)
    t = np.concatenate(([0.0], np.cumsum(dt)[:-1]))
    return t[t < duration_s]


def _bursts(n: int, fraction: float, burst: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) bool with about ``fraction`` True, in runs of ``burst`` frames."""
    out = np.zeros(n, bool)
    if fraction <= 0:
        return out
    n_bursts = max(1, int(round(fraction * n / burst)))
    for start in rng.choice(max(n - burst, 1), size=n_bursts, replace=False):
        out[start : start + burst] = True
    return out


def body_points(angle_deg: float, knee_deg: float, body: Body, arms: str = "sides") -> dict[str, np.ndarray]:
    """Joint positions in floor coordinates (x towards the feet, y up), px."""
    T = body.torso_px
    # lying on the back, the hip joints sit about 4 cm higher above the floor than the
    # shoulder joints over a 47 cm trunk (the MakeHuman body of flatback.twin: 10.6 and
    # 6.5 cm), so the joint line rises toward the feet by about 5 degrees
    hip = np.array([0.0, 0.2 * T])
    shoulder = np.array([-T, 0.115 * T])
    l1, l2 = body.thigh * T, body.shank * T
    k = np.deg2rad(knee_deg)
    d = np.sqrt(l1**2 + l2**2 + 2 * l1 * l2 * np.cos(k))
    alpha = np.arccos(np.clip((l1**2 + d**2 - l2**2) / (2 * l1 * d), -1, 1))
    th = np.deg2rad(angle_deg)
    knee = hip + l1 * np.array([np.cos(th + alpha), np.sin(th + alpha)])
    ankle = hip + d * np.array([np.cos(th), np.sin(th)])
    foot_dir = np.array([np.cos(th + np.pi / 2), np.sin(th + np.pi / 2)])  # toes point away from the body
    if arms == "overhead":
        elbow, wrist = shoulder + np.array([-0.6 * T, -0.12 * T]), shoulder + np.array([-1.1 * T, -0.17 * T])
    else:  # beside the body: just off the floor, or lying on it
        arm_y = (0.06 * T, 0.05 * T) if arms == "floor" else (shoulder[1] - 0.08 * T, shoulder[1] - 0.12 * T)
        elbow, wrist = np.array([shoulder[0] + 0.55 * T, arm_y[0]]), np.array([shoulder[0] + 1.05 * T, arm_y[1]])
    hand = wrist + (wrist - elbow) * 0.3
    return {
        "hip": hip,
        "shoulder": shoulder,
        "knee": knee,
        "ankle": ankle,
        "heel": ankle - 0.06 * T * foot_dir + 0.04 * T * np.array([np.cos(th), np.sin(th)]),
        "toe": ankle + 0.2 * T * foot_dir,
        "elbow": elbow,
        "wrist": wrist,
        "hand": hand,
        "ear": shoulder + np.array([-0.32 * T, 0.12 * T]),
        "eye": shoulder + np.array([-0.38 * T, 0.22 * T]),
        "nose": shoulder + np.array([-0.42 * T, 0.3 * T]),
        "mouth": shoulder + np.array([-0.4 * T, 0.2 * T]),
    }


_NAME_OF = {
    "HIP": "hip", "SHOULDER": "shoulder", "KNEE": "knee", "ANKLE": "ankle", "HEEL": "heel",
    "FOOT_INDEX": "toe", "ELBOW": "elbow", "WRIST": "wrist", "PINKY": "hand", "INDEX": "hand",
    "THUMB": "hand", "EAR": "ear", "EYE": "eye", "EYE_INNER": "eye", "EYE_OUTER": "eye", "MOUTH": "mouth",
}


def render(
    t_s: np.ndarray, angle_deg: np.ndarray, knee_deg: np.ndarray, *, body: Body, width: int, height: int,
    feet_right: bool, roll_deg: float, noise_px: float, dropout_fraction: float, swap_fraction: float,
    rng: np.random.Generator, lumbar_gap: np.ndarray | None = None, arms: str = "sides",
    mask_noise_px: float = 0.0, camera_elevation_deg: float = 0.0,
) -> PoseTrack:
    """Landmarks, visibility and mask contours of the simulated body, frame by frame."""
    import cv2

    n = len(t_s)
    to_image = Scene(body, width, height, feet_right, roll_deg, arms).to_image

    xy = np.full((n, N_LANDMARKS, 2), np.nan, np.float32)
    vis = np.zeros((n, N_LANDMARKS), np.float32)
    step = 2
    mask_top = np.full((n, len(range(0, width, step))), np.nan, np.float32)
    mask_bottom = mask_top.copy()
    canvas = np.zeros((height, width), np.uint8)
    far_offset = np.array([0.04, 0.02]) * body.torso_px  # the far side shows slightly behind
    for i in range(n):
        pts = body_points(angle_deg[i], knee_deg[i], body, arms)
        for lm in L:
            side, _, part = lm.name.partition("_")
            key = _NAME_OF.get(part if side in ("LEFT", "RIGHT") else lm.name, "nose")
            p = pts[key].copy()
            near = side != "RIGHT"  # the camera sees the person's left side
            if not near:
                p += far_offset
            xy[i, lm] = to_image(p)
            vis[i, lm] = 0.97 if near or part in ("HIP", "SHOULDER") else 0.6
        canvas[:] = 0
        _draw_body(cv2, canvas, pts, body, to_image, None if lumbar_gap is None else lumbar_gap[i])
        prof = mask_contours(canvas > 0, step)
        mask_top[i], mask_bottom[i] = prof.top_y_px, prof.bottom_y_px
    if mask_noise_px:
        mask_top += rng.normal(0, mask_noise_px, mask_top.shape).astype(np.float32)
        mask_bottom += rng.normal(0, mask_noise_px, mask_bottom.shape).astype(np.float32)

    if noise_px:
        xy += rng.normal(0, noise_px, xy.shape).astype(np.float32)
    burst = max(2, int(0.2 * n / max(t_s[-1], 1e-9)))
    swapped = _bursts(n, swap_fraction, burst, rng)
    li = np.array([a for a, _ in LEFT_RIGHT_PAIRS])
    ri = np.array([b for _, b in LEFT_RIGHT_PAIRS])
    lr, rl = np.concatenate([li, ri]), np.concatenate([ri, li])
    xy[np.ix_(swapped, lr)] = xy[np.ix_(swapped, rl)]
    vis[np.ix_(swapped, lr)] = vis[np.ix_(swapped, rl)]
    lost = _bursts(n, dropout_fraction, burst, rng)
    xy[lost] = np.nan
    vis[lost] = 0.0
    mask_top[lost] = np.nan
    mask_bottom[lost] = np.nan
    duration = float(t_s[-1]) if n else 0.0
    info = VideoInfo("<simulated>", duration, (n - 1) / duration if duration else 0.0, width, height)
    # 3-D hip axis as BlazePose's world landmarks give it: pointing away from a floor-level
    # camera, tilted up in the picture by the camera's elevation
    world = np.full((n, N_LANDMARKS, 3), np.nan, np.float32)
    e = np.deg2rad(camera_elevation_deg)
    world[:, L.LEFT_HIP] = [0.0, 0.0, -0.15]
    world[:, L.RIGHT_HIP] = [0.0, -0.3 * np.sin(e), -0.15 + 0.3 * np.cos(e)]
    world[lost] = np.nan
    return PoseTrack(
        info=info,
        backend="simulator",
        t_s=t_s.astype(np.float64),
        xy_px=xy,
        z=np.zeros((n, N_LANDMARKS), np.float32),
        visibility=vis,
        world_xyz_m=world,
        mask_x_px=np.arange(0, width, step, dtype=np.float32),
        mask_top_y_px=mask_top,
        mask_bottom_y_px=mask_bottom,
        second_person=np.where(np.arange(n) % 30 == 0, 0, -1).astype(np.int8),
    )


def _draw_body(cv2, canvas, pts, body: Body, to_image, lumbar_gap: float | None) -> None:
    T = body.torso_px

    def seg(a, b, thick):
        pa, pb = to_image(a), to_image(b)
        cv2.line(canvas, tuple(int(v) for v in pa), tuple(int(v) for v in pb), 255, max(int(thick * T), 1))

    # trunk: its underside rests on the floor (y = 0)
    half = 0.5 * body.torso_thickness * T
    hip, sh = pts["hip"], pts["shoulder"]
    trunk = np.array([
        [hip[0] + 0.15 * T, 0.0], [sh[0] - 0.05 * T, 0.0],
        [sh[0] - 0.05 * T, 2 * half], [hip[0] + 0.15 * T, 2 * half],
    ])
    if lumbar_gap:
        # raise the underside over the lumbar span (20-60 % from hip to shoulder)
        gap = lumbar_gap * T
        xs = hip[0] + np.array([0.15, 0.2, 0.4, 0.6, 0.65]) * (sh[0] - hip[0])
        under = np.array([[xs[0], 0], [xs[1], gap * 0.8], [xs[2], gap], [xs[3], gap * 0.8], [xs[4], 0]])
        trunk = np.vstack([trunk[:1], under, trunk[1:]])
    cv2.fillPoly(canvas, [np.round(to_image(trunk)).astype(np.int32)], 255)
    head = to_image(pts["ear"])
    cv2.circle(canvas, tuple(int(v) for v in head), int(0.2 * T), 255, -1)
    seg(hip, pts["knee"], body.thigh_thickness)
    seg(pts["knee"], pts["ankle"], body.shank_thickness)
    seg(pts["ankle"], pts["toe"], 0.08)
    seg(sh, pts["elbow"], 0.12)
    seg(pts["elbow"], pts["wrist"], 0.1)


def demo_clip() -> SimulatedClip:
    """A demo set for pictures and end-to-end tests: two lowerings from vertical at 720p,
    arms overhead; the back lifts below 45 degrees."""
    reps = [RepSpec(top_deg=90, bottom_deg=25, descent_s=4.0, ascent_s=2.0, pause_bottom_s=0.5)] * 2
    return simulate(
        reps, rest="top", lift_onset_deg=45, lift_gap_ratio=0.15, arms="overhead", noise_px=0.8,
        width=1280, height=720, body=Body(torso_px=300), fps=30, seed=1,
    )
