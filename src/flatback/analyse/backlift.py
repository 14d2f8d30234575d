"""Back lift and end range: when the lower back leaves the floor, and at which leg angle.

DESIGN.md, "Back lift": clearance above the person's own flat-back baseline (taken with
the legs up) by a margin, for long enough. The leg angle at the onset is the rep's end
range: the number physiotherapists measure with a pressure cuff in the
double-leg-lowering test. A rep whose back never lifts has end range = its lowest angle.

Where the underside is hidden (an arm, a raised camera) the state is "occluded", never
flat or lifted; the waist's top contour may still suggest a lift, reported separately
as a secondary cue with a lower confidence.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flatback.analyse.results import (
    AssessedRep,
    BackState,
    Baseline,
    EndRange,
    EndRangeMethod,
    Phase,
    RepBack,
    RepTiming,
    SecondaryBackCue,
)
from flatback.measure.clearance import Clearance, ClearanceStatus
from flatback.settings import BackLiftSettings

OCCLUDING = {ClearanceStatus.ARM, ClearanceStatus.CAMERA_HIGH, ClearanceStatus.RAGGED_MASK, ClearanceStatus.OBLIQUE}
SEEN = (BackState.FLAT, BackState.LIFTED)


@dataclass(frozen=True)
class LiftEpisode:
    onset_i: int
    end_i: int
    onset_s: float
    onset_leg_angle_deg: float
    peak_clearance_ratio: float


@dataclass(frozen=True)
class BackTrack:
    """Per-frame back state and the lift episodes of a clip."""

    clearance_ratio: np.ndarray  # (N,) smoothed, NaN where not measured
    state: np.ndarray  # (N,) object array of BackState
    baseline: Baseline | None
    episodes: list[LiftEpisode]
    secondary_lifted: np.ndarray  # (N,) bool: the waist contour rose (underside hidden)
    min_rise_ratio: float = 0.0  # the smallest rise the walk-back counts: onset_min_rise_px, torso lengths


def onset_leave_level(reference: float, baseline: Baseline, min_rise_ratio: float, settings: BackLiftSettings) -> float:
    """Clearance (torso lengths) above which the back has left its flat reference: the
    reference (or the baseline, if higher) plus ``onset_leave_fraction`` of the margin,
    and at least ``min_rise_ratio`` (the measurement's resolution, ``onset_min_rise_px``)."""
    return max(reference, baseline.clearance_ratio) + max(settings.onset_leave_fraction * baseline.margin_ratio,
                                                           min_rise_ratio)


def rolling_median(t_s: np.ndarray, x: np.ndarray, window_s: float) -> np.ndarray:
    """Median of the finite samples within ``window_s`` around each finite sample."""
    out = np.full(len(x), np.nan)
    half = window_s / 2
    lo = np.searchsorted(t_s, t_s - half)
    hi = np.searchsorted(t_s, t_s + half, side="right")
    for i in np.flatnonzero(np.isfinite(x)):
        w = x[lo[i] : hi[i]]
        out[i] = np.median(w[np.isfinite(w)])
    return out


def flat_baseline(
    t_s: np.ndarray, clearance: np.ndarray, leg_angle_deg: np.ndarray, torso_px: float, settings: BackLiftSettings
) -> Baseline | None:
    """The flat-back clearance from frames with the legs up (set-up position).

    Its lower quartile, not its median: someone who arches even at the top (and never
    presses the back down) would otherwise set a baseline that hides every lift. Falls
    back to the lowest tenth of all readings when the legs are never that high. The
    noise is the frame-to-frame jitter of the reading; the margin a lift must exceed is
    the largest of ``margin_ratio``, ``margin_noise_k`` times the jitter, and
    ``min_margin_px`` (the mask's pixel steps).
    """
    measured = np.isfinite(clearance)
    if measured.sum() < 3:
        return None
    legs_up = measured & (leg_angle_deg >= settings.baseline_min_leg_angle_deg)
    is_legs_up = bool(legs_up.sum() >= settings.baseline_min_frames)
    if is_legs_up:
        level = float(np.percentile(clearance[legs_up], settings.baseline_percentile))
        frames = int(legs_up.sum())
    else:
        level = float(np.percentile(clearance[measured], settings.fallback_percentile))
        frames = int(measured.sum())
    steps = np.diff(clearance)
    steps = steps[np.isfinite(steps)]
    noise = float(1.4826 * np.median(np.abs(steps)) / np.sqrt(2)) if len(steps) else 0.0
    margin = max(settings.margin_ratio, settings.margin_noise_k * noise, settings.min_margin_px / torso_px)
    return Baseline(level, noise, margin, is_legs_up, frames)


def lift_episodes(
    t_s: np.ndarray, clearance: np.ndarray, leg_angle_deg: np.ndarray, baseline: Baseline, settings: BackLiftSettings,
    min_rise_ratio: float = 0.0,
) -> list[LiftEpisode]:
    """Stretches where the clearance stays above baseline + margin for ``min_lift_s``.

    The onset is walked back from the first clear exceedance to where the clearance
    left the baseline (:func:`onset_leave_level`: a quarter of the margin above it, and
    at least ``min_rise_ratio``): the moment the back began to rise, not the moment the
    rise became certain.
    """
    above = np.isfinite(clearance) & (clearance > baseline.clearance_ratio + baseline.margin_ratio)
    episodes = []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], above.astype(np.int8), [0]))))
    for a, b in zip(edges[::2], edges[1::2]):
        if t_s[b - 1] - t_s[a] < settings.min_lift_s:
            continue
        onset = a
        leave = onset_leave_level(baseline.clearance_ratio, baseline, min_rise_ratio, settings)
        while onset > 0 and np.isfinite(clearance[onset - 1]) and clearance[onset - 1] > leave:
            onset -= 1
        episodes.append(
            LiftEpisode(
                onset_i=int(onset),
                end_i=int(b - 1),
                onset_s=float(t_s[onset]),
                onset_leg_angle_deg=float(leg_angle_deg[onset]),
                peak_clearance_ratio=float(np.nanmax(clearance[a:b])),
            )
        )
    return episodes


