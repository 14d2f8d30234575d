"""Where annotated.mp4's time goes: CPU per frame of each stage, in one process.

    PYTHONPATH=src .venv/bin/python benchmarks/video_cost.py ../shared/clips/double_leg_lift_studio.mp4 \
        [--loop-s 60] [--frames 150]

The clip is analysed once (pose included, timed: the in-process analysis the video is compared
with, process start excluded, so the share is if anything overstated), then over its first ``--frames``
frames each stage of ``write_annotated_video`` is timed on its own: decoding to the I420
frame the video is drawn on, each annotator's drawing, and x264 at the configured preset,
as CPU milliseconds per frame (user + system of this process, so the decoder's and encoder's own
threads count). The sum is what the video costs a frame whatever the number of cores; issue 12
asks that the whole of it stay within a quarter of the analysis's time. Last, the whole
``write_annotated_video`` over the video, every frame and at ``output.video_max_fps``
(``--repeat`` runs, the best kept): wall and CPU a source frame, with its decoding, drawing
and encoding threads overlapping.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import loop_video  # noqa: E402


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video")
    ap.add_argument("--loop-s", type=float, default=0.0, help="repeat the clip into a video at least this long, s")
    ap.add_argument("--frames", type=int, default=150, help="frames timed per stage (kept decoded: 1.4 MB each at 720p)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the whole write_annotated_video, the best kept")
    args = ap.parse_args()

    import av

    from flatback.io.source import VideoFile
    from flatback.outputs import annotate
    from flatback.pipeline import Analyzer
    from flatback.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        clip = args.video
        if args.loop_s:
            clip = str(Path(tmp) / "loop.mp4")
            loop_video(args.video, clip, args.loop_s)
        c0, t0 = cpu_s(), time.perf_counter()
        analysis = Analyzer().run(clip)
        analysis_wall, analysis_cpu = time.perf_counter() - t0, cpu_s() - c0
        source = VideoFile(clip, frame_threads=False)  # as write_annotated_video decodes
        states = annotate.overlays(analysis, source.info.width, source.info.height)
        t_posed = analysis.track.t_s

        w, h = source.info.width, source.info.height
        ew, eh = w - w % 2, h - h % 2
        c0 = cpu_s()
        frames = []
        for decoded in source.decoded():
            frames.append((source.i420(decoded), decoded.t_s))
            if len(frames) >= args.frames:
                break
        n = len(frames)
        stages = {"decode to I420": cpu_s() - c0}
        overlays = [annotate.overlay_at(states, t_posed, t) for _, t in frames]
        canvases = [annotate.Canvas(buffer, ew, eh) for buffer, _ in frames]
        for annotator in annotate.ANNOTATORS:
            c0 = cpu_s()
            for canvas, state in zip(canvases, overlays):
                annotator.annotate(canvas, state)
            stages[f"draw: {type(annotator).__name__}"] = cpu_s() - c0
        out = Settings().output
        with av.open(str(Path(tmp) / "out.mp4"), "w") as container:
            stream = container.add_stream("libx264", rate=max(int(round(source.info.fps or 30)), 1))
            stream.width, stream.height, stream.pix_fmt = ew, eh, "yuv420p"
            stream.options = {"crf": str(out.video_crf), "preset": out.video_preset}
            c0 = cpu_s()
            for i, canvas in enumerate(canvases):
                vf = av.VideoFrame.from_ndarray(canvas.buffer.reshape(eh * 3 // 2, ew), format="yuv420p")
                vf.pts = i
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
            stages[f"x264 {out.video_preset}, crf {out.video_crf}"] = cpu_s() - c0

        # the whole of it in place, every frame of the video (and at the default cap): threads overlap the stages
        wholes = {}
        for max_fps in sorted({0.0, out.video_max_fps}):
            runs = []
            for _ in range(args.repeat):
                c0, t0 = cpu_s(), time.perf_counter()
                annotate.write_annotated_video(analysis, clip, Path(tmp) / "whole.mp4", crf=out.video_crf,
                                               preset=out.video_preset, max_fps=max_fps)
                runs.append((time.perf_counter() - t0, cpu_s() - c0))
            wholes[max_fps] = min(runs)
        frames_total = len(analysis.track.t_s)

    print(f"clip: {args.video} ({w}x{h}, {source.info.fps:.0f} frames/s), {n} frames timed")
    for name, seconds in stages.items():
        print(f"  {name:32s} {1000 * seconds / n:6.2f} ms CPU a frame")
    print(f"  {'total':32s} {1000 * sum(stages.values()) / n:6.2f} ms CPU a frame")
    print(f"the analysis (Analyzer().run, in this process, once): {analysis_wall:.2f} s wall, {analysis_cpu:.2f} s CPU")
    for max_fps, (wall, cpu) in wholes.items():
        shown = f"at most {max_fps:g} frames/s" if max_fps else "every frame"
        print(f"write_annotated_video, {shown} (output.video_max_fps), best of {args.repeat}: "
              f"{1000 * wall / frames_total:.2f} ms wall and {1000 * cpu / frames_total:.2f} ms CPU a source frame "
              f"({frames_total} frames; {cpu / wall:.2f} cores busy): {wall:.2f} s, "
              f"{100 * wall / analysis_wall:.0f} % of the analysis's wall time, {100 * cpu / analysis_cpu:.0f} % of its CPU")


if __name__ == "__main__":
    main()
