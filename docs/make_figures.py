"""Figures for the README from a flatback output folder.

    .venv/bin/python docs/make_figures.py OUTDIR PNG

Top: the leg angle (raw and cleaned) against time, each counted rep's phases shaded,
its lowest point (bottom_s) dashed and partial reps hatched. Bottom: the lumbar
clearance with the back's state (flat green, lifted red, occluded grey), the person's
flat baseline and lift threshold, and each back-lift onset with its leg angle.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PHASE_COLOURS = {"ascent": "#cde7c4", "top": "#f2f2f2", "descent": "#f9d9b7", "bottom": "#dbe4f7"}
BACK_COLOURS = {"flat": "#2e9e4f", "lifted": "#d62728", "occluded": "#9a9a9a"}


def _spans(rows, key, t):
    """(value, t_start, t_end) runs of a column."""
    out, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][key] != rows[start][key]:
            out.append((rows[start][key], t[start], t[i - 1]))
            start = i
    return out


def main(outdir: str, png: str) -> None:
    out = Path(outdir)
    report = json.loads((out / "report.json").read_text())
    with open(out / "timeseries.csv") as fh:
        rows = list(csv.DictReader(fh))

    def col(name):
        return [float(r[name]) if r[name] else float("nan") for r in rows]

    t = col("t_s")
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(10, 5.6), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for phase, a, b in _spans(rows, "phase", t):
        if phase in PHASE_COLOURS:
            ax.axvspan(a, b, color=PHASE_COLOURS[phase], lw=0)
    for p in report.get("partial_reps", []):
        ax.axvspan(p["start_s"], p["end_s"], facecolor="0.93", hatch="//", edgecolor="0.75", lw=0)
    ax.plot(t, col("leg_angle_raw_deg"), color="0.6", lw=0.8, label="leg angle, raw")
    ax.plot(t, col("leg_angle_deg"), color="k", lw=1.6, label="leg angle, cleaned")
    for rep in report["reps"]:
        ax.axvline(rep["bottom_s"], color="tab:blue", ls="--", lw=1)
        ax.text(rep["start_s"], 103, f"rep {rep['index']}\n{rep['descent_s']:.1f} s down", fontsize=8, va="bottom")
        onset = rep["back_lift"]["onset_s"]
        if onset is not None:
            for axis in (ax, bx):
                axis.axvline(onset, color=BACK_COLOURS["lifted"], lw=1.2)
            ax.annotate(
                f"back lifts at {rep['back_lift']['onset_leg_angle_deg']:.0f} deg", (onset, rep["back_lift"]["onset_leg_angle_deg"]),
                xytext=(4, -14), textcoords="offset points", fontsize=7, color=BACK_COLOURS["lifted"],
            )
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in PHASE_COLOURS.values()]
    ax.legend(
        ax.get_legend_handles_labels()[0] + handles, ax.get_legend_handles_labels()[1] + list(PHASE_COLOURS),
        loc="upper right", fontsize=7, ncol=3, framealpha=0.9,
    )
    ax.set_ylim(-10, 125)
    ax.set_ylabel("leg angle, deg\n(0 floor, 90 vertical)")
    end = report.get("end_range_deg")
    title = f"{Path(report['source']['path']).name}: {report['rep_count']} reps"
    if end is not None:
        title += f"; end range {end:.0f} deg\n({report.get('end_range_text', '')})"
    ax.set_title(title, fontsize=8)

    clearance = col("lumbar_clearance")
    for state, a, b in _spans(rows, "back_state", t):
        if state in BACK_COLOURS:
            bx.axvspan(a, b, color=BACK_COLOURS[state], alpha=0.18, lw=0)
    bx.plot(t, col("lumbar_clearance_raw"), color="0.6", lw=0.6, label="clearance, raw")
    bx.plot(t, clearance, color="k", lw=1.4, label="clearance")
    base = report.get("back_baseline")
    if base:
        bx.axhline(base["clearance_ratio"], color=BACK_COLOURS["flat"], ls=":", lw=1, label="flat baseline")
        bx.axhline(base["clearance_ratio"] + base["margin_ratio"], color=BACK_COLOURS["lifted"], ls=":", lw=1, label="lift threshold")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.3) for c in BACK_COLOURS.values()]
    bx.legend(
        bx.get_legend_handles_labels()[0] + handles, bx.get_legend_handles_labels()[1] + list(BACK_COLOURS),
        loc="upper right", fontsize=7, ncol=4, framealpha=0.9,
    )
    bx.set_ylim(-0.02, 0.32)
    bx.set_ylabel("lumbar clearance,\ntorso lengths")
    bx.set_xlabel("time, s")
    fig.tight_layout()
    fig.savefig(png)


if __name__ == "__main__":
    main(*sys.argv[1:3])