def track_back(
    t_s: np.ndarray, clearance: Clearance, leg_angle_deg: np.ndarray, torso_px: float,
    settings: BackLiftSettings | None = None,
) -> BackTrack:
    """Per-frame state (flat, lifted, occluded, unknown) and lift episodes of a clip."""
    settings = settings or BackLiftSettings()
    smooth = rolling_median(t_s, clearance.ratio, settings.smooth_s)
    baseline = flat_baseline(t_s, smooth, leg_angle_deg, torso_px, settings)
    n = len(t_s)
    state = np.full(n, BackState.UNKNOWN, dtype=object)
    status = clearance.status
    occluded = np.isin(status, [int(s) for s in OCCLUDING])
    state[occluded] = BackState.OCCLUDED
    episodes: list[LiftEpisode] = []
    min_rise = settings.onset_min_rise_px / torso_px if np.isfinite(torso_px) and torso_px > 0 else 0.0
    if baseline is not None:
        measured = np.isfinite(smooth)
        state[measured] = BackState.FLAT
        episodes = lift_episodes(t_s, smooth, leg_angle_deg, baseline, settings, min_rise)
        for ep in episodes:
            span = slice(ep.onset_i, ep.end_i + 1)
            state[span] = np.where(measured[span], BackState.LIFTED, state[span])
    secondary = secondary_lift(clearance.waist_ratio, leg_angle_deg, occluded, settings)
    return BackTrack(smooth, state, baseline, episodes, secondary, min_rise)


def secondary_lift(
    waist_ratio: np.ndarray, leg_angle_deg: np.ndarray, hidden: np.ndarray, settings: BackLiftSettings
) -> np.ndarray:
    """(N,) bool: where the underside is hidden, the waist's top contour rose above its
    legs-up baseline by ``secondary_margin_ratio`` with the legs low (a weaker sign)."""
    out = np.zeros(len(waist_ratio), bool)
    up = np.isfinite(waist_ratio) & (leg_angle_deg >= settings.baseline_min_leg_angle_deg)
    if up.sum() < 5:
        return out
    base = float(np.median(waist_ratio[up]))
    low = leg_angle_deg < settings.baseline_min_leg_angle_deg
    return hidden & low & np.isfinite(waist_ratio) & (waist_ratio > base + settings.secondary_margin_ratio)


def descent_onset(
    t_s: np.ndarray, clearance: np.ndarray, leg_angle_deg: np.ndarray, rep: RepTiming, baseline: Baseline,
    settings: BackLiftSettings, min_rise_ratio: float = 0.0,
) -> tuple[float, float] | None:
    """(onset_s, leg angle deg) where the back starts to rise while the legs go down.

    Within the rep's lowering (and the pause after it), the reference is the flattest
    reading before the back's highest point; the onset is where the clearance left that
    reference (or the baseline, if higher: a reading that flickers below the flat level is
    no reference) on its way to exceeding it by the margin, by at least ``min_rise_ratio``
    (torso lengths: the outline's resolution). A back that never fully flattens between
    reps still gets the onset of this rep's rise.
    """
    descent = rep.phase_span(Phase.DESCENT)
    if descent is None:
        return None
    d0 = descent[0] - settings.onset_lead_s
    d1 = (rep.phase_span(Phase.BOTTOM) or descent)[1]
    idx = np.flatnonzero((t_s >= d0) & (t_s <= d1) & np.isfinite(clearance))
    if len(idx) < 3:
        return None
    c = clearance[idx]
    k_peak = int(np.argmax(c))
    k_ref = int(np.argmin(c[: k_peak + 1]))
    ref = float(c[k_ref])
    high = max(ref, baseline.clearance_ratio) + baseline.margin_ratio
    above = np.flatnonzero(c[k_ref : k_peak + 1] > high)
    if not len(above):
        return None
    k = k_ref + int(above[0])
    leave = onset_leave_level(ref, baseline, min_rise_ratio, settings)
    while k > k_ref and c[k - 1] > leave:
        k -= 1
    i = int(idx[k])
    return float(t_s[i]), float(leg_angle_deg[i])


