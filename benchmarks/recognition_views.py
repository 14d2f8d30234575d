"""Recognition of the knee-dependent classes from cameras high and far off the side.

    PYTHONPATH=src .venv/bin/python benchmarks/recognition_views.py

Films each script of ``flatback.simulate3d`` whose call turns on how bent the knees are
(bent-knee lift, heel taps, dead bug, crunch, the two reverse crunches, single-leg lift,
bridge, double-leg lift) from every camera of a grid: 10, 30, 45 and 60 deg above the
floor, 0, 30, +-45 and +-60 deg off the side (216 views), 2.5 m away, and prints the
views called wrongly. The unit tests keep four of these views; this is the sweep that
chose ``recognition.picture_straightens_max_deg``.
"""

from __future__ import annotations

import itertools

from flatback.analyse.recognize import recognize
from flatback.simulate3d import SCRIPTS, Camera, simulate

NAMES = ("bent_knee_leg_lift", "heel_tap", "dead_bug", "crunch", "reverse_crunch", "reverse_crunch_from_floor",
         "single_leg_lift", "glute_bridge", "double_leg_lift")
ELEVATIONS_DEG = (10.0, 30.0, 45.0, 60.0)
YAWS_DEG = (0.0, 30.0, 45.0, 60.0, -45.0, -60.0)


def main() -> None:
    views = list(itertools.product(ELEVATIONS_DEG, YAWS_DEG, NAMES))
    wrong = []
    for elevation, yaw, name in views:
        track = simulate(name, Camera(yaw_deg=yaw, elevation_deg=elevation, distance_m=2.5), duration_s=10.0, fps=24.0)
        called = recognize(track).name
        if called != SCRIPTS[name][1]:
            wrong.append((elevation, yaw, name, called))
    print(f"{len(wrong)} of {len(views)} views called wrongly")
    for elevation, yaw, name, called in wrong:
        print(f"  {elevation:4.0f} deg up {yaw:+4.0f} deg off the side  {name}: {called}")


if __name__ == "__main__":
    main()
