"""A rendered clip and its exact truth per frame: H.264 MP4 (PyAV) + ``.truth.json``/``.npz``.

Truth (DESIGN.md definitions): leg angle (deg, body frame: vs the floor), lumbar clearance
(cm and / torso length), back-lift onsets (time s, leg angle deg), the rig's joints projected
to image px, and the rendered body silhouette's top and bottom contours per column.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from flatback.twin.body import BodyShape, build_body
from flatback.twin.pose import pose_body
from flatback.twin.render import Appearance, CameraSpec, Lights, TwinRenderer
from flatback.twin.script import MovementScript, leg_lowering_script
from flatback.twin.truth import frame_truth

TRUTH_JOINTS = ("hip_l", "hip_r", "knee_l", "knee_r", "ankle_l", "ankle_r",
                "shoulder_l", "shoulder_r")
CONTOUR_STEP_PX = 4


@dataclass(frozen=True)
class ClipSpec:
    """Everything that makes a clip: movement, body, camera, looks, size (px), frame rate (1/s)."""

    script: MovementScript = field(default_factory=leg_lowering_script)
    shape: BodyShape = field(default_factory=BodyShape)
    camera: CameraSpec = field(default_factory=CameraSpec)
    appearance: Appearance = field(default_factory=Appearance)
    lights: Lights = field(default_factory=Lights)
    width: int = 640
    height: int = 360
    fps: float = 15.0


@dataclass(frozen=True)
class ClipTruth:
    """Per-frame truth, arrays of length N (frames) unless noted.

    t_s; leg_angle_deg; knee_bend_deg; lumbar_lift_cm (scripted arch); clearance_cm and
    clearance_ratio (measured on the mesh); torso_length_m; joints_px (N, J, 2) for
    TRUTH_JOINTS; contour_x_px (C,), sil_top_y_px and sil_bottom_y_px (N, C), NaN where the
    column has no body; onsets: list of (t_s, leg_angle_deg), one per back lift.
    """

    t_s: np.ndarray
    leg_angle_deg: np.ndarray
    knee_bend_deg: np.ndarray
    lumbar_lift_cm: np.ndarray
    clearance_cm: np.ndarray
    clearance_ratio: np.ndarray
    torso_length_m: np.ndarray
    joints_px: np.ndarray
    contour_x_px: np.ndarray
    sil_top_y_px: np.ndarray
    sil_bottom_y_px: np.ndarray
    onsets: list[tuple[float, float]]

    def save(self, stem: Path, spec: ClipSpec) -> None:
        """Write ``<stem>.truth.npz`` (all arrays) and ``<stem>.truth.json`` (spec, scalars)."""
        arrays = {k: v for k, v in asdict(self).items() if k != "onsets"}
        np.savez_compressed(f"{stem}.truth.npz", onsets=np.asarray(self.onsets).reshape(-1, 2),
                            **arrays)
        doc = {
            "spec": json.loads(json.dumps(asdict(spec), default=str)),
            "joints": list(TRUTH_JOINTS),
            "onsets": [{"t_s": t, "leg_angle_deg": a} for t, a in self.onsets],
            "frames": [
                {"t_s": float(t), "leg_angle_deg": float(a), "clearance_cm": float(c),
                 "clearance_ratio": float(r)}
                for t, a, c, r in zip(self.t_s, self.leg_angle_deg, self.clearance_cm,
                                      self.clearance_ratio)
            ],
        }
        Path(f"{stem}.truth.json").write_text(json.dumps(doc, indent=1))


def silhouette_contours(sil: np.ndarray, step_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns x (C,) and the top and bottom silhouette rows (C,) px, NaN where empty."""
    cols = sil[:, ::step_px]
    h = cols.shape[0]
    has = cols.any(axis=0)
    top = np.where(has, cols.argmax(axis=0), np.nan)
    bottom = np.where(has, h - 1 - cols[::-1].argmax(axis=0), np.nan)
    return np.arange(0, sil.shape[1], step_px, dtype=np.float32), top, bottom


def render_clip(spec: ClipSpec, out_mp4: Path | str, crf: int = 20) -> ClipTruth:
    """Render ``spec`` to ``out_mp4`` (H.264, yuv420p) and write its truth next to it."""
    import av

    out_mp4 = Path(out_mp4)
    body = build_body(spec.shape)
    renderer = TwinRenderer(body, spec.width, spec.height, spec.camera, spec.appearance,
                            spec.lights)
    n = round(spec.script.duration_s * spec.fps) + 1
    rows: dict[str, list] = {k: [] for k in ("t_s", "leg", "knee", "lift", "clr_cm", "clr_r",
                                             "torso", "joints", "top", "bottom")}
    tmp = out_mp4.with_suffix(".tmp.mp4")
    try:
        with av.open(str(tmp), "w") as container:
            from fractions import Fraction

            stream = container.add_stream("libx264", rate=Fraction(spec.fps).limit_denominator(1000))
            stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
            stream.options = {"crf": str(crf), "preset": "veryfast"}
            for i in range(n):
                t = i / spec.fps
                posed = pose_body(body, spec.script.at(t))
                out = renderer(posed)
                tr = frame_truth(body, posed)
                x, top, bottom = silhouette_contours(out.silhouette, CONTOUR_STEP_PX)
                for k, v in (("t_s", t), ("leg", tr.leg_angle_deg), ("knee", tr.knee_bend_deg),
                             ("lift", posed.params.lumbar_lift_cm), ("clr_cm", tr.clearance_cm),
                             ("clr_r", tr.clearance_ratio), ("torso", tr.torso_length_m),
                             ("joints", [out.joints_px[j] for j in TRUTH_JOINTS]),
                             ("top", top), ("bottom", bottom)):
                    rows[k].append(v)
                frame = av.VideoFrame.from_ndarray(out.rgb, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        tmp.replace(out_mp4)
    finally:
        renderer.close()
        tmp.unlink(missing_ok=True)
    truth = ClipTruth(
        t_s=np.asarray(rows["t_s"]), leg_angle_deg=np.asarray(rows["leg"]),
        knee_bend_deg=np.asarray(rows["knee"]), lumbar_lift_cm=np.asarray(rows["lift"]),
        clearance_cm=np.asarray(rows["clr_cm"]), clearance_ratio=np.asarray(rows["clr_r"]),
        torso_length_m=np.asarray(rows["torso"]), joints_px=np.asarray(rows["joints"]),
        contour_x_px=x, sil_top_y_px=np.asarray(rows["top"]),
        sil_bottom_y_px=np.asarray(rows["bottom"]), onsets=spec.script.lift_onsets(),
    )
    truth.save(out_mp4.with_suffix(""), spec)
    return truth
