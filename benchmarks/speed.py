"""Analysis speed against the bare pose loop, measured in one run on one clip.

    .venv/bin/python benchmarks/speed.py ../shared/clips/double_leg_lift_studio.mp4 [--repeat 2]

Bare pose loop: decode every frame and run BlazePose on it, nothing else (the floor
for any analysis built on this model). flatback: ``Analyzer.run`` end to end (decode in
a thread, pose, mask contours, second-person search, checks, geometry, signals, reps,
assessment), then writing annotated.mp4 (a second decode, drawing, H.264 encoding),
timed separately. The two alternate ``--repeat`` times and the best time of each is kept, so
a noisy machine penalises neither. Prints frames per second and the ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("GLOG_minloglevel", "2")


def bare_pose_loop(path: str) -> tuple[int, float]:
    import av
    import mediapipe as mp

    pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, enable_segmentation=True)
    n = 0
    t0 = time.perf_counter()
    with av.open(path) as container:
        for frame in container.decode(video=0):
            pose.process(frame.to_ndarray(format="rgb24"))
            n += 1
    elapsed = time.perf_counter() - t0
    pose.close()
    return n, elapsed


def flatback_run(path: str) -> tuple[int, float, float]:
    """(frames, analysis s, annotated-video s) of one run."""
    import tempfile
    from pathlib import Path

    from flatback.outputs.annotate import key_frame_times, write_annotated_video
    from flatback.outputs.report import Report
    from flatback.pipeline import Analyzer

    t0 = time.perf_counter()
    analysis = Analyzer().run(path)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_annotated_video(analysis, path, Path(tmp) / "annotated.mp4", key_times=key_frame_times(Report.from_result(analysis)))
    return len(analysis.track), t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    bare, full = [], []
    for _ in range(args.repeat):
        bare.append(bare_pose_loop(args.video))
        full.append(flatback_run(args.video))
    n_bare, t_bare = min(bare, key=lambda x: x[1])
    n_full, t_full, _ = min(full, key=lambda x: x[1])
    t_video = min(x[2] for x in full)
    fps_bare, fps_full = n_bare / t_bare, n_full / t_full
    print(f"clip: {args.video} ({n_full} frames), best of {args.repeat}, CPUs: {os.cpu_count()}")
    print(f"bare pose loop : {fps_bare:6.1f} frames/s ({t_bare:.2f} s)")
    print(f"flatback       : {fps_full:6.1f} frames/s ({t_full:.2f} s)")
    print(f"ratio flatback / bare pose loop: {fps_full / fps_bare:.2f}")
    print(f"annotated video: {t_video:.2f} s = {t_video / t_full:.2f} of the analysis time")
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
