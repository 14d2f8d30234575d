"""Cost of following every person (pose.people = all, the default) against BlazePose's
single-person tracker (pose.people = one), measured in one run on one clip.

    .venv/bin/python benchmarks/people.py ../shared/clips/double_leg_lift_studio.mp4 [--repeat 2]

Each backend decodes every frame and runs on it, nothing else: ``MediaPipePose`` (the
legacy solution, with its 1 s second-person search) and ``MultiPose`` (the Tasks
landmarker following one person until a search finds more, with its 1 s search of the
whole frame and two tiles), then the association and the exerciser's choice (pure numpy,
timed apart). The two alternate ``--repeat`` times and the best time of each is kept, so a
noisy machine penalises neither. Prints ms per frame (wall and CPU) and the ratio.

Measured (issue 10, a shared 2-core machine, best of 2): the studio clip (1280x720, 272
frames, one person): one 66.1 ms/frame wall (27.6 CPU), all 75.2 (29.6): 1.14x wall, 1.07x
CPU; association, choice and shots 0.32 ms/frame. The edited standing leg-raise clip (480x268,
776 frames, a second person found): one 19.9 ms/frame CPU, all 22.4: 1.13x CPU (wall 0.83x,
one pass on a loaded machine); selection 0.49 ms/frame.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("GLOG_minloglevel", "2")


def pose_loop(path: str, multi: bool) -> tuple[int, float, float, list]:
    """(frames, wall s, CPU s, per-frame results) of one pass of one backend."""
    from flatback.io.source import open_source
    from flatback.pose.mediapipe import MediaPipePose
    from flatback.pose.multi import MultiPose

    source = open_source(path)
    backend = MultiPose() if multi else MediaPipePose()
    frames = list(source)
    out = []
    t0, c0 = time.perf_counter(), time.process_time()
    for frame in frames:
        out.append(backend(frame))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    backend.close()
    return len(frames), wall, cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("video")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from flatback.io.source import open_source
    from flatback.measure.people import associate
    from flatback.pipeline import select_exerciser

    best = {False: (float("inf"), float("inf")), True: (float("inf"), float("inf"))}
    n, people = 0, []
    for _ in range(args.repeat):
        for multi in (False, True):
            n, wall, cpu, out = pose_loop(args.video, multi)
            best[multi] = (min(best[multi][0], wall), min(best[multi][1], cpu))
            if multi:
                people = out
    info = open_source(args.video).info
    t0 = time.perf_counter()
    select_exerciser(associate(people, info, "mediapipe-tasks-multi-full"))
    select_ms = (time.perf_counter() - t0) * 1000 / n
    one, every = best[False], best[True]
    print(f"{args.video}: {n} frames, {info.width}x{info.height}, best of {args.repeat}")
    print(f"  one (legacy BlazePose):  {one[0] * 1000 / n:6.1f} ms/frame wall, {one[1] * 1000 / n:6.1f} CPU")
    print(f"  all (Tasks, multi):      {every[0] * 1000 / n:6.1f} ms/frame wall, {every[1] * 1000 / n:6.1f} CPU")
    print(f"  association + choice + shots: {select_ms:.2f} ms/frame")
    print(f"  ratio all/one: {every[0] / one[0]:.2f} wall, {every[1] / one[1]:.2f} CPU")


if __name__ == "__main__":
    main()
