"""The data that flows between stages: source -> pose -> geometry -> signals -> reps.

Arrays carry their shape, dtype and unit in the docstrings. Time is always ``t_s``
from the container's timestamps, never ``index / fps``. Missing values are NaN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from pathlib import Path

import numpy as np

from flatback.errors import InputFileError

KEYPOINT_FILE_VERSION = 1


class Landmark(IntEnum):
    """BlazePose's 33 landmarks, by name (same indices as mediapipe's PoseLandmark)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


N_LANDMARKS = len(Landmark)

# Pairs (left, right) that swap together when the model confuses the body's sides.
LEFT_RIGHT_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (Landmark[n].value, Landmark[n.replace("LEFT_", "RIGHT_")].value)
    for n in Landmark.__members__
    if n.startswith("LEFT_")
)


class NoteCode(StrEnum):
    """What the user should know about how (or whether) something was measured."""

    NOT_LEG_LIFT = "not_leg_lift"
    RECOGNITION_DOUBT = "recognition_doubt"
    OUT_OF_FRAME = "out_of_frame"
    FEET_OUT_OF_FRAME = "feet_out_of_frame"
    CUT = "cut"
    PEOPLE = "people"  # someone else in the picture, ignored
    SHOTS = "shots"  # parts of an edited video that do not show the exercise, skipped
    VIEW_OBLIQUE = "view_oblique"
    BACK_OUT_OF_SIGHT = "back_out_of_sight"
    LEFT_RIGHT_SWAPPED = "left_right_swapped"
    UPRIGHT = "upright"
    CAMERA_HIGH = "camera_high"
    ARM_HIDES_BACK = "arm_hides_back"
    RAGGED_MASK = "ragged_mask"
    NO_FLOOR = "no_floor"
    NO_MASK = "no_mask"
    NO_LEGS_UP_BASELINE = "no_legs_up_baseline"
    HOLD_NOT_TIMED = "hold_not_timed"
    SIDES = "sides"


@dataclass(frozen=True)
class Note:
    """A note for the user: its code (for code) and its text (for people)."""

    code: NoteCode
    text: str


@dataclass(frozen=True)
class VideoInfo:
    """What the source container says about the video (after rotation)."""

    path: str
    duration_s: float
    fps: float  # average frame rate; informative only, tempo uses timestamps
    width: int  # px, as displayed (rotation applied)
    height: int
    rotation_deg: int = 0


@dataclass(frozen=True)
class Frame:
    """One decoded picture: ``image`` is RGB uint8, shape (height, width, 3)."""

    index: int
    t_s: float
    image: np.ndarray


@dataclass(frozen=True)
class MaskProfile:
    """The person's silhouette reduced to two contours, sampled along image x.

    ``x_px`` (C,) column positions; ``top_y_px`` and ``bottom_y_px`` (C,) the highest and
    lowest mask pixel in each column, px, NaN where the column holds no person. Image y
    grows downwards, so ``bottom_y_px`` is the body's underside for a person lying on a
    floor below them.
    """

    x_px: np.ndarray
    top_y_px: np.ndarray
    bottom_y_px: np.ndarray


@dataclass(frozen=True)
class PoseFrame:
    """The pose backend's answer for one frame.

    ``xy_px`` (33, 2) float image coordinates, px; ``z`` (33,) relative depth (BlazePose
    units, smaller is nearer the camera); ``visibility`` (33,) in [0, 1];
    ``world_xyz_m`` (33, 3) metres, hip-centred. All NaN when no person was found.
    ``second_person``: True if another person was seen in this frame, False if the
    search found none, None if this frame was not searched.
    """

    index: int
    t_s: float
    xy_px: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    world_xyz_m: np.ndarray
    mask: MaskProfile | None = None
    second_person: bool | None = None

    @property
    def detected(self) -> bool:
        return bool(np.isfinite(self.xy_px[:, 0]).any())

    @classmethod
    def empty(cls, index: int, t_s: float) -> PoseFrame:
        """'Nothing found' as a value: every coordinate NaN, visibility 0."""
        nan2 = np.full((N_LANDMARKS, 2), np.nan, np.float32)
        return cls(
            index=index,
            t_s=t_s,
            xy_px=nan2,
            z=np.full(N_LANDMARKS, np.nan, np.float32),
            visibility=np.zeros(N_LANDMARKS, np.float32),
            world_xyz_m=np.full((N_LANDMARKS, 3), np.nan, np.float32),
        )


