"""Tempo as a person counts it (DESIGN.md, "Tempo"): each movement from the moment the
legs leave one position to the moment they reach the other.

A natural movement starts and ends slowly, so any speed or distance threshold cuts its
slow ends off (a 4 s minimum-jerk lowering reads about 2.2 s at a threshold that noise
allows). Instead each movement is fitted, between the two still positions it joins, by
a smooth step whose shape runs from constant speed (a metronome-paced lowering) to
minimum jerk (the bell-shaped speed of unhurried human movement, Flash and Hogan
1985); the fitted step's start and end are when the legs leave and arrive. Where the
step cannot be fitted the segmentation's own times stay. This is look-ahead: offline
only; live mode counts from the moment a lowering is detected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy.optimize import least_squares

from flatback.analyse.results import Phase, RepTiming
from flatback.settings import AssessmentSettings, RepSettings

MOVEMENTS = (Phase.ASCENT, Phase.DESCENT)


def smooth_step(u: np.ndarray, shape: float) -> np.ndarray:
    """0 -> 1 over u in [0, 1]: ``shape`` 0 is constant speed, 1 minimum jerk."""
    u = np.clip(u, 0.0, 1.0)
    return (1.0 - shape) * u + shape * (10 * u**3 - 15 * u**4 + 6 * u**5)


# Candidate movement shapes: constant speed, half-and-half, minimum jerk. A free shape
# cannot be fitted: the slow ends of a smooth movement carry so little of its range that a
# shorter, steeper step fits the same samples almost as well (the ends are not
# identifiable from noisy data), so the nearest of three stated shapes is chosen instead
# (an in-between shape reads within about 15 % of its duration). Lopsided shapes (minimum
# jerk's halves, for a lowering that leaves vertical at speed out of a hip lift) were tried
# and dropped: on the labelled clips they fitted drifts and noise as slow ends (lowering
# time within 0.5 s on 88 % of labelled reps fell to 66 %).
SHAPES = (0.0, 0.5, 1.0)


def fit_step(t_s: np.ndarray, x: np.ndarray, guess: tuple[float, float]) -> tuple[float, float] | None:
    """(start_s, end_s) of the smooth step that best fits ``x`` (deg) at ``t_s``.

    ``guess``: (start_s, end_s) to start from, e.g. where the movement's middle-half line
    meets the still levels. For each shape of :data:`SHAPES` the two still levels, the
    start and the duration are fitted (robust loss: a stray frame does not move the ends);
    the shape that fits best gives the answer.
    """
    ok = np.isfinite(x)
    t, v = t_s[ok], x[ok]
    if len(t) < 8 or guess[1] <= guess[0]:
        return None
    n_edge = max(2, len(v) // 10)
    lo0, hi0 = float(np.median(v[:n_edge])), float(np.median(v[-n_edge:]))
    amp = abs(hi0 - lo0)
    if amp < 1e-6:
        return None
    span_s = float(t[-1] - t[0])
    dt = float(np.median(np.diff(t)))
    # the still levels may move a fifth of the amplitude from the edges' medians
    lower = np.array([lo0 - 0.2 * amp, hi0 - 0.2 * amp, t[0] - 0.5 * span_s, 2 * dt])
    upper = np.array([lo0 + 0.2 * amp, hi0 + 0.2 * amp, t[-1], 1.5 * span_s])
    start = np.clip([lo0, hi0, guess[0], guess[1] - guess[0]], lower + 1e-9, upper - 1e-9)
    best: tuple[float, float, float] | None = None
    for shape in SHAPES:
        def residual(p: np.ndarray, shape: float = shape) -> np.ndarray:
            a, b, t0, dur = p
            return a + (b - a) * smooth_step((t - t0) / dur, shape) - v

        try:
            fit = least_squares(residual, start, bounds=(lower, upper), loss="soft_l1", f_scale=2.0, max_nfev=200)
        except ValueError:
            continue
        if fit.success and (best is None or fit.cost < best[0]):
            best = (float(fit.cost), float(fit.x[2]), float(fit.x[2] + fit.x[3]))
    return None if best is None else (best[1], best[2])


def extreme_time(
    t_s: np.ndarray, x: np.ndarray, t0: float, t1: float, *, low: bool, last: bool = False
) -> float | None:
    """When ``x`` is lowest (``low``) or highest within [t0, t1], s: the still position a
    movement leaves or reaches; of equal extremes (the angle held at the cap) the first,
    or with ``last`` the last: the legs leave a position the last time they are at it."""
    w = np.flatnonzero((t_s >= t0) & (t_s <= t1) & np.isfinite(x))
    if not len(w):
        return None
    v = -x[w] if low else x[w]
    k = len(w) - 1 - int(np.argmax(v[::-1])) if last else int(np.argmax(v))
    return float(t_s[w[k]])


def retime(
    reps: Sequence[RepTiming], t_s: np.ndarray, leg_angle_deg: np.ndarray, rest: str,
    tempo: AssessmentSettings, pauses: RepSettings,
) -> list[RepTiming]:
    """The reps with each movement timed from leaving one position to reaching the other.
    Lying (``rest`` "floor" or "top"), movements are timed on the angle capped at
    ``tempo.tempo_top_cap_deg``: legs tipped past vertical toward the head are the pelvis
    curling up at the top, and the count of the lowering starts when they come back to
    vertical. The fit sees each movement down to ``tempo.tempo_fit_speed_frac`` of its peak
    speed on either side (:func:`_movement_core`), and its ends reach no further beyond that
    core than a minimum-jerk movement's slow ends do (:func:`slow_end_fraction`).

    A movement has begun, whatever the fit says, once the legs have left the last pause
    before it, as the rep counter has pauses (``pauses``: slower than ``pause_speed_frac``
    of its steady speed for ``min_plateau_s``; :func:`departure_s`). It has arrived where
    the fit ends (``tempo.tempo_arrival`` "fit": a slow creep after its fast part is the
    pause) or, with "extreme", once the legs are within ``pause_level_deg`` of the extreme
    they reach (:func:`arrival_s`).

    Each movement is fitted from the still position it leaves to the one it reaches (the
    extremes within ``tempo.tempo_fit_window_s`` before and after its segmentation times,
    never reaching back into the previous rep's movements); pauses are what lies between
    movements. Rep boundaries move with the movements they open.
    """
    max_pause_window_s, speed_frac = tempo.tempo_fit_window_s, tempo.tempo_fit_speed_frac
    if rest in ("floor", "top"):
        leg_angle_deg = np.minimum(leg_angle_deg, tempo.tempo_top_cap_deg)
    out = []
    prev_motion_end = -np.inf  # the previous rep's last movement: a fit never reaches back into it
    for rep in reps:
        phases = list(rep.phases)
        for k, (name, a, b) in enumerate(phases):
            if name not in MOVEMENTS:
                continue
            rising = name == Phase.ASCENT
            # the still positions are searched up to the movement's middle: the segmentation
            # times come from the uncapped angle, which leaves a hip lift later than its cap
            mid = 0.5 * (a + b)
            lo = extreme_time(t_s, leg_angle_deg, max(a - max_pause_window_s, prev_motion_end), mid, low=rising,
                              last=True)
            hi = extreme_time(t_s, leg_angle_deg, mid, b + max_pause_window_s, low=not rising)
            if lo is None or hi is None:
                continue
            w = _movement_core((t_s >= lo) & (t_s <= hi), t_s, leg_angle_deg, speed_frac, rising)
            fitted = fit_step(t_s[w], leg_angle_deg[w], (a, b))
            if fitted is None:
                continue
            # the fitted ends reach no further beyond the core than the smoothest shape's slow
            # ends do: a lowering that leaves quickly and settles slowly is fitted by a
            # symmetric step centred on its fast part, whose start would fall in the hold
            core_t = t_s[w]
            reach_s = slow_end_fraction(speed_frac) * float(core_t[-1] - core_t[0])
            s0 = max(fitted[0], lo, float(core_t[0]) - reach_s)
            s1 = min(fitted[1], hi, float(core_t[-1]) + reach_s)
            # a lowering that starts slowly and then speeds up is fitted on its fast part, but
            # the legs left the top when they left its pause
            s0 = min(s0, departure_s(t_s, leg_angle_deg, lo, float(core_t[0]), rising,
                                     pauses.pause_speed_frac * _steady_speed(core_t, leg_angle_deg[w], rising),
                                     pauses.min_plateau_s))
            if tempo.tempo_arrival == "extreme":
                s1 = max(s1, arrival_s(t_s, leg_angle_deg, s1, hi, rising, pauses.pause_level_deg))
            if s1 <= s0:
                continue
            phases[k] = (name, s0, s1)
            if k > 0:
                p, pa, _ = phases[k - 1]
                phases[k - 1] = (p, min(pa, s0), s0)
            if k + 1 < len(phases):
                q, _, qb = phases[k + 1]
                phases[k + 1] = (q, s1, max(qb, s1))
        out.append(_from_phases(rep, phases))
        prev_motion_end = max((b for name, _, b in phases if name in MOVEMENTS), default=prev_motion_end)
    # a rep ends where the next one starts (no gap between reps of one run)
    for i in range(len(out) - 1):
        if abs(reps[i].end_s - reps[i + 1].start_s) < 1e-9:
            out[i] = _from_phases(out[i], [*out[i].phases[:-1], (out[i].phases[-1][0], out[i].phases[-1][1],
                                                                    out[i + 1].start_s)])
    return out


def departure_s(
    t_s: np.ndarray, x: np.ndarray, t0: float, t1: float, rising: bool, still_deg_s: float, min_pause_s: float,
) -> float:
    """When the legs, held at ``t0``, set off on the movement whose steady part starts at
    ``t1`` (moving up if ``rising``), s: the end of the last pause between, as the
    segmentation has one at a turn: moving its way slower than ``still_deg_s`` for at least
    ``min_pause_s`` (a frame or two that slow is noise on a slow start, not a halt). ``t0``
    when the legs never paused between."""
    w = np.flatnonzero((t_s >= t0) & (t_s <= t1) & np.isfinite(x))
    if len(w) < 3:
        return t1
    t = t_s[w]
    way = 1.0 if rising else -1.0
    slow = way * np.gradient(x[w], t) < still_deg_s
    edges = np.flatnonzero(np.diff(np.r_[0, slow.astype(int), 0]))  # each run of slow samples: [first, last + 1)
    first, last = edges[::2], edges[1::2] - 1
    # the position held at t0 is a pause however short its tail
    paused = (t[last] - t[first] >= min_pause_s) | (first == 0)
    if not paused.any():
        return t0
    return float(t[min(int(last[paused][-1]) + 1, len(w) - 1)])


def arrival_s(t_s: np.ndarray, x: np.ndarray, t0: float, t1: float, rising: bool, pause_level_deg: float) -> float:
    """When the legs, moving up if ``rising`` from ``t0``, reach the extreme they hold at
    ``t1``, s: the first sample after the last one further than ``pause_level_deg`` from it
    (the rep counter's pause at a turn). ``t0`` when none is that far."""
    w = np.flatnonzero((t_s >= t0) & (t_s <= t1) & np.isfinite(x))
    if not len(w):
        return t0
    way = 1.0 if rising else -1.0
    short = np.flatnonzero(way * (x[w[-1]] - x[w]) > pause_level_deg)
    if not len(short):
        return t0
    return float(t_s[w[min(int(short[-1]) + 1, len(w) - 1)]])


def _steady_speed(t_s: np.ndarray, x: np.ndarray, rising: bool) -> float:
    """A movement's steady speed its way, deg/s: the median over its samples."""
    ok = np.isfinite(x)
    if ok.sum() < 3:
        return 0.0
    way = 1.0 if rising else -1.0
    return float(np.median(way * np.gradient(x[ok], t_s[ok])))


def slow_end_fraction(speed_frac: float) -> float:
    """How long a minimum-jerk movement stays slower than ``speed_frac`` of its peak speed
    at each end, as a fraction of the time it is faster (its core): at fraction u of its
    time its speed is 16 (u (1 - u))**2 of its peak, so each slow end lasts
    u = (1 - sqrt(1 - sqrt(speed_frac))) / 2 of the whole; 0.139 of the core at 15 %."""
    u = 0.5 * (1.0 - np.sqrt(1.0 - np.sqrt(speed_frac)))
    return float(u / (1.0 - 2.0 * u))


def _movement_core(
    window: np.ndarray, t_s: np.ndarray, x: np.ndarray, speed_frac: float, rising: bool,
) -> np.ndarray:
    """``window`` (bool mask) narrowed to the movement's core: the contiguous stretch moving
    the movement's way (up if ``rising``) faster than ``speed_frac`` of its own peak speed
    that carries the most of the movement's range.

    A smooth movement is slower than 15 % of its peak only in its first and last 11 % of
    time (minimum jerk), where it has covered about 1 % of its range: the fitted shape
    extrapolates those ends. A slow drift after the legs arrive (the heel settling through
    a dead bug's hold, the legs sinking during a bottom pause) is slower still and is the
    pause, not the movement; inside a still window it would drag the fitted end late.
    The core is chosen by the range it covers, not by its fastest sample: a frame-to-frame
    jump of the pose (a misread leg at a clip's first frames, a caption passing over the
    legs) can be faster than the whole lowering while covering less of it.
    """
    idx = np.flatnonzero(window & np.isfinite(x))
    if len(idx) < 8:
        return window
    tt, xx = t_s[idx], x[idx]
    way = 1.0 if rising else -1.0
    speed = way * np.gradient(xx, tt)  # of the cleaned (low-pass filtered) angle; > 0 moving the movement's way
    # each local peak of speed grown to the stretch faster than speed_frac of it, kept if it
    # is that stretch's fastest (a slower bump's stretch holds the movement it rides on): a
    # stray jump's speed must not set the threshold the real movement is cut at
    before, after = np.r_[-np.inf, speed[:-1]], np.r_[speed[1:], -np.inf]
    peaks = np.flatnonzero((speed > 0) & (speed >= before) & (speed >= after))
    best: tuple[float, int, int] | None = None
    for k in peaks:
        i0, i1 = _grow(speed, int(k), speed_frac)
        if speed[k] < np.max(speed[i0 : i1 + 1]):
            continue
        travel = way * float(xx[i1] - xx[i0])
        if best is None or travel > best[0]:
            best = (travel, i0, i1)
    if best is None or best[2] - best[1] < 4:  # too few samples to fit a shape to: the whole window
        return window
    _, i0, i1 = best
    core = np.zeros_like(window)
    core[idx[max(i0 - 1, 0)] : idx[min(i1 + 1, len(idx) - 1)] + 1] = True
    return core & window


def _grow(speed: np.ndarray, peak: int, speed_frac: float) -> tuple[int, int]:
    """The contiguous stretch around ``peak`` faster than ``speed_frac`` of its speed."""
    fast = speed >= speed_frac * speed[peak]
    i0 = i1 = peak
    while i0 > 0 and fast[i0 - 1]:
        i0 -= 1
    while i1 < len(speed) - 1 and fast[i1 + 1]:
        i1 += 1
    return i0, i1


def _from_phases(rep: RepTiming, phases: list[tuple[Phase, float, float]]) -> RepTiming:
    spans = {Phase(name): b - a for name, a, b in phases}
    return replace(
        rep,
        phases=tuple((Phase(n), float(a), float(b)) for n, a, b in phases),
        start_s=float(phases[0][1]),
        end_s=float(phases[-1][2]),
        descent_s=float(spans.get(Phase.DESCENT, rep.descent_s)),
        ascent_s=float(spans.get(Phase.ASCENT, rep.ascent_s)),
        pause_top_s=float(max(spans.get(Phase.TOP, rep.pause_top_s), 0.0)),
        pause_bottom_s=float(max(spans.get(Phase.BOTTOM, rep.pause_bottom_s), 0.0)),
    )
