"""The camera's view of the body, and leg angles that do not depend on it.

BlazePose's world landmarks are a 3-D skeleton in metres, hip-centred, in axes that
follow the camera (x right, y down, z away). From them, one estimate for the clip:

- the floor plane: it holds both the trunk (hip to shoulder) and the hip axis (left to
  right hip) of a person lying on their back, so its normal is their cross product;
- the view's yaw: how far the camera stands off the side view, from the hip axis (a
  side view looks along it; a view from the feet or head looks across it);
- how the picture shows the body's upright direction against its floor line
  (:class:`ViewCorrection`): legs move in the body's sagittal plane, so the picture's
  precise 2-D leg direction maps back to the angle from the floor (DESIGN.md: 0 = legs
  on the floor, 90 = vertical) from any yaw and height, where the picture as it is would
  read too steep off the side view (legs at 45 degrees read 55 from 35 degrees off it) or
  too flat from above.

The 3-D skeleton's depth is the model's guess, frame by frame; only its clip-wide camera
estimate is used (its own leg angles only from the feet or the head), and only where the
picture would err by more than ``geometry.picture_max_error_deg``. On the digital twin's
50 sets filmed up to 40 degrees off the side or 50 cm above the floor, each rep's top
lands within 4.8 degrees at p90 this way, 10.7 from the 3-D skeleton's own leg angles.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from flatback.types import Landmark as L
from flatback.types import PoseTrack

UP_IN_CAMERA = np.array([0.0, -1.0, 0.0])  # world landmarks' y points down the picture
LINE_OF_SIGHT = np.array([0.0, 0.0, 1.0])  # ...and z away from the camera


@dataclass(frozen=True)
class BodyFrame3D:
    """The floor's frame in the camera's 3-D axes, one for the clip (unit vectors)."""

    normal: np.ndarray  # (3,) up from the floor
    feet: np.ndarray  # (3,) along the floor, shoulders to hips
    yaw_deg: float  # camera off the side view: 0 side view, 90 from the head or feet

    @property
    def elevation_deg(self) -> float:
        """How far the camera looks down on the floor, deg: 0 at floor level, 90 from straight above."""
        return float(np.degrees(np.arcsin(np.clip(abs(float(self.normal @ LINE_OF_SIGHT)), 0.0, 1.0))))


def _mid(world: np.ndarray, a: int, b: int) -> np.ndarray:
    return 0.5 * (world[:, a] + world[:, b])


def trunk_elevation_deg(track: PoseTrack) -> np.ndarray:
    """(N,) the trunk's angle above the camera's horizontal plane, deg, from the 3-D
    skeleton: about 0 lying, about 90 upright (hanging or standing); NaN unseen."""
    return world_trunk_elevation_deg(track.world_xyz_m)


def world_trunk_elevation_deg(world_xyz_m: np.ndarray) -> np.ndarray:
    """:func:`trunk_elevation_deg` of world landmarks (N, 33, 3) m, or of one frame's (33, 3)
    (a 0-d array then: live mode)."""
    w = np.asarray(world_xyz_m)
    if w.ndim == 2:
        return world_trunk_elevation_deg(w[None])[0]
    trunk = _mid(w, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) - _mid(w, L.LEFT_HIP, L.RIGHT_HIP)
    norm = np.linalg.norm(trunk, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.degrees(np.arcsin(np.clip(np.abs(trunk @ UP_IN_CAMERA) / norm, 0, 1)))


def body_frame_3d(track: PoseTrack, lying: np.ndarray) -> BodyFrame3D | None:
    """The clip's floor frame from the 3-D skeleton over the ``lying`` (N,) frames."""
    trunk, normal = _trunk_and_normal(track.world_xyz_m)
    ok = lying & np.isfinite(normal).all(axis=1) & np.isfinite(trunk).all(axis=1)
    return _frame_from(trunk[ok], normal[ok])


