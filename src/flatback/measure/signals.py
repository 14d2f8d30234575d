"""Signal cleaning: gaps, outliers, low-pass; zero-phase offline, causal frame by frame.

Samples arrive at the video's (possibly variable) timestamps ``t_s``; filters that
need a uniform rate resample onto one and back. Missing data is NaN and stays NaN
beyond ``max_gap_s``: a long gap is reported, never invented.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from flatback.measure.geometry import BodyGeometry
from flatback.settings import SignalSettings


def finite_runs(x: np.ndarray, breaks: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Index ranges [start, stop) of consecutive finite samples, also split where
    ``breaks`` (N,) is True (a cut between frame i-1 and frame i)."""
    ok = np.isfinite(x).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok, [0]))))
    runs = list(zip(edges[::2], edges[1::2]))
    if breaks is None or not breaks.any():
        return runs
    out = []
    for start, stop in runs:
        cuts = [i for i in np.flatnonzero(breaks[start + 1 : stop]) + start + 1]
        for a, b in zip([start, *cuts], [*cuts, stop]):
            out.append((int(a), int(b)))
    return out


def fill_gaps(t_s: np.ndarray, x: np.ndarray, max_gap_s: float, breaks: np.ndarray | None = None) -> np.ndarray:
    """Linearly interpolate interior NaN gaps no longer than ``max_gap_s``, s, never
    across a cut (``breaks``)."""
    out = x.astype(float).copy()
    runs = finite_runs(out)
    for (_, stop), (start, _) in zip(runs, runs[1:]):
        a, b = stop - 1, start  # last finite before the gap, first finite after it
        if breaks is not None and breaks[a + 1 : b + 1].any():
            continue
        if t_s[b] - t_s[a] <= max_gap_s:
            out[a + 1 : b] = np.interp(t_s[a + 1 : b], [t_s[a], t_s[b]], [out[a], out[b]])
    return out


def reject_outliers(
    t_s: np.ndarray, x: np.ndarray, window_s: float, n_mads: float, min_dev: float,
    breaks: np.ndarray | None = None,
) -> np.ndarray:
    """Hampel-style filter: samples far from their local level become NaN.

    The local level is the median over ``window_s`` centred on the sample, which follows
    the movement; the noise scale is the clip's median absolute residual, so a fast
    movement does not hide a spike. The window stays inside the sample's stretch of
    readings, which a cut (``breaks``) or missing frames end (more than a quarter window of
    them: a frame or two missed leave the window nearly whole). Within half a window of
    either end of a stretch a centred window does not fit: there the window lies inside
    the stretch and the local level is its robust line (Theil-Sen) at the sample's time.
    A median of a window cut off on one side lags a moving sample by a quarter of the
    window, so a fast movement into a clip's last frames (a clip trimmed mid-rep, a
    sped-up edit), or next to frames the pose model missed, would read as a spike and be
    lost.
    """
    out = x.astype(float).copy()
    half = window_s / 2
    first = np.zeros(len(x), int)  # each sample's stretch: [first, last] indices
    last = np.full(len(x), -1)
    for start, stop in _stretches(t_s, x, breaks, max_gap_s=window_s / 4):
        first[start:stop], last[start:stop] = start, stop - 1
    local = np.full(len(x), np.nan)
    for i in np.flatnonzero(np.isfinite(x)):
        a = max(int(np.searchsorted(t_s, t_s[i] - half)), first[i])
        b = min(int(np.searchsorted(t_s, t_s[i] + half, side="right")), last[i] + 1)
        at_end = t_s[i] - t_s[first[i]] < half or t_s[last[i]] - t_s[i] < half
        if at_end:  # the whole window inside the stretch, judged against its line
            if t_s[i] - t_s[first[i]] < half:
                b = min(int(np.searchsorted(t_s, t_s[first[i]] + window_s, side="right")), last[i] + 1)
            else:
                a = max(int(np.searchsorted(t_s, t_s[last[i]] - window_s)), first[i])
        seen = np.isfinite(x[a:b])
        if seen.sum() < 3:
            continue
        tw, xw = t_s[a:b][seen], x[a:b][seen]
        local[i] = _theil_sen_at(tw, xw, t_s[i]) if at_end else np.median(xw)
    residual = np.abs(x - local)
    if not np.isfinite(residual).any():
        return out
    scale = 1.4826 * np.nanmedian(residual)
    out[residual > max(n_mads * scale, min_dev)] = np.nan
    return out


def _stretches(t_s: np.ndarray, x: np.ndarray, breaks: np.ndarray | None, max_gap_s: float) -> list[tuple[int, int]]:
    """Index ranges [start, stop) of readings taken together: the finite runs, split at
    cuts, joined across gaps of at most ``max_gap_s`` (a frame or two the pose model
    missed, which leave a window nearly whole)."""
    out: list[tuple[int, int]] = []
    for start, stop in finite_runs(x, breaks):
        prev = out[-1] if out else None
        if (prev is not None and t_s[start] - t_s[prev[1] - 1] <= max_gap_s
                and (breaks is None or not breaks[prev[1] : start + 1].any())):
            out[-1] = (prev[0], stop)
        else:
            out.append((start, stop))
    return out


