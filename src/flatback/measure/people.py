"""Several people in the picture: follow each through the clip, then choose the exerciser.

Two pure steps after the multi-person backend (``flatback.pose.multi``):

- :func:`associate` (:class:`PeopleTracker` frame by frame) turns per-frame people
  (:class:`PeopleFrame`) into person tracks
  (:class:`PoseTrack`, one per person, as long as the clip, NaN where that person is not
  seen), matching each frame's people to the tracks by landmark distance relative to the
  person's size, or by box overlap, through gaps of up to ``max_gap_s``;
- :func:`choose_exerciser` picks the track doing the exercise (lying, or hanging with the
  hands above the head, with the legs moving against the trunk) and names everyone it
  ignored in a note. It refuses only when two people exercise side by side.

"Lying" and "hanging" are the one judgement made against the picture's vertical: gravity
is not in the body frame. The source applies the phone's rotation, and the thresholds
(45 degrees) leave room for a camera rolled by a few degrees or a slanted bench. Leg
motion is measured in the body frame: the angle between the trunk and the legs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from flatback.errors import VideoContentError
from flatback.types import Landmark as L
from flatback.types import PeopleFrame, PoseFrame, PoseTrack, VideoInfo

SHOULDERS = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]
HIPS = [L.LEFT_HIP, L.RIGHT_HIP]
ANKLES = [L.LEFT_ANKLE, L.RIGHT_ANKLE]
WRISTS = [L.LEFT_WRIST, L.RIGHT_WRIST]


@dataclass(frozen=True)
class PeopleSettings:
    """Thresholds for following and choosing people (units in the names).

    ``max_gap_s``: a track unseen for longer ends (covers missed frames and the backend's
    1 s searches). ``max_match_ratio``: largest median landmark distance, as a fraction of
    the person's size (box diagonal), for a detection to continue a track; ``min_iou``:
    or at least this box overlap. ``min_present_s``: shorter tracks are stray detections.
    ``lying_max_tilt_deg``: trunk within this of the picture's horizontal is lying;
    ``min_posture_fraction``: share of a track's frames lying or hanging to count as doing
    a floor or bar exercise. ``min_leg_range_deg``: trunk-leg angle range (5th to 95th
    percentile, over the frames lying or hanging, in one stretch of them) that counts as
    legs moving; ``leg_min_visibility``: only ankles scored this or more (even odds of
    being in sight) count for it (a close-up of the torso gets guessed legs, scored low).
    ``min_motion_ratio``: travel of the most-moving landmark over the clip, as a fraction
    of size, under which a figure is still (a graphic or a photo; a real plank hold still
    moves 0.008). ``small_ratio``: an exercising figure under this fraction of the largest
    one's size is an inset or graphic. ``same_person_corr``: trunk-leg angle series that
    correlate this well at zero lag (and differ by under ``same_person_deg`` on average)
    are two pictures of one person. ``min_overlap_s``: exercisers seen together for less
    than this never were side by side. ``dominance``: an exerciser whose score (leg range x
    time lying or hanging) is this many times every other's is the one.
    """

    max_gap_s: float = 1.5
    max_match_ratio: float = 0.35
    min_iou: float = 0.3
    min_present_s: float = 1.0
    lying_max_tilt_deg: float = 45.0
    min_posture_fraction: float = 0.5
    min_leg_range_deg: float = 25.0
    leg_min_visibility: float = 0.5
    min_motion_ratio: float = 0.003
    small_ratio: float = 0.5
    same_person_corr: float = 0.9
    same_person_deg: float = 10.0
    min_overlap_s: float = 1.0
    dominance: float = 2.0


# ---------------------------------------------------------------- association


def box_xyxy(xy_px: np.ndarray) -> np.ndarray:
    """(4,) bounding box (x0, y0, x1, y1) of the finite landmarks (33, 2), px."""
    ok = np.isfinite(xy_px[:, 0])
    if not ok.any():
        return np.full(4, np.nan)
    p = xy_px[ok]
    return np.concatenate([p.min(axis=0), p.max(axis=0)])


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two xyxy boxes (0 when either is missing)."""
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return float(inter / union) if union > 0 else 0.0


