"""Peak memory of ``flatback analyze`` on a long 1080p video the benchmark builds.

    PYTHONPATH=src .venv/bin/python benchmarks/memory.py ../shared/clips/double_leg_lift_studio.mp4 \
        [--minutes 20] [--video] [--people one]

The clip is scaled to 1920x1080 and encoded once (H.264), then repeated (packets copied)
into a video of ``--minutes``; ``flatback analyze`` runs on it in a new process and its
peak resident memory (max RSS, from the kernel's accounting of the child) and wall time
are printed. The budget (issue 12) is 1.5 GB for 20 minutes of 1080p: per-frame images
and full masks are never kept, only each analysed frame's landmarks and mask contours.
Long: about a quarter of an hour on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
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
    ap.add_argument("--people", choices=["one", "all"], default="one")
    ap.add_argument("--video", action="store_true", help="also write annotated.mp4")
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
        wall, rss_mb = timed(flatback_cmd(str(long), Path(tmp) / "out", args.people, video=args.video))
        print(f"flatback analyze{'' if args.video else ' --no-video'} (pose.people={args.people}): "
              f"peak RSS {rss_mb:.0f} MB, {wall:.0f} s = {dur / wall:.2f} x real time")


if __name__ == "__main__":
    main()
