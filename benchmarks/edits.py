"""Edits a video editor makes, applied to the labelled clips' pose tracks: does the count hold?

    PYTHONPATH=src .venv/bin/python benchmarks/edits.py [../shared/clips] [--cache ~/.cache/flatback/eval]

``flatback eval`` re-films each clip (roll, warp, light, captions) and poses it again. The
edits here change time, not pictures, so they are made on each clip's pose track as
filmed (``flatback eval``'s cache; posed now where absent) and everything after pose runs
on them:

- ``speed x0.6``, ``x1.5``, ``x2``: played slower or faster; the labels' times scale with it
  (rep count, recognition, maximum angle within 10 deg, lowering within 0.5 s, as
  ``flatback eval`` scores them);
- ``trim``: the clip cut at 25, 40 and 60 % of its length, from its start or its end. The
  labels do not say which reps a cut keeps whole, so the check is against flatback's own
  analysis of the whole clip: the same exercise, every rep it counts wholly inside the
  kept part found again (bottom within 0.4 s), and at most one more (the rep the cut
  splits may still show whole in the kept part);
- ``drop30`` (30 % of frames dropped at random: a phone that cannot keep up), ``jitter``
  (picture and 3-D landmarks shaken by 2 % of the torso length), ``freeze`` (the middle frame held for 1 s,
  later frames shifted), ``occlude`` (0.4 s lost every 3 s from 1.5 s on, the last second
  kept: someone walking past): scored against the labels as the speeds are (after a
  freeze, the labels' times a second later, and the lowering the freeze may fall in not
  scored).

Prints one line per edit and each clip that fails it. Rendered clips are left out.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from flatback.errors import FlatbackError
from flatback.evaluate.labels import ClipLabel, load_labels
from flatback.evaluate.runner import DEFAULT_CACHE, Job, ensure_track, pose_key
from flatback.evaluate.score import ANGLE_TOLERANCE_DEG, LOWERING_TOLERANCE_S, Measured, Outcome, score_clip
from flatback.outputs.report import Report
from flatback.pipeline import Analyzer
from flatback.settings import Settings
from flatback.types import Landmark, PoseTrack

TRIM_FRACTIONS = (0.25, 0.4, 0.6)
SPEEDS = (0.6, 1.5, 2.0)
SAME_BOTTOM_S = 0.4  # a rep found again after a trim: its bottom this close to the whole clip's, s


def frames(track: PoseTrack, keep: np.ndarray, t_s: np.ndarray | None = None) -> PoseTrack:
    """The track with only the frames ``keep`` (indices, in order; repeats allowed), at
    times ``t_s`` (default: theirs)."""
    n = len(track.t_s)
    per_frame = {f.name: getattr(track, f.name)[keep] for f in fields(track)
                 if isinstance(getattr(track, f.name), np.ndarray) and f.name != "mask_x_px"
                 and len(getattr(track, f.name)) == n}
    if t_s is not None:
        per_frame["t_s"] = t_s
    out = replace(track, **per_frame)
    return replace(out, info=replace(track.info, duration_s=float(out.t_s[-1] - out.t_s[0])))


def speed(track: PoseTrack, factor: float) -> PoseTrack:
    return replace(track, t_s=track.t_s / factor,
                   info=replace(track.info, fps=track.info.fps * factor, duration_s=track.info.duration_s / factor))


def drop30(track: PoseTrack) -> PoseTrack:
    rng = np.random.default_rng(0)
    keep = np.unique(np.concatenate([[0], rng.choice(len(track.t_s), int(0.7 * len(track.t_s)), replace=False)]))
    return frames(track, keep)


def torso_length(points: np.ndarray) -> float:
    """Median shoulder-to-hip distance over frames and sides, in the points' unit."""
    sides = [np.linalg.norm(points[:, s] - points[:, h], axis=-1)
             for s, h in ((Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP), (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_HIP))]
    return float(np.nanmedian(np.concatenate(sides)))


