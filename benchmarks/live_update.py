"""Per-frame cost of ``LiveAnalyzer.update`` against BlazePose's, measured in one run.

    .venv/bin/python benchmarks/live_update.py ../shared/clips/double_leg_lift_studio.mp4

Each frame of the clip is decoded, passed to flatback's MediaPipe backend (BlazePose
full with its segmentation mask and contours: what live mode runs per camera frame),
and its PoseFrame to ``LiveAnalyzer.update``; both calls are timed per frame with
``time.perf_counter``, interleaved, so a busy machine slows both alike. Prints the mean
and 95th percentile of each, in ms, and their ratio. ``--keypoints FILE`` replays a
keypoint file instead (update only, no pose model).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")


def timed_run(video: str) -> tuple[np.ndarray, np.ndarray]:
    """(pose ms, update ms) per frame of one pass over the video."""
    from flatback.io.source import open_source
    from flatback.pipeline.live import LiveAnalyzer
    from flatback.pose.mediapipe import MediaPipePose

    source = open_source(video)
    backend = MediaPipePose()
    live = LiveAnalyzer(source.info, backend=backend.name)
    pose_ms, update_ms = [], []
    try:
        for frame in source:
            t0 = time.perf_counter()
            pose_frame = backend(frame)
            t1 = time.perf_counter()
            live.update(pose_frame)
            t2 = time.perf_counter()
            pose_ms.append(1000 * (t1 - t0))
            update_ms.append(1000 * (t2 - t1))
    finally:
        backend.close()
    return np.array(pose_ms), np.array(update_ms)


def replay_run(keypoints: str) -> np.ndarray:
    """update ms per frame, replaying a keypoint file."""
    from flatback.pipeline.live import LiveAnalyzer
    from flatback.types import PoseTrack

    track = PoseTrack.from_keypoint_file(keypoints)
    live = LiveAnalyzer(track.info, backend=track.backend)
    out = []
    for i in range(len(track)):
        frame = track.frame(i)
        t0 = time.perf_counter()
        live.update(frame)
        out.append(1000 * (time.perf_counter() - t0))
    return np.array(out)


def summary(name: str, ms: np.ndarray) -> str:
    return f"{name:<22} mean {ms.mean():6.2f} ms   p95 {np.percentile(ms, 95):6.2f} ms   ({len(ms)} frames)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video", nargs="?")
    ap.add_argument("--keypoints", help="replay this keypoint file instead (no pose model)")
    args = ap.parse_args()
    if args.keypoints:
        print(summary("LiveAnalyzer.update", replay_run(args.keypoints)))
        return
    if not args.video:
        ap.error("give a video (or --keypoints FILE)")
    pose, update = timed_run(args.video)
    print(f"clip: {args.video}")
    print(summary("BlazePose (backend)", pose))
    print(summary("LiveAnalyzer.update", update))
    print(f"update / pose: mean {update.mean() / pose.mean():.3f}, "
          f"p95 {np.percentile(update, 95) / np.percentile(pose, 95):.3f}")


if __name__ == "__main__":
    main()