def _trunk_and_normal(world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame of ``world`` (N, 33, 3) m: the trunk (hips to shoulders) and the unit
    normal of the plane it spans with the hip axis, pointing up the picture."""
    trunk = _mid(world, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) - _mid(world, L.LEFT_HIP, L.RIGHT_HIP)
    axis = world[:, L.RIGHT_HIP] - world[:, L.LEFT_HIP]
    normal = np.cross(trunk, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        normal *= np.sign(normal @ UP_IN_CAMERA)[:, None]  # which hip is which does not matter
    return trunk, normal


def _frame_from(trunk: np.ndarray, normal: np.ndarray) -> BodyFrame3D | None:
    """The floor frame from lying frames' trunks and normals (K, 3), their medians."""
    if len(trunk) < 3:
        return None
    n = np.median(normal, axis=0)
    n /= np.linalg.norm(n)
    feet = -np.median(trunk, axis=0)
    feet -= (feet @ n) * n
    if np.linalg.norm(feet) < 1e-6:
        return None
    feet /= np.linalg.norm(feet)
    # in a side view the body's left-right axis points along the camera's line of sight;
    # both taken in the floor's plane, so the camera's roll and height do not enter
    side = np.cross(n, feet)
    sight = LINE_OF_SIGHT - (LINE_OF_SIGHT @ n) * n
    if np.linalg.norm(sight) < 1e-6:  # looking straight down on the floor: no side view at all
        return BodyFrame3D(n, feet, 90.0)
    sight /= np.linalg.norm(sight)
    yaw = float(np.degrees(np.arccos(np.clip(abs(side @ sight), 0.0, 1.0))))
    return BodyFrame3D(n, feet, yaw)


@dataclass(frozen=True)
class ViewCorrection:
    """How the body's upright direction looks in the picture from this camera.

    In the picture's floor frame (``along`` the floor line, ``up`` square to it), a unit
    step up from the floor shows as ``shear`` along and ``scale`` up, both in units of
    a unit step along the floor as it shows there. From the side at floor level they are
    0 and 1; a camera above the floor shrinks ``scale`` (cosine of its elevation), one
    turned off the side view stretches the floor's own length less than the upright one
    (``scale`` > 1) and, raised as well, shears it. Legs move in the body's sagittal plane, so
    the picture's 2-D direction of a leg maps back to its angle from the floor exactly
    (under weak perspective): the precise 2-D landmarks carry the angle, the 3-D skeleton
    only the camera's place, one for the clip.
    """

    shear: float = 0.0
    scale: float = 1.0

    def angle_deg(self, along_px: np.ndarray, up_px: np.ndarray) -> np.ndarray:
        """The angle from the floor, deg, of picture vectors with these components along
        and square to the floor line (px)."""
        rise = up_px / self.scale
        return np.degrees(np.arctan2(rise, along_px - self.shear * rise))


IDENTITY_VIEW = ViewCorrection()


def view_correction(frame: BodyFrame3D) -> ViewCorrection:
    """The picture's view of the floor frame ``frame`` (weak perspective: the 3-D axes'
    x and y are the picture's)."""
    feet2, normal2 = frame.feet[:2], frame.normal[:2]
    length = max(float(np.linalg.norm(feet2)), 1e-9)
    along = feet2 / length
    up = np.array([along[1], -along[0]])
    if up @ UP_IN_CAMERA[:2] < 0:
        up = -up
    return ViewCorrection(float(normal2 @ along) / length, max(float(normal2 @ up) / length, 1e-6))


def view_for(frame: BodyFrame3D | None, picture_max_error_deg: float) -> ViewCorrection:
    """The correction the leg angles take from this camera: none while the picture errs by
    at most ``picture_max_error_deg`` (the 3-D skeleton's camera estimate is itself good to
    a few degrees: floor-level side views of the development clips read 10-18 deg of
    elevation), else :func:`view_correction`."""
    if frame is None or picture_angle_error_deg(frame) <= picture_max_error_deg:
        return IDENTITY_VIEW
    return view_correction(frame)


class ViewEstimator:
    """Live mode's running camera view: :func:`body_frame_3d` over the last ``frames``
    lying frames, fed one frame at a time, and the correction :func:`view_for` gives
    (none until ``min_frames`` lying frames were seen); and ``yaw_deg``, the camera off the
    body's side over the last ``frames`` frames with a skeleton, lying or not."""

    _YAW_EVERY = 10

    def __init__(self, picture_max_error_deg: float, frames: int = 150, min_frames: int = 30):
        self.picture_max_error_deg = picture_max_error_deg
        self.min_frames = min_frames
        self._trunks: deque[np.ndarray] = deque(maxlen=frames)
        self._normals: deque[np.ndarray] = deque(maxlen=frames)
        self._view = IDENTITY_VIEW
        self._body: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=frames)  # every frame's, lying or not
        self.yaw_deg = float("nan")  # the camera off the body's side, deg (NaN until min_frames with a skeleton)
        self._seen = 0  # frames with a skeleton

    def update(self, world_xyz_m: np.ndarray, lying: bool) -> ViewCorrection:
        """Feed one frame's world landmarks (33, 3) m; the correction now."""
        trunk, normal = _trunk_and_normal(world_xyz_m[None])
        if not (np.isfinite(trunk).all() and np.isfinite(normal).all()):
            return self._view
        # the yaw in the body's own frame (trunk and hip axis), upright or lying: how far the
        # camera looks along the legs, which leaves the picture's thighs foreshortened; it
        # changes slowly, so it is re-estimated every _YAW_EVERY frames
        self._body.append((trunk[0], normal[0]))
        self._seen += 1
        if len(self._body) >= self.min_frames and self._seen % self._YAW_EVERY == 0:
            body = _frame_from(*(np.array(c) for c in zip(*self._body, strict=True)))
            self.yaw_deg = float("nan") if body is None else body.yaw_deg
        if lying:
            self._trunks.append(trunk[0])
            self._normals.append(normal[0])
            if len(self._trunks) >= self.min_frames:
                frame = _frame_from(np.array(self._trunks), np.array(self._normals))
                self._view = view_for(frame, self.picture_max_error_deg)
        return self._view


