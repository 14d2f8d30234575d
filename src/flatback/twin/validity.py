"""A slice of the end-range validity map (issue 14, item 3): rendered sets through the
whole analysis, scored per rep against the twin's truth.

``python -m flatback.twin.validity OUT_DIR [--quick]`` renders each cell of ``GRID``, runs
``flatback.pipeline.Analyzer`` on it, and appends one JSON line per cell to
``OUT_DIR/results.jsonl`` (realism figures included, from the same BlazePose pass).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from flatback.twin.body import BodyShape
from flatback.twin.clip import ClipSpec, ClipTruth, render_clip
from flatback.twin.realism import measure_realism, summarise
from flatback.twin.render import CameraSpec
from flatback.twin.script import MovementScript, leg_lowering_script

SHAPES = {
    "average": BodyShape(),
    "heavy_male": BodyShape(sex=1.0, weight=0.85, height=0.6),
    "slim_female": BodyShape(sex=0.0, weight=0.25, height=0.4),
}


@dataclass(frozen=True)
class Cell:
    """One cell: lift size (cm, 0 = the back stays flat), onset leg angle (deg), arm position,
    camera height above the floor (m), yaw off the side view (deg), body shape name."""

    lift_cm: float
    onset_deg: float
    arms: str
    cam_height_m: float
    yaw_deg: float
    shape: str = "average"

    @property
    def name(self) -> str:
        return (f"lift{self.lift_cm:g}_on{self.onset_deg:g}_{self.arms}_h{self.cam_height_m:g}"
                f"_yaw{self.yaw_deg:g}_{self.shape}")

    def spec(self, width: int = 640, height: int = 360, fps: float = 10.0) -> ClipSpec:
        """The clip of this cell: one counted rep between set-up and set-down."""
        script = leg_lowering_script(n_reps=1, onset_deg=self.onset_deg, lift_cm=self.lift_cm,
                                     bottom_deg=15.0, arms=self.arms)
        cam = CameraSpec(height_m=self.cam_height_m, yaw_deg=self.yaw_deg,
                         look_at_y_m=max(0.3, self.cam_height_m * 0.5))
        return ClipSpec(script=script, shape=SHAPES[self.shape], camera=cam, width=width,
                        height=height, fps=fps)


def grid() -> list[Cell]:
    """The first slice: lift x onset x arms x view, plus flat-back controls."""
    views = [(0.1, 0.0), (0.5, 30.0)]
    cells = [Cell(lift, onset, arms, h, yaw)
             for arms in ("chest", "sides") for h, yaw in views
             for lift in (1.0, 3.0) for onset in (40.0, 60.0)]
    cells += [Cell(0.0, 45.0, arms, h, yaw) for arms in ("chest", "sides") for h, yaw in views]
    return cells


def score_reps(script: MovementScript, report) -> list[dict]:
    """Per scripted rep: truth (lifted?, onset angle) vs the report's matched rep."""
    onsets = script.lift_onsets()
    rows = []
    for start, bottom, end in script.reps_s:
        inside = [a for t, a in onsets if start <= t <= end]
        truth_lifted = bool(inside)
        match = min(report.reps, key=lambda r: abs(r.bottom_s - bottom), default=None)
        if match is not None and abs(match.bottom_s - bottom) > 1.5:
            match = None
        state = match.back_lift.state if match is not None else "no_rep"
        judged = state in ("flat", "lifted")
        right = judged and (state == "lifted") == truth_lifted
        onset_err = None
        if truth_lifted and state == "lifted" and match.back_lift.onset_leg_angle_deg is not None:
            onset_err = match.back_lift.onset_leg_angle_deg - inside[0]
        rows.append({"truth_lifted": truth_lifted, "truth_onset_deg": inside[0] if inside else None,
                     "state": state, "judged": judged, "right": right,
                     "onset_leg_angle_deg": None if match is None else
                     match.back_lift.onset_leg_angle_deg,
                     "onset_err_deg": onset_err})
    return rows


def run_cell(cell: Cell, out_dir: Path, width: int = 640, height: int = 360,
             fps: float = 10.0) -> dict:
    """Render, analyse and score one cell; returns its result row."""
    from flatback.pipeline import Analyzer

    spec = cell.spec(width, height, fps)
    mp4 = out_dir / f"{cell.name}.mp4"
    t0 = time.perf_counter()
    truth = render_clip(spec, mp4)
    t1 = time.perf_counter()
    analysis = Analyzer().run(mp4)
    t2 = time.perf_counter()
    realism = measure_realism(analysis.track, truth)
    return {
        "cell": asdict(cell), "name": cell.name,
        "render_s_per_frame": (t1 - t0) / len(truth.t_s),
        "analyze_s_per_frame": (t2 - t1) / len(truth.t_s),
        "reps": score_reps(spec.script, analysis.report),
        "rep_count": analysis.report.rep_count,
        "realism": realism_row(realism, truth),
    }


def realism_row(realism, truth: ClipTruth) -> dict:
    """Realism summaries, overall and by leg angle band (low < 30 deg <= mid < 60 <= high)."""
    bands = {"low": truth.leg_angle_deg < 30,
             "mid": (truth.leg_angle_deg >= 30) & (truth.leg_angle_deg < 60),
             "high": truth.leg_angle_deg >= 60}
    out = {"found_fraction": realism.found_fraction, "swap_fraction": realism.swap_fraction,
           "underside_err_px": summarise(realism.underside_err_px),
           "underside_bias_px": summarise(realism.underside_bias_px), "joints": {}}
    n = len(realism.underside_err_px)
    for j, e in realism.joint_err_px.items():
        out["joints"][j] = {"all": summarise(e)} | {
            b: summarise(e[m[:n]]) for b, m in bands.items()}
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the grid (or ``--only`` names), appending to OUT_DIR/results.jsonl."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--only", nargs="*", default=None, help="cell names to run")
    args = ap.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    done = set()
    results = args.out_dir / "results.jsonl"
    if results.exists():
        done = {json.loads(line)["name"] for line in results.read_text().splitlines() if line}
    for cell in grid():
        if cell.name in done or (args.only and cell.name not in args.only):
            continue
        row = run_cell(cell, args.out_dir)
        with results.open("a") as f:
            f.write(json.dumps(row, default=lambda o: float(o) if isinstance(o, np.floating)
                               else str(o)) + "\n")
        print(cell.name, [(r["state"], r["right"], r["onset_err_deg"]) for r in row["reps"]],
              flush=True)


if __name__ == "__main__":
    main()