def match_cost(track_xy: np.ndarray, person_xy: np.ndarray) -> float:
    """How far a person (33, 2) px is from a track's last landmarks, in person sizes.

    The smaller of (median landmark distance / box diagonal) and (1 - box IoU): the
    landmark term separates people side by side, the box term carries a person whose
    landmarks jumped (a swapped side, a flailing leg).
    """
    box_t, box_p = box_xyxy(track_xy), box_xyxy(person_xy)
    size = float(np.linalg.norm(box_t[2:] - box_t[:2]))
    d = np.linalg.norm(track_xy - person_xy, axis=1)
    landmark = float(np.nanmedian(d) / size) if size > 0 and np.isfinite(d).any() else np.inf
    return min(landmark, 1.0 - box_iou(box_t, box_p))


def assign(costs: np.ndarray, max_cost: float) -> list[tuple[int, int]]:
    """Pairs (row, column) of the cheapest one-to-one matching, each under ``max_cost``."""
    if costs.size == 0:
        return []
    rows, cols = linear_sum_assignment(np.where(np.isfinite(costs), costs, 1e6))
    return [(int(r), int(c)) for r, c in zip(rows, cols) if costs[r, c] < max_cost]


class PeopleTracker:
    """Streaming association: ``update(people_frame) -> track id per person``.

    A detection continues the track whose last landmarks it is closest to
    (:func:`match_cost` under ``max(max_match_ratio, 1 - min_iou)``, one-to-one), if that
    track was seen in the last ``max_gap_s`` seconds; otherwise it starts a new track.
    Live mode calls :meth:`update` per frame; :func:`associate` does a whole clip.
    """

    def __init__(self, settings: PeopleSettings | None = None):
        self.settings = settings or PeopleSettings()
        self.reset()

    def reset(self) -> None:
        """Forget every track (a new clip or stream)."""
        self._last_xy: list[np.ndarray] = []
        self._last_t: list[float] = []

    def update(self, frame: PeopleFrame) -> list[int | None]:
        """Track id of each person in ``frame.people`` (None for an empty detection)."""
        s = self.settings
        max_cost = max(s.max_match_ratio, 1.0 - s.min_iou)
        live = [j for j, t in enumerate(self._last_t) if frame.t_s - t <= s.max_gap_s]
        costs = np.array(
            [[match_cost(self._last_xy[j], p.xy_px) for p in frame.people] for j in live]
        ).reshape(len(live), len(frame.people))
        matched = {c: live[r] for r, c in assign(costs, max_cost)}
        ids: list[int | None] = []
        for c, person in enumerate(frame.people):
            if not person.detected:
                ids.append(None)
                continue
            j = matched.get(c)
            if j is None:
                j = len(self._last_t)
                self._last_xy.append(person.xy_px)
                self._last_t.append(frame.t_s)
            self._last_xy[j], self._last_t[j] = person.xy_px, frame.t_s
            ids.append(j)
        return ids


def associate(
    frames: Sequence[PeopleFrame],
    info: VideoInfo,
    backend: str,
    settings: PeopleSettings | None = None,
) -> list[PoseTrack]:
    """Person tracks from per-frame people (:class:`PeopleTracker`), in order of first appearance.

    Each track spans every frame of ``frames`` (same ``t_s``), NaN (and no mask) where
    its person is not seen, so any of them can go straight to the single-person analysis.
    """
    tracker = PeopleTracker(settings)
    members: list[dict[int, PoseFrame]] = []
    for k, frame in enumerate(frames):
        for person, j in zip(frame.people, tracker.update(frame)):
            if j is None:
                continue
            while len(members) <= j:
                members.append({})
            members[j][k] = person
    tracks = []
    for m in members:
        rows = [m.get(k) or PoseFrame.empty(f.index, f.t_s) for k, f in enumerate(frames)]
        track = PoseTrack.from_frames(rows, info, backend)
        tracks.append(replace(track, second_person=None))
    return tracks


# ---------------------------------------------------------------- features


