"""The picture the pose model sees: noise measured, noisy pictures stretched and smoothed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from flatback.pose.conditioning import PictureConditioner, noise_level, stretch_and_smooth
from flatback.settings import PoseSettings


def scene(h: int = 360, w: int = 640) -> np.ndarray:
    """A clean picture: shading, a body-like dark band, sharp edges and text."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.dstack([120 + 60 * x / w, 110 + 50 * y / h, np.full((h, w), 130.0)]).astype(np.uint8)
    cv2.rectangle(img, (100, 200), (540, 240), (30, 30, 40), -1)
    cv2.line(img, (300, 220), (420, 60), (40, 40, 50), 18)
    cv2.putText(img, "HOW TO DO LEG RAISES", (20, 330), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
    return img


def noisy(img: np.ndarray, sd: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, sd, img.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("sd", [2.0, 4.0, 8.0])
def test_noise_level_reads_the_noise_added(sd):
    # grey noise (the same on the three channels) reads as added; the picture's edges and text do not
    grey = np.repeat(np.random.default_rng(1).normal(0, sd, (360, 640, 1)), 3, axis=2)
    img = np.clip(scene() + grey, 0, 255).astype(np.uint8)
    assert noise_level(img) == pytest.approx(sd, rel=0.15)


def test_a_clean_picture_with_edges_and_text_reads_clean():
    assert noise_level(scene()) < 0.5


def test_clean_pictures_pass_untouched_and_noisy_ones_are_smoothed():
    conditioner = PictureConditioner(PoseSettings())
    clean = scene()
    assert conditioner(clean, 0.0) is clean and not conditioner.noisy
    dirty = noisy(scene(), 8.0)
    out = conditioner(dirty, 1.0)
    assert conditioner.noisy
    assert noise_level(out) < 0.5 * noise_level(dirty)
    # the body's band is where it was: conditioning does not move what the model sees
    band = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[190:250, 300].astype(int)
    assert np.argmin(band) in range(10, 52)


def test_the_noise_is_measured_on_a_fixed_time_grid():
    """Between measurements the decision holds, so a noisy stretch starting mid-second is
    conditioned from the next grid point; a part of a video starting at 2.5 s measures its
    first frame and then the same frames as a whole run."""
    conditioner = PictureConditioner(PoseSettings(noise_every_s=1.0))
    clean, dirty = scene(), noisy(scene(), 8.0)
    assert conditioner(clean, 0.0) is clean
    assert conditioner(dirty, 0.5) is dirty  # not measured again before 1.0 s
    assert conditioner(dirty, 1.0) is not dirty
    part = PictureConditioner(PoseSettings(noise_every_s=1.0))
    assert part(dirty, 2.5) is not dirty  # its first frame
    assert part(clean, 2.9) is not clean  # the decision holds until 3.0 s
    assert part(clean, 3.0) is clean


def test_denoising_can_be_turned_off():
    dirty = noisy(scene(), 8.0)
    assert PictureConditioner(PoseSettings(denoise_min_noise=0))(dirty, 0.0) is dirty


def test_stretch_spans_the_picture_levels():
    dull = (scene() * 0.3 + 40).astype(np.uint8)
    out = stretch_and_smooth(dull, 0.0)
    assert out.min() <= 3 and out.max() >= 252


def test_once_on_the_conditioning_holds_through_a_wavering_estimate():
    """Noise near the gate: on at denoise_min_noise, off only below denoise_stop_noise."""
    s = PoseSettings()
    grey = np.repeat(np.random.default_rng(3).normal(0, 1, (360, 640, 1)), 3, axis=2)
    at = {sd: np.clip(scene() + sd * grey, 0, 255).astype(np.uint8) for sd in (2.0, 2.8, 3.4)}
    assert noise_level(at[2.0]) < s.denoise_stop_noise < noise_level(at[2.8]) < s.denoise_min_noise < noise_level(at[3.4])
    conditioner = PictureConditioner(s)
    decisions = [conditioner(at[sd], float(t)) is not at[sd] for t, sd in enumerate([2.8, 3.4, 2.8, 2.8, 2.0, 2.8])]
    assert decisions == [False, True, True, True, False, False]


def test_smoothing_drops_only_what_the_model_resamples_away():
    from flatback.pose.conditioning import person_px, smoothing_px

    # a person 640 px long is seen by the landmark model at 256: 2.5 picture px a model px
    assert smoothing_px((720, 1280, 3), 640.0, 1.5) == pytest.approx(1.25)
    # a small person (the outdoor dead bug, about 250 px) is magnified: nothing to drop
    assert smoothing_px((316, 600, 3), 250.0, 1.5) == 0.0
    # nobody followed yet: the detector's 224 px view of the whole picture, capped
    assert smoothing_px((1080, 608, 3), None, 1.5) == 1.5
    xy = np.array([[10.0, 20.0], [110.0, 60.0], [np.nan, np.nan]])
    assert person_px(xy) == 100.0 and person_px(xy[2:]) == 0.0
