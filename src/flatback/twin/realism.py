"""Realism of the twin, measured: BlazePose on the renders vs the rig's exact truth.

Three checks (issue 14, item 2): the person is found; the hip, knee, ankle (and shoulder)
landmarks land on the rig's projected joints (px); the segmentation's underside contour
under the back matches the rendered silhouette's (px). BlazePose may swap the body's left
and right in a side view: each frame is scored with the better of the two assignments and
the swap rate is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flatback.twin.clip import TRUTH_JOINTS, ClipTruth
from flatback.twin.truth import LUMBAR_SPAN
from flatback.types import Landmark, PoseTrack

BLAZEPOSE_OF = {
    "hip_l": Landmark.LEFT_HIP, "hip_r": Landmark.RIGHT_HIP,
    "knee_l": Landmark.LEFT_KNEE, "knee_r": Landmark.RIGHT_KNEE,
    "ankle_l": Landmark.LEFT_ANKLE, "ankle_r": Landmark.RIGHT_ANKLE,
    "shoulder_l": Landmark.LEFT_SHOULDER, "shoulder_r": Landmark.RIGHT_SHOULDER,
}
SWAP = {j: j[:-1] + ("r" if j.endswith("l") else "l") for j in TRUTH_JOINTS}


@dataclass(frozen=True)
class Realism:
    """Realism of one clip. found_fraction: frames with a person. joint_err_px: joint -> (N,)
    px error (NaN where not found; left/right merged by joint kind). swap_fraction: frames
    scored with left and right swapped. underside_err_px: (N,) median |mask bottom - render
    bottom| over the lumbar span's columns (mean per frame), px. underside_bias_px: (N,) median signed
    difference (mask - render; + = the mask reaches lower)."""

    found_fraction: float
    joint_err_px: dict[str, np.ndarray]
    swap_fraction: float
    underside_err_px: np.ndarray
    underside_bias_px: np.ndarray


def landmark_offsets(track: PoseTrack, truth: ClipTruth) -> tuple[dict[str, np.ndarray], float]:
    """Per-joint signed offsets (N, 2) px, BlazePose minus rig, with each frame's better
    left/right assignment, and the fraction of frames where that was the swapped one."""
    n = min(len(track), len(truth.t_s))
    pred = {j: track.xy_px[:n, BLAZEPOSE_OF[j]] for j in TRUTH_JOINTS}
    true = {j: truth.joints_px[:n, k] for k, j in enumerate(TRUTH_JOINTS)}
    direct = {j: np.linalg.norm(pred[j] - true[j], axis=1) for j in TRUTH_JOINTS}
    swapped = {j: np.linalg.norm(pred[SWAP[j]] - true[j], axis=1) for j in TRUTH_JOINTS}
    use_swap = sum(swapped.values()) < sum(direct.values())
    offsets = {j: np.where(use_swap[:, None], pred[SWAP[j]], pred[j]) - true[j]
               for j in TRUTH_JOINTS}
    found = np.isfinite(sum(direct.values()))
    return offsets, float(use_swap[found].mean()) if found.any() else float("nan")


def landmark_errors(track: PoseTrack, truth: ClipTruth) -> tuple[dict[str, np.ndarray], float]:
    """Per-joint pixel errors (N,) and the fraction of frames scored with sides swapped."""
    offsets, swap = landmark_offsets(track, truth)
    return {j: np.linalg.norm(o, axis=1) for j, o in offsets.items()}, swap


def underside_errors(track: PoseTrack, truth: ClipTruth) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame mean absolute and median signed (mask - render) underside difference, px,
    over the columns of the lumbar span (DESIGN.md: 20-60 % from hip to shoulder)."""
    n = min(len(track), len(truth.t_s))
    abs_err = np.full(n, np.nan)
    bias = np.full(n, np.nan)
    if track.mask_bottom_y_px is None:
        return abs_err, bias
    hip = truth.joints_px[:n, :2].mean(axis=1)
    sho = truth.joints_px[:n, 6:8].mean(axis=1)
    for i in range(n):
        a = hip[i] + LUMBAR_SPAN[0] * (sho[i] - hip[i])
        b = hip[i] + LUMBAR_SPAN[1] * (sho[i] - hip[i])
        lo, hi = sorted((a[0], b[0]))
        x = truth.contour_x_px
        sel = (x >= lo) & (x <= hi)
        render = truth.sil_bottom_y_px[i, sel]
        mask = np.interp(x[sel], track.mask_x_px, track.mask_bottom_y_px[i])
        d = mask - render
        if np.isfinite(d).any():
            abs_err[i] = np.nanmean(np.abs(d))
            bias[i] = np.nanmedian(d)
    return abs_err, bias


def measure_realism(track: PoseTrack, truth: ClipTruth) -> Realism:
    """All realism checks of one clip."""
    errs, swap = landmark_errors(track, truth)
    found = np.isfinite(track.xy_px[:, Landmark.LEFT_HIP, 0])
    under, bias = underside_errors(track, truth)
    return Realism(found_fraction=float(found.mean()), joint_err_px=errs, swap_fraction=swap,
                   underside_err_px=under, underside_bias_px=bias)


def summarise(values: np.ndarray) -> dict[str, float]:
    """Median and 90th percentile of the finite values (NaN if none), and their count."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"median": float("nan"), "p90": float("nan"), "n": 0}
    return {"median": float(np.median(v)), "p90": float(np.percentile(v, 90)), "n": len(v)}
