"""Lowering times against the frames: each lowering of ``benchmarks/lowering_frames.json``
(read frame by frame, with how) next to flatback's ``descent_s``, as filmed and re-filmed.

    PYTHONPATH=src .venv/bin/python benchmarks/lowering_frames.py [../shared/clips] [--cache C]
        [--transform original mirror ...] [--set assessment.tempo_arrival=extreme ...]

``flatback eval`` scores ``descent_s`` against ``labels.json``; where those labels end a
lowering before the legs arrive (issue 9: the outdoor dead bug's and the physio clip's),
this is the check of the measurement itself. Pose tracks come from ``flatback eval``'s
cache (posed and re-filmed now where absent). For each frame-read lowering the measured
lowering is the rep's descent that overlaps it most; prints each one's labelled duration
(``labels.json``, the labelled rep whose bottom is nearest its end), its start, end and
duration error, s, and, per transform, how many durations are within 0.5 s (the issue's
tolerance) and the median absolute error.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from flatback.analyse.results import Phase
from flatback.evaluate.augment import refilm_named
from flatback.evaluate.labels import load_labels
from flatback.evaluate.runner import DEFAULT_CACHE, Job, ensure_track, pose_key
from flatback.evaluate.score import LOWERING_TOLERANCE_S
from flatback.pipeline import Analyzer
from flatback.settings import Settings, parse_override
from flatback.types import PoseTrack

TRUTH = Path(__file__).with_name("lowering_frames.json")
TRANSFORMS = ("original", "mirror", "roll+12", "roll-12", "480p15", "portrait", "dim_noisy", "captions")


def descents(analysis) -> list[tuple[float, float]]:
    """(start_s, end_s) of every counted rep's lowering."""
    return [(a, b) for r in analysis.reps for name, a, b in r.timing.phases if name is Phase.DESCENT]


def overlap_s(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", default="../shared/clips")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="flatback eval's cache (pose tracks)")
    ap.add_argument("--transform", nargs="+", default=list(TRANSFORMS))
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="measure with this setting changed (pose settings left as they are)")
    args = ap.parse_args()
    folder, cache = Path(args.folder), Path(args.cache).expanduser()
    settings = Settings()
    if args.set:
        settings = Settings.load(None, dict(parse_override(o) for o in args.set))
    key = pose_key(settings)
    labels = {lab.clip: lab for lab in load_labels(folder)}
    truth = json.loads(TRUTH.read_text())["lowerings"]
    refilms = {r.name: r for r in refilm_named([t for t in args.transform if t != "original"])}
    every: list[float] = []
    for transform in args.transform:
        errors = []
        for clip in sorted({t["clip"] for t in truth}):
            job = Job(folder / clip, labels[clip], refilms.get(transform))
            analysis = Analyzer(settings).analyze_track(PoseTrack.from_keypoint_file(ensure_track(job, settings, cache,
                                                                                                   key)[0]))
            measured = descents(analysis)
            for t in (t for t in truth if t["clip"] == clip):
                read = (t["start_s"], t["end_s"])
                labelled = min(labels[clip].reps, key=lambda r: abs(r.bottom_s - read[1])).descent_s
                said = f"label {labelled:4.2f} s" if labelled is not None else "label -"
                best = max(measured, key=lambda m: overlap_s(m, read), default=None)
                if best is None or overlap_s(best, read) == 0.0:
                    print(f"{transform:10s} {clip[:28]:28s} {read[0]:6.2f}-{read[1]:6.2f}  {said}  not found")
                    errors.append(np.inf)
                    continue
                err = (best[1] - best[0]) - (read[1] - read[0])
                errors.append(err)
                print(f"{transform:10s} {clip[:28]:28s} {read[0]:6.2f}-{read[1]:6.2f}  {said}  measured {best[0]:6.2f}-"
                      f"{best[1]:6.2f}  start {best[0] - read[0]:+5.2f} end {best[1] - read[1]:+5.2f} "
                      f"duration {err:+5.2f} s")
        print(summary(transform, errors) + "\n")
        every += errors
    print(summary("all", every))


def summary(what: str, errors: list[float]) -> str:
    e = np.abs(np.asarray(errors))
    return (f"{what:10s} within {LOWERING_TOLERANCE_S} s: {int((e <= LOWERING_TOLERANCE_S).sum())}/{len(e)}, "
            f"median |error| {np.median(e):.2f} s")


if __name__ == "__main__":
    main()
