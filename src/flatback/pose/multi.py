"""Several people per frame: the MediaPipe Tasks ``PoseLandmarker`` as a flatback backend.

``MultiPose(settings, options)(frame) -> PeopleFrame``: every person found in the frame,
each a :class:`PoseFrame` with its own mask contours. Which person is which across frames
is decided afterwards (``flatback.measure.people.associate``), and who is exercising by
``flatback.measure.people.choose_exerciser``.

The model is the same BlazePose "full" pair the legacy solution uses, taken from inside
the installed mediapipe 0.10.21 wheel: ``pose_detection.tflite`` (person detector) and
``pose_landmark_full.tflite`` (33 landmarks + segmentation). The Tasks API wants them as
one ``.task`` bundle whose models carry input-normalisation metadata, so
:func:`task_bundle` writes that metadata with the wheel's own metadata writer (detector:
mean = std = 127.5, i.e. pixels to [-1, 1]; landmark model: mean 0, std 255, i.e. [0, 1])
and zips the two into a cache folder, once. Nothing is downloaded.

How people are found (measured at 720p on the studio clip, same process, same run; see
issue 10): the Tasks landmarker following one person runs as fast as the legacy solution
(13.9 vs 12.2 frames/s under a shared load, 40.5 vs 36.5 when the machine was quiet) and
its landmarks agree with it within 1.5 px median (leg angle 0.2 deg median, 0.7 p90).
With ``num_poses`` >= 2 it runs the person detector on every frame in which it follows
fewer people than that: 0.65-0.7x the speed, and landmarks re-cropped from detections
instead of tracked (3.8 px median from the legacy ones). Hence:

- the Tasks landmarker runs on every frame in VIDEO mode, tracking each person it knows
  from the previous frame's landmarks. With ``escalate`` (default) it starts following
  one person and switches to ``num_poses`` for the rest of the clip as soon as a
  whole-frame search finds more people than it follows: a lone exerciser costs what the
  legacy backend with its 1 Hz second-person search cost (11.7 vs 11.7 frames/s);
- every ``search_every_s`` the whole frame and two overlapping tiles (60 % of the long
  side each) are searched in IMAGE mode. The detector sees the whole frame at 224 px:
  a standing man 55 % of the frame's height, in an inset of a 720p clip, was missed on
  the whole frame and found in a tile. People found only by the search are added to that frame's people (sparse
  samples: enough to name a bystander or a figure in a graphic, not to analyse them).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from flatback.pose.conditioning import PictureConditioner, person_px
from flatback.pose.mediapipe import mask_contours
from flatback.settings import PoseSettings
from flatback.types import N_LANDMARKS, Frame, MaskProfile, PeopleFrame, PoseFrame

# a frame within this of a search time counts as on it (float rounding of 30 fps timestamps), s
SEARCH_GRID_TOLERANCE_S = 1e-3
DETECTOR_FILE = "modules/pose_detection/pose_detection.tflite"
LANDMARKER_FILE = "modules/pose_landmark/pose_landmark_full.tflite"
# name inside the bundle: (file in the wheel, normalisation mean, std)
BUNDLE_MODELS: dict[str, tuple[str, float, float]] = {
    "pose_detector.tflite": (DETECTOR_FILE, 127.5, 127.5),
    "pose_landmarks_detector.tflite": (LANDMARKER_FILE, 0.0, 255.0),
}


@dataclass(frozen=True)
class MultiPoseOptions:
    """How many people to follow and how often to look for more.

    ``num_poses``: people followed on every frame (2 covers an exerciser and an
    instructor; more costs a landmark pass each). ``escalate``: start following one
    person and switch to ``num_poses`` once a search sees more. ``search_every_s``: seconds
    between searches of the whole frame and its tiles. ``search_poses``: people a search
    may return per image. ``tile_fraction``: tile length along the frame's long side, as a
    fraction of it. ``same_person_ratio``: a searched person whose median landmark
    distance to a followed one is under this fraction of its size is the same person.
    """

    num_poses: int = 2
    escalate: bool = True
    search_every_s: float = 1.0
    search_poses: int = 3
    tile_fraction: float = 0.6
    same_person_ratio: float = 0.25
    cache_dir: str | None = None


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/flatback`` (``~/.cache/flatback``): where the bundle is built."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flatback"


def _with_input_metadata(model: bytes, mean: float, std: float, name: str) -> bytes:
    """The .tflite ``model`` with image-input normalisation metadata ((px - mean) / std)."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, "BlazePose from the mediapipe 0.10.21 wheel")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    tflite, _ = writer.populate()
    return bytes(tflite)