def rep_back(
    rep: RepTiming, t_s: np.ndarray, back: BackTrack, leg_angle_deg: np.ndarray, settings: BackLiftSettings
) -> RepBack:
    """The back during one rep: lifted (with its onset and end range), flat, occluded or unknown."""
    w = (t_s >= rep.start_s) & (t_s <= rep.end_s)
    states = back.state[w]
    if not len(states):
        return RepBack(BackState.UNKNOWN)
    measured = float(np.isin(states, SEEN).mean())
    peak = back.clearance_ratio[w]
    peak_val = float(np.nanmax(peak)) if np.isfinite(peak).any() else None
    secondary = SecondaryBackCue.WAIST_ROSE if back.secondary_lifted[w].any() else None
    scale = 1.0 if back.baseline is None or back.baseline.legs_up else settings.no_legs_up_confidence
    confidence = round(measured * scale, 3)
    if (states == BackState.LIFTED).any() and back.baseline is not None:
        onset = descent_onset(t_s, back.clearance_ratio, leg_angle_deg, rep, back.baseline, settings,
                              back.min_rise_ratio)
        if onset is None:  # lifted, but not while lowering (already up, or on the way up)
            return RepBack(BackState.LIFTED, None, None, None, measured, peak_val, None, confidence)
        return RepBack(BackState.LIFTED, onset[0], onset[1], onset[1], measured, peak_val, None, confidence)
    if measured >= settings.rep_min_measured_fraction:
        # the end range is the lowest angle at which the back was actually seen flat
        seen_flat = w & (back.state == BackState.FLAT) & np.isfinite(leg_angle_deg)
        lowest = float(max(np.min(leg_angle_deg[seen_flat]), 0.0)) if seen_flat.any() else None
        return RepBack(BackState.FLAT, None, None, lowest, measured, peak_val, secondary, confidence)
    occluded = float((states == BackState.OCCLUDED).mean())
    state = BackState.OCCLUDED if occluded >= settings.rep_occluded_fraction else BackState.UNKNOWN
    return RepBack(state, None, None, None, measured, peak_val, secondary, 0.0)


def session_end_range(reps: Sequence[AssessedRep]) -> EndRange:
    """The session's end range (DESIGN.md): the median onset over the reps whose back
    lifted, else the lowest angle seen flat (an upper bound), else not seen."""
    onsets = [r.back.onset_leg_angle_deg for r in reps if r.back.state is BackState.LIFTED
              and r.back.onset_leg_angle_deg is not None]
    if onsets:
        return EndRange(float(np.median(onsets)), EndRangeMethod.BACK_LIFT_ONSET, len(onsets))
    flat = [r.back.end_range_deg for r in reps if r.back.state is BackState.FLAT and r.back.end_range_deg is not None]
    if flat:
        return EndRange(float(min(flat)), EndRangeMethod.LOWEST_FLAT, len(flat))
    if reps:
        return EndRange(None, EndRangeMethod.BACK_NOT_SEEN)
    return EndRange(None, EndRangeMethod.NOT_MEASURED)


# --- streaming: the back, frame by frame ------------------------------------------------


@dataclass(frozen=True)
class BackReading:
    """The back at one frame (live).

    ``state``: "flat", "lifted", "occluded" or "unknown" (no reading, or no baseline
    yet). ``clearance_ratio``: the causal rolling median of the lumbar clearance, torso
    lengths (NaN when not measured). ``baseline_ratio`` / ``margin_ratio``: the flat
    level so far and the rise above it that is a lift, torso lengths (NaN before there
    is one). ``onset_s`` / ``onset_leg_angle_deg``: where the current lift began (s,
    deg), None unless lifted.
    """

    state: BackState
    clearance_ratio: float
    baseline_ratio: float
    margin_ratio: float
    onset_s: float | None = None
    onset_leg_angle_deg: float | None = None


