"""Signal cleaning: gap filling, outliers, zero-phase and causal low-pass."""

from __future__ import annotations

import numpy as np
import pytest

from flatback.measure.signals import (
    OneEuroFilter,
    clean_causal,
    derivative,
    fill_gaps,
    lowpass_zero_phase,
    reject_outliers,
)
from flatback.settings import SignalSettings


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