def jitter(track: PoseTrack) -> PoseTrack:
    """Picture and 3-D landmarks shaken by 2 % of the torso length (recognition reads the 3-D ones)."""
    rng = np.random.default_rng(0)
    xy, world = track.xy_px, track.world_xyz_m
    return replace(track, xy_px=xy + rng.normal(0, 0.02 * torso_length(xy), xy.shape).astype(xy.dtype),
                   world_xyz_m=world + rng.normal(0, 0.02 * torso_length(world), world.shape).astype(world.dtype))


FREEZE_S = 1.0


def freeze(track: PoseTrack) -> tuple[PoseTrack, float, float]:
    """The middle frame held for about ``FREEZE_S``: (edited track, when, s, and for how
    long, s: whole frame intervals)."""
    n, m = len(track.t_s), len(track.t_s) // 2
    dt = float(np.median(np.diff(track.t_s)))
    k = int(round(FREEZE_S / dt))
    keep = np.concatenate([np.arange(m), np.full(k, m), np.arange(m, n)])
    t = np.concatenate([track.t_s[:m], track.t_s[m] + dt * np.arange(k), track.t_s[m:] + k * dt])
    return frames(track, keep, t), float(track.t_s[m]), k * dt


def frozen_label(label: ClipLabel, at_s: float, for_s: float) -> ClipLabel:
    """The labels of the clip frozen at ``at_s`` for ``for_s``: later times that much on;
    the lowering of the first rep after the freeze, which the freeze may fall in, not scored."""
    first_after = min((r.bottom_s for r in label.reps if r.bottom_s > at_s), default=None)
    return replace(label, reps=tuple(
        r if r.bottom_s <= at_s else replace(r, bottom_s=r.bottom_s + for_s,
                                               descent_s=None if r.bottom_s == first_after else r.descent_s)
        for r in label.reps))


def occlude(track: PoseTrack) -> PoseTrack:
    """0.4 s of every 3 s from 1.5 s on (the last second kept) with no person found."""
    lost = ((track.t_s - 1.5) % 3.0 < 0.4) & (track.t_s < track.t_s[-1] - 1.0)
    xy, z, vis, world = track.xy_px.copy(), track.z.copy(), track.visibility.copy(), track.world_xyz_m.copy()
    xy[lost], z[lost], vis[lost], world[lost] = np.nan, np.nan, 0.0, np.nan
    return replace(track, xy_px=xy, z=z, visibility=vis, world_xyz_m=world)


LABELLED_EDITS: dict[str, Callable[[PoseTrack], PoseTrack]] = {"drop30": drop30, "jitter": jitter, "occlude": occlude}


def analyse(track: PoseTrack, settings: Settings, clip: str) -> tuple[Outcome, list[tuple[float, float, float]]]:
    """The scored outcome and the counted reps' (start, bottom, end), s."""
    try:
        a = Analyzer(settings).analyze_track(track)
    except FlatbackError as e:
        return Outcome(clip, "edit", refused=str(e)), []
    return (Outcome(clip, "edit", measured=Measured.from_report(Report.from_result(a))),
            [(r.timing.start_s, r.timing.bottom_s, r.timing.end_s) for r in a.reps])


def scaled_label(label: ClipLabel, factor: float) -> ClipLabel:
    return replace(label, reps=tuple(replace(r, bottom_s=r.bottom_s / factor,
                                             descent_s=None if r.descent_s is None else r.descent_s / factor)
                                     for r in label.reps))


class Tally:
    def __init__(self, name: str):
        self.name, self.counts = name, {"count": [0, 0], "recognised": [0, 0], "max deg": [0, 0], "lowering": [0, 0]}

    def add(self, what: str, ok: bool) -> None:
        self.counts[what][0] += ok
        self.counts[what][1] += 1

    def line(self) -> str:
        return f"{self.name:10s} " + "  ".join(f"{k} {a}/{b}" for k, (a, b) in self.counts.items() if b)


