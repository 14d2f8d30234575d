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
    cells += [Cell(3.0, 60.0, arms, 0.1, 0.0) for arms in ("overhead", "glutes")]
    cells += [Cell(3.0, 60.0, "chest", 0.1, 0.0, shape) for shape in ("heavy_male", "slim_female")]
    cells += [Cell(3.0, 50.0, arms, h, yaw) for arms in ("chest", "sides")
              for h, yaw in ((0.3, 15.0), (0.1, 40.0))]
    cells += [Cell(lift, onset, "chest", 0.1, 0.0)
              for lift, onset in ((0.5, 50.0), (2.0, 30.0), (4.0, 75.0))]
    return cells


def _fmt(v: float | None, nd: int = 1) -> str:
    return "-" if v is None or not np.isfinite(v) else f"{v:.{nd}f}"


def validity_table(rows: list[dict]) -> str:
    """Markdown: per cell, reps judged / right, onset error (deg), lift and view."""
    out = [("| lift cm | onset deg | arms | cam h m | yaw deg | shape | states | judged | right "
            "| onset err deg | clearance err median / p90 (ratio) |"),
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c, reps = r["cell"], r["reps"]
        errs = [x["onset_err_deg"] for x in reps if x["onset_err_deg"] is not None]
        out.append(
            f"| {c['lift_cm']:g} | {c['onset_deg']:g} | {c['arms']} | {c['cam_height_m']:g} | "
            f"{c['yaw_deg']:g} | {c['shape']} | {', '.join(x['state'] for x in reps)} | "
            f"{sum(x['judged'] for x in reps)}/{len(reps)} | {sum(x['right'] for x in reps)}/"
            f"{len(reps)} | {', '.join(f'{e:+.1f}' for e in errs) or '-'} | "
            f"{_clearance_cell(r)} |")
    return "\n".join(out)


def _clearance_cell(r: dict) -> str:
    e = r.get("clearance_err_ratio")
    if not e:
        return "-"
    return f"{_fmt(e['median'], 3)} / {_fmt(e['p90'], 3)} ({e['n']} fr)"


def realism_table(rows: list[dict]) -> str:
    """Markdown: realism per view (camera height, yaw) and arms, per joint kind, px."""
    out = [("| view | arms | found % | L/R swap % | joint | median px | p90 px | low/mid/high "
            "median px | underside mean abs px: median / p90 |"),
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c, re = r["cell"], r["realism"]
        view = f"h {c['cam_height_m']:g} m, yaw {c['yaw_deg']:g}"
        for j in ("hip_l", "knee_l", "ankle_l", "shoulder_l", "hip_r", "knee_r", "ankle_r"):
            e = re["joints"][j]
            bands = "/".join(_fmt(e[b]["median"]) for b in ("low", "mid", "high"))
            first = j == "hip_l"
            out.append(
                f"| {view if first else ''} | {c['arms'] if first else ''} | "
                f"{_fmt(100 * re['found_fraction'], 0) if first else ''} | "
                f"{_fmt(100 * re['swap_fraction'], 0) if first else ''} | {j} | "
                f"{_fmt(e['all']['median'])} | {_fmt(e['all']['p90'])} | {bands} | "
                + (f"{_fmt(re['underside_err_px']['median'])} / "
                   f"{_fmt(re['underside_err_px']['p90'])} |" if first else " |"))
    return "\n".join(out)


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
        if truth_lifted and state == "lifted" and match is not None and match.back_lift.onset_leg_angle_deg is not None:
            onset_err = match.back_lift.onset_leg_angle_deg - inside[0]
        rows.append({"truth_lifted": truth_lifted, "truth_onset_deg": inside[0] if inside else None,
                     "state": state, "judged": judged, "right": right,
                     "onset_leg_angle_deg": None if match is None else
                     match.back_lift.onset_leg_angle_deg,
                     "onset_err_deg": onset_err})
    return rows


def load_truth(npz: Path) -> ClipTruth:
    """A clip's truth as written by ``render_clip``."""
    z = np.load(npz)
    arrays = {k: z[k] for k in z.files if k != "onsets"}
    return ClipTruth(**arrays, onsets=[(float(o[0]), float(o[1])) for o in z["onsets"]])


def run_cell(cell: Cell, out_dir: Path, width: int = 640, height: int = 360,
             fps: float = 10.0, reuse: bool = True) -> dict:
    """Render (or reuse the clip already there), analyse and score one cell."""
    from flatback.outputs.report import Report
    from flatback.pipeline import Analyzer

    spec = cell.spec(width, height, fps)
    mp4 = out_dir / f"{cell.name}.mp4"
    t0 = time.perf_counter()
    npz = out_dir / f"{cell.name}.truth.npz"
    truth = load_truth(npz) if reuse and mp4.exists() and npz.exists() else render_clip(spec, mp4)
    t1 = time.perf_counter()
    analysis = Analyzer().run(mp4)
    t2 = time.perf_counter()
    realism = measure_realism(analysis.track, truth)
    analysis.track.save(out_dir / f"{cell.name}.keypoints.npz")
    measured = analysis.clearance.ratio if analysis.clearance is not None else np.full(1, np.nan)
    n = min(len(measured), len(truth.t_s))
    clr_err = measured[:n] - truth.clearance_ratio[:n]
    return {
        "clearance_err_ratio": summarise(clr_err),
        "clearance_abs_err_ratio": summarise(np.abs(clr_err)),
        "cell": asdict(cell), "name": cell.name,
        "render_s_per_frame": (t1 - t0) / len(truth.t_s),
        "analyze_s_per_frame": (t2 - t1) / len(truth.t_s),
        "reps": score_reps(spec.script, Report.from_result(analysis)),
        "rep_count": analysis.rep_count,
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
    ap.add_argument("--tables", action="store_true", help="print the tables of results.jsonl")
    args = ap.parse_args(argv)
    if args.tables:
        rows = [json.loads(x) for x in (args.out_dir / "results.jsonl").read_text().splitlines()]
        print(validity_table(rows), "", realism_table(rows), sep="\n")
        return
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