@contextmanager
def _quiet():
    """Silence numpy's all-NaN slice warnings inside a block (missing frames are NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield



def _mid(track: PoseTrack, pair: list[L]) -> np.ndarray:
    """(N, 2) midpoint of two landmarks, px (NaN where either is missing)."""
    return track.xy_px[:, pair].mean(axis=1)


def trunk_tilt_deg(track: PoseTrack) -> np.ndarray:
    """(N,) angle of the hip-to-shoulder line from the picture's horizontal, 0-90 deg."""
    v = _mid(track, SHOULDERS) - _mid(track, HIPS)
    return np.degrees(np.arctan2(np.abs(v[:, 1]), np.abs(v[:, 0])))


def trunk_leg_deg(track: PoseTrack, min_visibility: float | None = None) -> np.ndarray:
    """(N,) angle between the trunk's line and the more raised leg (hip to ankle), deg.

    Body frame: 0 = legs continue the trunk (lying flat, standing), 90 = a leg at right
    angles (vertical while lying, horizontal while hanging). The larger of the two legs,
    so a single-leg lift counts its working leg. With ``min_visibility``, only ankles
    scored at least that count (NaN where neither is).
    """
    hip = _mid(track, HIPS)
    down = hip - _mid(track, SHOULDERS)
    angles = []
    for ankle in ANKLES:
        leg = track.xy_px[:, ankle] - hip
        if min_visibility is not None:
            leg = np.where((track.visibility[:, ankle] >= min_visibility)[:, None], leg, np.nan)
        cos = np.sum(down * leg, axis=1) / (np.linalg.norm(down, axis=1) * np.linalg.norm(leg, axis=1))
        angles.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    with _quiet():
        return np.nanmax(np.stack(angles), axis=0)


def hands_above_head(track: PoseTrack) -> np.ndarray:
    """(N,) bool: both wrists above the shoulders by a third of the trunk (image up)."""
    shoulder = _mid(track, SHOULDERS)
    trunk = np.linalg.norm(shoulder - _mid(track, HIPS), axis=1)
    wrists_y = track.xy_px[:, WRISTS, 1].max(axis=1)
    with np.errstate(invalid="ignore"):
        return wrists_y < shoulder[:, 1] - trunk / 3


def person_size_px(track: PoseTrack) -> np.ndarray:
    """(N,) diagonal of each frame's landmark box, px (NaN where not seen)."""
    xy = track.xy_px
    with _quiet():
        span = np.nanmax(xy, axis=1) - np.nanmin(xy, axis=1)
    return np.linalg.norm(span, axis=1)


@dataclass(frozen=True)
class TrackSummary:
    """What one person track shows over the clip (units in the names).

    ``role`` is one of ``ROLES``; ``spans_s`` the (start, end) times it is seen;
    ``where`` its place in the picture ("left", "middle", "right").
    """

    index: int
    role: str
    present_s: float
    spans_s: tuple[tuple[float, float], ...]
    lying_fraction: float
    hanging_fraction: float
    upright_fraction: float
    leg_range_deg: float
    size_px: float
    motion_ratio: float
    where: str

    @property
    def score(self) -> float:
        """Exercise evidence: leg range (deg) x time lying or hanging (s)."""
        return self.leg_range_deg * self.present_s * (self.lying_fraction + self.hanging_fraction)


ROLES = {
    "exercising": "a person lying or hanging with the legs moving",
    "brief": "a person seen only briefly",
    "still": "a still figure (a graphic or a photo)",
    "standing": "a standing person",
    "lying_still": "a person lying with the legs still",
    "hanging_still": "a person hanging with the legs still",
    "other": "a person neither lying nor standing",
}


def time_spans(t_s: np.ndarray, seen: np.ndarray, max_gap_s: float) -> tuple[tuple[float, float], ...]:
    """(start_s, end_s) of the runs of ``seen``, joining runs less than ``max_gap_s`` apart."""
    t = t_s[seen]
    if len(t) == 0:
        return ()
    breaks = np.flatnonzero(np.diff(t) > max_gap_s)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(t) - 1]))
    return tuple((float(t[a]), float(t[b])) for a, b in zip(starts, ends))


def fmt_spans(spans: Sequence[tuple[float, float]]) -> str:
    """'0.0-12.3 s' or '0.0-4.1 s and 6.0-9.0 s'."""
    parts = [f"{a:.1f}-{b:.1f} s" for a, b in spans]
    return " and ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else "".join(parts)