def task_bundle(cache_dir: str | Path | None = None) -> Path:
    """Path of the PoseLandmarker ``.task`` bundle, built from the wheel's models once.

    The file name carries the mediapipe version and a hash of the two model files, so a
    different wheel builds a new bundle. Written to ``*.tmp`` and renamed: a crash never
    leaves half a bundle.
    """
    import mediapipe as mp
    from mediapipe.tasks.python.metadata.metadata_writers import (
        model_asset_bundle_utils,
    )

    wheel = Path(mp.__file__).parent
    sources = {name: (wheel / f).read_bytes() for name, (f, _, _) in BUNDLE_MODELS.items()}
    digest = hashlib.sha1(b"".join(sources.values())).hexdigest()[:12]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"pose_landmarker_full_mp{mp.__version__}_{digest}.task"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    models = {
        name: _with_input_metadata(sources[name], mean, std, name.removesuffix(".tflite"))
        for name, (_, mean, std) in BUNDLE_MODELS.items()
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        model_asset_bundle_utils.create_model_asset_bundle(models, str(tmp))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def tiles(width: int, height: int, fraction: float) -> list[tuple[int, int, int, int]]:
    """Two overlapping tiles (x0, y0, x1, y1), px, each ``fraction`` of the long side."""
    if width >= height:
        w = round(width * fraction)
        return [(0, 0, w, height), (width - w, 0, width, height)]
    h = round(height * fraction)
    return [(0, 0, width, h), (0, height - h, width, height)]


def person_size_px(xy_px: np.ndarray) -> float:
    """Diagonal of the landmarks' bounding box, px (the person's scale)."""
    ok = np.isfinite(xy_px[:, 0])
    if not ok.any():
        return float("nan")
    return float(np.linalg.norm(np.ptp(xy_px[ok], axis=0)))


def is_same_person(a: np.ndarray, b: np.ndarray, ratio: float) -> bool:
    """True if landmark sets ``a`` and ``b`` (33, 2) px lie on one person.

    Their median landmark distance is under ``ratio`` times the smaller person's size, or
    the smaller one's landmark box lies mostly (over half its area) inside the other's: a
    tile that holds part of a person yields a fragment of them, not a second person.
    """
    d = np.linalg.norm(a - b, axis=1)
    size = min(person_size_px(a), person_size_px(b))
    if np.isfinite(d).any() and np.nanmedian(d) < ratio * size:
        return True
    return box_cover(a, b) > 0.5


def box_cover(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection of the landmark boxes of ``a`` and ``b`` (33, 2) px over the smaller box's area."""
    boxes = []
    for xy in (a, b):
        ok = np.isfinite(xy[:, 0])
        if not ok.any():
            return 0.0
        boxes.append(np.concatenate([xy[ok].min(axis=0), xy[ok].max(axis=0)]))
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = boxes
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return float(inter / smaller) if smaller > 0 else 0.0


def distinct(people: list[dict], ratio: float) -> list[dict]:
    """``people`` without the duplicates of a person (:func:`is_same_person`): of each
    group of detections lying on one body, the most visible one (mean landmark visibility)."""
    order = sorted(range(len(people)), key=lambda i: -float(np.nanmean(people[i]["arr"][:, 3])))
    kept: list[int] = []
    for i in order:
        if not any(is_same_person(people[i]["arr"][:, :2], people[k]["arr"][:, :2], ratio) for k in kept):
            kept.append(i)
    return [people[i] for i in sorted(kept)]


def frame_columns(x_px: np.ndarray, scale: float) -> np.ndarray:
    """Contour columns of a picture shrunk by ``scale``, in the frame's px: one read-only
    array per picture width and scale, shared by every frame (as ``mask_columns``)."""
    return _frame_columns(len(x_px), float(x_px[1] - x_px[0]) if len(x_px) > 1 else 1.0, scale)


@lru_cache(maxsize=16)
def _frame_columns(n: int, step_px: float, scale: float) -> np.ndarray:
    x = (np.arange(n, dtype=np.float32) * np.float32(step_px) / np.float32(scale)).astype(np.float32)
    x.flags.writeable = False
    return x


class MultiPose:
    """``MultiPose(settings, options)(frame) -> PeopleFrame``. One per stream, not thread-safe."""

    name = "mediapipe-tasks-multi-full"

    def __init__(self, settings: PoseSettings | None = None, options: MultiPoseOptions | None = None):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self.settings = settings or PoseSettings()
        self.options = options or MultiPoseOptions()
        self._mp, self._vision = mp, vision
        self._base = BaseOptions(model_asset_path=str(task_bundle(self.options.cache_dir)))
        start = 1 if self.options.escalate else self.options.num_poses
        self._tracker = self._landmarker(vision.RunningMode.VIDEO, start)
        self._following = start
        self._searcher: Any = None  # IMAGE mode, made on the first search
        self._next_search_t_s = 0.0
        self._last_ms = -1
        self._scale = 1.0  # picture the model sees / frame (preprocess)
        self._condition = PictureConditioner(self.settings)
        self._person_px: float | None = None  # the largest person's size in the last picture

    def _landmarker(self, mode, num_poses: int):
        s = self.settings
        options = self._vision.PoseLandmarkerOptions(
            base_options=self._base,
            running_mode=mode,
            num_poses=num_poses,
            min_pose_detection_confidence=s.min_detection_confidence,
            min_pose_presence_confidence=s.min_detection_confidence,
            min_tracking_confidence=s.min_tracking_confidence,
            output_segmentation_masks=True,
        )
        return self._vision.PoseLandmarker.create_from_options(options)

    def __call__(self, frame: Frame) -> PeopleFrame:
        image = self.preprocess(frame)
        people = self.infer(image, frame.t_s)
        self._person_px = max((person_px(p["arr"][:, :2]) for p in people), default=None)  # for the next picture
        searched = frame.t_s >= self._next_search_t_s - SEARCH_GRID_TOLERANCE_S
        if searched:
            # the next point of a fixed grid, not "a period after this frame": a part of a
            # video posed by its own process (pipeline/parts.py) then searches the same frames
            every = self.options.search_every_s
            self._next_search_t_s = (np.floor((frame.t_s + SEARCH_GRID_TOLERANCE_S) / every) + 1) * every
            people = self._search(image, people)
        return PeopleFrame(
            index=frame.index,
            t_s=frame.t_s,
            people=tuple(self.postprocess(frame, p) for p in people),
            searched=searched,
        )

    def preprocess(self, frame: Frame) -> np.ndarray:
        """The picture the model sees: the frame, shrunk to ``pose.max_image_px`` on its long
        side when larger (:meth:`postprocess` scales the results back to the frame's px), and
        stretched and smoothed when noisy (``pose/conditioning.py``)."""
        image = frame.image
        h, w = image.shape[:2]
        limit = self.settings.max_image_px
        self._scale = 1.0
        if limit and max(h, w) > limit:
            import cv2  # opencv ships with mediapipe

            self._scale = limit / max(h, w)
            size = (max(1, round(w * self._scale)), max(1, round(h * self._scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        image = self._condition(image, frame.t_s, self._person_px)
        return image if image.flags["C_CONTIGUOUS"] else np.ascontiguousarray(image)

    def infer(self, image: np.ndarray, t_s: float) -> list[dict]:
        """The followed people of this frame, as raw dicts (see :meth:`_people_of`)."""
        # VIDEO mode needs strictly increasing integer milliseconds
        ms = max(round(t_s * 1000), self._last_ms + 1)
        self._last_ms = ms
        result = self._tracker.detect_for_video(self._image(image), ms)
        people = self._people_of(result, image.shape[1], image.shape[0], (0, 0), image.shape[:2])
        return distinct(people, self.options.same_person_ratio)

    def _image(self, array: np.ndarray):
        return self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=array)

    def _people_of(self, result, w: int, h: int, offset: tuple[int, int], frame_hw) -> list[dict]:
        """Landmarks (px, in the whole frame), z, visibility, world (m) and mask per person.

        ``w``, ``h``: size of the image the result is for (a tile or the frame), px;
        ``offset``: its top-left corner (x0, y0) in the frame, px.
        """
        people = []
        masks = result.segmentation_masks or [None] * len(result.pose_landmarks)
        for i, lms in enumerate(result.pose_landmarks):
            arr = np.array([(p.x * w, p.y * h, p.z, p.visibility or 0.0) for p in lms], np.float32)
            arr[:, 0] += offset[0]
            arr[:, 1] += offset[1]
            world = np.full((N_LANDMARKS, 3), np.nan, np.float32)
            if i < len(result.pose_world_landmarks):
                world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks[i]], np.float32)
            person_mask = None
            if masks[i] is not None:
                m = masks[i].numpy_view() > self.settings.mask_threshold
                if m.shape != tuple(frame_hw):
                    full = np.zeros(frame_hw, bool)
                    full[offset[1] : offset[1] + m.shape[0], offset[0] : offset[0] + m.shape[1]] = m
                    m = full
                person_mask = m
            people.append({"arr": arr, "world": world, "mask": person_mask})
        return people

    def _search(self, image: np.ndarray, followed: list[dict]) -> list[dict]:
        """``followed`` plus the people a whole-frame and tiled search finds besides them."""
        o = self.options
        if self._searcher is None:
            self._searcher = self._landmarker(self._vision.RunningMode.IMAGE, o.search_poses)
        h, w = image.shape[:2]
        whole = self._people_of(self._searcher.detect(self._image(image)), w, h, (0, 0), (h, w))
        # the detector often returns one person twice (a whole body and a part of it): only
        # distinct people count, or a lone exerciser would be followed as two from then on
        if o.escalate and self._following < o.num_poses and len(distinct(whole, o.same_person_ratio)) > self._following:
            self._escalate()
        found = list(followed)
        for x0, y0, x1, y1 in [(0, 0, w, h), *tiles(w, h, o.tile_fraction)]:
            if (x0, y0, x1, y1) == (0, 0, w, h):
                candidates = whole
            else:
                tile = np.ascontiguousarray(image[y0:y1, x0:x1])
                result = self._searcher.detect(self._image(tile))
                candidates = self._people_of(result, x1 - x0, y1 - y0, (x0, y0), (h, w))
            for c in candidates:
                if not any(is_same_person(c["arr"][:, :2], f["arr"][:, :2], o.same_person_ratio) for f in found):
                    found.append(c)
        return found

    def _escalate(self) -> None:
        """Follow ``num_poses`` people from now on (a search saw more than are followed)."""
        self._tracker.close()
        self._tracker = self._landmarker(self._vision.RunningMode.VIDEO, self.options.num_poses)
        self._following = self.options.num_poses
        self._last_ms = -1

    def postprocess(self, frame: Frame, person: dict) -> PoseFrame:
        arr = person["arr"]
        scale = self._scale
        mask = None
        if person["mask"] is not None:
            mask = mask_contours(person["mask"], self.settings.mask_column_step_px)
            if scale != 1.0:  # contours of the shrunk picture, in the frame's px
                mask = MaskProfile(frame_columns(mask.x_px, scale), mask.top_y_px / scale, mask.bottom_y_px / scale)
        return PoseFrame(
            index=frame.index,
            t_s=frame.t_s,
            xy_px=arr[:, :2] if scale == 1.0 else arr[:, :2] / scale,
            z=arr[:, 2],
            visibility=arr[:, 3],
            world_xyz_m=person["world"],
            mask=mask,
        )

    def close(self) -> None:
        self._tracker.close()
        if self._searcher is not None:
            self._searcher.close()
