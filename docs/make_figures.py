"""Figures for the README from a flatback output folder.

    .venv/bin/python docs/make_figures.py OUTDIR docs/leg_angle_studio.png

Plots the leg angle (raw and cleaned) against time, with each counted rep shaded,
its phases, its lowest point (bottom_s) and the partial reps.
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


def main(outdir: str, png: str) -> None:
    out = Path(outdir)
    report = json.loads((out / "report.json").read_text())
    with open(out / "timeseries.csv") as fh:
        rows = list(csv.DictReader(fh))

    def col(name):
        return [float(r[name]) if r[name] else float("nan") for r in rows]

    t = col("t_s")
    fig, ax = plt.subplots(figsize=(10, 4.0), dpi=110)
    prev = None
    for i, r in enumerate(rows):  # shade phases
        if r["phase"] in PHASE_COLOURS and r["phase"] != prev:
            j = i
            while j + 1 < len(rows) and rows[j + 1]["phase"] == r["phase"]:
                j += 1
            ax.axvspan(t[i], t[j], color=PHASE_COLOURS[r["phase"]], lw=0)
        prev = r["phase"]
    ax.plot(t, col("leg_angle_raw_deg"), color="0.6", lw=0.8, label="leg angle, raw")
    ax.plot(t, col("leg_angle_deg"), color="k", lw=1.6, label="leg angle, cleaned")
    for rep in report["reps"]:
        ax.axvline(rep["bottom_s"], color="tab:blue", ls="--", lw=1)
        ax.text(rep["start_s"], 103, f"rep {rep['index']}\n{rep['descent_s']:.1f} s down", fontsize=8, va="bottom")
    for p in report.get("partial_reps", []):
        ax.axvspan(p["start_s"], p["end_s"], facecolor="0.93", hatch="//", edgecolor="0.75", lw=0)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in PHASE_COLOURS.values()]
    ax.legend(
        ax.get_legend_handles_labels()[0] + handles,
        ax.get_legend_handles_labels()[1] + list(PHASE_COLOURS),
        loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=7, ncol=6, frameon=False,
    )
    ax.set_ylim(-10, 125)
    ax.set_xlabel("time, s")
    ax.set_ylabel("leg angle, deg (0 floor, 90 vertical)")
    ax.set_title(f"{Path(report['source']['path']).name}: {report['rep_count']} reps; dashed = bottom_s; hatched = partial", fontsize=9)
    fig.tight_layout()
    fig.savefig(png)


if __name__ == "__main__":
    main(*sys.argv[1:3])
