"""Which frames the pose model sees offline: every frame while the legs turn fast, fewer
while they are still or turn slowly.

Posing is nearly all of an analysis's time, and leg lifts are slow: a 4 s lowering turns
the legs at most about 45 deg/s, a hold or a rest not at all, while a dead bug's 0.5 s
extension turns the shin at 150 deg/s or more. :class:`MotionSampler` chooses the frames
as it goes, from the pose of the frames already posed:

- a fixed grid of ``still_rate_hz`` points in the video's time is always posed (the first
  frame at or after each point), so a movement that starts is seen within one grid step,
  and the parts of a video posed by several processes (``pipeline/parts.py``) share
  frames to stitch at;
- between them, the next frame is posed once the fastest leg segment (a thigh or a shin,
  in the picture) would have turned ``max_step_deg`` at its current rate: every frame of a
  fast movement, a few per second of a slow one;
- never more often than ``max_rate_hz`` (0: the video's own rate).

The rate is measured over at least ``window_s`` of video, so the landmarks' frame-to-frame
jitter (about a degree) does not read as movement. The frames not posed are decoded (an
H.264 frame needs the ones before it) but not converted to RGB.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from flatback.settings import GeometrySettings, PoseSettings
from flatback.types import Frame, PoseTrack
from flatback.types import Landmark as L

# thighs and shins: the parts of the leg the measurements follow
LEG_SEGMENTS = (
    (L.LEFT_HIP, L.LEFT_KNEE), (L.LEFT_KNEE, L.LEFT_ANKLE),
    (L.RIGHT_HIP, L.RIGHT_KNEE), (L.RIGHT_KNEE, L.RIGHT_ANKLE),
)
GRID_TOLERANCE_S = 1e-3  # float rounding of a 30 fps clip's timestamps must not skip a grid frame


def segment_angles_deg(xy_px: np.ndarray) -> np.ndarray:
    """(4,) directions in the picture of the thighs and shins of one pose (33, 2), deg."""
    a = np.array([xy_px[i] for i, _ in LEG_SEGMENTS], float)
    b = np.array([xy_px[j] for _, j in LEG_SEGMENTS], float)
    d = b - a
    return np.degrees(np.arctan2(d[:, 1], d[:, 0]))


def turn_rate_deg_s(before_xy_px: np.ndarray, after_xy_px: np.ndarray, dt_s: float) -> float:
    """Fastest turn of a thigh or shin between two poses of one person ``dt_s`` apart, deg/s
    (NaN where no segment is seen in both)."""
    turn = segment_angles_deg(after_xy_px) - segment_angles_deg(before_xy_px)
    turn = (turn + 180.0) % 360.0 - 180.0
    return float(np.nanmax(np.abs(turn))) / dt_s if np.isfinite(turn).any() else float("nan")


def _next_point(t_s: float, step_s: float) -> float:
    """The first point of the grid k * ``step_s`` after ``t_s``, s."""
    return float((np.floor((t_s + GRID_TOLERANCE_S) / step_s) + 1) * step_s)


def _hip_centre(xy_px: np.ndarray) -> np.ndarray:
    return 0.5 * (xy_px[L.LEFT_HIP] + xy_px[L.RIGHT_HIP])


class MotionSampler:
    """Chooses the frames to pose from the motion of those posed so far (module doc).

    Feed every frame's time to :meth:`take` in order; after posing a frame it took, give
    :meth:`posed` the landmarks (33, 2) px of each person found there.
    ``still_rate_hz`` = 0 turns the choice off: every frame (at most ``max_rate_hz``).
    """

    def __init__(self, still_rate_hz: float, max_step_deg: float, window_s: float, max_rate_hz: float = 0.0):
        if still_rate_hz < 0 or max_rate_hz < 0 or max_step_deg <= 0 or window_s < 0:
            raise ValueError("still_rate_hz and max_rate_hz must be >= 0, max_step_deg > 0, window_s >= 0")
        # with a cap, only the first frame at or after each point of its grid may be posed, and
        # the still grid is a whole number of its steps: never more than the cap, grid shared
        self.cap_s = 1.0 / max_rate_hz if max_rate_hz > 0 else 0.0
        self.grid_s = 1.0 / still_rate_hz if still_rate_hz > 0 else 0.0
        if self.cap_s and self.grid_s:
            self.grid_s = max(1, round(self.grid_s / self.cap_s)) * self.cap_s
        self.max_step_deg = max_step_deg
        self.window_s = window_s
        self._next_cap_s = float("-inf")
        self._next_grid_s = float("-inf")
        self._next_s = float("-inf")  # the next frame the motion asks for
        self._history: deque[tuple[float, list[np.ndarray]]] = deque()

    def take(self, t_s: float) -> bool:
        """Whether to pose the frame at ``t_s`` (increasing from call to call)."""
        if self.cap_s:
            if t_s < self._next_cap_s - GRID_TOLERANCE_S:
                return False
            self._next_cap_s = _next_point(t_s, self.cap_s)
        on_grid = not self.grid_s or t_s >= self._next_grid_s - GRID_TOLERANCE_S
        if not (on_grid or t_s >= self._next_s - GRID_TOLERANCE_S):
            return False
        if self.grid_s and on_grid:
            self._next_grid_s = _next_point(t_s, self.grid_s)
        return True

    def posed(self, t_s: float, people_xy_px: Sequence[np.ndarray]) -> None:
        """The landmarks found in the frame at ``t_s`` that :meth:`take` chose: sets when
        the next frame is posed."""
        if not self.grid_s:
            return
        people = [np.asarray(p, float) for p in people_xy_px]
        while len(self._history) > 1 and self._history[1][0] <= t_s - self.window_s + GRID_TOLERANCE_S:
            self._history.popleft()  # keep the latest pose at least window_s old, and those after it
        rate = self._rate(t_s, people)
        self._history.append((t_s, people))
        if not people:
            self._next_s = float("inf")  # nobody to follow: the grid looks for them
        elif not np.isfinite(rate):
            self._next_s = t_s  # a person just found: the next frame measures their motion
        else:
            self._next_s = t_s + (self.max_step_deg / rate if rate > 0 else float("inf"))

    def _rate(self, t_s: float, people: list[np.ndarray]) -> float:
        """Fastest leg turn of anyone now against their pose at least ``window_s`` before,
        deg/s; NaN where nobody can be compared yet."""
        if not self._history or not people:
            return float("nan")
        ref_t, ref_people = self._history[0]
        if t_s - ref_t < self.window_s - GRID_TOLERANCE_S or not ref_people:
            return float("nan")
        rates = []
        for p in people:
            q = min(ref_people, key=lambda r: float(np.linalg.norm(_hip_centre(r) - _hip_centre(p))))
            rates.append(turn_rate_deg_s(q, p, t_s - ref_t))
        finite = [r for r in rates if np.isfinite(r)]
        return max(finite) if finite else float("nan")


def sampler_for(settings: PoseSettings) -> MotionSampler:
    """The offline sampler the pose settings ask for."""
    return MotionSampler(settings.still_rate_hz, settings.max_step_deg, settings.motion_window_s,
                         settings.max_rate_hz)


def sampled(source, sampler: MotionSampler, seen_s: list[float], start_s: float = 0.0,
            stop_s: float | None = None) -> Iterator[Frame]:
    """The frames of an opened video file ``source`` (``io.source.VideoFile``) that
    ``sampler`` takes, converted as they are asked for: the caller poses each and calls
    ``sampler.posed`` before asking for the next. Every frame's time goes to ``seen_s``.
    Decoding runs ahead in its own thread (``io.source.prefetch``); converting waits for
    the choice, which depends on the frames posed just before."""
    from flatback.io.source import prefetch

    decoded: Iterable = prefetch(source.decoded(start_s, stop_s), depth=16)
    for d in decoded:
        seen_s.append(d.t_s)
        if sampler.take(d.t_s):
            yield source.picture(d)


_CUTS = GeometrySettings()  # the cut rules' defaults (geometry.cut_size_change, cut_jump_ratio)


def jumps(xy_px: np.ndarray, size_change: float, jump_ratio: float) -> np.ndarray:
    """(N - 1,) bool: between consecutive poses (N, 33, 2) the body changes size by more
    than ``size_change`` (relative) or its hips move more than ``jump_ratio`` torso lengths:
    a cut to another shot or another person, not a movement (``geometry.cut_*``)."""
    hips = 0.5 * (xy_px[:, L.LEFT_HIP] + xy_px[:, L.RIGHT_HIP])
    torso = np.linalg.norm(0.5 * (xy_px[:, L.LEFT_SHOULDER] + xy_px[:, L.RIGHT_SHOULDER]) - hips, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        grow = np.abs(torso[1:] / torso[:-1] - 1.0)
        move = np.linalg.norm(np.diff(hips, axis=0), axis=1) / np.fmax(torso[1:], torso[:-1])
    return (grow > size_change) | (move > jump_ratio)


def fill_between(track: PoseTrack, t_s: np.ndarray, size_change: float = _CUTS.cut_size_change,
                 jump_ratio: float = _CUTS.cut_jump_ratio) -> PoseTrack:
    """``track`` (its posed frames) at every time of ``t_s`` (increasing, holding the posed
    times): landmarks, world landmarks and mask contours interpolated linearly between the
    posed frames either side, so the measurements downstream see the video's own frame rate
    and weigh each second alike, whether the legs moved fast (every frame posed) or slowly.
    A frame is missing (NaN) where either side is; before the first and after the last
    posed frame the nearest is held, and across a jump (:func:`jumps`: an edited video's
    cut, the tracker moving to someone else) each side is held up to the middle, so the
    jump stays a jump. ``posed`` marks the frames the model saw.

    Between two posed frames a leg segment turns at most about ``pose.max_step_deg``, so an
    interpolated position is within about that of what the model would have read.
    """
    t_s = np.asarray(t_s, np.float64)
    posed_t = track.t_s
    if len(posed_t) == len(t_s) and np.array_equal(posed_t, t_s):
        return track.replaced(posed=np.ones(len(t_s), bool))
    hi = np.clip(np.searchsorted(posed_t, t_s, side="left"), 0, len(posed_t) - 1)
    lo = np.clip(hi - 1, 0, len(posed_t) - 1)
    exact = posed_t[hi] == t_s
    lo = np.where(exact, hi, lo)
    span = posed_t[hi] - posed_t[lo]
    w = np.where(span > 0, (t_s - posed_t[lo]) / np.where(span > 0, span, 1.0), 0.0)
    w = np.clip(w, 0.0, 1.0)  # outside the posed times: the nearest held
    jumped = np.append(jumps(track.xy_px, size_change, jump_ratio), False)
    w = np.where(jumped[lo] & (hi == lo + 1), np.round(w), w)
    lo, hi = np.where(w >= 1.0, hi, lo), np.where(w <= 0.0, lo, hi)  # one side only: no NaN from the other

    def lerp(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        ww = w.reshape((-1,) + (1,) * (a.ndim - 1))
        return ((1.0 - ww) * a[lo] + ww * a[hi]).astype(a.dtype)

    def previous(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[lo]

    return track.replaced(
        t_s=t_s, xy_px=lerp(track.xy_px), z=lerp(track.z), visibility=lerp(track.visibility),
        world_xyz_m=lerp(track.world_xyz_m), mask_top_y_px=lerp(track.mask_top_y_px),
        mask_bottom_y_px=lerp(track.mask_bottom_y_px), second_person=previous(track.second_person),
        skipped=previous(track.skipped), posed=exact,
    )


__all__ = ["LEG_SEGMENTS", "MotionSampler", "fill_between", "sampled", "sampler_for", "segment_angles_deg",
           "turn_rate_deg_s"]
