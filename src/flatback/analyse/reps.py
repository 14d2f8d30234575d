"""Reps and holds: phase segmentation of the leg-angle signal.

A rep is what the person would count (DESIGN.md, "Rep"). ``RepTracker`` is the one
segmentation engine: fed one sample at a time, its hysteresis detector
(``TurningPointDetector``) confirms turning points, each rep is timed from the samples
around its turns, and the count follows the rest mode the turning points so far give.
Live mode drives it frame by frame; offline, ``segment_reps`` drives it over the clip
with the look-ahead it has (the hysteresis from the clip's range, the rest mode from
all turning points).

A rep moves the leg at the hip: three turning points of the leg reading are a rep only
if a thigh (hip to knee) turns with them, judged on the thighs that turn somewhere in the
clip (a thigh the pose model pins in place, under a caption, is no evidence). The leg
reading runs from hip to ankle, so an ankle the pose model misreads (a caption burned in
over the feet pulls both ankles toward it) or a knee bending alone moves it while both
thighs hold still.

Phases of a rep: the legs leave a resting turning point, move to the far turning point,
and come back. Movement boundaries are where the line through the middle half of each
movement meets the pause level on either side: robust to noise and smoothing, exact
for a movement at an even tempo. The slow start and finish of a smooth movement count
as pause, as people perceive them (the clips' labels put ~1 s pauses where the legs
creep the last few degrees); a minimum-jerk lowering reads at about 0.55 of its full
duration, the rest as pause.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Literal

import numpy as np

from flatback.analyse.results import Hold, PartialRep, Phase, RepTiming
from flatback.measure.signals import finite_runs
from flatback.settings import RepSettings

Kind = Literal["high", "low"]


@dataclass(frozen=True)
class TurningPoint:
    """A local extreme of the leg angle. ``edge`` marks a clip (or gap) boundary, not a
    real turn: the movement may have gone further before or after it. ``level_deg``: the
    median angle over the pause at the turn, once timed (the position the person holds;
    the extreme alone is its noisiest sample). ``held_s``: at an edge, how long the legs
    stayed there, s, from the clip's start or to its end (0 when the thighs moved the
    edge's movement's way meanwhile; None until timed)."""

    i: int
    t_s: float
    value_deg: float
    kind: Kind
    edge: bool = False
    level_deg: float | None = None
    held_s: float | None = None

    @property
    def held_deg(self) -> float:
        """The level held at this turn, deg (its extreme until the pause is timed)."""
        return self.value_deg if self.level_deg is None else self.level_deg


class TurningPointDetector:
    """Streaming zigzag: ``update(i, t_s, x)`` returns a TurningPoint once the signal has
    moved ``hysteresis_deg`` away from the running extreme, else None."""

    def __init__(self, hysteresis_deg: float):
        self.hysteresis_deg = hysteresis_deg
        self.reset()

    def reset(self) -> None:
        self._direction: Kind | None = None  # the kind of extreme being tracked
        self._best: tuple[int, float, float] | None = None
        # (i, t_s, deg) of the lowest and highest readings before the first move
        self._span: tuple[tuple[int, float, float], tuple[int, float, float]] | None = None
        self.origin: TurningPoint | None = None  # the extreme the first move left from (an edge)

    def update(self, i: int, t_s: float, x: float) -> TurningPoint | None:
        if not np.isfinite(x):
            return None
        if self._best is None:
            self._best, self._span = (i, t_s, x), ((i, t_s, x), (i, t_s, x))
            return None
        bi, bt, bx = self._best
        h = self.hysteresis_deg
        if self._direction is None:
            # wait for the first clear move either way, from the extreme so far, not from the
            # first reading: a leg that settles 1 deg lower before a 21 deg lift still lifts 21,
            # and a clip that opens at the end of a lowering starts its first rep at the rest
            # the legs reach, not at the first reading, part way down
            assert self._span is not None
            lo, hi = self._span
            lo, hi = (i, t_s, x) if x < lo[2] else lo, (i, t_s, x) if x > hi[2] else hi
            self._span = (lo, hi)
            if x >= lo[2] + h:
                self._direction, self._best = "high", (i, t_s, x)
                self.origin = TurningPoint(*lo, "low", edge=True)
            elif x <= hi[2] - h:
                self._direction, self._best = "low", (i, t_s, x)
                self.origin = TurningPoint(*hi, "high", edge=True)
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
    """Alternating turning points of one continuous run, with its two ends as edges: the
    extreme its first movement left from (:attr:`TurningPointDetector.origin`) and the
    one being tracked when it ends."""
    det = TurningPointDetector(hysteresis_deg)
    points = [tp for k in range(len(x)) if (tp := det.update(i0 + k, float(t_s[k]), float(x[k])))]
    pending = det.pending
    if pending is not None:
        points.append(pending)
    if not points:
        return []
    assert det.origin is not None and det.origin.kind != points[0].kind  # the first movement was seen
    return [det.origin, *points]


def choose_rest(
    points: list[TurningPoint], min_gap_deg: float, posture: str, tolerance_deg: float,
    ends_deg: tuple[float, float] | None = None,
) -> Literal["floor", "top", "hang"]:
    """Where the legs rest between reps (DESIGN.md, "Rep": where they started, if they come
    back to it between reps). Top when the whole clip starts and ends with the legs held
    up (``ends_deg``: its first and last readings, deg, given once it is over; see
    :func:`_starts_and_ends_up`), or when the legs rest on the floor at the clip's start
    or end and never come back down to it between lowerings (the top-rest protocol with
    its set-up lift or set-down in view); floor otherwise. With both in view, "never came
    back" is further above both than ``tolerance_deg`` (the noise on a held position: a
    strong user's lowerings hover 15-20 degrees over the floor); with one, further above
    it than ``min_gap_deg``: a floor-rest set whose bottoms read 10-20 degrees over its
    start, and which ends at them, stays floor-rest, and so does a live set before its end."""
    if posture == "upright":
        return "hang"
    if ends_deg is not None and _starts_and_ends_up(points, ends_deg, tolerance_deg):
        return "top"
    lows = [p for p in points if p.kind == "low"]
    if len(lows) < 3:
        return "floor"
    first, last = lows[0], lows[-1]
    middle = np.median([p.value_deg for p in lows[1:-1]])
    if first.edge and last.edge:
        # set-up and set-down both in view, the legs lying at both ends: lowerings further above
        # both than the noise on a held position never came back to where the legs started
        return "top" if middle - max(first.value_deg, last.value_deg) > tolerance_deg else "floor"
    # one end only: a set that ends (or starts) at its lowerings' level is floor-rest whatever its other end
    # reads, so the lowerings must stand clear of it
    return "top" if middle - min(first.value_deg, last.value_deg) > min_gap_deg else "floor"


def _starts_and_ends_up(points: list[TurningPoint], ends_deg: tuple[float, float], tolerance_deg: float) -> bool:
    """The clip opens and closes at the top: its first and last points are high edges (it
    opens with a lowering and closes after a return), with a top between at least two
    lowerings, and its first and last readings (``ends_deg``) within ``tolerance_deg``
    (the pose model's noise on a held position) of the usual top. The readings, not the
    edges' extremes: a clip that ends part way into a lowering has its last extreme at the
    top. Only the noise, not a share of the movement: a clip that opens a fifth of the way
    into a lowering started mid-rep."""
    if len(points) < 5:
        return False
    first, last = points[0], points[-1]
    if not (first.edge and last.edge and first.kind == last.kind == "high"):
        return False
    tops = [p.value_deg for p in points[1:-1] if p.kind == "high" and not p.edge]
    return bool(tops) and min(ends_deg) >= float(np.median(tops)) - tolerance_deg


def fit_movement(t_s: np.ndarray, x: np.ndarray, a: TurningPoint, b: TurningPoint) -> tuple[float, float] | None:
    """(slope deg/s, intercept deg) of the line through the middle half (25-75 %) of the
    movement from turning point a to b, or None if too few samples.

    The movement is the last departure from a's quarter to b's quarter: a leg that goes
    part way, comes back and then goes (or a far leg's reading that jumps to another
    level and back) is timed by the crossing that reached b, not by a line averaged
    over every visit to the middle.
    """
    seg_t, seg_x = t_s[a.i : b.i + 1], x[a.i : b.i + 1]
    span = b.value_deg - a.value_deg
    if span == 0:
        return None
    frac = (seg_x - a.value_deg) / span
    near_a = np.flatnonzero(frac <= 0.25)
    i0 = int(near_a[near_a < len(frac) - 1][-1]) if (near_a < len(frac) - 1).any() else 0
    reached = np.flatnonzero(frac[i0:] >= 0.75)
    i1 = i0 + int(reached[0]) if len(reached) else len(frac) - 1
    mid = (frac >= 0.25) & (frac <= 0.75) & np.isfinite(seg_x)
    mid[:i0] = False
    mid[i1 + 1 :] = False
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
    lines = [fit_movement(t_s, x, p, q) for p, q in pairwise(pts)]
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
    bottom_window_s: float, bottom_level_deg: float,
) -> RepPhases:
    """A complete rep a -> b -> c (rest, far turn, rest). ``times`` holds the (arrive,
    leave) of a, b and c; without a next movement the pause at c lasts until
    ``run_end_s``, the end of the clip (or of the continuous stretch). Resting on the
    floor, the bottom is the first reading within ``bottom_level_deg`` (deg) of the lowest
    up to ``bottom_window_s`` (s) after the arrival."""
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
    else:  # floor -> top -> floor, or hang -> top -> hang
        names = (Phase.ASCENT, Phase.TOP, Phase.DESCENT, Phase.BOTTOM)
        ascent, descent = out_end - out_start, back_end - back_start
        pause_top, pause_bottom = pause_far, pause_rest
        up, down = out_speed, back_speed
    # bottom_s (DESIGN.md): resting on the floor, the end of the lowering: the first reading
    # within bottom_level_deg of the lowest up to a short while after the arrival, not the
    # lowest sample, which the pose model's noise places anywhere in the rest; resting at the
    # top, the middle of the pause at the bottom (a held extension's turn); hanging, the
    # highest reading
    if rest == "top":
        bottom_s = 0.5 * (out_end + back_start)
    else:
        lo_s, hi_s = (out_start, back_end) if rest == "hang" else (back_start, min(next_start, back_end + bottom_window_s))
        w = (t_s >= lo_s) & (t_s <= hi_s) & np.isfinite(x)
        idx = np.flatnonzero(w)
        if not len(idx):
            bottom_s = b.t_s
        elif rest == "hang":
            bottom_s = float(t_s[idx[np.argmax(x[idx])]])
        else:
            bottom_s = float(t_s[idx[np.flatnonzero(x[idx] <= np.min(x[idx]) + bottom_level_deg)[0]]])
    bounds = (out_start, out_end, back_start, back_end, next_start)
    # the rep's range: its lowest and highest reading over its own span (leaving the rest
    # position to the next rep's start: the rest before it is the previous rep's), except
    # that a held top (the top-rest protocol, a dead bug's tabletop) counts at the level
    # held in the rest pauses on either side: their median, as their extreme is their
    # noisiest sample (and a one-leg variation's resting leg reads its highest while the
    # other leg works). The floor bounds a floor rest from below: its lowest reading is it.
    own = (t_s >= out_start) & (t_s <= next_start) & np.isfinite(x)
    seg = x[own] if own.any() else x[a.i : c.i + 1]
    low_deg, high_deg = float(np.nanmin(seg)), float(np.nanmax(seg))
    if rest == "top":
        resting = ((t_s >= times[0][0]) & (t_s <= out_start)) | ((t_s >= back_end) & (t_s <= next_start))
        resting &= np.isfinite(x)
        if resting.any():
            high_deg = max(float(np.median(x[resting])), low_deg)
    return RepPhases(
        start_s=float(out_start),
        turn_s=b.t_s,
        bottom_s=bottom_s,
        end_s=float(next_start),
        descent_s=float(descent),
        ascent_s=float(ascent),
        pause_bottom_s=float(pause_bottom),
        pause_top_s=float(pause_top),
        min_leg_angle_deg=low_deg,
        max_leg_angle_deg=high_deg,
        peak_speed_down_deg_s=_peak(-down),
        peak_speed_up_deg_s=_peak(up),
        phases=tuple((n, float(bounds[j]), float(bounds[j + 1])) for j, n in enumerate(names)),
    )


def _peak(v: np.ndarray) -> float:
    return float(max(np.nanmax(v), 0.0)) if np.isfinite(v).any() else float("nan")


def find_holds(t_s: np.ndarray, x: np.ndarray, speed: np.ndarray, settings: RepSettings) -> list[Hold]:
    """Periods of at least ``hold_min_s`` with the legs still and off the floor (a
    :class:`HoldTracker` driven over the whole clip)."""
    tracker = HoldTracker(settings)
    holds = [h for k in range(len(x)) if (h := tracker.update(float(t_s[k]), float(x[k]), float(speed[k])))]
    last = tracker.finish()
    return holds + ([last] if last else [])


def segment_reps(
    t_s: np.ndarray, leg_angle_deg: np.ndarray, leg_speed_deg_s: np.ndarray, settings: RepSettings | None = None,
    posture: str = "lying", breaks: np.ndarray | None = None,
    thighs_deg: tuple[np.ndarray, np.ndarray] | None = None,
) -> Segmentation:
    """Reps and holds of a clip from its cleaned leg angle (deg) and speed (deg/s); no
    rep spans a cut (``breaks``, (N,) bool, True where frame i starts a new shot).
    ``thighs_deg``: the (left, right) thighs' cleaned angles, (N,) each, deg (None: unseen).

    A thin driver of :class:`RepTracker`, the streaming engine live mode uses. Its
    look-ahead: the hysteresis comes from the whole clip's range, every continuous run
    (between gaps and cuts) is a run of the tracker, and the rest mode is chosen from
    all the clip's turning points when the tracker finishes.
    """
    settings = settings or RepSettings()
    x = leg_angle_deg
    if not np.isfinite(x).any():
        return Segmentation([], [], [], "floor", settings.min_amplitude_deg)
    clip_range = _p2_p98(x)
    hysteresis = max(settings.min_amplitude_deg, settings.min_amplitude_frac * clip_range)
    left, right = thighs_deg if thighs_deg is not None else (np.full(len(x), np.nan),) * 2
    tracker = RepTracker(settings, hysteresis_deg=hysteresis, range_deg=clip_range, posture=posture,
                         thigh_ranges_deg=(_p2_p98(left), _p2_p98(right)))
    run_starts = {int(a) for a, _ in finite_runs(x, breaks)}
    for k in range(len(x)):
        if k in run_starts:
            tracker.break_run()
        tracker.update(k, float(t_s[k]), float(x[k]), float(leg_speed_deg_s[k]), (float(left[k]), float(right[k])))
    return tracker.finish()


def _p2_p98(x: np.ndarray) -> float:
    """The range of a signal's finite readings, p2 to p98 (NaN without any)."""
    finite = x[np.isfinite(x)]
    return float(np.percentile(finite, 98) - np.percentile(finite, 2)) if len(finite) else float("nan")


def _partial(x: np.ndarray, a: TurningPoint, b: TurningPoint, reason: str) -> PartialRep:
    seg = x[a.i : b.i + 1]
    return PartialRep(a.t_s, b.t_s, float(np.nanmin(seg)), float(np.nanmax(seg)), reason)


# --- streaming: the segmentation engine live and offline share --------------------


class HoldTracker:
    """Static holds, one sample at a time: ``update(t_s, x, speed)`` returns a
    :class:`Hold` when a still stretch (``|speed| <= hold_max_speed_deg_s``, deg/s,
    within ``hold_max_range_deg``) that qualifies ends; ``finish()`` closes the last."""

    def __init__(self, settings: RepSettings):
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self._values: list[float] = []  # leg angles of the current still stretch, deg
        self._start_s = self._end_s = 0.0
        self._lo = self._hi = 0.0

    @property
    def current(self) -> Hold | None:
        """The still stretch in progress, if it already qualifies as a hold."""
        return self._hold()

    def update(self, t_s: float, x: float, speed_deg_s: float) -> Hold | None:
        s = self.settings
        still = np.isfinite(x) and abs(speed_deg_s if np.isfinite(speed_deg_s) else np.inf) <= s.hold_max_speed_deg_s
        if not still:
            return self.finish()
        if self._values and max(self._hi, x) - min(self._lo, x) <= s.hold_max_range_deg:
            self._values.append(x)
            self._end_s, self._lo, self._hi = t_s, min(self._lo, x), max(self._hi, x)
            return None
        done = self.finish()  # the angle drifted beyond the allowed range: a new stretch
        self._values, self._start_s, self._end_s, self._lo, self._hi = [x], t_s, t_s, x, x
        return done

    def finish(self) -> Hold | None:
        """Close the stretch in progress; its Hold if it qualifies."""
        hold = self._hold()
        self._values = []
        return hold

    def _hold(self) -> Hold | None:
        if not self._values:
            return None
        mean = float(np.mean(self._values))
        s = self.settings
        if self._end_s - self._start_s >= s.hold_min_s and mean >= s.hold_min_leg_angle_deg:
            return Hold(self._start_s, self._end_s, mean)
        return None


@dataclass(frozen=True)
class RepEvent:
    """A counted rep, reported as soon as its last turning point is confirmed.

    ``number``: the rep's place in the count at that moment (1-based). ``rep``: its
    measurements; while ``final`` is False the pause after its last turn, and so
    ``end_s`` (s), are provisional (the next movement has not started yet). ``t_s``: the
    time of the sample that confirmed it, s.
    """

    number: int
    rep: RepPhases
    final: bool
    t_s: float


@dataclass
class _Run:
    """One continuous run (between gaps and cuts) as the tracker keeps it: its turning
    points (``i`` counts the run's samples), their (arrive, leave) timings, the leg
    angle's (min, max) between neighbouring points, deg, the thighs (left, right) at each
    point, deg (NaN where unseen), and each triple's rep."""

    points: list[TurningPoint]
    times: list[tuple[float, float]]
    pair_range: list[tuple[float, float]]
    candidates: dict[int, RepPhases]
    point_thigh: list[np.ndarray] = field(default_factory=list)
    provisional: dict[int, RepPhases] = field(default_factory=dict)  # its last pause still running
    end_s: float = 0.0
    start_deg: float | None = None  # its first reading, deg
    end_deg: float | None = None  # its latest reading, deg


def _range_percentiles(counts: np.ndarray, lo_deg: float, bin_deg: float) -> float:
    """p98 - p2 of the leg angles counted in a histogram, deg (bin-centre resolution)."""
    total = counts.sum()
    if total == 0:
        return 0.0
    cum = np.cumsum(counts)
    p2, p98 = np.searchsorted(cum, [0.02 * total, 0.98 * total])
    return float((p98 - p2) * bin_deg)


class RepTracker:
    """The rep segmentation engine, one sample at a time (STYLE item 7).

    ``update(i, t_s, leg_angle_deg, speed_deg_s, thighs_deg)`` feeds one sample and returns a
    :class:`RepEvent` when a rep's last turning point is confirmed (hysteresis
    ``hysteresis_deg``; each turning point then carries the dwell around it, s, as its
    pause), or when a rep's end becomes final. ``break_run()`` ends a continuous run (a
    cut, a gap longer than ``max_gap_s``): no rep spans it. ``finish()`` closes the
    stream and returns the :class:`Segmentation`; ``reset()`` starts again.

    Offline (:func:`segment_reps`) passes the look-ahead: ``hysteresis_deg``, ``range_deg``
    and each thigh's range ``thigh_ranges_deg`` from the whole clip. Live (all None), the
    hysteresis and the thighs' ranges adapt to what has been seen so far, and the rest mode
    (floor, top) is decided from the turning points so far; the count is re-derived from
    the stored turning points when it changes. A rep is reported before its last turn is
    confirmed once the legs have dwelt within ``level_tolerance_deg`` of that extreme for
    ``rest_dwell_s`` (s). Memory: the samples from the third-last turning point on, a few
    numbers per turning point, and three fixed histograms (the leg's and the thighs').
    """

    _HIST_LO_DEG, _HIST_BIN_DEG, _HIST_BINS = -180.0, 0.5, 1080  # leg angles -180..360 deg
    _THIGH_AT_SAMPLES = 2  # a thigh's angle at a turning point: the median of 5 samples around it

    def __init__(
        self, settings: RepSettings | None = None, *, hysteresis_deg: float | None = None,
        range_deg: float | None = None, posture: str = "lying", level_tolerance_deg: float = 0.0,
        thigh_ranges_deg: tuple[float, float] | None = None,
    ):
        self.settings = settings or RepSettings()
        self.level_tolerance_deg = level_tolerance_deg
        self._fixed_hysteresis = hysteresis_deg
        self._fixed_range = range_deg
        self._fixed_thigh_ranges = thigh_ranges_deg
        self.posture = posture
        self.reset()

    def reset(self) -> None:
        self._runs: list[_Run] = []
        self._hist = np.zeros(self._HIST_BINS, np.int64)
        self._thigh_hist = np.zeros((2, self._HIST_BINS), np.int64)
        self._holds = HoldTracker(self.settings)
        self._hold_list: list[Hold] = []
        self._detector = TurningPointDetector(self.hysteresis_deg)
        self._count = 0
        self._settled: tuple[int, int] | None = None  # (points, sample) of the extreme last checked for a dwell
        self._settled_rep = False  # that extreme ended a counted rep, reported before its confirmation
        self._ends_deg: tuple[float, float] | None = None  # the stream's first and last readings, deg
        self._new_run()

    def _new_run(self) -> None:
        self._run = _Run([], [], [], {})
        self._settled = None
        self._near: tuple[float, float] | None = None  # (since s, deg): the legs near the tracked extreme
        self._detector.reset()
        self._n = 0  # samples in the current run
        self._base = 0  # run index of the buffer's first sample
        self._t: list[float] = []
        self._x: list[float] = []
        self._v: list[float] = []
        self._th: list[tuple[float, float]] = []  # (left, right) thigh angles, deg

    # --- what the look-ahead would give, from what has been seen so far ---

    @property
    def range_deg(self) -> float:
        """The leg angle's range (p98 - p2), deg: the clip's offline, so far live."""
        if self._fixed_range is not None:
            return self._fixed_range
        return _range_percentiles(self._hist, self._HIST_LO_DEG, self._HIST_BIN_DEG)

    @property
    def thigh_ranges_deg(self) -> tuple[float, float]:
        """Each thigh's (left, right) range (p98 - p2), deg: the clip's offline, so far live."""
        if self._fixed_thigh_ranges is not None:
            return self._fixed_thigh_ranges
        lo, bin_deg = self._HIST_LO_DEG, self._HIST_BIN_DEG
        left, right = (_range_percentiles(h, lo, bin_deg) if h.any() else float("nan") for h in self._thigh_hist)
        return left, right

    @property
    def hysteresis_deg(self) -> float:
        """The smallest swing that is a movement, deg (``min_amplitude_deg``, or
        ``min_amplitude_frac`` of the range when larger)."""
        if self._fixed_hysteresis is not None:
            return self._fixed_hysteresis
        s = self.settings
        return max(s.min_amplitude_deg, s.min_amplitude_frac * self.range_deg)

    @property
    def rest(self) -> Literal["floor", "top", "hang"]:
        """Where reps rest, decided from the turning points so far (all of them offline)."""
        return _rest_mode(self._all_points(), self.settings, self.posture)

    @property
    def rep_count(self) -> int:
        """Reps counted so far under the current rest decision (re-derived at each
        confirmed turning point), the rep whose last turn the legs dwell at included."""
        return self._count + self._settled_rep

    # --- the stream ---

    def update(
        self, i: int, t_s: float, leg_angle_deg: float, speed_deg_s: float,
        thighs_deg: tuple[float, float] = (float("nan"), float("nan")),
    ) -> RepEvent | None:
        """One sample: frame ``i`` at ``t_s``, s, its leg angle, deg, speed, deg/s, and
        the (left, right) thighs' angles, deg (NaN unseen). A NaN leg angle is skipped
        (the caller breaks the run when the gap is long)."""
        hold = self._holds.update(t_s, leg_angle_deg, speed_deg_s)
        if hold is not None:
            self._hold_list.append(hold)
        if not np.isfinite(leg_angle_deg):
            return None
        if self._fixed_hysteresis is None:
            self._hist[self._bin(leg_angle_deg)] += 1
            self._detector.hysteresis_deg = self.hysteresis_deg
        if self._fixed_thigh_ranges is None:
            for hist, th in zip(self._thigh_hist, thighs_deg):
                if np.isfinite(th):
                    hist[self._bin(th)] += 1
        if self._run.start_deg is None:
            self._run.start_deg = leg_angle_deg
        self._run.end_deg = leg_angle_deg
        self._ends_deg = (self._ends_deg[0] if self._ends_deg else leg_angle_deg, leg_angle_deg)
        self._t.append(t_s)
        self._x.append(leg_angle_deg)
        self._v.append(speed_deg_s)
        self._th.append(thighs_deg)
        self._run.end_s = t_s
        point = self._detector.update(self._n, t_s, leg_angle_deg)
        self._n += 1
        if point is not None:
            self._settled_rep, self._near = False, None
            return self._confirm(point)
        return self._dwell(t_s)

    def _bin(self, deg: float) -> int:
        """The histogram bin of an angle, deg (the ends hold what lies beyond)."""
        return min(max(int((deg - self._HIST_LO_DEG) / self._HIST_BIN_DEG), 0), self._HIST_BINS - 1)

    def break_run(self) -> None:
        """End the continuous run here (a cut or a long gap)."""
        run = self._run
        pending = self._detector.pending
        if pending is not None:
            if not run.points:
                run.points.append(self._start_edge(pending.kind))
            run.points.append(pending)
            self._close_pair()
            n = len(run.points)
            for k in range(len(run.times), n):
                run.times.append(self._timing(k))
                self._set_level(k)
            for k in range(n - 2):
                if k not in run.candidates:
                    run.candidates[k] = self._candidate(k, has_next=k + 3 < n)
            run.provisional.clear()
            self._runs.append(run)
        self._new_run()
        self._settled_rep = False
        self._count = len(self._derive(provisional=False)[0])

    def finish(self) -> Segmentation:
        """Close the stream: the reps, partial reps and holds of everything fed."""
        self.break_run()
        last = self._holds.finish()
        if last is not None:
            self._hold_list.append(last)
        # once the clip is over, its first and last readings tell whether it opened and closed at the top
        reps, partial, rest = self._derive(provisional=False, ends_deg=self._ends_deg)
        return Segmentation(reps, partial, list(self._hold_list), rest, self.hysteresis_deg)

    @property
    def buffered_samples(self) -> int:
        """Samples held for timing the latest turns (from the third-last turning point on)."""
        return len(self._t)

    @property
    def levels_deg(self) -> tuple[float | None, float | None]:
        """(high, low) leg angle of the latest turning points of each kind, deg, the
        extreme being tracked included; None where none has been seen."""
        points = self._all_points()
        pending = self._detector.pending
        if pending is not None:
            points = [*points, pending]
        high = next((p.value_deg for p in reversed(points) if p.kind == "high"), None)
        low = next((p.value_deg for p in reversed(points) if p.kind == "low"), None)
        return high, low

    @property
    def holding(self) -> Hold | None:
        """The hold in progress (legs still and up for at least ``hold_min_s``), if any."""
        return self._holds.current

    # --- internals ---

    def _start_edge(self, first_kind: Kind) -> TurningPoint:
        """The run's start as a turning point of the other kind, an edge (the legs may have
        gone further before the run began): the extreme its first movement left from, which
        is the first sample unless the legs first moved less than the hysteresis the other
        way (a clip opening at the end of a lowering: its first rep starts at the rest the
        legs reach). Called once the first movement is seen, so the detector has it."""
        origin = self._detector.origin
        assert origin is not None and origin.kind != first_kind
        return origin

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.asarray(self._t), np.asarray(self._x), np.asarray(self._v)

    def _local(self, p: TurningPoint) -> TurningPoint:
        return TurningPoint(p.i - self._base, p.t_s, p.value_deg, p.kind, p.edge)

    def _timing(self, k: int, points: list[TurningPoint] | None = None) -> tuple[float, float]:
        """(arrive, leave) at point k: what :func:`turn_timings` gives with its neighbours."""
        pts = self._run.points if points is None else points
        lo = max(k - 1, 0)
        window = [self._local(p) for p in pts[lo : k + 2]]
        t, x, v = self._arrays()
        return turn_timings(t, x, v, window, self.settings)[k - lo]

    def _set_level(self, k: int) -> None:
        """Point k's held level: the median angle over its timed pause; at an edge, also
        how long the legs stayed there (:attr:`TurningPoint.held_s`): the leg reading within
        the rest tolerance of its level, from the run's start to leaving (its first point)
        or from arriving to the run's end (its last), and the thighs not moving on the way
        of the edge's movement meanwhile (a leg reading the pose model guesses flat while
        the thighs rise is not held)."""
        run = self._run
        arrive, leave = run.times[k]
        t, x, _ = self._arrays()
        w = (t >= arrive) & (t <= leave) & np.isfinite(x)
        if w.any():
            run.points[k] = replace(run.points[k], level_deg=float(np.median(x[w])))
        point = run.points[k]
        if not point.edge:
            return
        off = np.abs(x - point.held_deg) > self.settings.rest_tolerance_deg
        if k == 0:  # held until leaving; the thighs must not have set off the way it leaves
            moved = np.flatnonzero(off & (t <= leave))
            span = (float(t[moved[-1]]) if len(moved) else float(t[0]), leave)
            way = 1.0 if point.kind == "low" else -1.0
        else:  # held from arriving; the thighs must not still be coming the way it came
            moved = np.flatnonzero(off & (t >= arrive))
            span = (arrive, float(t[moved[0]]) if len(moved) else run.end_s)
            way = -1.0 if point.kind == "low" else 1.0
        first, last = (self._base + int(np.searchsorted(t, s_)) for s_ in span)
        drift = way * (self._thigh_at(min(last, self._base + len(t) - 1)) - self._thigh_at(first))
        with np.errstate(invalid="ignore"):
            thighs_moved = bool((drift > self.settings.rest_tolerance_deg).any())
        run.points[k] = replace(point, held_s=0.0 if thighs_moved else max(span[1] - span[0], 0.0))

    def _candidate(
        self, k: int, has_next: bool, times: list[tuple[float, float]] | None = None,
        points: list[TurningPoint] | None = None,
    ) -> RepPhases:
        """The rep from points k, k+1, k+2 (as rest, far turn, rest)."""
        run = self._run
        a, b, c = (self._local(p) for p in (run.points if points is None else points)[k : k + 3])
        t, x, v = self._arrays()
        tt = tuple((times if times is not None else run.times)[k : k + 3])
        return _rep_from_points(t, x, v, a, b, c, tt, self._rest_of(a.kind), run.end_s, has_next,
                                self.settings.bottom_window_s, self.settings.bottom_level_deg)

    def _rest_of(self, kind: Kind) -> str:
        if kind == "high":
            return "top"
        return "hang" if self.posture == "upright" and self.settings.rest == "auto" else "floor"

    def _close_pair(self) -> None:
        run = self._run
        p, q = run.points[-2], run.points[-1]
        seg = np.asarray(self._x[p.i - self._base : q.i - self._base + 1])
        run.pair_range.append((float(np.nanmin(seg)), float(np.nanmax(seg))))
        if not run.point_thigh:
            run.point_thigh.append(self._thigh_at(p.i))
        run.point_thigh.append(self._thigh_at(q.i))

    def _thigh_at(self, i: int) -> np.ndarray:
        """(left, right) thigh angles at run sample i, deg: the median of the samples
        within ``_THIGH_AT_SAMPLES`` of it (NaN where none is seen)."""
        lo = max(i - self._THIGH_AT_SAMPLES - self._base, 0)
        near = np.asarray(self._th[lo : i + self._THIGH_AT_SAMPLES - self._base + 1], float).reshape(-1, 2)
        with np.errstate(all="ignore"):
            return np.array([np.median(x[np.isfinite(x)]) if np.isfinite(x).any() else np.nan for x in near.T])

    def _confirm(self, point: TurningPoint) -> RepEvent | None:
        run = self._run
        if not run.points:
            run.points.append(self._start_edge(point.kind))
        run.points.append(point)
        n = len(run.points) - 1
        self._close_pair()
        run.times.append(self._timing(n - 1))  # its outgoing movement is now known
        self._set_level(n - 1)
        if n >= 3:  # the rep before the last now knows when its rest ended
            run.candidates[n - 3] = self._candidate(n - 3, has_next=True)
            run.provisional.pop(n - 3, None)
        if n >= 2:
            prov_times = [*run.times, self._timing(n)]
            run.provisional[n - 2] = self._candidate(n - 2, has_next=False, times=prov_times)
        self._trim(run.points[max(n - 2, 0)].i)
        reps, _, _ = self._derive(provisional=True)
        self._count = len(reps)
        context = self._context(self._all_points())
        for k, final in ((n - 2, False), (n - 3, True)):  # at most one of them starts at rest
            if k >= 0 and context.is_rep(run.points[k : k + 3], run.point_thigh[k : k + 3]):
                rep = run.candidates[k] if final else run.provisional[k]
                return RepEvent(self._count, rep, final, point.t_s)
        return None

    def _dwell(self, t_s: float) -> RepEvent | None:
        """A provisional event when the legs have stayed at the extreme being tracked
        for ``rest_dwell_s`` and it ends a counted rep (checked once per extreme)."""
        run, pending = self._run, self._detector.pending
        if pending is None:
            return None
        if self._near is None or abs(pending.value_deg - self._near[1]) > self.level_tolerance_deg:
            self._near = (pending.t_s, pending.value_deg)
        if len(run.points) < 2 or t_s - self._near[0] < self.settings.rest_dwell_s:
            return None
        key = (len(run.points), pending.i)
        if self._settled == key:
            return None
        self._settled = key
        turn = TurningPoint(pending.i, pending.t_s, pending.value_deg, pending.kind)
        points = [*run.points, turn]
        at_turn = self._thigh_at(pending.i)
        so_far = [*self._all_points(), turn]
        context = self._context(so_far, thighs=[*self._all_point_thighs(), at_turn])
        # were the set to end here, this extreme would be its last edge: a set-down back to where the
        # legs started, below the hovering lowerings, makes the set top-rest and is then no rep.
        # Reported only where that reading agrees, so the running count is not taken back at the end
        if_over = _rest_mode([*so_far[:-1], replace(turn, edge=True)], self.settings, self.posture)
        was = self._settled_rep
        self._settled_rep = (context.is_rep(points[-3:], [*run.point_thigh[-2:], at_turn])
                             and if_over == context.rest)
        if not self._settled_rep or was:
            return None
        n = len(points) - 1
        times = [*run.times, self._timing(n - 1, points), self._timing(n, points)]
        rep = self._candidate(n - 2, has_next=False, times=times, points=points)
        return RepEvent(self.rep_count, rep, False, t_s)

    def _trim(self, keep_from: int) -> None:
        drop = keep_from - self._base
        if drop > 0:
            del self._t[:drop], self._x[:drop], self._v[:drop], self._th[:drop]
            self._base = keep_from

    def _all_points(self) -> list[TurningPoint]:
        return [p for r in (*self._runs, self._run) for p in r.points]

    def _all_point_thighs(self) -> list[np.ndarray]:
        return [th for r in (*self._runs, self._run) for th in r.point_thigh]

    def _derive(
        self, provisional: bool, ends_deg: tuple[float, float] | None = None
    ) -> tuple[list[RepPhases], list[PartialRep], Literal["floor", "top", "hang"]]:
        runs = list(self._runs)
        if provisional and len(self._run.points) >= 3:
            runs.append(self._run)
        return _derive_reps(runs, self._context(self._all_points(), ends_deg))

    def _context(
        self, points: list[TurningPoint], ends_deg: tuple[float, float] | None = None,
        thighs: list[np.ndarray] | None = None,
    ) -> _RestContext:
        return _RestContext.of(points, self.settings, self.posture, self.hysteresis_deg, ends_deg,
                               self.thigh_ranges_deg, self._all_point_thighs() if thighs is None else thighs)


def _rest_mode(
    points: list[TurningPoint], settings: RepSettings, posture: str, ends_deg: tuple[float, float] | None = None
) -> Literal["floor", "top", "hang"]:
    rest = settings.rest if settings.rest != "auto" else choose_rest(
        points, settings.top_rest_min_gap_deg, posture, settings.rest_tolerance_deg, ends_deg
    )
    if posture == "upright" and settings.rest == "auto":
        rest = "hang"
    return rest


@dataclass(frozen=True)
class _RestContext:
    """What decides whether three turning points are a counted rep: the rest mode, the
    usual rest level, deg, the rest tolerance (a floor, deg, and a fraction of the rep's
    own movement), the hysteresis, deg, the share of it a thigh must turn, which thighs
    (left, right) turn that far somewhere in the clip, their levels at the clip's rest
    points, deg, and how long a clip's edge must be held to be a rest whatever they read, s."""

    rest: Literal["floor", "top", "hang"]
    rest_kind: Kind
    rest_level_deg: float
    tolerance_deg: float
    tolerance_frac: float
    hysteresis_deg: float
    thigh_swing_frac: float = 0.0
    thighs_move: tuple[bool, bool] = (False, False)
    thigh_rest_deg: tuple[float, float] = (np.nan, np.nan)  # each thigh's median at the rest points, deg
    edge_held_s: float = 0.5

    @classmethod
    def of(
        cls, all_points: list[TurningPoint], settings: RepSettings, posture: str, hysteresis: float,
        ends_deg: tuple[float, float] | None = None, thigh_ranges_deg: tuple[float, float] = (np.nan, np.nan),
        point_thighs: list[np.ndarray] | None = None,
    ) -> _RestContext:
        rest = _rest_mode(all_points, settings, posture, ends_deg)
        rest_kind: Kind = "high" if rest == "top" else "low"
        real_rest = [p.held_deg for p in all_points if p.kind == rest_kind and not p.edge]
        pairs = zip(all_points, point_thighs, strict=True) if point_thighs is not None else ()
        at_rest = [th for p, th in pairs if p.kind == rest_kind and not p.edge]
        thigh_rest = (np.nan, np.nan)
        if at_rest:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a thigh never seen at rest: NaN
                thigh_rest = tuple(np.nanmedian(np.asarray(at_rest, float).reshape(-1, 2), axis=0))
        rest_level = float(np.median(real_rest)) if real_rest else (
            max(p.value_deg for p in all_points) if rest_kind == "high" else min(p.value_deg for p in all_points)
        ) if all_points else 0.0
        need = settings.thigh_swing_frac * hysteresis
        moves = (bool(thigh_ranges_deg[0] >= need), bool(thigh_ranges_deg[1] >= need))
        return cls(rest, rest_kind, rest_level, settings.rest_tolerance_deg, settings.rest_tolerance_frac, hysteresis,
                   settings.thigh_swing_frac, moves, (float(thigh_rest[0]), float(thigh_rest[1])),
                   settings.edge_held_s)

    def at_rest(
        self, p: TurningPoint, turn: TurningPoint, thighs: tuple[np.ndarray, np.ndarray] | None = None
    ) -> bool:
        """``p`` (a rep's first or last point, ``turn`` its far turn) is at rest: a turning
        point, or an edge of the clip within the tolerance of the rest level. The
        tolerance is a fraction of the rep's own movement, rest level to ``turn``: how
        much of that movement the clip may miss (a quarter of a 40 deg dead-bug
        extension is less than a quarter of a 90 deg raise). With ``thighs`` (the thighs,
        left and right, deg, at ``p`` and at ``turn``) the thighs must agree
        (:meth:`thighs_at_rest`) unless the legs were held at the edge for ``edge_held_s``:
        a clip caught mid-lift shows them moving from its first frame (to its last)."""
        if not p.edge:
            return True
        tol = max(self.tolerance_deg, self.tolerance_frac * abs(turn.value_deg - self.rest_level_deg))
        # an edge beyond the usual rest level (lying flat below the usual bottoms) is at rest too
        beyond = p.value_deg - self.rest_level_deg if self.rest_kind == "high" else self.rest_level_deg - p.value_deg
        held = p.held_s is not None and p.held_s >= self.edge_held_s
        return beyond >= -tol and (thighs is None or held or self.thighs_at_rest(*thighs))

    def thighs_at_rest(self, at_edge: np.ndarray, at_turn: np.ndarray) -> bool:
        """A clip's edge is at rest by the thighs too: a moving thigh seen there lies within
        the rest tolerance of its own level at the clip's rest points (the same share of its
        turn to ``at_turn``), or beyond it. At a picture's edge the leg reading can be the
        pose model's guess (a rotated picture's filled corner, or the frame's edge where the
        feet are, takes the ankle and reads legs caught mid-lift at the rest level), while
        the thigh, by the trunk, shows the lift half done. One such thigh is enough (the
        model may swap near and far); none seen, or no rest level yet: no evidence."""
        moving = list(self.thighs_move)
        edge, turn, rest = (np.asarray(v, float)[moving] for v in (at_edge, at_turn, self.thigh_rest_deg))
        seen = np.isfinite(edge) & np.isfinite(turn) & np.isfinite(rest)
        if not seen.any():
            return True
        edge, turn, rest = edge[seen], turn[seen], rest[seen]
        toward_turn = (edge - rest) * np.sign(turn - rest)
        tol = np.maximum(self.tolerance_deg, self.tolerance_frac * np.abs(turn - rest))
        return bool((toward_turn <= tol).any())

    def moved(self, a: TurningPoint, b: TurningPoint, c: TurningPoint) -> bool:
        """Both movements of a -> b -> c reach half the hysteresis (an edge that barely
        moved is no rep)."""
        return min(abs(b.value_deg - a.value_deg), abs(b.value_deg - c.value_deg)) >= self.hysteresis_deg * 0.5

    def thigh_swung(self, thighs: list[np.ndarray]) -> bool:
        """A thigh turned through ``thigh_swing_frac`` of the hysteresis in one of a rep's
        two movements (``thighs``: left and right, deg, at its three points,
        :attr:`_Run.point_thigh`): the leg moved at the hip. From one turning point to the
        next, not the range between: over a whole movement the pose model's jitter alone
        spans 10 degrees. Only thighs that turn that far somewhere in the clip are evidence
        (one the pose model pins in place, a caption across it, holds still in every rep); a
        rep with none of them seen at its turning points stands on the leg reading alone."""
        need = self.thigh_swing_frac * self.hysteresis_deg
        turned = np.abs(np.diff(np.asarray(thighs, float).reshape(-1, 2), axis=0))[:, list(self.thighs_move)]
        if need <= 0 or not np.isfinite(turned).any():
            return True
        return bool(np.nanmax(turned) >= need)

    def is_rep(self, abc: list[TurningPoint], thighs: list[np.ndarray]) -> bool:
        """a -> b -> c leaves the rest position, turns, and comes back to it, a thigh turning
        (``thighs``: the thighs at a, b and c, :attr:`_Run.point_thigh`)."""
        a, b, c = abc
        return (a.kind == self.rest_kind and self.moved(a, b, c) and self.at_rest(a, b, (thighs[0], thighs[1]))
                and self.at_rest(c, b, (thighs[2], thighs[1])) and not b.edge and self.thigh_swung(thighs))


def _derive_reps(
    runs: list[_Run], context: _RestContext
) -> tuple[list[RepPhases], list[PartialRep], Literal["floor", "top", "hang"]]:
    """Counted and partial reps from the runs' turning points and their triples' reps,
    under the rest mode of ``context`` (DESIGN.md, "Rep")."""
    rest_kind, hysteresis, at_rest = context.rest_kind, context.hysteresis_deg, context.at_rest
    reps: list[RepPhases] = []
    partial: list[PartialRep] = []
    for run in runs:
        pts = run.points
        for k in range(len(pts) - 2):
            a, b, c = pts[k], pts[k + 1], pts[k + 2]
            th = run.point_thigh[k : k + 3]
            if a.kind != rest_kind or not context.moved(a, b, c) or not context.thigh_swung(th):
                continue
            opens, closes = at_rest(a, b, (th[0], th[1])), at_rest(c, b, (th[2], th[1]))
            if opens and closes and not b.edge:
                reps.append(run.candidates[k] if k in run.candidates else run.provisional[k])
            else:
                where = "start" if not opens else "end"
                partial.append(_partial_from(run, k, k + 2, f"cut off by the {where} of the clip or a gap"))
        # half reps: the clip starts or ends away from the rest position, a movement away.
        # The run's edges are the extremes its first and last movements reach; a half rep
        # is also that far from the first (last) reading: legs seen rising 19.5 deg from
        # the floor and lowering 20.5 from there did not start before the clip, nor did
        # legs rising 20.5 and back down 19.5 by its end leave a movement unfinished
        start_deg = pts[0].value_deg if run.start_deg is None else run.start_deg
        end_deg = pts[-1].value_deg if run.end_deg is None else run.end_deg
        if (len(pts) >= 2 and pts[0].kind != rest_kind and abs(pts[1].value_deg - pts[0].value_deg) >= hysteresis
                and abs(pts[1].value_deg - start_deg) >= hysteresis):
            partial.append(_partial_from(run, 0, 1, "started before the clip (or a gap)"))
        if (len(pts) >= 2 and pts[-1].kind != rest_kind and abs(pts[-1].value_deg - pts[-2].value_deg) >= hysteresis
                and abs(pts[-2].value_deg - end_deg) >= hysteresis):
            partial.append(_partial_from(run, len(pts) - 2, len(pts) - 1, "not finished when the clip (or a gap) ends"))
    partial.sort(key=lambda p: p.start_s)
    return reps, partial, context.rest


def _partial_from(run: _Run, k: int, m: int, reason: str) -> PartialRep:
    """The partial rep from point k to point m of a run, with its range, deg."""
    ranges = run.pair_range[k:m]
    return PartialRep(
        run.points[k].t_s, run.points[m].t_s, min(r[0] for r in ranges), max(r[1] for r in ranges), reason
    )