class BackTracker:
    """Back lift, one frame at a time (DESIGN.md, "Back lift"; the rules of
    :func:`track_back` with what has been seen so far).

    ``update(t_s, clearance_ratio, status, leg_angle_deg, torso_px)`` smooths the
    clearance with a trailing median over ``smooth_s``; the baseline is the lower
    quartile of the readings with the legs above ``baseline_min_leg_angle_deg`` so far
    (at least 5), else the lowest tenth of all readings (at least 3); a lift is the
    clearance above baseline + margin for ``min_lift_s``, its onset walked back to where
    the clearance rose above a quarter of the margin (and ``onset_min_rise_px``).
    ``reset()`` starts again.
    """

    def __init__(self, settings: BackLiftSettings | None = None):
        self.settings = settings or BackLiftSettings()
        self.reset()

    def reset(self) -> None:
        self._window: list[tuple[float, float]] = []  # (t_s, clearance) of the last smooth_s
        # sorted, so a percentile is an index: np.percentile's linear rule without a sort per frame
        self._legs_up: list[float] = []  # smoothed readings with the legs up
        self._all: list[float] = []  # every smoothed reading
        self._steps: list[float] = []  # |frame-to-frame change| of the smoothed reading
        self._last: float | None = None
        self._above_since: float | None = None  # first time above baseline + margin (this stretch)
        self._left_at: tuple[float, float] | None = None  # (t_s, leg deg) the reading left the baseline

    def update(
        self, t_s: float, clearance_ratio: float, status: int, leg_angle_deg: float, torso_px: float
    ) -> BackReading:
        """One frame: raw clearance (torso lengths, NaN if not measured), its
        :class:`ClearanceStatus`, the leg angle (deg) and the torso length (px)."""
        s = self.settings
        smooth = self._smooth(t_s, clearance_ratio)
        if np.isfinite(smooth):
            insort(self._all, smooth)
            if np.isfinite(leg_angle_deg) and leg_angle_deg >= s.baseline_min_leg_angle_deg:
                insort(self._legs_up, smooth)
            if self._last is not None:
                insort(self._steps, abs(smooth - self._last))
            self._last = smooth
        else:
            self._last = None
        base, margin = self._baseline(torso_px)
        if int(status) in {int(o) for o in OCCLUDING}:
            self._above_since = self._left_at = None
            return BackReading(BackState.OCCLUDED, smooth, base, margin)
        if not (np.isfinite(smooth) and np.isfinite(base)):
            self._above_since = self._left_at = None
            return BackReading(BackState.UNKNOWN, smooth, base, margin)
        px = s.onset_min_rise_px / torso_px if np.isfinite(torso_px) and torso_px > 0 else 0.0
        if smooth > base + max(s.onset_leave_fraction * margin, px):
            if self._left_at is None:
                self._left_at = (t_s, leg_angle_deg)
        else:
            self._left_at = None
        if smooth > base + margin:
            self._above_since = t_s if self._above_since is None else self._above_since
            if t_s - self._above_since >= s.min_lift_s and self._left_at is not None:
                onset_s, onset_deg = self._left_at
                return BackReading(BackState.LIFTED, smooth, base, margin, onset_s, float(onset_deg))
        else:
            self._above_since = None
        return BackReading(BackState.FLAT, smooth, base, margin)

    def _smooth(self, t_s: float, x: float) -> float:
        """Median of the finite readings of the last ``smooth_s``; NaN when x is NaN."""
        self._window.append((t_s, x))
        while self._window and self._window[0][0] < t_s - self.settings.smooth_s:
            self._window.pop(0)
        if not np.isfinite(x):
            return float("nan")
        return float(np.median([v for _, v in self._window if np.isfinite(v)]))

    def _baseline(self, torso_px: float) -> tuple[float, float]:
        """(flat level, margin), torso lengths; NaN while fewer than 3 readings."""
        s = self.settings
        if len(self._all) < 3:
            return float("nan"), float("nan")
        if len(self._legs_up) >= self.settings.baseline_min_frames:
            level = _sorted_percentile(self._legs_up, self.settings.baseline_percentile)
        else:
            level = _sorted_percentile(self._all, self.settings.fallback_percentile)
        noise = float(1.4826 * _sorted_percentile(self._steps, 50) / np.sqrt(2)) if self._steps else 0.0
        px = s.min_margin_px / torso_px if np.isfinite(torso_px) and torso_px > 0 else 0.0
        return level, max(s.margin_ratio, s.margin_noise_k * noise, px)


def _sorted_percentile(values: list[float], q: float) -> float:
    """The q-th percentile of already sorted values (np.percentile's linear rule)."""
    pos = q / 100 * (len(values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)
