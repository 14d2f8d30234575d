"""The end-range validity map (issue 14, item 3): rendered sets through the whole
analysis, scored per rep against the twin's truth.

    python -m flatback.twin.validity --grid full --out DIR [--tag TAG] [--workers 2]
    python -m flatback.twin.validity --out DIR --tag TAG --tables [--figure map.png]

Each cell of the grid is rendered once into ``DIR/clips/`` (video, truth, and the pose track
of its first analysis); each analysis run writes one JSON per cell into
``DIR/results/TAG/`` (realism figures included, from the same BlazePose pass), so a rerun
resumes, and a new tag after a change to the analysis re-analyses every cached clip.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterator
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

    def spec(self, width: int = 640, height: int = 360, fps: float = 10.0, compact: bool = False) -> ClipSpec:
        """The clip of this cell: one counted rep between set-up and set-down. ``compact``: a
        quicker lowering (3 s) and the camera at 2 m, for small test renders."""
        timing = dict(descent_s=3.0, ascent_s=1.2, pause_s=0.5) if compact else {}
        script = leg_lowering_script(n_reps=1, onset_deg=self.onset_deg, lift_cm=self.lift_cm,
                                     bottom_deg=15.0, arms=self.arms, **timing)
        cam = CameraSpec(height_m=self.cam_height_m, yaw_deg=self.yaw_deg, distance_m=2.0 if compact else 2.6,
                         look_at_y_m=max(0.3, self.cam_height_m * 0.5))
        return ClipSpec(script=script, shape=SHAPES[self.shape], camera=cam, width=width,
                        height=height, fps=fps)


def slice_grid() -> list[Cell]:
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


ARMS = ("overhead", "chest", "sides", "glutes")
HEIGHTS_M = (0.02, 0.1, 0.3, 0.5)  # 0.02: a phone lying on the floor
SIDE_VIEW_MAX_YAW_DEG = 10.0  # the arms x height map: sets this close to the side view


def full_grid(n_random: int = 16, seed: int = 14) -> list[Cell]:
    """A designed grid over the six factors (a full factorial is 5 x 4 x 4 x 4 x 5 x 3 = 4,800
    sets), in order of priority so that a partial run is still a useful map:

    1. core: arms (4) x camera height (4) at the side view, average body, each with a 2 cm
       lift at 50 deg and a flat-back control (32 sets);
    2. the first slice (its renders are reused): lifts 0.5-4 cm, onsets 30-75 deg, views
       (10 cm, 0 deg), (30 cm, 15 deg), (50 cm, 30 deg), (10 cm, 40 deg), three shapes;
    3. yaw 10-40 deg, arms on the chest and at the sides, 10 cm, 3 cm at 50 deg;
    4. body shapes: each with a 3 cm lift and a flat control, arms on the chest and overhead;
    5. lift size (0.5-4 cm) x onset angle (30-75 deg), arms on the chest, 10 cm, side view;
    6. a Latin hypercube of ``n_random`` sets over all six factors (seeded), which also
       mixes the factors the sweeps hold fixed.
    """
    cells = [Cell(lift, onset, arms, h, 0.0)
             for arms in ARMS for h in HEIGHTS_M for lift, onset in ((2.0, 50.0), (0.0, 45.0))]
    cells += slice_grid()
    cells += [Cell(3.0, 50.0, arms, 0.1, yaw) for yaw in (20.0, 10.0, 30.0, 40.0)
              for arms in ("chest", "sides")]
    cells += [Cell(lift, onset, arms, 0.1, 0.0, shape) for lift, onset in ((3.0, 60.0), (0.0, 45.0))
              for arms in ("chest", "overhead") for shape in SHAPES]
    cells += [Cell(lift, onset, "chest", 0.1, 0.0)
              for lift in (0.5, 1.0, 2.0, 3.0, 4.0) for onset in (30.0, 40.0, 60.0, 75.0)]
    cells += latin_hypercube(n_random, seed)
    unique: dict[str, Cell] = {}
    for c in cells:
        unique.setdefault(c.name, c)
    return list(unique.values())


def latin_hypercube(n: int, seed: int) -> list[Cell]:
    """``n`` cells, each factor's range cut into ``n`` strata and each stratum used once
    (lift 0.5-4 cm, onset 30-75 deg, height 0.02-0.5 m, yaw 0-40 deg; arms and shape cycle
    through their levels in a random order). Values rounded so names stay short."""
    rng = np.random.default_rng(seed)

    def strata(lo: float, hi: float) -> np.ndarray:
        return lo + (hi - lo) * (rng.permutation(n) + rng.random(n)) / n

    lift, onset = strata(0.5, 4.0), strata(30.0, 75.0)
    height, yaw = strata(HEIGHTS_M[0], 0.5), strata(0.0, 40.0)
    arms = rng.permutation(np.resize(ARMS, n))
    shapes = rng.permutation(np.resize(list(SHAPES), n))
    return [Cell(round(float(lift[i]), 1), round(float(onset[i])), str(arms[i]),
                 round(float(height[i]), 2), round(float(yaw[i])), str(shapes[i]))
            for i in range(n)]


GRIDS = {"slice": slice_grid, "full": full_grid}


def grid() -> list[Cell]:
    """The first slice (kept for the results already written with it)."""
    return slice_grid()


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
    """Per scripted rep: truth (lifted?, onset angle) vs the report's matched rep (the
    counted rep whose bottom is nearest the scripted bottom, within 1.5 s).

    The onset error (reported - true onset angle, deg) splits into a timing part (the true
    leg angle at the reported onset time - the true onset angle) and a leg-angle part (the
    reported angle - the true angle at that time)."""
    onsets = script.lift_onsets()
    rows = []
    for start, bottom, end in script.reps_s:
        inside = [(t, a) for t, a in onsets if start <= t <= end]
        truth_lifted = bool(inside)
        match = min(report.reps, key=lambda r: abs(r.bottom_s - bottom), default=None)
        if match is not None and abs(match.bottom_s - bottom) > 1.5:
            match = None
        state = match.back_lift.state if match is not None else "no_rep"
        judged = state in ("flat", "lifted")
        right = judged and (state == "lifted") == truth_lifted
        onset_err = timing_err = angle_err = dt = None
        bl = match.back_lift if match is not None else None
        if truth_lifted and state == "lifted" and bl is not None and bl.onset_leg_angle_deg is not None:
            t_true, a_true = inside[0]
            onset_err = bl.onset_leg_angle_deg - a_true
            if bl.onset_s is not None:
                dt = bl.onset_s - t_true
                at_reported = float(script.leg_angle_deg(bl.onset_s))
                timing_err, angle_err = at_reported - a_true, bl.onset_leg_angle_deg - at_reported
        rows.append({"truth_lifted": truth_lifted, "truth_onset_deg": inside[0][1] if inside else None,
                     "state": state, "judged": judged, "right": right,
                     "onset_leg_angle_deg": None if bl is None else bl.onset_leg_angle_deg,
                     "onset_err_deg": onset_err, "onset_time_err_s": dt,
                     "onset_err_timing_deg": timing_err, "onset_err_leg_angle_deg": angle_err})
    return rows


def load_truth(npz: Path) -> ClipTruth:
    """A clip's truth as written by ``render_clip``."""
    z = np.load(npz)
    arrays = {k: z[k] for k in z.files if k != "onsets"}
    return ClipTruth(**arrays, onsets=[(float(o[0]), float(o[1])) for o in z["onsets"]])