def summarize(track: PoseTrack, index: int, settings: PeopleSettings | None = None) -> TrackSummary:
    """Posture shares, leg range, size, motion and role of one track."""
    s = settings or PeopleSettings()
    seen = track.detected & np.isfinite(trunk_tilt_deg(track))
    spans = time_spans(track.t_s, seen, s.max_gap_s)
    dt = np.diff(track.t_s)
    frame_s = float(np.median(dt)) if len(dt) else 0.0
    present_s = float(sum(b - a for a, b in spans)) + frame_s * len(spans)
    tilt = trunk_tilt_deg(track)[seen]
    hands_up = hands_above_head(track)[seen]
    lying = tilt < s.lying_max_tilt_deg
    hanging = ~lying & hands_up
    upright = ~lying & ~hands_up
    n = max(int(seen.sum()), 1)
    leg_range = _leg_range_deg(track, seen, lying | hanging, s)
    size = person_size_px(track)[seen]
    size_px = float(np.median(size)) if len(size) else float("nan")
    motion = _motion_ratio(track, seen, size_px)
    hip_x = _mid(track, HIPS)[seen, 0]
    where = _where(float(np.nanmedian(hip_x)) if np.isfinite(hip_x).any() else np.nan, track.info.width)
    summary = TrackSummary(
        index=index,
        role="",
        present_s=present_s,
        spans_s=spans,
        lying_fraction=float(lying.sum() / n),
        hanging_fraction=float(hanging.sum() / n),
        upright_fraction=float(upright.sum() / n),
        leg_range_deg=leg_range,
        size_px=size_px,
        motion_ratio=motion,
        where=where,
    )
    return replace(summary, role=role_of(summary, int(seen.sum()), s))


def _leg_range_deg(track: PoseTrack, seen: np.ndarray, down: np.ndarray, s: PeopleSettings) -> float:
    """How far the legs move, deg: the trunk-leg angle's range (5th to 95th percentile)
    over the frames ``seen`` lying or hanging (``down``, one per seen frame) with an ankle
    in sight (scored ``leg_min_visibility`` or more), in the stretch where it is largest.
    Stretches part where the legs go out of sight for over ``max_gap_s``: the legs a
    close-up carries over a cut, or the angle's jump between two shots, are no movement
    seen. Sitting up after the set is no leg lift either: those frames are not ``down``."""
    legs = trunk_leg_deg(track, s.leg_min_visibility)
    in_view = np.zeros(len(track), bool)
    in_view[np.flatnonzero(seen)[down]] = True
    in_view &= np.isfinite(legs)
    best = 0.0
    for a, b in time_spans(track.t_s, in_view, s.max_gap_s):
        x = legs[in_view & (track.t_s >= a) & (track.t_s <= b)]
        if len(x) >= 3:
            best = max(best, float(np.percentile(x, 95) - np.percentile(x, 5)))
    return best


def _motion_ratio(track: PoseTrack, seen: np.ndarray, size_px: float) -> float:
    """How far the most-moving landmark travels over the clip, in person sizes.

    Per landmark, the distance between the 5th and 95th percentile of its position; the
    largest of these over the landmarks, divided by the person's size. A drawn or frozen
    figure stays near 0; a person breathing, swaying or lifting does not.
    """
    idx = np.flatnonzero(seen)
    if len(idx) < 2 or not size_px > 0:
        return 0.0
    with _quiet():
        span = np.nanpercentile(track.xy_px[idx], 95, axis=0) - np.nanpercentile(track.xy_px[idx], 5, axis=0)
        return float(np.nanmax(np.linalg.norm(span, axis=1)) / size_px)


def _where(x_px: float, width: int) -> str:
    """'left', 'middle' or 'right' third of the picture."""
    if not np.isfinite(x_px) or width <= 0:
        return "middle"
    return ("left", "middle", "right")[min(int(3 * x_px / width), 2)]


