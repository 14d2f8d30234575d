"""The camera's view of the body, and leg angles that do not depend on it.

BlazePose's world landmarks are a 3-D skeleton in metres, hip-centred, in axes that
follow the camera (x right, y down, z away). From them:

- the floor plane: it holds both the trunk (hip to shoulder) and the hip axis (left to
  right hip) of a person lying on their back, so its normal is their cross product;
- the view's yaw: how far the camera stands off the side view, from the hip axis (a
  side view looks along it; a view from the feet or head looks across it);
- leg angles in that plane (DESIGN.md: 0 = legs on the floor, 90 = vertical), the same
  from any yaw, where the image's 2-D angle reads too steep off the side view (legs at
  45 degrees read 55 from 35 degrees off it, and a diagonal mat seen from above makes
  vertical legs read past 100).

The 3-D skeleton is the model's estimate of depth, less precise than the image's 2-D
positions: where the picture errs by at most ``geometry.picture_max_error_deg`` from this
camera, the image angles are used.
"""

from __future__ import annotations

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


def _mid(world: np.ndarray, a: int, b: int) -> np.ndarray:
    return 0.5 * (world[:, a] + world[:, b])


def trunk_elevation_deg(track: PoseTrack) -> np.ndarray:
    """(N,) the trunk's angle above the camera's horizontal plane, deg, from the 3-D
    skeleton: about 0 lying, about 90 upright (hanging or standing); NaN unseen."""
    w = track.world_xyz_m
    trunk = _mid(w, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) - _mid(w, L.LEFT_HIP, L.RIGHT_HIP)
    norm = np.linalg.norm(trunk, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.degrees(np.arcsin(np.clip(np.abs(trunk @ UP_IN_CAMERA) / norm, 0, 1)))


def body_frame_3d(track: PoseTrack, lying: np.ndarray) -> BodyFrame3D | None:
    """The clip's floor frame from the 3-D skeleton over the ``lying`` (N,) frames."""
    w = track.world_xyz_m
    trunk = _mid(w, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) - _mid(w, L.LEFT_HIP, L.RIGHT_HIP)
    axis = w[:, L.RIGHT_HIP] - w[:, L.LEFT_HIP]
    normal = np.cross(trunk, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    normal *= np.sign(normal @ UP_IN_CAMERA)[:, None]  # which hip is which does not matter
    ok = lying & np.isfinite(normal).all(axis=1) & np.isfinite(trunk).all(axis=1)
    if ok.sum() < 3:
        return None
    n = np.median(normal[ok], axis=0)
    n /= np.linalg.norm(n)
    feet = -np.median(trunk[ok], axis=0)
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


def picture_angle_error_deg(frame: BodyFrame3D, angles_deg: tuple[float, ...] = (30.0, 60.0, 90.0)) -> float:
    """How far the picture's 2-D leg angle (measured from the floor line as the picture
    shows it) errs from the true one from this camera, deg, at worst over ``angles_deg``.

    0 in a side view at floor level; it grows as the camera turns off the side and
    rises above the floor (the picture then foreshortens the floor and tilts up).
    """
    along = frame.feet[:2] / max(float(np.linalg.norm(frame.feet[:2])), 1e-9)
    up = np.array([along[1], -along[0]])
    if up @ UP_IN_CAMERA[:2] < 0:
        up = -up
    worst = 0.0
    for a in angles_deg:
        r = np.radians(a)
        leg = np.cos(r) * frame.feet + np.sin(r) * frame.normal
        seen = float(np.degrees(np.arctan2(leg[:2] @ up, leg[:2] @ along)))
        worst = max(worst, abs(seen - a))
    return worst


def leg_angles_3d(track: PoseTrack, frame: BodyFrame3D, side: str, ankle_seen: np.ndarray) -> np.ndarray:
    """(N,) one leg's angle in the floor frame, deg (hip to ankle; hip to knee where the
    ankle is unseen, as in the image)."""
    w = track.world_xyz_m
    hip = w[:, L[f"{side}_HIP"]]
    far = np.where(ankle_seen[:, None], w[:, L[f"{side}_ANKLE"]], w[:, L[f"{side}_KNEE"]])
    leg = far - hip
    return np.degrees(np.arctan2(leg @ frame.normal, leg @ frame.feet))
