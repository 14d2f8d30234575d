"""Speed of the whole ``flatback analyze`` command against the bare pose loop, in one run.

    PYTHONPATH=src .venv/bin/python benchmarks/speed.py ../shared/clips/double_leg_lift_studio.mp4 \
        [--loop-s 60] [--repeat 2] [--backends one all]

Everything is timed as a user meets it: a new process each time, process start included.

- bare pose loop: a process that imports PyAV and mediapipe, decodes every frame and runs
  the pose model on it, nothing else (BlazePose's legacy solution for ``one``, the Tasks
  PoseLandmarker following one person for ``all``). The floor for an analysis that poses
  every frame.
- flatback: ``flatback analyze CLIP --no-video`` (pose at ``pose.max_rate_hz``, masks,
  checks, geometry, signals, reps, report files), with ``--set pose.people=...``.
- one process: ``flatback analyze --no-video`` with ``pose.processes=1`` (a long video is
  otherwise posed in parts by one process per core, ``pipeline/parts.py``).
- flatback + video: the same command writing annotated.mp4 as well (at output.video_max_fps).
- with ``--against ROOT`` (another checkout, e.g. ``git worktree add ../old COMMIT``): its
  ``flatback analyze`` with and without the video, in turn with these, so a change is
  compared before and after in one run.

With ``--loop-s`` the clip is first repeated (packets copied, no re-encoding) into a video
at least that long, so the fixed cost of starting a process weighs as it does on a real
set rather than on a 9 s excerpt. Runs alternate ``--repeat`` times and the best of each is
kept, so a busy machine penalises none of them. Prints seconds, speed as multiples of real
time (video duration / wall time) and the ratios; the load average is printed with them,
as the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bare_pose_loop(path: str, backend: str) -> None:
    """Decode every frame and pose it (run in its own process by :func:`timed`)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    import av
    import mediapipe as mp

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if backend == "one":
            pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, enable_segmentation=True)
            for frame in container.decode(stream):
                pose.process(frame.to_ndarray(format="rgb24"))
            pose.close()
            return
        from mediapipe.tasks.python import BaseOptions, vision

        from flatback.pose.multi import task_bundle

        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(task_bundle())), running_mode=vision.RunningMode.VIDEO,
            num_poses=1, output_segmentation_masks=True,
        )
        with vision.PoseLandmarker.create_from_options(options) as landmarker:
            last_ms = -1
            for frame in container.decode(stream):
                last_ms = max(round(frame.time * 1000), last_ms + 1)
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.to_ndarray(format="rgb24"))
                landmarker.detect_for_video(image, last_ms)


def timed(cmd: list[str], root: Path = ROOT) -> tuple[float, float, float]:
    """(wall s, peak RSS MB, CPU s) of a child process running the flatback of ``root``;
    raises if it fails."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    # CPU: the child's and its own children's (the parts' processes); max RSS: the largest single one
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def flatback_cmd(path: str, out: Path, people: str, video: bool) -> list[str]:
    cmd = [sys.executable, "-m", "flatback.cli", "analyze", path, "-o", str(out), "-q", "--set", f"pose.people={people}"]
    return cmd if video else [*cmd, "--no-video"]


def loop_video(src: str | Path, dst: str | Path, min_duration_s: float) -> float:
    """Write ``dst``: the video stream of ``src`` repeated (packets copied) until it lasts at
    least ``min_duration_s``. Returns its duration, s. Each copy starts on the source's first
    (key) frame, so the result decodes like one long recording."""
    import av

    with av.open(str(src)) as probe:
        stream = probe.streams.video[0]
        packets = [p for p in probe.demux(stream) if p.pts is not None]
        tb = stream.time_base
        first = min(p.pts for p in packets)
        last = max(p.pts + (p.duration or 0) for p in packets)
    span = last - first
    copies = max(1, int(-(-min_duration_s // float(span * tb))))
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        in_stream = inp.streams.video[0]
        out_stream = out.add_stream_from_template(in_stream)
        for k in range(copies):
            inp.seek(0)
            for packet in inp.demux(in_stream):
                if packet.pts is None:
                    continue
                packet.pts += k * span
                if packet.dts is not None:
                    packet.dts += k * span
                packet.stream = out_stream
                out.mux(packet)
    return float(copies * span * tb)


def duration_s(path: str | Path) -> tuple[float, int]:
    """(duration from the first to the last frame plus one frame, s; frame count), by decoding."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        times = [f.time for f in c.decode(s)]
    step = (times[-1] - times[0]) / max(len(times) - 1, 1)
    return times[-1] - times[0] + step, len(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video")
    ap.add_argument("--loop-s", type=float, default=0.0, help="repeat the clip into a video at least this long, s")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--backends", nargs="+", default=["one", "all"], choices=["one", "all"])
    ap.add_argument("--against", type=Path, help="another checkout of flatback (its root folder): its analysis "
                    "with and without the video run in turn with this one's, for a before and after in one run")
    ap.add_argument("--bare", choices=["one", "all"], help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args()
    if args.bare:
        bare_pose_loop(args.video, args.bare)
        return
    with tempfile.TemporaryDirectory() as tmp:
        clip = args.video
        if args.loop_s:
            clip = str(Path(tmp) / f"{Path(args.video).stem}_loop.mp4")
            loop_video(args.video, clip, args.loop_s)
        dur, n = duration_s(clip)
        print(f"clip: {args.video}{f' looped to {dur:.1f} s' if args.loop_s else ''} ({n} frames, {dur:.1f} s), "
              f"best of {args.repeat}, CPUs: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f}")
        for people in args.backends:
            best: dict[str, float] = {}
            cpu: dict[str, float] = {}
            for _ in range(args.repeat):
                runs = {
                    "bare pose loop": [sys.executable, __file__, clip, "--bare", people],
                    "flatback --no-video": flatback_cmd(clip, Path(tmp) / "a", people, video=False),
                    "  one process": [*flatback_cmd(clip, Path(tmp) / "a", people, video=False),
                                      "--set", "pose.processes=1"],
                    "flatback + video": flatback_cmd(clip, Path(tmp) / "b", people, video=True),
                }
                if args.against:
                    runs["against: flatback --no-video"] = runs["flatback --no-video"]
                    runs["against: flatback + video"] = runs["flatback + video"]
                for name, cmd in runs.items():
                    wall, _, cpu_s = timed(cmd, args.against if name.startswith("against") else ROOT)
                    if wall < best.get(name, float("inf")):
                        best[name], cpu[name] = wall, cpu_s
                    subprocess.run(["rm", "-rf", str(Path(tmp) / "a"), str(Path(tmp) / "b")], check=True)
            print(f"pose.people={people}")
            for name, wall in best.items():
                print(f"  {name:20s}: {wall:6.2f} s = {dur / wall:4.2f} x real time; CPU {cpu[name]:6.1f} s "
                      f"({cpu[name] / wall:.2f} cores busy, {cpu[name] / dur:.2f} CPU s per video s)")
            bare, alone, video = best["bare pose loop"], best["flatback --no-video"], best["flatback + video"]
            print(f"  flatback --no-video / bare pose loop speed: {bare / alone:.2f}")
            print(f"  annotated.mp4 adds {100 * (video / alone - 1):.0f} % to the analysis alone")
            if args.against:
                alone, video = best["against: flatback --no-video"], best["against: flatback + video"]
                print(f"  against {args.against}: annotated.mp4 adds {100 * (video / alone - 1):.0f} %")
        print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
