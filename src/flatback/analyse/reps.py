"""Reps and holds: phase segmentation of the leg-angle signal.

A rep is what the person would count (DESIGN.md, "Rep"). Turning points come from a
hysteresis detector (``TurningPointDetector``), the same object live mode drives one
sample at a time. Offline, the whole clip is known, so the hysteresis adapts to the
clip's range and each phase boundary is refined by looking ahead.

Phases of a rep: the legs leave a resting turning point, move to the far turning point,
and come back. Movement boundaries are where the line through the middle half of each
movement meets the pause level on either side: robust to noise and smoothing, exact
for a movement at an even tempo. The slow start and finish of a smooth movement count
as pause, as people perceive them (the clips' labels put ~1 s pauses where the legs
creep the last few degrees); a minimum-jerk lowering reads at about 0.55 of its full
duration, the rest as pause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from flatback.analyse.results import Hold, PartialRep, Phase, RepTiming
from flatback.measure.signals import finite_runs
from flatback.settings import RepSettings

Kind = Literal["high", "low"]


@dataclass(frozen=True)
class TurningPoint:
    """A local extreme of the leg angle. ``edge`` marks a clip (or gap) boundary, not a
    real turn: the movement may have gone further before or after it."""

    i: int
    t_s: float
    value_deg: float
    kind: Kind
    edge: bool = False


class TurningPointDetector:
    """Streaming zigzag: ``update(i, t_s, x)`` returns a TurningPoint once the signal has
    moved ``hysteresis_deg`` away from the running extreme, else None."""

    def __init__(self, hysteresis_deg: float):
        self.hysteresis_deg = hysteresis_deg
        self.reset()

    def reset(self) -> None:
        self._direction: Kind | None = None  # the kind of extreme being tracked
        self._best: tuple[int, float, float] | None = None
        self._first: tuple[int, float, float] | None = None

    def update(self, i: int, t_s: float, x: float) -> TurningPoint | None:
        if not np.isfinite(x):
            return None
        if self._best is None:
            self._best = self._first = (i, t_s, x)
            return None
        bi, bt, bx = self._best
        h = self.hysteresis_deg
        if self._direction is None:  # wait for the first clear move either way
            assert self._first is not None
            fi, ft, fx = self._first
            if x >= fx + h:
                self._direction, self._best = "high", (i, t_s, x)
            elif x <= fx - h:
                self._direction, self._best = "low", (i, t_s, x)
            return None
        if self._direction == "high":
            if x >= bx:
                self._best = (i, t_s, x)
            elif x <= bx - h:
                self._direction, self._best = "low", (i, t_s, x)
                return TurningPoint(bi, bt, bx, "high")
        else:
            if x <= bx:
                self._best = (i, t_s, x)
            elif x >= bx + h:
                self._direction, self._best = "high", (i, t_s, x)
                return TurningPoint(bi, bt, bx, "low")
        return None

    @property
    def pending(self) -> TurningPoint | None:
        """The extreme being tracked when the stream ends (not yet confirmed)."""
        if self._direction is None or self._best is None:
            return None
        i, t, x = self._best
        return TurningPoint(i, t, x, self._direction, edge=True)


# One counted rep's timing, a rep cut off by the clip, a static hold: domain types.
RepPhases = RepTiming


@dataclass(frozen=True)
class Segmentation:
    """Counted reps, partial reps, holds, and how reps were delimited."""

    reps: list[RepPhases]
    partial: list[PartialRep]
    holds: list[Hold]
    rest: Literal["floor", "top", "hang"]
    hysteresis_deg: float



def turning_points(i0: int, t_s: np.ndarray, x: np.ndarray, hysteresis_deg: float) -> list[TurningPoint]:
    """Alternating turning points of one continuous run, with its two ends as edges."""
    det = TurningPointDetector(hysteresis_deg)
    points = [tp for k in range(len(x)) if (tp := det.update(i0 + k, float(t_s[k]), float(x[k])))]
    pending = det.pending
    if pending is not None:
        points.append(pending)
    if not points:
        return []
    first = points[0]
    if first.i > i0 or not first.edge:
        start_kind: Kind = "low" if first.kind == "high" else "high"
        points.insert(0, TurningPoint(i0, float(t_s[0]), float(x[0]), start_kind, edge=True))
    return points


def choose_rest(points: list[TurningPoint], min_gap_deg: float, posture: str) -> Literal["floor", "top", "hang"]:
    """Floor-rest unless the legs rest on the floor at the clip's start or end and never
    come back down to it between lowerings (the top-rest protocol of DESIGN.md)."""
    if posture == "upright":
        return "hang"
    lows = [p for p in points if p.kind == "low"]
    if len(lows) < 3:
        return "floor"
    floor_level = min(lows[0].value_deg, lows[-1].value_deg)
    middle = np.median([p.value_deg for p in lows[1:-1]])
    return "top" if middle - floor_level > min_gap_deg else "floor"


def fit_movement(t_s: np.ndarray, x: np.ndarray, a: TurningPoint, b: TurningPoint) -> tuple[float, float] | None:
    """(slope deg/s, intercept deg) of the line through the middle half (25-75 %) of the
    movement from turning point a to b, or None if too few samples."""
    seg_t, seg_x = t_s[a.i : b.i + 1], x[a.i : b.i + 1]
    span = b.value_deg - a.value_deg
    if span == 0:
        return None
    frac = (seg_x - a.value_deg) / span
    mid = (frac >= 0.25) & (frac <= 0.75) & np.isfinite(seg_x)
    if mid.sum() < 2:
        return None
    slope, intercept = np.polyfit(seg_t[mid], seg_x[mid], 1)
    if slope == 0 or np.sign(slope) != np.sign(span):
        return None
    return float(slope), float(intercept)


def _plateau(
    t_s: np.ndarray, x: np.ndarray, speed: np.ndarray, i: int, max_speed: float, level_deg: float
) -> tuple[float, float]:
    """(median level deg, duration s) of the still stretch around index i: the samples,
    contiguous with i, within ``level_deg`` of x[i] or moving slower than ``max_speed``."""
    slow = np.abs(np.nan_to_num(speed, nan=np.inf)) <= max_speed
    still = np.isfinite(x) & (slow | (np.abs(x - x[i]) <= level_deg))
    still[i] = True
    lo = hi = i
    while lo > 0 and still[lo - 1]:
        lo -= 1
    while hi < len(x) - 1 and still[hi + 1]:
        hi += 1
    return float(np.median(x[lo : hi + 1])), float(t_s[hi] - t_s[lo])


def turn_timings(
    t_s: np.ndarray, x: np.ndarray, speed: np.ndarray, pts: list[TurningPoint], settings: RepSettings
) -> list[tuple[float, float]]:
    """(arrive_s, leave_s) at each turning point of one run: the pause between them.

    Each movement's line (through its middle half) is extended to the pause level at
    either end. The pause level is the still stretch around the turning point (within
    ``pause_level_deg`` of it, or slower than ``pause_speed_frac`` of the adjacent
    movements); a turn without one (a bounce, or a turn rounded by filtering) is where
    the two lines meet.
    """
    lines = [fit_movement(t_s, x, p, q) for p, q in zip(pts, pts[1:])]
    out = []
    for k, p in enumerate(pts):
        line_in = lines[k - 1] if k >= 1 else None
        line_out = lines[k] if k < len(lines) else None
        slopes = [abs(line[0]) for line in (line_in, line_out) if line is not None]
        max_speed = settings.pause_speed_frac * min(slopes) if slopes else 0.0
        level, duration = _plateau(t_s, x, speed, p.i, max_speed, settings.pause_level_deg)
        lo = pts[k - 1].t_s if k >= 1 else p.t_s
        hi = pts[k + 1].t_s if k + 1 < len(pts) else p.t_s
        arrive = leave = p.t_s
        if duration >= settings.min_plateau_s or line_in is None or line_out is None:
            if line_in is not None:
                arrive = (level - line_in[1]) / line_in[0]
            if line_out is not None:
                leave = (level - line_out[1]) / line_out[0]
            if line_in is None:
                arrive = min(arrive, leave) if line_out is not None else arrive
            if line_out is None:
                leave = max(arrive, leave)
            if arrive > leave:
                arrive = leave = 0.5 * (arrive + leave)
        else:  # a sharp turn: where the incoming and outgoing lines cross
            (s1, c1), (s2, c2) = line_in, line_out
            arrive = leave = (c2 - c1) / (s1 - s2) if s1 != s2 else p.t_s
        arrive, leave = float(np.clip(arrive, lo, hi)), float(np.clip(leave, lo, hi))
        if p.edge and k == 0:
            arrive = float(t_s[p.i])  # the clip starts here: nothing is known before
        out.append((arrive, leave))
    return out


def _rep_from_points(
    t_s: np.ndarray, x: np.ndarray, speed: np.ndarray, a: TurningPoint, b: TurningPoint, c: TurningPoint,
    times: tuple[tuple[float, float], ...], rest: str, run_end_s: float, has_next: bool,
) -> RepPhases:
    """A complete rep a -> b -> c (rest, far turn, rest). ``times`` holds the (arrive,
    leave) of a, b and c; without a next movement the pause at c lasts until
    ``run_end_s``, the end of the clip (or of the continuous stretch)."""
    (_, out_start), (out_end, back_start), (back_end, next_start) = times
    if not has_next:
        next_start = max(run_end_s, back_end)
    pause_far = back_start - out_end
    pause_rest = next_start - back_end
    out_speed, back_speed = speed[a.i : b.i + 1], speed[b.i : c.i + 1]
    if rest == "top":  # top -> bottom -> top
        names = (Phase.DESCENT, Phase.BOTTOM, Phase.ASCENT, Phase.TOP)
        descent, ascent = out_end - out_start, back_end - back_start
        pause_bottom, pause_top = pause_far, pause_rest
        down, up = out_speed, back_speed
        turn_window = (out_start, back_end)
    else:  # floor -> top -> floor, or hang -> top -> hang
        names = (Phase.ASCENT, Phase.TOP, Phase.DESCENT, Phase.BOTTOM)
        ascent, descent = out_end - out_start, back_end - back_start
        pause_top, pause_bottom = pause_far, pause_rest
        up, down = out_speed, back_speed
        turn_window = (out_start, back_end) if rest == "hang" else (back_start, next_start)
    # bottom_s: the lowest leg angle (highest when hanging) inside its window
    w = (t_s >= turn_window[0]) & (t_s <= turn_window[1]) & np.isfinite(x)
    if w.any():
        k = np.flatnonzero(w)[np.argmax(x[w]) if rest == "hang" else np.argmin(x[w])]
        bottom_s = float(t_s[k])
    else:
        bottom_s = c.t_s if rest == "floor" else b.t_s
    bounds = (out_start, out_end, back_start, back_end, next_start)
    seg = x[a.i : c.i + 1]
    return RepPhases(
        start_s=float(out_start),
        turn_s=b.t_s,
        bottom_s=bottom_s,
        end_s=float(next_start),
        descent_s=float(descent),
        ascent_s=float(ascent),
        pause_bottom_s=float(pause_bottom),
        pause_top_s=float(pause_top),
        min_leg_angle_deg=float(np.nanmin(seg)),
        max_leg_angle_deg=float(np.nanmax(seg)),
        peak_speed_down_deg_s=_peak(-down),
        peak_speed_up_deg_s=_peak(up),
        phases=tuple((n, float(bounds[j]), float(bounds[j + 1])) for j, n in enumerate(names)),
    )


def _peak(v: np.ndarray) -> float:
    return float(max(np.nanmax(v), 0.0)) if np.isfinite(v).any() else float("nan")


def find_holds(t_s: np.ndarray, x: np.ndarray, speed: np.ndarray, settings: RepSettings) -> list[Hold]:
    """Periods of at least ``hold_min_s`` with the legs still and off the floor."""
    still = np.isfinite(x) & (np.abs(np.nan_to_num(speed, nan=np.inf)) <= settings.hold_max_speed_deg_s)
    holds = []
    for start, stop in finite_runs(np.where(still, 1.0, np.nan)):
        # split where the angle drifts more than the allowed range
        s = start
        while s < stop:
            e = s
            lo = hi = x[s]
            while e + 1 < stop and max(hi, x[e + 1]) - min(lo, x[e + 1]) <= settings.hold_max_range_deg:
                e += 1
                lo, hi = min(lo, x[e]), max(hi, x[e])
            mean = float(np.mean(x[s : e + 1]))
            if t_s[e] - t_s[s] >= settings.hold_min_s and mean >= settings.hold_min_leg_angle_deg:
                holds.append(Hold(float(t_s[s]), float(t_s[e]), mean))
            s = e + 1
    return holds


def segment_reps(
    t_s: np.ndarray, leg_angle_deg: np.ndarray, leg_speed_deg_s: np.ndarray, settings: RepSettings | None = None,
    posture: str = "lying", breaks: np.ndarray | None = None,
) -> Segmentation:
    """Reps and holds of a clip from its cleaned leg angle (deg) and speed (deg/s); no
    rep spans a cut (``breaks``, (N,) bool, True where frame i starts a new shot)."""
    settings = settings or RepSettings()
    x, speed = leg_angle_deg, leg_speed_deg_s
    finite = x[np.isfinite(x)]
    if len(finite) == 0:
        return Segmentation([], [], [], "floor", settings.min_amplitude_deg)
    clip_range = float(np.percentile(finite, 98) - np.percentile(finite, 2))
    hysteresis = max(settings.min_amplitude_deg, settings.min_amplitude_frac * clip_range)

    runs = [(a, b) for a, b in finite_runs(x, breaks) if b - a >= 2]
    points_per_run = [turning_points(a, t_s[a:b], x[a:b], hysteresis) for a, b in runs]
    all_points = [p for pts in points_per_run for p in pts]
    range_deg = max(clip_range, hysteresis)
    tol = max(settings.rest_tolerance_deg, settings.rest_tolerance_frac * range_deg)
    rest = settings.rest if settings.rest != "auto" else choose_rest(all_points, settings.top_rest_min_gap_deg, posture)
    if posture == "upright" and settings.rest == "auto":
        rest = "hang"
    rest_kind: Kind = "high" if rest == "top" else "low"
    real_rest = [p.value_deg for p in all_points if p.kind == rest_kind and not p.edge]
    rest_level = float(np.median(real_rest)) if real_rest else (
        max(p.value_deg for p in all_points) if rest_kind == "high" else min(p.value_deg for p in all_points)
    ) if all_points else 0.0

    def at_rest(p: TurningPoint) -> bool:
        # an edge beyond the usual rest level (lying flat below the usual bottoms) is at rest too
        beyond = p.value_deg - rest_level if rest_kind == "high" else rest_level - p.value_deg
        return not p.edge or beyond >= -tol

    reps: list[RepPhases] = []
    partial: list[PartialRep] = []
    for (_, run_stop), pts in zip(runs, points_per_run):
        times = turn_timings(t_s, x, speed, pts, settings)
        for k in range(len(pts) - 2):
            a, b, c = pts[k], pts[k + 1], pts[k + 2]
            if a.kind != rest_kind:
                continue
            if min(abs(b.value_deg - a.value_deg), abs(b.value_deg - c.value_deg)) < hysteresis * 0.5:
                continue  # an edge that barely moved: no rep there
            if at_rest(a) and at_rest(c) and not b.edge:
                reps.append(_rep_from_points(
                    t_s, x, speed, a, b, c, tuple(times[k : k + 3]), rest, float(t_s[run_stop - 1]), k + 3 < len(pts),
                ))
            else:
                where = "start" if not at_rest(a) else "end"
                partial.append(_partial(x, a, c, f"cut off by the {where} of the clip or a gap"))
        # half reps: the clip starts or ends away from the rest position
        if len(pts) >= 2 and pts[0].kind != rest_kind:
            partial.append(_partial(x, pts[0], pts[1], "started before the clip (or a gap)"))
        if len(pts) >= 2 and pts[-1].kind != rest_kind and abs(pts[-1].value_deg - pts[-2].value_deg) >= hysteresis:
            partial.append(_partial(x, pts[-2], pts[-1], "not finished when the clip (or a gap) ends"))
    partial.sort(key=lambda p: p.start_s)
    holds = find_holds(t_s, x, speed, settings)
    return Segmentation(reps, partial, holds, rest, hysteresis)


def _partial(x: np.ndarray, a: TurningPoint, b: TurningPoint, reason: str) -> PartialRep:
    seg = x[a.i : b.i + 1]
    return PartialRep(a.t_s, b.t_s, float(np.nanmin(seg)), float(np.nanmax(seg)), reason)
