"""Files written for an analysis: report.json and timeseries.csv, in one output folder.

The folder appears atomically: everything is written into a temporary sibling folder
that is renamed into place only once complete, so an interrupted run never leaves a
half-written report that looks finished.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from flatback.errors import OutputError
from flatback.measure.clearance import ClearanceStatus
from flatback.measure.geometry import LegSource
from flatback.outputs.report import Report
from flatback.pipeline import Analysis

# timeseries.csv: one row per analysed frame. Column -> meaning (unit).
TIMESERIES_COLUMNS: dict[str, str] = {
    "frame": "number of the analysed frame (0-based); find a frame in the video by t_s",
    "t_s": "time from the first frame, s (from the video's timestamps)",
    "pose_found": "1 if a person was found in the frame, else 0",
    "posed": "1 if the pose model saw the frame, 0 if its pose was filled in between the frames either side (the legs still or turning slowly: pose.max_step_deg)",
    "leg_angle_raw_deg": "working leg angle before cleaning, deg (0 = on the floor, 90 = vertical)",
    "leg_angle_deg": "working leg angle after outlier removal, gap filling and low-pass, deg",
    "leg_angle_left_deg": "left leg angle (after undoing left/right swaps), deg, raw",
    "leg_angle_right_deg": "right leg angle (after undoing left/right swaps), deg, raw",
    "leg_source": "what the leg angle measures: hip_ankle, thigh (feet unseen) or none",
    "leg_speed_deg_s": "rate of change of leg_angle_deg, deg/s (positive = legs rising)",
    "knee_flexion_deg": "knee bend of the working leg, deg (0 = straight)",
    "hip_flexion_deg": "angle between trunk and thighs, deg (0 = body straight)",
    "trunk_angle_deg": "hip-to-shoulder line above the floor line, deg (shoulders lifted > 0)",
    "head_angle_deg": "shoulder-to-ear line above the floor line, deg (head lifted when it rises)",
    "hip_height_ratio": "hip height above its lowest level in the clip, torso lengths",
    "lumbar_clearance_raw": "gap under the lower back over the lumbar span, torso lengths, this frame's reading",
    "lumbar_clearance": "the same, median over 0.2 s (what back-lift detection uses); empty where not measured",
    "clearance_status": "measured, or why not: no_pose, no_mask, arm, ragged_mask, no_floor, camera_high, not_lying, oblique",
    "back_state": "flat, lifted, occluded or unknown",
    "phase": "ascent, top, descent, bottom (within a counted rep), hold, or empty",
    "rep": "index of the counted rep the frame belongs to (1-based), empty outside reps",
    "side": "the rep's moving leg (one-leg variations): left or right, else empty",
    "tempo_count": "during a lowering, the count a person says (1 as the legs leave the top, +1 each second), else empty",
    "lr_swapped": "1 if the pose model's left/right labels were swapped back in this frame",
}



@contextmanager
def atomic_dir(outdir: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``outdir`` only if the block succeeds."""
    outdir = Path(outdir)
    try:
        outdir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".tmp", dir=outdir.parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    except OSError as e:
        raise OutputError(f"Cannot write to {outdir.parent}: {e.strerror}. Choose another folder with -o.") from None
    try:
        yield tmp
        if outdir.exists():
            old = outdir.with_name(f".{outdir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            outdir.rename(old)
            tmp.rename(outdir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_timeseries(analysis: Analysis, path: Path, decimals: int = 3) -> None:
    """timeseries.csv: the columns of :data:`TIMESERIES_COLUMNS`, one row per frame."""
    m = analysis.measured
    assert m is not None, "timeseries.csv is written only for measured clips"
    g, s, table = m.geometry, m.signals, m.frames
    detected = analysis.track.detected
    posed = analysis.track.posed if analysis.track.posed is not None else np.ones(len(detected), bool)
    numeric = {
        "leg_angle_raw_deg": s.leg_angle_raw_deg,
        "leg_angle_deg": s.leg_angle_deg,
        "leg_angle_left_deg": g.leg_angle_left_deg,
        "leg_angle_right_deg": g.leg_angle_right_deg,
        "leg_speed_deg_s": s.leg_speed_deg_s,
        "knee_flexion_deg": s.knee_flexion_deg,
        "hip_flexion_deg": s.hip_flexion_deg,
        "trunk_angle_deg": s.trunk_angle_deg,
        "head_angle_deg": s.head_angle_deg,
        "hip_height_ratio": s.hip_height_ratio,
        "lumbar_clearance_raw": m.clearance.ratio,
        "lumbar_clearance": m.back.clearance_ratio,
    }

    def fmt(x: float) -> str:
        return "" if not np.isfinite(x) else f"{x:.{decimals}f}"

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TIMESERIES_COLUMNS)
        for i in range(len(s.t_s)):
            row = {
                "frame": str(i),
                "t_s": f"{s.t_s[i]:.4f}",
                "pose_found": str(int(detected[i])),
                "posed": str(int(posed[i])),
                "leg_source": LegSource(int(g.leg_source[i])).name.lower(),
                "phase": str(table.phase[i]),
                "rep": str(table.rep[i]) if table.rep[i] else "",
                "side": "" if table.side[i] is None else str(table.side[i]),
                "tempo_count": str(table.tempo_count[i]) if table.tempo_count[i] else "",
                "lr_swapped": str(int(g.swapped[i])),
                "clearance_status": ClearanceStatus(int(m.clearance.status[i])).label,
                "back_state": str(table.back_state[i]),
                **{k: fmt(v[i]) for k, v in numeric.items()},
            }
            w.writerow([row[c] for c in TIMESERIES_COLUMNS])


def json_text(obj, decimals: int = 3) -> str:
    """A pydantic model or a dataclass as indented JSON, floats rounded to ``decimals``."""
    data = obj.model_dump(mode="json") if hasattr(obj, "model_dump") else dataclasses.asdict(obj)
    return json.dumps(_round(data, decimals), indent=1, allow_nan=False) + "\n"


def write_report_json(report: Report, path: Path, decimals: int = 3) -> None:
    """report.json, floats rounded to ``decimals``."""
    path.write_text(json_text(report, decimals))


def _round(obj, decimals: int):
    if isinstance(obj, float):
        return round(obj, decimals)
    if isinstance(obj, dict):
        return {k: _round(v, decimals) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v, decimals) for v in obj]
    return obj