def _theil_sen_at(t_s: np.ndarray, x: np.ndarray, at_s: float) -> float:
    """The Theil-Sen line through (t_s, x) (median of pairwise slopes, median intercept)
    at time ``at_s``: robust to a spike in up to about 29 % of the samples."""
    i, j = np.triu_indices(len(t_s), k=1)
    dt = t_s[j] - t_s[i]
    slope = float(np.median((x[j] - x[i])[dt > 0] / dt[dt > 0])) if (dt > 0).any() else 0.0
    return float(np.median(x - slope * t_s) + slope * at_s)


def lowpass_zero_phase(t_s: np.ndarray, x: np.ndarray, cutoff_hz: float, breaks: np.ndarray | None = None) -> np.ndarray:
    """Second-order Butterworth low-pass run forwards and backwards (no lag).

    Each finite run (split at ``breaks``) is resampled to a uniform grid at its finer
    frame intervals (the 10th percentile: a video posed more often while the legs move,
    ``pose/sampling.py``, keeps its fast movements' samples), filtered and sampled back at
    ``t_s``. Runs too short to filter are left as they are.
    """
    out = x.astype(float).copy()
    for start, stop in finite_runs(x, breaks):
        tt, xx = t_s[start:stop], x[start:stop]
        if len(tt) < 8:
            continue
        dt = float(np.percentile(np.diff(tt), 10))
        fs = 1.0 / dt
        if cutoff_hz >= 0.45 * fs:
            continue
        grid = np.arange(tt[0], tt[-1] + dt / 2, dt)
        sos = butter(2, cutoff_hz, fs=fs, output="sos")
        padlen = min(3 * 5, len(grid) - 1)
        smooth = sosfiltfilt(sos, np.interp(grid, tt, xx), padlen=padlen)
        out[start:stop] = np.interp(tt, grid, smooth)
    return out


def derivative(t_s: np.ndarray, x: np.ndarray, breaks: np.ndarray | None = None) -> np.ndarray:
    """Rate of change per second (central differences on uneven time), NaN-aware."""
    out = np.full(len(x), np.nan)
    for start, stop in finite_runs(x, breaks):
        if stop - start >= 2:
            out[start:stop] = np.gradient(x[start:stop], t_s[start:stop])
    return out


def despike(t_s: np.ndarray, x: np.ndarray, settings: SignalSettings, breaks: np.ndarray | None = None) -> np.ndarray:
    """Outliers out and short gaps filled: the offline chain before its low-pass."""
    x = reject_outliers(t_s, x, settings.outlier_window_s, settings.outlier_mads, settings.outlier_min_deg, breaks)
    return fill_gaps(t_s, x, settings.max_gap_s, breaks)


def clean_offline(
    t_s: np.ndarray, x: np.ndarray, settings: SignalSettings, breaks: np.ndarray | None = None
) -> np.ndarray:
    """Outliers out, short gaps filled, zero-phase low-pass: the offline chain, never
    smoothing or filling across a cut (``breaks``)."""
    return lowpass_zero_phase(t_s, despike(t_s, x, settings, breaks), settings.lowpass_hz, breaks)


class OneEuroFilter:
    """Causal low-pass for frame-by-frame use (Casiez et al., 2012).

    Adapts its cut-off to the speed: steady at rest, little lag when moving. Handles
    uneven frame intervals; a NaN input is passed through and does not disturb the state.
    """

    def __init__(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float = 1.0):
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self.reset()

    def reset(self) -> None:
        self._t: float | None = None
        self._x = 0.0
        self._dx = 0.0

    @staticmethod
    def _alpha(dt: float, cutoff_hz: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff_hz)
        return 1.0 / (1.0 + tau / dt)

    def update(self, t_s: float, x: float) -> float:
        """Filtered value at ``t_s`` given the new sample ``x``."""
        if not math.isfinite(x):
            return math.nan
        if self._t is None or t_s <= self._t:
            self._t, self._x, self._dx = t_s, x, 0.0
            return x
        dt = t_s - self._t
        dx = (x - self._x) / dt
        self._dx += self._alpha(dt, self.d_cutoff_hz) * (dx - self._dx)
        cutoff = self.min_cutoff_hz + self.beta * abs(self._dx)
        self._x += self._alpha(dt, cutoff) * (x - self._x)
        self._t = t_s
        return self._x


def clean_causal(t_s: np.ndarray, x: np.ndarray, settings: SignalSettings) -> np.ndarray:
    """The frame-by-frame chain applied to a whole array (what live mode would see)."""
    f = OneEuroFilter(settings.causal_min_cutoff_hz, settings.causal_beta)
    return np.array([f.update(float(t), float(v)) for t, v in zip(t_s, x)])