def role_of(summary: TrackSummary, n_seen: int, s: PeopleSettings) -> str:
    """The track's role (a key of ``ROLES``), from its summary; first rule that holds."""
    if summary.present_s < s.min_present_s or n_seen < 5:
        return "brief"
    if summary.motion_ratio < s.min_motion_ratio:
        return "still"
    down = summary.lying_fraction + summary.hanging_fraction
    moving = summary.leg_range_deg >= s.min_leg_range_deg
    if down >= s.min_posture_fraction and moving:
        return "exercising"
    if summary.upright_fraction >= s.min_posture_fraction:
        return "standing"
    if summary.lying_fraction >= s.min_posture_fraction:
        return "lying_still"
    if summary.hanging_fraction >= s.min_posture_fraction:
        return "hanging_still"
    return "other"


def describe(summary: TrackSummary) -> str:
    """'a standing person (right of the picture) at 0.0-12.3 s'."""
    return f"{ROLES[summary.role]} ({summary.where} of the picture) at {fmt_spans(summary.spans_s)}"


# ---------------------------------------------------------------- choosing


def overlap_s(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float:
    """Seconds shared by two lists of (start_s, end_s) spans.

    Spans, not co-detected frames: a person found only by the backend's 1 s searches is
    seen in few frames but present throughout.
    """
    return float(sum(max(0.0, min(a1, b1) - max(a0, b0)) for a0, a1 in a for b0, b1 in b))


def same_person(a: PoseTrack, b: PoseTrack, s: PeopleSettings) -> bool:
    """True if two tracks are two pictures of one person (split screen, a second panel).

    Their trunk-leg angles move together at zero lag: correlation at least
    ``same_person_corr`` and mean difference under ``same_person_deg`` over at least
    ``min_overlap_s`` of shared time. Two people doing the same exercise drift apart.
    """
    ra, rb = trunk_leg_deg(a), trunk_leg_deg(b)
    ok = np.isfinite(ra) & np.isfinite(rb)
    if ok.sum() < 5 or float(np.ptp(a.t_s[ok])) < s.min_overlap_s:
        return False
    x, y = ra[ok], rb[ok]
    if np.std(x) < 1e-6 or np.std(y) < 1e-6:
        return False
    corr = float(np.corrcoef(x, y)[0, 1])
    return corr >= s.same_person_corr and float(np.mean(np.abs(x - y))) < s.same_person_deg


def merge_tracks(tracks: Sequence[PoseTrack]) -> PoseTrack:
    """One track from pieces that never overlap much: each frame from the first piece seen."""
    out = tracks[0]
    for t in tracks[1:]:
        take = t.detected & ~out.detected
        changes = {}
        for name in ("xy_px", "z", "visibility", "world_xyz_m", "mask_top_y_px", "mask_bottom_y_px"):
            mine, theirs = getattr(out, name), getattr(t, name)
            if mine is None or theirs is None:
                continue
            merged = mine.copy()
            merged[take] = theirs[take]
            changes[name] = merged
        out = out.replaced(**changes)
    return out


def choose_exerciser(
    tracks: Sequence[PoseTrack], settings: PeopleSettings | None = None
) -> tuple[PoseTrack, list[str]]:
    """The track of the person doing the exercise, and notes naming who was ignored.

    Rules, in order: (1) candidates are tracks whose role is "exercising"; everyone else
    is named in a note. (2) A candidate under ``small_ratio`` of the largest one's size
    is an inset or graphic. (3) A candidate moving in step with a larger-or-longer one is
    a second picture of the same person. (4) Candidates never seen together are one
    exerciser followed in pieces (after a cut, a lost track): joined. (5) A candidate
    whose score is ``dominance`` times every other's is the one. (6) Otherwise two people
    exercise side by side: :class:`VideoContentError`, naming where and when each is.
    With no candidate, the person lying or hanging seen longest is returned (a hold),
    else the person seen longest; a note says so when anyone else was seen.
    """
    s = settings or PeopleSettings()
    if not tracks:
        raise VideoContentError(
            "No person found in the video. Film the whole body from the side, in good light, "
            "with nothing in front of the camera."
        )
    summaries = [summarize(t, i, s) for i, t in enumerate(tracks)]
    notes: list[str] = []
    candidates = [m for m in summaries if m.role == "exercising"]
    others = [m for m in summaries if m.role != "exercising"]
    if not candidates:
        return _fallback(tracks, summaries)
    biggest = max(m.size_px for m in candidates)
    small = [m for m in candidates if m.size_px < s.small_ratio * biggest]
    candidates = [m for m in candidates if m not in small]
    notes += [f"{_cap(_describe_as(m, 'a small figure doing the exercise (an inset or a graphic)'))} was ignored." for m in small]
    candidates.sort(key=lambda m: (m.present_s, m.size_px), reverse=True)
    kept: list[TrackSummary] = []
    for m in candidates:
        twin = next((k for k in kept if same_person(tracks[k.index], tracks[m.index], s)), None)
        if twin is None:
            kept.append(m)
        else:
            notes.append(
                f"{_cap(_describe_as(m, 'a second picture of the same person (split screen)'))} was ignored."
            )
    chosen, pieces = _join_pieces(kept, s)
    if len(chosen) > 1:
        best = max(chosen, key=lambda m: m.score)
        if all(best.score >= s.dominance * m.score for m in chosen if m is not best):
            notes += [
                f"{_cap(_describe_as(m, 'another person moving their legs less'))} was ignored." for m in chosen if m is not best
            ]
            chosen = [best]
        else:
            chosen.sort(key=lambda m: (("left", "middle", "right").index(m.where), m.spans_s[0][0]))
            raise VideoContentError(
                "Two people do the exercise side by side and flatback cannot tell which one to coach: "
                + "; ".join(f"person {i + 1} ({m.where} of the picture) at {fmt_spans(m.spans_s)}" for i, m in enumerate(chosen))
                + ". Crop the video to one of them, or film one person at a time."
            )
    person = chosen[0]
    parts = pieces.get(person.index, [person])
    track = merge_tracks([tracks[m.index] for m in parts])
    if len(parts) > 1:
        notes.append(
            f"The exerciser was followed in {len(parts)} pieces ("
            + ", ".join(fmt_spans(m.spans_s) for m in parts) + "), joined as one person."
        )
    notes += _ignored_notes(others)
    return track, notes


def _fallback(tracks: Sequence[PoseTrack], summaries: list[TrackSummary]) -> tuple[PoseTrack, list[str]]:
    """Nobody exercising (a hold, another exercise): the person lying or hanging seen
    longest, else a person standing or otherwise, else a still figure, each the longest
    seen. Named in a note only when others were seen."""
    rank = {"lying_still": 3, "hanging_still": 3, "standing": 2, "other": 2, "still": 1, "brief": 0}
    pick = max(summaries, key=lambda m: (rank[m.role], m.present_s))
    others = [m for m in summaries if m is not pick]
    notes = []
    if any(m.role != "brief" for m in others):
        notes.append(f"No one was seen lying or hanging with the legs moving; analysed {describe(pick)}.")
    return tracks[pick.index], notes + _ignored_notes(others)


def _join_pieces(kept: list[TrackSummary], s: PeopleSettings):
    """Group candidates never seen together (under ``min_overlap_s``) into one exerciser.

    Returns the group heads and, per head index, the summaries of its pieces in time order.
    """
    groups: list[list[TrackSummary]] = []
    for m in kept:
        for g in groups:
            if all(overlap_s(m.spans_s, o.spans_s) < s.min_overlap_s for o in g):
                g.append(m)
                break
        else:
            groups.append([m])
    heads, pieces = [], {}
    for g in groups:
        head = g[0]
        total = replace(
            head,
            present_s=sum(m.present_s for m in g),
            spans_s=tuple(sorted(sp for m in g for sp in m.spans_s)),
        )
        heads.append(total)
        pieces[head.index] = sorted(g, key=lambda m: m.spans_s[0][0])
    return heads, pieces


def _describe_as(m: TrackSummary, what: str) -> str:
    return f"{what} ({m.where} of the picture) at {fmt_spans(m.spans_s)}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ignored_notes(others: Sequence[TrackSummary]) -> list[str]:
    """One note per ignored person. Stray detections (under ``min_present_s``: the search
    finding a fragment, a face in a poster for a moment) are not people: not named."""
    return [f"{_cap(describe(m))} was ignored." for m in others if m.role != "brief"]