def write_outputs(
    analysis: Analysis, outdir: Path, *, decimals: int = 3, save_keypoints: bool = False,
    extra: dict[str, str] | None = None, video_source: Path | None = None, html: bool = True,
    progress=None,
) -> Path:
    """Write into ``outdir``, atomically: report.json, timeseries.csv, report.html (unless
    ``html`` is False), annotated.mp4 with the report's key frames (when ``video_source``,
    the analysed video, is given), keypoints.npz (``save_keypoints``) and ``extra``
    {file name: text}. ``progress(done_s, total_s)`` follows the video drawing."""
    from flatback.outputs.annotate import key_frame_times, write_annotated_video
    from flatback.outputs.html_report import write_html_report

    measured = analysis.measured is not None  # None: not a leg lift, nothing was measured
    report = Report.from_result(analysis)
    with atomic_dir(outdir) as tmp:
        write_report_json(report, tmp / "report.json", decimals)
        if measured:
            write_timeseries(analysis, tmp / "timeseries.csv", decimals)
        if save_keypoints:
            analysis.track.save(tmp / "keypoints.npz")
        for name, text in (extra or {}).items():
            (tmp / name).write_text(text)
        video = None
        key_frames: dict = {}
        if video_source is not None and measured:
            video = tmp / "annotated.mp4"
            times = key_frame_times(report)
            out = analysis.settings.output
            crops = write_annotated_video(analysis, video_source, video, key_times=times, progress=progress,
                                          crf=out.video_crf, preset=out.video_preset, max_fps=out.video_max_fps)
            key_frames = {cap: (times[cap], img) for cap, img in crops.items()}
        if html:
            write_html_report(analysis, report, tmp / "report.html", video, key_frames)
    return Path(outdir)
