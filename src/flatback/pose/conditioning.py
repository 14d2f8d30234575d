"""The picture the pose model sees, conditioned: noise measured, a noisy picture stretched
and smoothed first.

In a dim room a phone records flat, noisy video. BlazePose's person detector then loses
people it finds at once in good light: on the portrait arch clip of ../shared/clips under
the ``dim_noisy`` re-filming (noise about 4 levels) it lost the person for the first 4.5 s
and counted 1 rep of 3; stretched and smoothed first, 4 (``flatback eval --only
double_leg_lift_arch_then_flat --transform dim_noisy``, with and without ``--set
pose.denoise_min_noise=0``). The smoothing removes only what the model's own resampling
drops (:func:`smoothing_px`): a small person, magnified for the model, keeps every pixel (a
fixed 1 px blur, commit c9b8933, counted the small outdoor dead bug's dim re-filming 9 reps
for 7). Clean video is left exactly as it is: the 21 clips
measure 0-0.6 levels of noise, the textured, compressed outdoor stock clip up to 2.6, the
``dim_noisy`` versions about 4 (``python -m flatback.pose.conditioning VIDEO...``).
"""

from __future__ import annotations

import cv2
import numpy as np

from flatback.settings import PoseSettings

# Immerkaer's mask (1996): the difference of two Laplacians, blind to flat shading, ramps and
# straight edges; on Gaussian noise of sd s its response has sd 6 s (the mask's norm)
_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
_MAD_TO_SD = 0.6745  # median |x| of a unit normal


def noise_level(image: np.ndarray) -> float:
    """The picture's pixel noise: standard deviation in 0-255 levels of grey.

    The median absolute response of :data:`_NOISE_MASK`, scaled for Gaussian noise: the
    median ignores the edges, texture and text that fill a small part of a picture (the mean,
    Immerkaer's own estimate, reads a captioned clean clip as noisy).
    """
    # grey in floating point: rounded to whole levels, the median moves in steps of 0.25
    gray = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2GRAY)
    response = cv2.filter2D(gray, -1, _NOISE_MASK)[1:-1, 1:-1]
    return float(np.median(np.abs(response)) / (_MAD_TO_SD * 6.0))


# the model's own pictures: the person detector sees the whole picture at 224 px, the
# landmark model a followed person's box at 256 px
DETECTOR_PX, LANDMARK_PX = 224, 256


def person_px(xy_px: np.ndarray) -> float:
    """Long side of a person's landmark box, px (``xy_px``: (33, 2), NaN where unseen; 0 if none)."""
    xy = xy_px[np.isfinite(xy_px).all(axis=1)]
    return float((xy.max(axis=0) - xy.min(axis=0)).max()) if len(xy) else 0.0


def smoothing_px(image_shape: tuple[int, ...], person_px: float | None, max_sigma_px: float) -> float:
    """Gaussian sd, px, that removes only detail the model's resampling drops anyway: half a
    picture px per model px (the followed person's box of ``person_px`` seen at 256 px, or,
    with nobody followed yet, the whole picture at 224), at most ``max_sigma_px``. A small
    person (a box under 256 px, magnified for the model) is not smoothed."""
    scale = person_px / LANDMARK_PX if person_px else max(image_shape[:2]) / DETECTOR_PX
    sigma = 0.5 * scale
    return min(sigma, max_sigma_px) if sigma > 0.5 else 0.0


def stretch_and_smooth(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """``image`` (RGB uint8) stretched so its 0.5 and 99.5 % levels span 0-255, then
    smoothed by a Gaussian of ``sigma_px``."""
    lo, hi = np.percentile(image[::4, ::4], (0.5, 99.5))
    gain = 255.0 / max(float(hi - lo), 1.0)
    stretched = cv2.convertScaleAbs(image, alpha=gain, beta=-gain * float(lo))
    return cv2.GaussianBlur(stretched, (0, 0), sigma_px) if sigma_px > 0 else stretched


class PictureConditioner:
    """``PictureConditioner(settings)(image, t_s) -> image``, one per stream.

    The noise is measured on the pictures at every ``pose.noise_every_s`` of a fixed time
    grid (a part of a video posed by its own process measures the same frames, as well as its
    first). Pictures are stretched and smoothed (:func:`stretch_and_smooth`,
    :func:`smoothing_px`) from a measurement that reaches ``pose.denoise_min_noise`` until one
    below ``pose.denoise_stop_noise``, else passed as they are. ``noisy``: the last decision.
    """

    def __init__(self, settings: PoseSettings):
        self.settings = settings
        self.noisy = False
        self._next_s = -np.inf

    def __call__(self, image: np.ndarray, t_s: float, person_px: float | None = None) -> np.ndarray:
        """``person_px``: the long side of the followed person's landmark box in the last
        picture, px (None: nobody followed)."""
        s = self.settings
        if s.denoise_min_noise <= 0:
            return image
        if t_s >= self._next_s - 1e-6:
            self.noisy = noise_level(image) >= (s.denoise_stop_noise if self.noisy else s.denoise_min_noise)
            self._next_s = (np.floor(t_s / s.noise_every_s + 1e-6) + 1) * s.noise_every_s
        if not self.noisy:
            return image
        return stretch_and_smooth(image, smoothing_px(image.shape, person_px, s.denoise_max_sigma_px))


def main(argv: list[str] | None = None) -> None:
    """``python -m flatback.pose.conditioning VIDEO...``: each video's noise once a second,
    0-255 levels (what decides the conditioning), and the smallest, median and largest."""
    import sys

    from flatback.io.source import VideoFile

    for path in argv if argv is not None else sys.argv[1:]:
        levels, next_s = [], 0.0
        for frame in VideoFile(path):
            if frame.t_s >= next_s:
                levels.append(noise_level(frame.image))
                next_s += 1.0
        print(f"{path}: noise {min(levels):.1f} / {float(np.median(levels)):.1f} / {max(levels):.1f} levels "
              f"(min / median / max over {len(levels)} s)")


if __name__ == "__main__":
    main()