@dataclass(frozen=True)
class PoseTrack:
    """A whole clip's poses, stacked: N frames by 33 landmarks.

    ``t_s`` (N,) seconds from the first frame; ``xy_px`` (N, 33, 2); ``z`` (N, 33);
    ``visibility`` (N, 33); ``world_xyz_m`` (N, 33, 3); ``mask_x_px`` (C,) shared
    column positions and ``mask_top_y_px`` / ``mask_bottom_y_px`` (N, C), NaN where a
    frame had no mask; ``second_person`` (N,) int8: 1 seen, 0 not seen, -1 not searched.
    ``skipped`` (N,) bool: frames of shots that do not show the exercise (an edited
    video's titles, talking heads, close-ups), blanked on purpose: not counted as lost.
    ``posed`` (N,) bool: frames the pose model saw (None: every frame); the others were
    filled in between posed frames while the legs moved slowly (``pose/sampling.py``).
    """

    info: VideoInfo
    backend: str
    t_s: np.ndarray
    xy_px: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    world_xyz_m: np.ndarray
    mask_x_px: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    mask_top_y_px: np.ndarray | None = None
    mask_bottom_y_px: np.ndarray | None = None
    second_person: np.ndarray | None = None
    skipped: np.ndarray | None = None
    posed: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.t_s)
        problems = []
        for name, shape in {
            "xy_px": (n, N_LANDMARKS, 2),
            "z": (n, N_LANDMARKS),
            "visibility": (n, N_LANDMARKS),
            "world_xyz_m": (n, N_LANDMARKS, 3),
        }.items():
            if getattr(self, name).shape != shape:
                problems.append(f"{name} has shape {getattr(self, name).shape}, expected {shape}")
        if n > 1 and not np.all(np.diff(self.t_s) > 0):
            problems.append("t_s must increase strictly")
        if problems:
            raise ValueError("Invalid PoseTrack: " + "; ".join(problems))

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def in_scope(self) -> np.ndarray:
        """(N,) bool: frames of the shots that show the exercise (all, unless some were skipped)."""
        return np.ones(len(self), bool) if self.skipped is None else ~self.skipped

    @property
    def detected(self) -> np.ndarray:
        """(N,) bool: a person was found in the frame."""
        return np.isfinite(self.xy_px[:, :, 0]).any(axis=1)

    @classmethod
    def from_frames(cls, frames: list[PoseFrame], info: VideoInfo, backend: str) -> PoseTrack:
        """Stack per-frame results; mask profiles must share their column positions."""
        masks = [f.mask for f in frames if f.mask is not None]
        x_px = masks[0].x_px if masks else np.zeros(0, np.float32)
        top = bottom = None
        if masks:
            top = np.full((len(frames), len(x_px)), np.nan, np.float32)
            bottom = top.copy()
            for i, f in enumerate(frames):
                if f.mask is not None:
                    top[i], bottom[i] = f.mask.top_y_px, f.mask.bottom_y_px
        second = np.array(
            [-1 if f.second_person is None else int(f.second_person) for f in frames], np.int8
        )
        return cls(
            info=info,
            backend=backend,
            t_s=np.array([f.t_s for f in frames], np.float64),
            xy_px=np.stack([f.xy_px for f in frames]).astype(np.float32),
            z=np.stack([f.z for f in frames]).astype(np.float32),
            visibility=np.stack([f.visibility for f in frames]).astype(np.float32),
            world_xyz_m=np.stack([f.world_xyz_m for f in frames]).astype(np.float32),
            mask_x_px=x_px,
            mask_top_y_px=top,
            mask_bottom_y_px=bottom,
            second_person=second,
        )

    def sliced(self, start: int, stop: int) -> PoseTrack:
        """Frames [start, stop), with time re-based so the first kept frame is at 0 s."""
        def cut(a):
            return None if a is None else a[start:stop]

        t = self.t_s[start:stop]
        return replace(
            self,
            t_s=t - t[0],
            xy_px=self.xy_px[start:stop],
            z=self.z[start:stop],
            visibility=self.visibility[start:stop],
            world_xyz_m=self.world_xyz_m[start:stop],
            mask_top_y_px=cut(self.mask_top_y_px),
            mask_bottom_y_px=cut(self.mask_bottom_y_px),
            second_person=cut(self.second_person),
            skipped=cut(self.skipped),
            posed=cut(self.posed),
        )

    def replaced(self, **changes) -> PoseTrack:
        """A copy with some arrays replaced (validated again)."""
        return replace(self, **changes)

    def only(self, keep: np.ndarray) -> PoseTrack:
        """The track with every frame outside ``keep`` ((N,) bool) set to 'not found' and
        marked skipped, times unchanged, so a report keeps the clip's own times."""
        changes = {
            "xy_px": np.where(keep[:, None, None], self.xy_px, np.nan).astype(np.float32),
            "z": np.where(keep[:, None], self.z, np.nan).astype(np.float32),
            "visibility": np.where(keep[:, None], self.visibility, 0.0).astype(np.float32),
            "world_xyz_m": np.where(keep[:, None, None], self.world_xyz_m, np.nan).astype(np.float32),
        }
        for name in ("mask_top_y_px", "mask_bottom_y_px"):
            if getattr(self, name) is not None:
                changes[name] = np.where(keep[:, None], getattr(self, name), np.nan).astype(np.float32)
        return self.replaced(skipped=~keep | ~self.in_scope, **changes)

    def frame(self, i: int) -> PoseFrame:
        """Frame ``i`` as a PoseFrame (for replaying a track frame by frame)."""
        mask = None
        if self.mask_bottom_y_px is not None and self.mask_top_y_px is not None:
            mask = MaskProfile(self.mask_x_px, self.mask_top_y_px[i], self.mask_bottom_y_px[i])
        second = None
        if self.second_person is not None and self.second_person[i] >= 0:
            second = bool(self.second_person[i])
        return PoseFrame(
            index=i,
            t_s=float(self.t_s[i]),
            xy_px=self.xy_px[i],
            z=self.z[i],
            visibility=self.visibility[i],
            world_xyz_m=self.world_xyz_m[i],
            mask=mask,
            second_person=second,
        )

    # --- keypoint file: flatback's own per-frame landmark dump (.npz) ---

    def save(self, path: str | Path) -> None:
        """Write the keypoint file (compressed .npz) atomically."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        meta = {
            "version": KEYPOINT_FILE_VERSION,
            "backend": self.backend,
            "info": self.info.__dict__,
        }
        arrays = {
            "t_s": self.t_s,
            "xy_px": self.xy_px,
            "z": self.z,
            "visibility": self.visibility,
            "world_xyz_m": self.world_xyz_m,
            "mask_x_px": self.mask_x_px,
        }
        if self.mask_top_y_px is not None and self.mask_bottom_y_px is not None:
            arrays["mask_top_y_px"] = self.mask_top_y_px
            arrays["mask_bottom_y_px"] = self.mask_bottom_y_px
        if self.second_person is not None:
            arrays["second_person"] = self.second_person
        if self.skipped is not None:
            arrays["skipped"] = self.skipped
        if self.posed is not None:
            arrays["posed"] = self.posed
        try:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **arrays)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def from_keypoint_file(cls, path: str | Path) -> PoseTrack:
        """Read a keypoint file written by :meth:`save` (``flatback analyze --save-keypoints``)."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in data.files if k != "meta"}
        except (OSError, ValueError, KeyError) as e:
            raise InputFileError(
                f"{path} is not a flatback keypoint file ({e}); write one with "
                "`flatback analyze VIDEO --save-keypoints`."
            ) from None
        if meta.get("version") != KEYPOINT_FILE_VERSION:
            raise InputFileError(
                f"{path} is keypoint file version {meta.get('version')}, this flatback reads "
                f"version {KEYPOINT_FILE_VERSION}: re-create it from the video."
            )
        info = VideoInfo(**meta["info"])
        return cls(info=info, backend=meta["backend"], **arrays)

    @classmethod
    def from_numpy(
        cls,
        t_s: np.ndarray,
        xy_px: np.ndarray,
        visibility: np.ndarray | None = None,
        *,
        width: int = 1280,
        height: int = 720,
        path: str = "<numpy>",
        **extra: np.ndarray,
    ) -> PoseTrack:
        """Build a track from arrays (tests, other tools' keypoints); z and world are optional."""
        n = len(t_s)
        vis = np.ones((n, N_LANDMARKS), np.float32) if visibility is None else visibility
        duration = float(t_s[-1] - t_s[0]) if n > 1 else 0.0
        fps = (n - 1) / duration if duration > 0 else 0.0
        return cls(
            info=VideoInfo(path, duration, fps, width, height),
            backend="numpy",
            t_s=np.asarray(t_s, np.float64),
            xy_px=np.asarray(xy_px, np.float32),
            z=extra.pop("z", np.zeros((n, N_LANDMARKS), np.float32)),
            visibility=np.asarray(vis, np.float32),
            world_xyz_m=extra.pop("world_xyz_m", np.full((n, N_LANDMARKS, 3), np.nan, np.float32)),
            **extra,
        )


@dataclass(frozen=True)
class PeopleFrame:
    """Every person the multi-person backend found in one frame.

    ``people`` holds one :class:`PoseFrame` per person (same ``index`` and ``t_s`` as the
    frame, each with its own mask contours), in no particular order: which person is which
    across frames is decided later by association (``flatback.measure.people``).
    ``searched`` is True when the frame was also searched for smaller people (tiles), so
    an empty result there means "nobody", not "not looked for".
    """

    index: int
    t_s: float
    people: tuple[PoseFrame, ...] = ()
    searched: bool = False

    def __post_init__(self) -> None:
        wrong = [p.index for p in self.people if p.index != self.index]
        if wrong:
            raise ValueError(f"Invalid PeopleFrame {self.index}: people carry frame indices {wrong}")
