"""Edited videos: the continuous shots, and which of them show the exercise.

A shot ends at a cut (``geometry.detect_cuts``) or where people vanish from the picture
or come back for at least ``min_absent_s``. Each shot is classified from every person
track seen in it (``flatback.measure.people.associate``), frame by frame, by majority:

- ``exercise``: a person lying (or hanging, hands above the head) with the trunk and
  the legs in the picture: analysed;
- ``talking_head``: an upright face and shoulders, no legs in the picture;
- ``close_up``: body parts only (hands, feet, a knee), not the trunk and the legs;
- ``title``: nobody in the picture (a title card, a graphic, an empty room; also a
  close-up of the legs, which the face-led person detector does not find);
- ``split_screen``: two pictures of the same person side by side, moving in step;
- ``other``: a whole person, neither lying nor hanging (standing, demonstrating);
- ``brief``: an exercise shot shorter than ``min_exercise_s`` (no rep fits; on a real
  edited clip, a close-up read as lying for 0.5 s).

Everything but ``exercise`` is skipped and named with its times. Pure functions: the
tracks in, a list of :class:`Shot` out. "Lying" is judged against the picture's
vertical, as in ``people``; everything else is in the body's frame or the picture's
bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flatback.measure.geometry import detect_cuts
from flatback.measure.people import (
    PeopleSettings,
    fmt_spans,
    hands_above_head,
    same_person,
    trunk_tilt_deg,
)
from flatback.settings import GeometrySettings
from flatback.types import Landmark as L
from flatback.types import PoseTrack

SHOT_KINDS: dict[str, str] = {
    "exercise": "the exercise",
    "talking_head": "a talking head",
    "close_up": "a close-up",
    "title": "shots with no person found (a title, a graphic, or a close-up too tight to find one)",
    "split_screen": "a split screen of the same person",
    "other": "a person neither lying nor hanging",
    "brief": "a glimpse of the exercise too short to hold a rep",
}

FACE = [L.NOSE, L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EAR, L.RIGHT_EAR]
SHOULDERS = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]
HIPS = [L.LEFT_HIP, L.RIGHT_HIP]
LEGS = [L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE]

# frame classes, in order of precedence
F_NONE, F_CLOSE, F_OTHER, F_HEAD, F_EXERCISE, F_TWO = range(6)


@dataclass(frozen=True)
class ShotSettings:
    """``min_absent_s``: nobody in the picture for at least this long splits a shot (a
    shorter loss is the pose model blinking), unless the person left or came in through
    the picture's edge (hips within ``edge_margin`` of the picture's width or height from
    its border, inside or out, on the last frame before or the first after): a person
    walking out of a continuous shot is lost, not a new shot. ``min_visibility``: a landmark counts as
    seen at this visibility or more. ``lying_max_tilt_deg``: trunk within this of the
    picture's horizontal is lying. ``min_shot_s``: shorter shots are joined to the one
    before (a cross-fade read as two cuts). ``min_exercise_s``: a shot of the exercise
    shorter than this holds no rep and is skipped as ``brief``.
    """

    min_absent_s: float = 0.5
    edge_margin: float = 0.1
    min_visibility: float = 0.5
    lying_max_tilt_deg: float = 45.0
    min_shot_s: float = 0.3
    min_exercise_s: float = 1.0


@dataclass(frozen=True)
class Shot:
    """Frames [``start``, ``stop``) of the clip, ``start_s`` to ``end_s`` (first and last
    frame times, s), of one ``kind`` (a key of ``SHOT_KINDS``)."""

    start: int
    stop: int
    start_s: float
    end_s: float
    kind: str

    @property
    def analysed(self) -> bool:
        """Only shots of the exercise are analysed."""
        return self.kind == "exercise"


def seen_in_picture(track: PoseTrack, names: Sequence[int], min_visibility: float) -> np.ndarray:
    """(N, len(names)) bool: each landmark found, visible enough and inside the picture."""
    xy = track.xy_px[:, names]
    w, h = track.info.width, track.info.height
    with np.errstate(invalid="ignore"):
        inside = (xy[..., 0] >= 0) & (xy[..., 0] <= w) & (xy[..., 1] >= 0) & (xy[..., 1] <= h)
    return inside & (track.visibility[:, names] >= min_visibility)


def frame_views(track: PoseTrack, s: ShotSettings) -> np.ndarray:
    """(N,) int frame class of one track (``F_*``): what this person shows in each frame.

    Exercise: trunk (a shoulder and a hip) and legs (a knee or an ankle) in the picture,
    trunk lying or hands above the head. Talking head: face and a shoulder in the
    picture, no leg, trunk upright or its hips out of the picture. Other: trunk and legs
    in the picture otherwise. Close-up: anything else that was found.
    """
    face = seen_in_picture(track, FACE, s.min_visibility).any(axis=1)
    shoulder = seen_in_picture(track, SHOULDERS, s.min_visibility).any(axis=1)
    hip = seen_in_picture(track, HIPS, s.min_visibility).any(axis=1)
    legs = seen_in_picture(track, LEGS, s.min_visibility).any(axis=1)
    with np.errstate(invalid="ignore"):
        lying = trunk_tilt_deg(track) < s.lying_max_tilt_deg
    down = lying | hands_above_head(track)
    body = shoulder & hip & legs
    views = np.full(len(track), F_NONE, np.int8)
    views[track.detected] = F_CLOSE
    views[body & ~down] = F_OTHER
    views[face & shoulder & ~legs & ~(hip & lying)] = F_HEAD
    views[body & down] = F_EXERCISE
    return views


def at_picture_edge(track: PoseTrack, margin: float) -> np.ndarray:
    """(N,) bool: the hips' midpoint lies within ``margin`` (a fraction of the picture's
    width or height) of the picture's border, inside or outside it: a person crossing the
    edge. Hips far outside (a talking head's, below the picture) are not at the edge."""
    hip = track.xy_px[:, HIPS].mean(axis=1)
    w, h = track.info.width, track.info.height
    with np.errstate(invalid="ignore"):
        # signed distance to the nearest border, as a fraction of that side (negative outside)
        inside_x = np.minimum(hip[:, 0], w - hip[:, 0]) / w
        inside_y = np.minimum(hip[:, 1], h - hip[:, 1]) / h
        nearest = np.minimum(inside_x, inside_y)
        return np.isfinite(nearest) & (np.abs(nearest) < margin)


def shot_bounds(
    cuts: np.ndarray, present: np.ndarray, t_s: np.ndarray, s: ShotSettings, at_edge: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Frame ranges [start, stop) between cuts and long changes of anyone being present.

    ``cuts`` (N,) bool marks the first frame of a new shot; ``present`` (N,) bool whether
    anyone is found; ``at_edge`` (N,) bool whether someone is at the picture's edge
    (:func:`at_picture_edge`). A run of absence splits only if it lasts ``min_absent_s``
    and nobody left or came in through the edge around it (walking out of the picture is
    being lost, not an edit); shots shorter than ``min_shot_s`` join the shot before them.
    """
    n = len(t_s)
    if n == 0:
        return []
    edge = np.zeros(n, bool) if at_edge is None else at_edge
    starts = {0, *np.flatnonzero(cuts).tolist()}
    edges = np.flatnonzero(np.diff(present.astype(np.int8))) + 1
    runs = np.split(np.arange(n), edges)
    for run in runs:
        if present[run[0]] or t_s[run[-1]] - t_s[run[0]] < s.min_absent_s:
            continue
        walked = (run[0] > 0 and edge[run[0] - 1]) or (run[-1] + 1 < n and edge[run[-1] + 1])
        if not walked:
            starts.add(int(run[0]))
            after = run[-1] + 1
            if after < n:
                starts.add(int(after))
    ordered = sorted(starts)
    bounds = list(zip(ordered, [*ordered[1:], n]))
    merged: list[tuple[int, int]] = []
    for a, b in bounds:
        if merged and t_s[b - 1] - t_s[a] < s.min_shot_s:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def classify_shot(tracks: Sequence[PoseTrack], start: int, stop: int, s: ShotSettings) -> str:
    """The kind of frames [start, stop): the most common frame class over all tracks.

    Per frame the highest class any track shows counts (an exercising person beside a
    standing one is the exercise). Frames with nobody count only if somebody is found
    for less than ``min_absent_s`` of the shot (a title): within a shot, a person lost
    (walked out of the picture, hidden) leaves the shot what it was. Two people
    exercising in most frames: a split screen if the two most present are one person
    moving in step, else the exercise (the chooser then decides or refuses).
    """
    if not tracks:
        return "title"
    views = np.stack([frame_views(t, s)[start:stop] for t in tracks])
    exercising = (views == F_EXERCISE).sum(axis=0)
    best = views.max(axis=0)
    best[exercising >= 2] = F_TWO
    t_s = tracks[0].t_s[start:stop]
    found = best != F_NONE
    if len(t_s) > 1 and found.any() and float(np.median(np.diff(t_s))) * found.sum() >= s.min_absent_s:
        best = best[found]
    counts = np.bincount(best, minlength=F_TWO + 1)
    kind = int(np.argmax(counts))
    if kind == F_TWO:
        busiest = np.argsort(-(views == F_EXERCISE).sum(axis=1))[:2]
        a, b = (tracks[i].sliced(start, stop) for i in busiest)
        return "split_screen" if same_person(a, b, PeopleSettings()) else "exercise"
    return {F_NONE: "title", F_CLOSE: "close_up", F_OTHER: "other", F_HEAD: "talking_head", F_EXERCISE: "exercise"}[kind]


def find_shots(tracks: Sequence[PoseTrack], cuts: np.ndarray, settings: ShotSettings | None = None) -> list[Shot]:
    """The clip's continuous shots, each classified, in time order.

    ``tracks``: every person track of the clip (same frames, from ``people.associate``);
    ``cuts`` (N,) bool: first frames of new shots (``geometry.detect_cuts``).
    """
    s = settings or ShotSettings()
    if not tracks:
        raise ValueError("find_shots needs at least one track to know the clip's frames")
    t_s = tracks[0].t_s
    present = np.any([t.detected for t in tracks], axis=0)
    at_edge = np.any([at_picture_edge(t, s.edge_margin) for t in tracks], axis=0)
    shots = []
    for a, b in shot_bounds(cuts, present, t_s, s, at_edge):
        kind = classify_shot(tracks, a, b, s)
        if kind == "exercise" and t_s[b - 1] - t_s[a] < s.min_exercise_s:
            kind = "brief"
        shots.append(Shot(a, b, float(t_s[a]), float(t_s[b - 1]), kind))
    return shots


def skipped_notes(shots: Sequence[Shot]) -> list[str]:
    """One note per kind of skipped shot, in order of first appearance.

    For example 'Skipped a talking head at 0.0-3.1 s and 20.0-22.5 s.'
    """
    spans: dict[str, list[tuple[float, float]]] = {}
    for sh in shots:
        if not sh.analysed:
            spans.setdefault(sh.kind, []).append((sh.start_s, sh.end_s))
    return [f"Skipped {SHOT_KINDS[kind]} at {fmt_spans(sp)}." for kind, sp in spans.items()]


def track_cuts(
    track: PoseTrack, settings: GeometrySettings | None = None, min_step_fraction: float = 0.5
) -> np.ndarray:
    """(N,) bool cuts seen in one person's track (``geometry.detect_cuts`` on its hip
    midpoint and torso length, px), before any geometry is computed: the exerciser's
    body jumps in size or place where the editor cut.

    A cut is a step: the change from the frame before to the frame of the cut is at least
    ``min_step_fraction`` of the change between the medians before and after. A camera
    panning or zooming fast (or the body sliding out of the picture) changes as much over
    the window, but a little each frame: a ramp, not a cut.
    """
    g = settings or GeometrySettings()
    hip = track.xy_px[:, HIPS].mean(axis=1)
    torso = np.linalg.norm(track.xy_px[:, SHOULDERS].mean(axis=1) - hip, axis=1)
    cuts = detect_cuts(hip, torso, g.cut_size_change, g.cut_jump_ratio, g.cut_window_frames)
    k = g.cut_window_frames
    for i in np.flatnonzero(cuts):
        before, after = slice(max(i - k, 0), i), slice(i, i + k)
        size = max(float(np.median(torso[before])), float(np.median(torso[after])))
        window = (np.linalg.norm(np.median(hip[after], axis=0) - np.median(hip[before], axis=0)) / size
                  + abs(float(np.median(torso[after]) - np.median(torso[before]))) / size)
        step = np.linalg.norm(hip[i] - hip[i - 1]) / size + abs(float(torso[i] - torso[i - 1])) / size
        if not step >= min_step_fraction * window:  # NaN either side: no step seen
            cuts[i] = False
    return cuts


def exercise_only(track: PoseTrack, shots: Sequence[Shot]) -> PoseTrack:
    """The track with every frame outside the exercise shots set to 'not found' (NaN),
    times unchanged, so a report keeps the clip's own times."""
    keep = np.zeros(len(track), bool)
    for sh in shots:
        if sh.analysed:
            keep[sh.start : sh.stop] = True
    return track.only(keep)