def picture_angle_error_deg(frame: BodyFrame3D, angles_deg: tuple[float, ...] = (30.0, 60.0, 90.0)) -> float:
    """How far the picture's 2-D leg angle (measured from the floor line as the picture
    shows it) errs from the true one from this camera, deg, at worst over ``angles_deg``.

    0 in a side view at floor level; it grows as the camera turns off the side and
    rises above the floor (the picture then foreshortens the floor and tilts up).
    """
    view = view_correction(frame)
    worst = 0.0
    for a in angles_deg:
        r = np.radians(a)
        along, up = np.cos(r) + view.shear * np.sin(r), view.scale * np.sin(r)  # the leg as pictured
        seen = float(np.degrees(np.arctan2(up, along)))
        worst = max(worst, abs(seen - a))
    return worst


def picture_error_deg(yaw_deg: float = 0.0, elevation_deg: float = 0.0) -> float:
    """:func:`picture_angle_error_deg` of a camera turned ``yaw_deg`` off the side view
    alone, or raised ``elevation_deg`` above the floor alone, deg."""
    y, e = np.radians(yaw_deg), np.radians(elevation_deg)
    if yaw_deg:
        return picture_angle_error_deg(BodyFrame3D(UP_IN_CAMERA, np.array([np.cos(y), 0.0, np.sin(y)]), yaw_deg))
    return picture_angle_error_deg(BodyFrame3D(np.array([0.0, -np.cos(e), np.sin(e)]), np.array([1.0, 0.0, 0.0]), 0.0))


def leg_angles_3d(track: PoseTrack, frame: BodyFrame3D, side: str, ankle_seen: np.ndarray) -> np.ndarray:
    """(N,) one leg's angle in the floor frame, deg (hip to ankle; hip to knee where the
    ankle is unseen, as in the image), from the 3-D skeleton alone: for a camera at the feet
    or the head, where the picture shows too little of the legs' length to correct."""
    w = track.world_xyz_m
    hip = w[:, L[f"{side}_HIP"]]
    far = np.where(ankle_seen[:, None], w[:, L[f"{side}_ANKLE"]], w[:, L[f"{side}_KNEE"]])
    leg = far - hip
    return np.degrees(np.arctan2(leg @ frame.normal, leg @ frame.feet))
