"""A check on labelled lowering times that does not use the pose model: when pixels move.

    PYTHONPATH=src .venv/bin/python benchmarks/label_motion.py ../shared/clips/dead_bug_outdoor_stock_small.mp4 \
        --box 0.10 0.47 0.50 0.95 [--labels ../shared/clips/labels.json]

For each rep of the clip labelled with ``descent_start_s`` and ``descent_end_s``, prints the
labelled lowering, the span over which the picture moves inside ``--box`` (a part of the
frame, as fractions x0 y0 x1 y1, that holds the moving legs and nothing else that moves),
and flatback's own lowering (the analysis's descent phases, the one starting nearest the label's).

Motion: the mean absolute difference of successive grey frames (blurred against sensor
noise) in the box, averaged over 0.1 s; for each labelled lowering, its peak within the
label's times (+-0.25 s, the labels' precision) and the contiguous span about that peak, at
most 1 s before the label and 2.5 s after, where the motion stays above the quiet level (the
10th percentile over that stretch) plus a fifth of the peak's height above it. A fifth, not less: a leg's slow ends
move only a few pixels a frame, as noise does. It measures when *something* in the box
moves, so a box that also holds a moving arm, a caption or a fade says so by the span it
gives; read it beside the frames, as a second opinion on labels, not as a label.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from flatback.analyse.results import Phase
from flatback.errors import FlatbackError
from flatback.io.source import VideoFile
from flatback.pipeline import Analyzer


def motion(path: Path, box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(t_s, motion) per frame: mean absolute grey-level change inside ``box`` (fractions of
    the upright picture) since the previous frame. Frames and times as flatback reads them
    (``io/source.py``: turned upright, seconds from the first frame, increasing)."""
    video = VideoFile(path)
    times, energy, prev = [], [], None
    for frame in video:
        grey = cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY)
        h, w = grey.shape
        x0, y0, x1, y1 = (int(round(f * s)) for f, s in zip(box, (w, h, w, h)))
        crop = cv2.GaussianBlur(grey[y0:y1, x0:x1].astype(np.float32), (5, 5), 0)
        energy.append(0.0 if prev is None else float(np.abs(crop - prev).mean()))
        times.append(frame.t_s)
        prev = crop
    t, e = np.asarray(times), np.asarray(energy)
    rate = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else 30.0
    n = max(1, int(round(0.1 * rate)))
    return t, np.convolve(e, np.ones(n) / n, mode="same")


def moving_span(t: np.ndarray, e: np.ndarray, start_s: float, end_s: float) -> tuple[float, float] | None:
    """The span about the motion peak near a labelled lowering, s (see the module's docstring)."""
    w = np.flatnonzero((t >= start_s - 1.0) & (t <= end_s + 2.5))
    peak_in = np.flatnonzero((t >= start_s - 0.25) & (t <= end_s + 0.25))
    if len(w) < 3 or not len(peak_in):
        return None
    quiet = float(np.percentile(e[w], 10))
    p = int(peak_in[np.argmax(e[peak_in])])
    threshold = quiet + 0.2 * (e[p] - quiet)
    i0 = i1 = p
    while i0 > w[0] and e[i0 - 1] > threshold:
        i0 -= 1
    while i1 < w[-1] and e[i1 + 1] > threshold:
        i1 += 1
    return float(t[i0]), float(t[i1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", type=Path)
    ap.add_argument("--box", type=float, nargs=4, required=True, metavar=("X0", "Y0", "X1", "Y1"),
                    help="the part of the upright picture that holds the moving legs, fractions of width and height")
    ap.add_argument("--labels", type=Path, default=None, help="labels.json (default: beside the video)")
    args = ap.parse_args()
    x0, y0, x1, y1 = args.box
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        sys.exit("--box: x0 < x1 and y0 < y1, all between 0 and 1")
    labels_path = args.labels or args.video.parent / "labels.json"
    try:
        clips = [c for c in json.loads(labels_path.read_text()) if c.get("clip") == args.video.name]
    except (OSError, ValueError, AttributeError) as e:
        sys.exit(f"cannot read the labels {labels_path}: {e}")
    if not clips:
        sys.exit(f"{args.video.name} is not labelled in {labels_path}")
    lowerings = [(r["descent_start_s"], r["descent_end_s"]) for r in clips[0].get("reps", [])
                 if r.get("descent_start_s") is not None and r.get("descent_end_s") is not None]
    if not lowerings:
        sys.exit(f"{args.video.name}: no rep has descent_start_s and descent_end_s")
    try:
        t, e = motion(args.video, (x0, y0, x1, y1))
        analysis = Analyzer().run(args.video)
    except FlatbackError as err:
        sys.exit(str(err))
    ours = [(a, b) for r in analysis.reps for name, a, b in r.timing.phases if name is Phase.DESCENT]
    print(f"{'labelled':>19} {'pixels move':>19} {'flatback':>19}")
    for a, b in lowerings:
        span = moving_span(t, e, a, b)
        mine = min(ours, key=lambda s: abs(s[0] - a)) if ours else None
        cells = [(a, b), span, mine]
        print(" ".join(f"{s[0]:6.2f}-{s[1]:5.2f} ({s[1] - s[0]:4.2f})" if s else f"{'-':>19}" for s in cells))


if __name__ == "__main__":
    main()
