"""Peak memory of ``flatback analyze`` on a long 1080p video the benchmark builds.

    PYTHONPATH=src .venv/bin/python benchmarks/memory.py ../shared/clips/double_leg_lift_studio.mp4 \
        [--minutes 20] [--video] [--people one]

The clip is scaled to 1920x1080 and encoded once (H.264), then repeated (packets copied)
into a video of ``--minutes``; ``flatback analyze`` runs on it in a new process and its
peak resident memory and wall time are printed: the largest single process's (max RSS,
from the kernel's accounting) and, sampled, the sum over all the command's processes (a
long video's parts are posed by processes of their own). The budget (issue 12) is 1.5 GB for 20 minutes of 1080p: per-frame images
and full masks are never kept, only each analysed frame's landmarks and mask contours.
Long: about a quarter of an hour on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import flatback_cmd, loop_video, timed  # noqa: E402


def scale_to_1080p(src: str | Path, dst: str | Path) -> None:
    """Re-encode ``src`` at 1920x1080 (ultrafast H.264, same timestamps)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        in_stream = inp.streams.video[0]
        rate = in_stream.average_rate or Fraction(30)
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        stream.time_base = in_stream.time_base
        for frame in inp.decode(in_stream):
            scaled = frame.reformat(width=1920, height=1080, format="yuv420p")
            scaled.pts, scaled.time_base = frame.pts, frame.time_base
            for packet in stream.encode(scaled):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video")
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--people", choices=["one", "all"], default="all")
    # dest: "video" is the clip's path (positional); sharing it made every run write annotated.mp4
    ap.add_argument("--video", dest="annotated", action="store_true", help="also write annotated.mp4")
    ap.add_argument("--keep", type=Path, help="keep the long video here (and reuse it if it exists)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        long = args.keep or Path(tmp) / "long_1080p.mp4"
        if not long.exists():
            short = Path(tmp) / "short_1080p.mp4"
            scale_to_1080p(args.video, short)
            loop_video(short, long, 60 * args.minutes)
        import av

        with av.open(str(long)) as c:  # from the container: decoding 20 minutes just to count is slow
            stream = c.streams.video[0]
            dur, n = float(stream.duration * stream.time_base), stream.frames
        print(f"video: {args.video} at 1920x1080 repeated to {dur / 60:.1f} min ({n} frames); "
              f"load average at start {os.getloadavg()[0]:.1f}")
        watcher = TreeRss()
        watcher.start()
        wall, rss_mb, _ = timed(flatback_cmd(str(long), Path(tmp) / "out", args.people, video=args.annotated))
        watcher.stop()
        print(f"flatback analyze{'' if args.annotated else ' --no-video'} (pose.people={args.people}): "
              f"peak RSS {rss_mb:.0f} MB (largest single process), {watcher.peak_mb:.0f} MB (all its processes "
              f"together, sampled every {watcher.every_s} s), {wall:.0f} s = {dur / wall:.2f} x real time; "
              f"load average at end {os.getloadavg()[0]:.1f}")


class TreeRss(threading.Thread):
    """Samples the summed resident memory of this process's descendants (``/proc``):
    the analysis poses a long video's parts in processes of its own (pipeline/parts.py)."""

    def __init__(self, every_s: float = 0.5):
        super().__init__(daemon=True)
        self.every_s = every_s
        self.peak_mb = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every_s):
            self.peak_mb = max(self.peak_mb, sum(rss_kb(p) for p in descendants(os.getpid())) / 1024)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