@dataclass(frozen=True)
class SignalSet:
    """Cleaned per-frame signals, each (N,), NaN where missing beyond ``max_gap_s``.

    ``leg_angle_raw_deg`` is the geometry's value before cleaning; ``leg_speed_deg_s``
    the rate of change of the cleaned leg angle (positive = legs rising); ``breaks``
    (N,) bool marks a cut between frame i-1 and i (nothing is measured across it).
    ``leg_angle_left_deg`` / ``_right_deg``: each leg's angle, cleaned (one-leg variations);
    ``legs_lower_deg`` / ``_higher_deg``: the lower (higher) of the two legs, frame by frame,
    cleaned after it is taken (:func:`clean_pair_extreme`): a one-leg variation's working leg.
    ``thigh_left_deg`` / ``_right_deg``: each thigh's angle (hip to knee), cleaned: whether a
    movement of the leg reading moved the hip (:class:`~flatback.analyse.reps.RepTracker`).
    """

    t_s: np.ndarray
    breaks: np.ndarray
    leg_angle_raw_deg: np.ndarray
    leg_angle_deg: np.ndarray
    leg_speed_deg_s: np.ndarray
    leg_angle_left_deg: np.ndarray
    leg_angle_right_deg: np.ndarray
    knee_flexion_deg: np.ndarray
    hip_flexion_deg: np.ndarray
    trunk_angle_deg: np.ndarray
    head_angle_deg: np.ndarray
    hip_height_ratio: np.ndarray
    legs_lower_deg: np.ndarray
    legs_higher_deg: np.ndarray
    thigh_left_deg: np.ndarray | None = None  # None: not measured (live mode's per-rep judging)
    thigh_right_deg: np.ndarray | None = None

    def leg_angle_for(self, side: str | None) -> np.ndarray:
        """The leg angle a rep was segmented on: one leg's (``"left"``/``"right"``) or both's, deg."""
        if side is None:
            return self.leg_angle_deg
        return self.leg_angle_left_deg if side == "left" else self.leg_angle_right_deg

    @property
    def thighs_deg(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(left, right) thigh angles, deg, or None when not measured."""
        if self.thigh_left_deg is None or self.thigh_right_deg is None:
            return None
        return self.thigh_left_deg, self.thigh_right_deg

    def coverage(self) -> float:
        """Fraction of frames with a leg angle after cleaning."""
        return float(np.isfinite(self.leg_angle_deg).mean()) if len(self.t_s) else 0.0


def compute_signals(geometry: BodyGeometry, settings: SignalSettings | None = None) -> SignalSet:
    """Clean every geometry signal with the offline chain."""
    settings = settings or SignalSettings()
    t = geometry.t_s

    breaks = geometry.cut

    def clean(x: np.ndarray) -> np.ndarray:
        return clean_offline(t, x, settings, breaks)

    leg = clean(geometry.leg_angle_deg)
    # each leg despiked once: its own cleaned angle and the pair's lower and higher
    left, right = (despike(t, x, settings, breaks) for x in (geometry.leg_angle_left_deg, geometry.leg_angle_right_deg))
    return SignalSet(
        t_s=t,
        breaks=breaks,
        leg_angle_raw_deg=geometry.leg_angle_deg,
        leg_angle_deg=leg,
        leg_speed_deg_s=derivative(t, leg, breaks),
        leg_angle_left_deg=lowpass_zero_phase(t, left, settings.lowpass_hz, breaks),
        leg_angle_right_deg=lowpass_zero_phase(t, right, settings.lowpass_hz, breaks),
        knee_flexion_deg=clean(geometry.knee_flexion_deg),
        hip_flexion_deg=clean(geometry.hip_flexion_deg),
        trunk_angle_deg=clean(geometry.trunk_angle_deg),
        head_angle_deg=clean(geometry.head_angle_deg),
        hip_height_ratio=clean(geometry.hip_height_ratio),
        legs_lower_deg=clean_pair_extreme(t, left, right, np.fmin, settings, breaks),
        legs_higher_deg=clean_pair_extreme(t, left, right, np.fmax, settings, breaks),
        thigh_left_deg=clean(geometry.thigh_left_deg),
        thigh_right_deg=clean(geometry.thigh_right_deg),
    )


def clean_pair_extreme(
    t_s: np.ndarray, a: np.ndarray, b: np.ndarray, pick: Callable[[np.ndarray, np.ndarray], np.ndarray],
    settings: SignalSettings, breaks: np.ndarray | None = None,
) -> np.ndarray:
    """``pick`` (np.fmin or np.fmax) of two legs' readings, each already despiked
    (:func:`despike`: outliers out, short gaps filled), and then the offline chain
    (:func:`clean_offline`) on the pick.

    The pose model's left/right swaps exchange the two readings, which leaves their
    lower and higher unchanged but for the few frames the readings take to cross: a
    spike the outlier filter takes out. Low-passed leg by leg first, a swap becomes two
    crossing ramps, and their lower reads a bump halfway between the legs (a dead bug's
    legs at 1 and 64 deg read a 22 deg bump, an extra rep). Each leg's outliers go and its
    gaps are filled before the pick, as live mode's spike gate and wait do: a leg missing
    for a moment (or spiking) is its own neighbours' reading, not replaced by the other leg.
    """
    return clean_offline(t_s, pick(a, b), settings, breaks)
