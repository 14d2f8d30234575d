"""BlazePose (mediapipe 0.10.21 legacy solution) as a flatback pose backend.

The model ("full", complexity 1) and the person segmentation ship inside the wheel,
so nothing is downloaded. Tracking mode (``static_image_mode=False``) re-uses the
previous frame's body box, which is both faster and steadier than detecting afresh.

BlazePose tracks a single person. To notice a second one, every
``second_person_every_s`` the frame is searched again by an independent detector with
the tracked person painted out.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from flatback.pose.conditioning import PictureConditioner, person_px
from flatback.settings import PoseSettings
from flatback.types import N_LANDMARKS, Frame, MaskProfile, PoseFrame


class MediaPipePose:
    """``MediaPipePose(settings)(frame) -> PoseFrame``. Not thread-safe; one per stream."""

    name = "mediapipe-blazepose"

    def __init__(self, settings: PoseSettings | None = None):
        import mediapipe as mp

        self.settings = settings or PoseSettings()
        s = self.settings
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=1,  # 'full': the only model inside the wheel (others download)
            smooth_landmarks=True,
            enable_segmentation=True,
            smooth_segmentation=True,
            min_detection_confidence=s.min_detection_confidence,
            min_tracking_confidence=s.min_tracking_confidence,
        )
        self._searcher = None  # created on first use: a second, stateless detector
        self._condition = PictureConditioner(s)
        self._person_px: float | None = None  # the tracked person's size in the last picture
        self._mp = mp
        self._next_search_t_s = 0.0
        self.name = f"{self.name}-full"

    def __call__(self, frame: Frame) -> PoseFrame:
        return self.postprocess(frame, self.infer(self.preprocess(frame)))

    def preprocess(self, frame: Frame) -> np.ndarray:
        """The picture the model sees: the frame, stretched and smoothed when noisy
        (``pose/conditioning.py``)."""
        image = self._condition(frame.image, frame.t_s, self._person_px)
        return image if image.flags["C_CONTIGUOUS"] else np.ascontiguousarray(image)

    def infer(self, image: np.ndarray):
        return self._pose.process(image)

    def postprocess(self, frame: Frame, result) -> PoseFrame:
        if result.pose_landmarks is None:
            self._person_px = None
            return PoseFrame.empty(frame.index, frame.t_s)
        h, w = frame.image.shape[:2]
        lms = result.pose_landmarks.landmark
        arr = np.array([(p.x * w, p.y * h, p.z, p.visibility) for p in lms], np.float32)
        self._person_px = person_px(arr[:, :2])
        world = np.full((N_LANDMARKS, 3), np.nan, np.float32)
        if result.pose_world_landmarks is not None:
            world = np.array(
                [(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark], np.float32
            )
        mask_profile = None
        second = None
        if result.segmentation_mask is not None:
            person = result.segmentation_mask > self.settings.mask_threshold
            mask_profile = mask_contours(person, self.settings.mask_column_step_px)
            if frame.t_s >= self._next_search_t_s:
                self._next_search_t_s = frame.t_s + self.settings.second_person_every_s
                second = self._another_person(frame.image, person, arr[:, :2])
        return PoseFrame(
            index=frame.index,
            t_s=frame.t_s,
            xy_px=arr[:, :2],
            z=arr[:, 2],
            visibility=arr[:, 3],
            world_xyz_m=world,
            mask=mask_profile,
            second_person=second,
        )

    def _another_person(self, image: np.ndarray, person: np.ndarray, xy_px: np.ndarray) -> bool:
        """Search for a person other than the tracked one (painted out in grey)."""
        if self._searcher is None:
            self._searcher = self._mp.solutions.pose.Pose(
                static_image_mode=True, model_complexity=1, enable_segmentation=False,
                min_detection_confidence=0.6,
            )
        h, w = image.shape[:2]
        x0, y0 = np.nanmin(xy_px, axis=0)
        x1, y1 = np.nanmax(xy_px, axis=0)
        pad_x, pad_y = 0.15 * (x1 - x0) + 10, 0.15 * (y1 - y0) + 10
        box = (
            slice(max(int(y0 - pad_y), 0), min(int(y1 + pad_y), h)),
            slice(max(int(x0 - pad_x), 0), min(int(x1 + pad_x), w)),
        )
        painted = image.copy()
        painted[box] = 127
        painted[person] = 127
        result = self._searcher.process(painted)  # type: ignore[attr-defined]
        if result.pose_landmarks is None:
            return False
        other = np.array([(p.x * w, p.y * h, p.visibility) for p in result.pose_landmarks.landmark])
        torso = other[[11, 12, 23, 24]]
        if torso[:, 2].mean() < 0.6:
            return False
        # A real second person is body-sized, not a fragment of the painted-out one.
        size = np.ptp(other[:, :2], axis=0).max()
        return bool(size > 0.3 * max(x1 - x0, y1 - y0))

    def close(self) -> None:
        self._pose.close()
        if self._searcher is not None:
            self._searcher.close()


def mask_contours(person: np.ndarray, step_px: int) -> MaskProfile:
    """Top and bottom of a boolean person mask (H, W), sampled every ``step_px`` columns."""
    cols = person[:, ::step_px]
    h = cols.shape[0]
    has = cols.any(axis=0)
    top = cols.argmax(axis=0).astype(np.float32)
    bottom = (h - 1 - cols[::-1].argmax(axis=0)).astype(np.float32)
    top[~has] = np.nan
    bottom[~has] = np.nan
    return MaskProfile(x_px=mask_columns(person.shape[1], step_px), top_y_px=top, bottom_y_px=bottom)


@lru_cache(maxsize=16)
def mask_columns(width_px: int, step_px: int) -> np.ndarray:
    """Column positions (C,) px of :func:`mask_contours`: one read-only array per frame width,
    shared by every frame (a long 1080p video otherwise keeps a copy per frame, 4 KB each)."""
    x = np.arange(0, width_px, step_px, dtype=np.float32)
    x.flags.writeable = False
    return x
