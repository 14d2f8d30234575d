"""The camera set-up picture for the README, drawn from flatback's own simulator.

    .venv/bin/python docs/make_setup_figure.py docs/setup.png

Left: what the camera should see (side view, floor level, arms overhead), with the
floor line through buttocks and upper back, the lumbar span and the gap flatback
measures. Right: the camera's place relative to the person, seen from above.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle  # noqa: E402

from flatback.simulate import Body, simulate  # noqa: E402


def main(png: str) -> None:
    body = Body(torso_px=220)
    clip = simulate(
        n_reps=1, lift_onset_deg=60, lift_gap_ratio=0.2, lift_ramp_deg=20, arms="overhead", width=1100, height=620,
        body=body, seed=0,
    )
    t = clip.track
    legs_midway = (clip.leg_angle_deg > 30) & (clip.leg_angle_deg < 40)
    i = int(np.flatnonzero(legs_midway)[-1])  # lowering, the back already lifting
    x, top, bottom = t.mask_x_px, t.mask_top_y_px[i], t.mask_bottom_y_px[i]
    ok = np.isfinite(top)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 3.8), dpi=110, gridspec_kw={"width_ratios": [2.3, 1]})

    ax.fill_between(x[ok], top[ok], bottom[ok], color="#8fb3d9", step="mid", lw=0)
    ax.plot(x[ok], bottom[ok], color="#27507a", lw=1)  # the underside contour flatback reads
    floor_y = np.nanmax(bottom)
    ax.axhline(floor_y + 1, color="k", lw=2)
    ax.text(20, floor_y + 22, "floor line (through buttocks and upper back)", fontsize=8)
    hip, sh = t.xy_px[i, 23], t.xy_px[i, 11]
    a, b = hip[0] + 0.2 * (sh[0] - hip[0]), hip[0] + 0.6 * (sh[0] - hip[0])
    ax.annotate("", (a, floor_y + 45), (b, floor_y + 45), arrowprops=dict(arrowstyle="<->", color="tab:red"))
    ax.text((a + b) / 2, floor_y + 62, "lumbar span (20-60 % hip to shoulder)", color="tab:red", fontsize=8, ha="center")
    span = (x >= min(a, b)) & (x <= max(a, b))
    k = np.flatnonzero(span)[np.nanargmin(bottom[span])]
    ax.annotate("", (x[k], bottom[k]), (x[k], floor_y), arrowprops=dict(arrowstyle="<->", color="tab:red", lw=1.5))
    ax.text(x[k] + 8, (bottom[k] + floor_y) / 2, "lumbar clearance\n(gap / torso length)", color="tab:red", fontsize=8, va="center")
    ax.plot(*t.xy_px[i, [23, 25, 27]].T, "o-", color="k", ms=3, lw=1)
    ax.text(t.xy_px[i, 27, 0] + 10, t.xy_px[i, 27, 1], "leg angle:\nhip to ankle vs floor", fontsize=8)
    ax.set_xlim(0, 1100)
    ax.set_ylim(floor_y + 90, floor_y - 330)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("What the camera sees: side view, floor level, arms overhead, whole body", fontsize=9)

    bx.add_patch(Rectangle((-1.0, -0.25), 2.0, 0.5, color="#8fb3d9"))
    bx.text(0, 0, "person (lying)", ha="center", va="center", fontsize=8)
    bx.add_patch(Polygon([[-0.12, -2.0], [0.12, -2.0], [0.0, -1.75]], color="k"))
    bx.text(0, -2.25, "camera: floor height,\n1.5-2 m away, level", ha="center", va="top", fontsize=8)
    bx.add_patch(FancyArrowPatch((0, -1.7), (0, -0.35), arrowstyle="->", mutation_scale=12))
    bx.set_xlim(-1.4, 1.4)
    bx.set_ylim(-3.0, 0.6)
    bx.set_aspect("equal")
    bx.axis("off")
    bx.set_title("Seen from above", fontsize=9)
    fig.tight_layout()
    fig.savefig(png)


if __name__ == "__main__":
    main(sys.argv[1])
