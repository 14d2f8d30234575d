"""Signal cleaning: gap filling, outliers, zero-phase and causal low-pass."""

from __future__ import annotations

import numpy as np
import pytest

from flatback.analyse.reps import segment_reps
from flatback.analyse.results import Rest
from flatback.measure.signals import (
    OneEuroFilter,
    clean_causal,
    clean_offline,
    clean_pair_extreme,
    derivative,
    despike,
    fill_gaps,
    lowpass_zero_phase,
    reject_outliers,
)
from flatback.pipeline.live import _WorkingLeg
from flatback.settings import Settings, SignalSettings


def test_fill_gaps_fills_short_gaps_only():
    t = np.arange(0, 3, 0.1)
    x = t * 10.0
    x[5:8] = np.nan  # 0.4 s from last to next sample: filled
    x[15:25] = np.nan  # 1.1 s: left missing
    out = fill_gaps(t, x, max_gap_s=0.5)
    np.testing.assert_allclose(out[5:8], t[5:8] * 10)
    assert np.isnan(out[15:25]).all()


def test_reject_outliers_removes_spikes_and_keeps_motion():
    rng = np.random.default_rng(0)
    t = np.arange(0, 5, 1 / 30)
    x = 40 * np.sin(t) + rng.normal(0, 0.5, len(t))
    x[[30, 80, 81]] += 40
    out = reject_outliers(t, x, window_s=0.3, n_mads=4, min_dev=8)
    assert np.isnan(out[[30, 80, 81]]).all()
    assert np.isfinite(out).sum() >= len(t) - 5


def test_a_fast_movement_into_the_clip_s_end_is_kept_and_a_spike_there_is_not():
    """A clip trimmed (or sped up) mid-movement ends with the legs moving fast. A median
    over a window cut off by the end lags them by a quarter of the window: at 300 deg/s
    and 0.3 s, 22 degrees, and the last frames were lost as spikes (a hanging raise sped
    up 1.5x lost the end of its only rep). The ends are judged against the window's line,
    so a spike there still goes."""
    rng = np.random.default_rng(3)
    t = np.arange(0, 2, 1 / 30)
    x = np.where(t < 1.5, 10.0, 10.0 + 300.0 * (t - 1.5)) + rng.normal(0, 0.5, len(t))
    out = reject_outliers(t, x, window_s=0.3, n_mads=4, min_dev=8)
    assert np.isfinite(out[t >= 1.5]).all()
    spiked = x.copy()
    spiked[2:4] += 30  # the pose model's first frames off while it finds the person
    spiked[-2] += 30  # and one frame of the fast ending
    out = reject_outliers(t, spiked, window_s=0.3, n_mads=4, min_dev=8)
    assert np.isnan(out[[2, 3, len(t) - 2]]).all()
    assert np.isfinite(np.delete(out, [2, 3, len(t) - 2])).all()
    # the end of a backwards-cut clip the same: read from the other end
    out = reject_outliers(t, x[::-1].copy(), window_s=0.3, n_mads=4, min_dev=8)
    assert np.isfinite(out[t[::-1] >= 1.5]).all()


def test_a_fast_movement_next_to_frames_the_pose_model_missed_is_kept():
    """The person found 0.5 s late while the legs rise at 150 deg/s, and lost for 0.4 s
    mid-movement (someone walking past): the readings either side of the missing frames
    are the ends of their stretch, judged against its line. Against a median cut off by
    the gap, frames each side went, and the 0.4 s gap grew past what is filled."""
    t = np.arange(0, 2.5, 1 / 30)
    x = np.clip(150.0 * (t - 0.5), None, 180.0) + 0.3 * np.sin(11 * t)  # rising from 0.5 s to 1.7 s
    x[t < 0.5] = np.nan
    x[(t >= 1.0) & (t < 1.4)] = np.nan
    out = reject_outliers(t, x, window_s=0.3, n_mads=4, min_dev=8)
    assert np.isfinite(out[np.isfinite(x)]).all()


def test_readings_on_every_other_frame_are_still_tested_for_spikes():
    """A leg the pose model sees on every other frame only (visibility flickering about its
    threshold): single missed frames do not end a stretch, so each reading is still judged
    against the median around it and a spike among them goes."""
    t = np.arange(0, 3, 1 / 30)
    x = 100 * np.sin(t) + 0.3 * np.sin(13 * t)
    x[::2] = np.nan
    x[41] += 30
    out = reject_outliers(t, x, window_s=0.3, n_mads=4, min_dev=8)
    assert np.isnan(out[41])
    assert np.isfinite(np.delete(out[1::2], 20)).all()


def test_each_shot_s_opening_frames_are_judged_within_the_shot():
    """An edit cuts from legs still at 40 degrees to another shot whose legs are moving up
    from 10, and the pose model holds the old reading for that shot's first two frames:
    judged within the shot they are spikes and go, and its movement stays. A window
    reaching back across the cut takes them for the level and loses a real frame."""
    t = np.arange(0, 2, 1 / 30)
    cut = int(np.argmax(t >= 1.0))
    x = np.where(t < 1.0, 40.0, 10.0 + 100.0 * (t - 1.0)) + 0.3 * np.sin(7 * t)
    x[cut + 1 : cut + 3] = 40.0
    breaks = np.arange(len(t)) == cut
    out = reject_outliers(t, x, 0.3, 4, 8, breaks)
    assert np.flatnonzero(np.isnan(out)).tolist() == [cut + 1, cut + 2]
    assert np.flatnonzero(np.isnan(reject_outliers(t, x, 0.3, 4, 8))).tolist() != [cut + 1, cut + 2]