def score(name: str, label: ClipLabel, outcome: Outcome, tally: Tally) -> None:
    s = score_clip(label, outcome)
    tally.add("recognised", s.recognised)
    if s.rep_count_scored:
        tally.add("count", s.rep_count_exact)
    misses = []
    for m in s.matches:
        if m.max_angle_err_deg is not None:
            tally.add("max deg", abs(m.max_angle_err_deg) <= ANGLE_TOLERANCE_DEG)
        if m.lowering_err_s is not None:
            tally.add("lowering", abs(m.lowering_err_s) <= LOWERING_TOLERANCE_S)
            if abs(m.lowering_err_s) > LOWERING_TOLERANCE_S:
                misses.append(f"lowering {m.lowering_err_s:+.2f} s")
    if not s.recognised or (s.rep_count_scored and not s.rep_count_exact) or misses:
        print(f"  {name:10s} {label.clip[:40]:40s} {outcome.predicted}, {s.counted} of {label.rep_count} reps "
              + " ".join(misses))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", default="../shared/clips")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="flatback eval's cache (pose tracks)")
    args = ap.parse_args()
    settings = Settings()
    folder, cache, key = Path(args.folder), Path(args.cache).expanduser(), pose_key(settings)
    labels = [lab for lab in load_labels(folder) if not lab.rendered]
    tracks = {lab.clip: PoseTrack.from_keypoint_file(ensure_track(Job(folder / lab.clip, lab), settings, cache, key)[0])
              for lab in labels}

    for factor in SPEEDS:
        tally = Tally(f"speed x{factor:g}")
        for lab in labels:
            score(tally.name, scaled_label(lab, factor), analyse(speed(tracks[lab.clip], factor), settings, lab.clip)[0],
                  tally)
        print(tally.line(), flush=True)

    for name, edit in LABELLED_EDITS.items():
        tally = Tally(name)
        for lab in labels:
            score(name, lab, analyse(edit(tracks[lab.clip]), settings, lab.clip)[0], tally)
        print(tally.line(), flush=True)

    tally = Tally("freeze")
    for lab in labels:
        frozen, at_s, for_s = freeze(tracks[lab.clip])
        score(tally.name, frozen_label(lab, at_s, for_s), analyse(frozen, settings, lab.clip)[0], tally)
    print(tally.line(), flush=True)

    consistent = total = 0
    for lab in labels:
        track = tracks[lab.clip]
        whole, reps = analyse(track, settings, lab.clip)
        t0, t1 = float(track.t_s[0]), float(track.t_s[-1])
        for frac in TRIM_FRACTIONS:
            for side in ("start", "end"):
                cut_s = t0 + (frac if side == "start" else 1 - frac) * (t1 - t0)
                start, stop = ((int(np.searchsorted(track.t_s, cut_s)), len(track.t_s)) if side == "start"
                               else (0, int(np.searchsorted(track.t_s, cut_s, side="right"))))
                offset = float(track.t_s[start])
                trimmed, got = analyse(track.sliced(start, stop), settings, lab.clip)
                got_bottoms = [b + offset for _, b, _ in got]
                inside = [b for a, b, e in reps if (a >= cut_s if side == "start" else e <= cut_s)]
                found = sum(any(abs(g - b) < SAME_BOTTOM_S for g in got_bottoms) for b in inside)
                ok = trimmed.predicted == whole.predicted and found == len(inside) and len(got) <= len(inside) + 1
                consistent += ok
                total += 1
                if not ok:
                    print(f"  trim       {lab.clip[:40]:40s} {side} {frac:.0%} (at {cut_s:.1f} s): "
                          f"{whole.predicted} -> {trimmed.predicted}, {len(inside)} whole reps inside, "
                          f"{found} found of {len(got)}")
    print(f"trim       consistent {consistent}/{total}")


if __name__ == "__main__":
    main()
