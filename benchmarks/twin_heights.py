"""Digital-twin sets filmed from higher up than the validity map's 50 cm: counts and leg angles.

    PYTHONPATH=src .venv/bin/python benchmarks/twin_heights.py OUT_DIR [--heights 0.1 1.0 1.5]

Renders (or reuses, from OUT_DIR) one scripted set per arm position (chest, sides), camera
height (m, 2.6 m away) and view (side, 20 deg off it): set-up lift, one lowering to 15 deg
and return, set-down, the back flat. It prints each set's rep count against its scripted
1 (the top-rest protocol: the set-up and set-down are no reps), then the leg angles
against the rendered truth by view and angle source (``flatback.twin.validity --angles``).
Needs the twin's extras (see docs/twin.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flatback.twin.validity import Cell, angle_table, run_cell


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--heights", type=float, nargs="+", default=[0.1, 1.0, 1.5], help="camera heights, m")
    args = ap.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    right = 0
    cells = [Cell(0.0, 45.0, arms, h, yaw) for h in args.heights for yaw in (0.0, 20.0) for arms in ("chest", "sides")]
    for cell in cells:
        result = run_cell(cell, args.out_dir)
        right += result["rep_count"] == result["truth_rep_count"]
        print(f"{cell.name:45s} reps {result['rep_count']} of {result['truth_rep_count']}", flush=True)
    print(f"{right} of {len(cells)} sets count their scripted reps\n")
    print(angle_table(args.out_dir))


if __name__ == "__main__":
    main()