def run_cell(cell: Cell, out_dir: Path, width: int = 640, height: int = 360,
             fps: float = 10.0, reuse: bool = True) -> dict:
    """Render (or reuse the clip already there), analyse and score one cell.

    The first analysis of a clip runs the whole ``flatback analyze`` path on the video
    (BlazePose included) and keeps its pose track as ``<name>.keypoints.npz``; later runs
    (after a change to the analysis) run the same path on that keypoint file, so only the
    pose model is not run again (its output is the same for the same video).
    """
    from flatback.outputs.report import Report
    from flatback.pipeline import Analyzer

    spec = cell.spec(width, height, fps)
    mp4 = out_dir / f"{cell.name}.mp4"
    keypoints = out_dir / f"{cell.name}.keypoints.npz"
    t0 = time.perf_counter()
    npz = out_dir / f"{cell.name}.truth.npz"
    rendered = not (reuse and mp4.exists() and npz.exists())
    truth = render_clip(spec, mp4) if rendered else load_truth(npz)
    t1 = time.perf_counter()
    from_video = rendered or not keypoints.exists()
    analysis = Analyzer().run(mp4 if from_video else keypoints)
    t2 = time.perf_counter()
    if from_video:
        analysis.track.save(keypoints)
    realism = measure_realism(analysis.track, truth)
    measured = analysis.clearance.ratio if analysis.clearance is not None else np.full(1, np.nan)
    n = min(len(measured), len(truth.t_s))
    clr_err = measured[:n] - truth.clearance_ratio[:n]
    report = Report.from_result(analysis)
    return {
        "clearance_err_ratio": summarise(clr_err),
        "clearance_abs_err_ratio": summarise(np.abs(clr_err)),
        "cell": asdict(cell), "name": cell.name,
        "torso_px": float(analysis.geometry.torso_length_px) if analysis.geometry is not None else None,
        "render_s_per_frame": (t1 - t0) / len(truth.t_s) if rendered else None,
        "analyze_s_per_frame": (t2 - t1) / len(truth.t_s), "analysed_from": "video" if from_video else "keypoints",
        "reps": score_reps(spec.script, report),
        "rep_count": analysis.rep_count, "truth_rep_count": len(spec.script.reps_s),
        "rep_bottoms_s": [r.bottom_s for r in report.reps],
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


def _nearest(value: float, levels: tuple[float, ...]) -> float:
    return min(levels, key=lambda lv: abs(lv - value))


FACTORS = {
    "arms": lambda c: c["arms"],
    "camera height m": lambda c: _nearest(c["cam_height_m"], HEIGHTS_M),
    "yaw deg": lambda c: _nearest(c["yaw_deg"], (0.0, 10.0, 20.0, 30.0, 40.0)),
    "lift cm": lambda c: 0.0 if c["lift_cm"] == 0 else _nearest(c["lift_cm"], (0.5, 1.0, 2.0, 3.0, 4.0)),
    "onset deg": lambda c: _nearest(c["onset_deg"], (30.0, 40.0, 50.0, 60.0, 75.0)),
    "shape": lambda c: c["shape"],
    "arms seen": lambda c: "chest / overhead" if c["arms"] in ("chest", "overhead") else "sides / glutes",
}


def cell_stats(reps: list[dict]) -> dict:
    """Judged % and right % of all reps, right % of the judged ones, onset error (reported
    - truth, deg) of the lifts found: median (signed) and 90th percentile of its size."""
    n = len(reps)
    judged = sum(r["judged"] for r in reps)
    right = sum(r["right"] for r in reps)
    errs = np.array([r["onset_err_deg"] for r in reps if r["onset_err_deg"] is not None], float)
    return {"reps": n, "judged_pct": 100 * judged / n if n else np.nan,
            "right_pct": 100 * right / n if n else np.nan,
            "right_of_judged_pct": 100 * right / judged if judged else np.nan,
            "onset_err_median_deg": float(np.median(errs)) if len(errs) else np.nan,
            "onset_abs_err_p90_deg": float(np.percentile(np.abs(errs), 90)) if len(errs) else np.nan,
            "n_onsets": len(errs)}


def group_stats(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, dict]:
    """Reps of all cells grouped by the levels of ``keys`` (names of ``FACTORS``)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        key = tuple(FACTORS[k](r["cell"]) for k in keys)
        groups.setdefault(key, []).extend(r["reps"])
    return {k: cell_stats(v) for k, v in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0])))}


def _stats_table(rows: list[dict], keys: tuple[str, ...]) -> str:
    head = " | ".join(keys)
    out = [f"| {head} | reps | judged % | right % (of all) | right % (of judged) | onset err median / p90 abs deg |",
           "|" + "---|" * (len(keys) + 5)]
    for key, st in group_stats(rows, keys).items():
        err = "-" if not st["n_onsets"] else (
            f"{st['onset_err_median_deg']:+.1f} / {st['onset_abs_err_p90_deg']:.1f} (n={st['n_onsets']})")
        out.append(f"| {' | '.join(f'{v:g}' if isinstance(v, float) else str(v) for v in key)} | {st['reps']} | "
                   f"{_fmt(st['judged_pct'], 0)} | {_fmt(st['right_pct'], 0)} | {_fmt(st['right_of_judged_pct'], 0)} | "
                   f"{err} |")
    return "\n".join(out)


def map_tables(rows: list[dict]) -> str:
    """Markdown: the map by arms x camera height (side views), then by yaw, lift size, onset angle and
    body shape (each split by whether the arms leave the lumbar gap in view), then reps
    counted against the script."""
    side = [r for r in rows if r["cell"]["yaw_deg"] <= SIDE_VIEW_MAX_YAW_DEG]
    parts = [f"{len(rows)} sets, {sum(len(r['reps']) for r in rows)} scored reps.", "",
             f"Side views (yaw <= {SIDE_VIEW_MAX_YAW_DEG:g} deg), {len(side)} sets:", "",
             _stats_table(side, ("arms", "camera height m"))]
    for k in ("yaw deg", "lift cm", "onset deg", "shape"):
        parts += ["", _stats_table(rows, ("arms seen", k))]
    extra = [r["rep_count"] - r.get("truth_rep_count", len(r["reps"])) for r in rows]
    parts += ["", f"Counted reps minus scripted reps per set: {dict(sorted(Counter(extra).items()))}"]
    return "\n".join(parts)


def realism_by_view(rows: list[dict]) -> str:
    """Markdown: realism per arms x camera height over all sets: person found %, swap %,
    near-side hip / knee / ankle / shoulder error (median of the sets' medians, largest
    p90, px) and the mask's underside vs the rendered silhouette (median / p90, px)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        key = (FACTORS["arms"](r["cell"]), FACTORS["camera height m"](r["cell"]))
        groups.setdefault(key, []).append(r["realism"])
    joints = ("hip_l", "knee_l", "ankle_l", "shoulder_l")
    out = ["| arms | camera height m | sets | found % | swap % | hip near | knee near | ankle near | shoulder near "
           "| underside px |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (arms, h), rs in sorted(groups.items(), key=lambda kv: (ARMS.index(kv[0][0]), kv[0][1])):
        cells = []
        for j in joints:
            med = [x["joints"][j]["all"]["median"] for x in rs]
            p90 = [x["joints"][j]["all"]["p90"] for x in rs]
            cells.append(f"{_fmt(float(np.nanmedian(med)))} / {_fmt(float(np.nanmax(p90)))}")
        und = [x["underside_err_px"] for x in rs]
        out.append(f"| {arms} | {h:g} | {len(rs)} | {_fmt(100 * min(x['found_fraction'] for x in rs), 0)} | "
                   f"{_fmt(100 * max(x['swap_fraction'] for x in rs), 0)} | {' | '.join(cells)} | "
                   f"{_fmt(float(np.nanmedian([u['median'] for u in und])))} / "
                   f"{_fmt(float(np.nanmax([u['p90'] for u in und])))} |")
    return "\n".join(out)


def draw_map(rows: list[dict], path: Path) -> None:
    """The map as a PNG: judged %, right % and onset error by arms x camera height
    (heatmaps, side views), and the same by yaw and by lift size (arms on the chest or overhead)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), constrained_layout=True)
    side = [r for r in rows if r["cell"]["yaw_deg"] <= SIDE_VIEW_MAX_YAW_DEG]
    grid_stats = group_stats(side, ("arms", "camera height m"))
    metrics = (("judged_pct", "back judged, % of reps", "Greens", (0, 100)),
               ("right_pct", "judged right, % of reps", "Blues", (0, 100)),
               ("onset_abs_err_p90_deg", "onset error, p90 |deg|", "Oranges", (0, 15)))
    for ax, (m, title, cmap, (lo, hi)) in zip(axes[0], metrics):
        z = np.array([[grid_stats.get((a, h), {}).get(m, np.nan) for h in HEIGHTS_M] for a in ARMS])
        ax.imshow(z, cmap=cmap, vmin=lo, vmax=hi, aspect="auto")
        for i, a in enumerate(ARMS):
            for j, h in enumerate(HEIGHTS_M):
                st = grid_stats.get((a, h))
                label = "-" if st is None or not np.isfinite(z[i, j]) else f"{z[i, j]:.0f}"
                if st is not None:
                    label += f"\n(n={st['reps'] if m != 'onset_abs_err_p90_deg' else st['n_onsets']})"
                dark = np.isfinite(z[i, j]) and (z[i, j] - lo) / (hi - lo) > 0.6
                ax.text(j, i, label, ha="center", va="center", fontsize=8, color="white" if dark else "black")
        ax.set_xticks(range(len(HEIGHTS_M)), [f"{100 * h:g} cm" for h in HEIGHTS_M])
        ax.set_yticks(range(len(ARMS)), ARMS)
        ax.set_xlabel("camera height")
        ax.set_title(f"{title}\narms x camera height, yaw <= {SIDE_VIEW_MAX_YAW_DEG:g}")
    seen = [r for r in rows if r["cell"]["arms"] in ("chest", "overhead")]
    for ax, key, xlabel in ((axes[1][0], "yaw deg", "yaw off the side view, deg"),
                            (axes[1][1], "lift cm", "lumbar lift, cm (0 = flat back)")):
        st = group_stats(seen, (key,))
        xs = [k[0] for k in st]
        ax.plot(xs, [v["judged_pct"] for v in st.values()], "o-", label="judged %")
        ax.plot(xs, [v["right_pct"] for v in st.values()], "s-", label="right %")
        ax.set_ylim(-5, 105)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("% of reps")
        ax2 = ax.twinx()
        ax2.plot(xs, [v["onset_abs_err_p90_deg"] for v in st.values()], "^--", color="tab:orange",
                 label="onset p90 |err| deg")
        ax2.set_ylim(0, 20)
        ax2.set_ylabel("onset error, deg", color="tab:orange")
        ax.set_title(f"by {key.split()[0]} (arms on the chest or overhead)")
        ax.legend(loc="lower left", fontsize=8)
    ax = axes[1][2]
    errs = [(r["cell"]["onset_deg"], x["onset_err_deg"], r["cell"]["arms"]) for r in seen for x in r["reps"]
            if x["onset_err_deg"] is not None]
    if errs:
        on, e, arms = zip(*errs)
        for a, mk in (("chest", "o"), ("overhead", "s")):
            sel = [i for i, x in enumerate(arms) if x == a]
            ax.scatter([on[i] for i in sel], [e[i] for i in sel], marker=mk, label=a, alpha=0.7)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("true onset leg angle, deg")
    ax.set_ylabel("reported - true onset, deg")
    ax.set_title("onset error per rep")
    ax.legend(fontsize=8)
    fig.suptitle(f"End-range validity map on the twin: {len(rows)} rendered sets, BlazePose + flatback analyze")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _run_one(args: tuple[Cell, Path, Path]) -> tuple[str, dict | str]:
    """Worker: one cell, its result written to ``result_path`` (atomic)."""
    cell, clips, result_path = args
    try:
        row = run_cell(cell, clips)
    except Exception as e:  # a cell that fails is reported, the grid goes on
        return cell.name, f"{type(e).__name__}: {e}"
    tmp = result_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(row, default=lambda o: float(o) if isinstance(o, np.floating) else str(o)))
    tmp.replace(result_path)
    return cell.name, row


# Leg-angle sources compared by :func:`angle_table`: settings that make the geometry use each.
ANGLE_SOURCES = {
    "picture as it is": {"picture_max_error_deg": 90.0},
    "3-D skeleton's own": {"max_measurable_yaw_deg": 0.0},
    "flatback (corrected picture)": {},
}


def angle_table(clips_dir: Path) -> str:
    """Leg angles against the rendered truth for every clip in ``clips_dir`` with a pose
    track, by view (side view below 25 cm and under 8 deg of yaw, or turned or raised) and
    by the source of the angle: markdown. Per clip, the error of its highest reading (the
    reps' tops) and the median per-frame error where the legs are above 15 deg."""
    import re

    from flatback.measure.geometry import compute_body_geometry
    from flatback.settings import GeometrySettings
    from flatback.types import PoseTrack

    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for kp in sorted(clips_dir.glob("*.keypoints.npz")):
        truth = np.load(kp.with_name(kp.name.replace(".keypoints.npz", ".truth.npz")))
        found = re.search(r"_h([0-9.]+)_yaw([0-9.]+)", kp.name)
        if found is None:
            continue
        high, yaw = float(found.group(1)), float(found.group(2))
        view = "side, low" if high < 0.25 and yaw < 8 else "turned or raised"
        track = PoseTrack.from_keypoint_file(kp)
        for source, overrides in ANGLE_SOURCES.items():
            g = compute_body_geometry(track, GeometrySettings(**overrides))
            angle = np.interp(truth["t_s"], track.t_s, g.leg_angle_deg)
            up = np.isfinite(angle) & (truth["leg_angle_deg"] > 15)
            if not up.any():
                continue
            err = float(np.median(np.abs(angle[up] - truth["leg_angle_deg"][up])))
            rows.setdefault((view, source), []).append((abs(float(np.nanmax(angle)) - float(truth["leg_angle_deg"].max())), err))
    lines = ["| view | leg angle from | sets | top error median / p90, deg | top within 10 deg | per-frame error median, deg |",
             "|---|---|---|---|---|---|"]
    for (view, source), v in sorted(rows.items()):
        a = np.array(v)
        lines.append(f"| {view} | {source} | {len(a)} | {np.median(a[:, 0]):.1f} / {np.percentile(a[:, 0], 90):.1f} | "
                     f"{np.mean(a[:, 0] <= 10):.0%} | {np.median(a[:, 1]):.1f} |")
    return "\n".join(lines)


def load_results(out_dir: Path, tag: str) -> list[dict]:
    """The results of run ``tag`` under ``out_dir`` (one JSON per cell), in name order."""
    return [json.loads(p.read_text()) for p in sorted((out_dir / "results" / tag).glob("*.json"))]


def main(argv: list[str] | None = None) -> None:
    """Run a grid into OUT_DIR (resuming), or print its tables / draw its figure."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out_dir", nargs="?", type=Path, help="(older form of --out)")
    ap.add_argument("--out", type=Path, default=None, help="results folder (clips/, results/TAG/)")
    ap.add_argument("--grid", choices=sorted(GRIDS), default="full")
    ap.add_argument("--tag", default="current", help="name of this analysis run (e.g. before / after a change)")
    ap.add_argument("--workers", type=int, default=1, help="cells run in parallel")
    ap.add_argument("--only", nargs="*", default=None, help="cell names to run")
    ap.add_argument("--cached-only", action="store_true",
                    help="only cells whose clip and pose track are already in DIR/clips (re-analysis after a change)")
    ap.add_argument("--tables", action="store_true", help="print the tables of run TAG")
    ap.add_argument("--figure", type=Path, default=None, help="draw the map of run TAG into this PNG")
    ap.add_argument("--angles", action="store_true",
                    help="print leg angles against the truth by view and angle source (the clips' pose tracks)")
    args = ap.parse_args(argv)
    out = args.out or args.out_dir
    if out is None:
        ap.error("give --out DIR")
    if args.angles:
        print(angle_table(out / "clips"))
        return
    if args.tables or args.figure:
        rows = load_results(out, args.tag)
        if args.tables:
            print(map_tables(rows), "", realism_by_view(rows), "", validity_table(rows), sep="\n")
        if args.figure:
            draw_map(rows, args.figure)
        return
    clips = out / "clips"
    results = out / "results" / args.tag
    clips.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    todo = [(c, clips, results / f"{c.name}.json") for c in GRIDS[args.grid]()
            if not (results / f"{c.name}.json").exists() and (not args.only or c.name in args.only)
            and (not args.cached_only or (clips / f"{c.name}.keypoints.npz").exists())]
    print(f"{len(todo)} cells to run into {results}", flush=True)
    done: Iterator[tuple[str, dict | str]]
    if args.workers <= 1:
        done = map(_run_one, todo)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"))
        done = pool.map(_run_one, todo)
    for name, row in done:
        if isinstance(row, str):
            print(name, "FAILED", row, flush=True)
        else:
            print(name, row["rep_count"], [(r["state"], r["right"], r["onset_err_deg"]) for r in row["reps"]],
                  flush=True)


if __name__ == "__main__":
    main()