def test_zero_phase_lowpass_has_no_lag_and_removes_jitter():
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.025, 0.042, 400))  # variable frame rate
    clean = 45 * np.sin(2 * np.pi * 0.25 * t)
    out = lowpass_zero_phase(t, clean + rng.normal(0, 2, len(t)), cutoff_hz=4.0)
    inner = slice(20, -20)
    assert np.std(out[inner] - clean[inner]) < 0.6 * 2  # jitter down by more than 40 %
    # no lag: out - clean is not explained by a time shift (out = clean(t - lag))
    d = np.gradient(clean, t)[inner]
    lag_s = -np.sum((out[inner] - clean[inner]) * d) / np.sum(d * d)
    assert abs(lag_s) < 0.01


def test_causal_filter_only_uses_the_past_smooths_rest_and_follows_motion():
    rng = np.random.default_rng(2)
    t = np.arange(0, 10, 1 / 30)
    still = 20 + rng.normal(0, 2, len(t))
    assert np.std(clean_causal(t, still, SignalSettings())[30:]) < 0.5 * 2
    ramp = 30.0 * t  # legs lowering at 30 deg/s
    out = clean_causal(t, ramp + rng.normal(0, 1, len(t)), SignalSettings())
    lag_s = np.median((ramp[60:] - out[60:]) / 30.0)
    assert 0 <= lag_s < 0.1
    # changing the future does not change the past
    changed = still.copy()
    changed[200:] += 50
    np.testing.assert_allclose(clean_causal(t, changed, SignalSettings())[:200], clean_causal(t, still, SignalSettings())[:200])


def test_one_euro_ignores_nan_and_resets():
    s = SignalSettings()
    f = OneEuroFilter(s.causal_min_cutoff_hz, s.causal_beta)
    assert f.update(0.0, 10.0) == 10.0
    assert np.isnan(f.update(0.033, float("nan")))
    assert f.update(0.066, 10.0) == pytest.approx(10.0)
    f.reset()
    assert f.update(1.0, 50.0) == 50.0


def test_derivative_on_uneven_time():
    t = np.array([0.0, 0.1, 0.3, 0.35, 0.5])
    np.testing.assert_allclose(derivative(t, 20 * t), 20.0)


def _extension_with_a_swap(swap_frames: int = 3):
    """A dead bug's extension at 30 frames/s: both legs in tabletop (50 deg), one reaching
    down to 2 deg (1.0-1.6 s) and held while the other rises to 60, back up at 3.0-3.6 s.
    At 2.0 s the pose model swaps the two legs' labels over ``swap_frames`` frames, the
    readings crossing (as it did on a dim, noisy dead bug)."""
    t = np.arange(0, 5, 1 / 30)
    working = np.interp(t, [0, 1.0, 1.6, 3.0, 3.6, 5], [50, 50, 2, 2, 50, 50])
    other = np.interp(t, [0, 1.0, 1.6, 3.0, 3.6, 5], [50, 50, 60, 60, 50, 50])
    k = int(np.searchsorted(t, 2.0))
    w = np.clip((np.arange(len(t)) - k + 1) / (swap_frames + 1), 0, 1)  # 0 before the swap, 1 after
    return t, (1 - w) * working + w * other, (1 - w) * other + w * working


def test_a_left_right_swap_leaves_the_lower_leg_unchanged():
    """The lower of the two legs is taken before the low-pass: the swap exchanges the
    readings and leaves it at the working leg's 2 deg. Low-passed leg by leg first, the
    swap becomes two crossing ramps whose lower reads a bump of over 20 deg: an extra
    rep in a dead bug (the minimum swing is 20)."""
    t, left, right = _extension_with_a_swap()
    settings = SignalSettings()
    held = (t >= 1.8) & (t <= 2.8)
    lower = clean_pair_extreme(t, despike(t, left, settings), despike(t, right, settings), np.fmin, settings)
    each_first = np.fmin(clean_offline(t, left, settings), clean_offline(t, right, settings))
    assert np.max(each_first[held]) > 20
    assert np.max(lower[held]) < 6
    for x, reps in ((lower, 1), (each_first, 2)):
        seg = segment_reps(t, x, derivative(t, x), Settings().reps.model_copy(update={"rest": "top"}), "lying")
        assert len(seg.reps) == reps


def test_a_leg_missing_for_a_moment_is_not_replaced_by_the_other():
    """Gaps are filled leg by leg before the pick: the working leg unread for 0.2 s while
    held low stays low, not the other leg's 60."""
    t, left, right = _extension_with_a_swap(swap_frames=0)
    gap = (t >= 2.3) & (t < 2.5)
    missing = np.where(gap, np.nan, right)  # right is the working leg after the swap
    s = SignalSettings()
    lower = clean_pair_extreme(t, despike(t, left, s), despike(t, missing, s), np.fmin, s)
    assert np.max(lower[(t >= 2.2) & (t <= 2.6)]) < 6


def test_live_keeps_the_lower_leg_through_a_swap_as_offline_does():
    """Live mode's working leg (each leg's spikes out, the pick, then the causal filter)
    stays at the working leg's 2 deg through the swap; filtered leg by leg first it read
    6.8."""
    t, left, right = _extension_with_a_swap()
    settings = Settings()
    working = _WorkingLeg(settings, settings.reps.model_copy(update={"rest": "top"}), Rest.TOP)
    readings = []
    for i, (t_s, a, b) in enumerate(zip(t, left, right)):
        working.update(i, float(t_s), float(a), float(b))
        readings.append(working._last[1] if working._last else np.nan)
    held = (t >= 1.8) & (t <= 2.8)
    assert np.nanmax(np.array(readings)[held]) < 4
    assert len(working.tracker.finish().reps) == 1
