"""Posing a long video in parts, one process each, stitched into the frames of one run.

The pose model (the Tasks PoseLandmarker, ``pose/multi.py``) runs one inference thread:
one process keeps about one core busy while the others idle. So the offline pose stage
splits a long video into parts (:func:`plan_parts`), poses the first in this process and
each other in a new one at the same time, and joins their per-frame people
(:func:`stitch`).

The landmarker in VIDEO mode is a tracker: each frame's landmarks start from the previous
frame's. A part that starts mid-video first poses ``pose.part_overlap_s`` of the part
before it, so its tracker, its landmark smoothing and the number of people it follows
have settled by the time its own share starts; the stitch is made at the frame of the
overlap's second half where both parts agree best (:func:`disagreement`), the earlier
part's frames up to it and the later part's after it. Frame indices and times are those
of the whole video. The searches for more people run on a fixed time grid
(``pose/multi.py``), so every part searches the same frames a single run would.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from flatback.errors import FlatbackError
from flatback.io.source import VideoFile, Webcam, bound_heap, open_source, prefetch
from flatback.settings import Settings
from flatback.types import PeopleFrame

# progress(done_s, total_s), as in pipeline/offline.py
Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class Part:
    """A stretch of video one process poses: frames at or after ``start_s`` and before
    ``stop_s`` (None: to the end), s. ``own_s``: where its own share starts (after the
    overlap it poses only to settle; 0 for the first part)."""

    start_s: float
    stop_s: float | None
    own_s: float


def plan_parts(duration_s: float, processes: int, min_part_s: float, overlap_s: float) -> list[Part]:
    """Parts of equal work for up to ``processes`` processes, each at least ``min_part_s``.

    The first part poses [0, c1); part k poses [c_k - overlap, c_k+1): equal work ``w`` for
    each gives w = (duration + (n - 1) * overlap) / n. Fewer parts when ``w`` would fall
    under ``min_part_s``; one part (the whole video) for a short or unknown duration.
    """
    n = max(1, processes)
    while n > 1 and (duration_s + (n - 1) * overlap_s) / n < max(min_part_s, 2 * overlap_s):
        n -= 1
    if n == 1 or duration_s <= 0:
        return [Part(0.0, None, 0.0)]
    w = (duration_s + (n - 1) * overlap_s) / n
    cuts = [w + k * (w - overlap_s) for k in range(n - 1)]
    parts = [Part(0.0, cuts[0], 0.0)]
    for k, cut in enumerate(cuts):
        stop = cuts[k + 1] if k + 1 < len(cuts) else None
        parts.append(Part(cut - overlap_s, stop, cut))
    return parts


_process_limit: int | None = None  # set in a batch's worker processes (limit_processes)


def limit_processes(n: int | None) -> None:
    """At most ``n`` pose processes for each analysis this process runs, when
    ``pose.processes`` is 0: a batch's worker shares the cores with the other videos
    analysed at once (None lifts the limit). The settings, and so the reports, are unchanged."""
    global _process_limit
    _process_limit = n


def processes_for(settings: Settings) -> int:
    """``pose.processes``, or when 0 one per CPU core this process may use (within
    :func:`limit_processes`)."""
    if settings.pose.processes:
        return settings.pose.processes
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(cores, _process_limit) if _process_limit else cores


def cores_each(jobs: int) -> int:
    """Pose processes for each of ``jobs`` analyses at once: their share of the cores."""
    return max(1, processes_for(Settings()) // max(1, jobs))


# ---------------------------------------------------------------- stitching


def disagreement(a: PeopleFrame, b: PeopleFrame) -> float:
    """How far two runs' people in one frame lie apart: for each person of ``a``, the
    median landmark distance to the nearest person of ``b`` over ``a``'s size (landmark
    box diagonal); the largest of these. 0 when both saw nobody, inf when they saw a
    different number of people."""
    pa = [p for p in a.people if p.detected]
    pb = [p for p in b.people if p.detected]
    if len(pa) != len(pb):
        return float("inf")
    worst = 0.0
    for p in pa:
        ok = np.isfinite(p.xy_px[:, 0])
        size = float(np.linalg.norm(np.ptp(p.xy_px[ok], axis=0))) if ok.any() else 0.0
        if size <= 0:
            return float("inf")
        best = min(float(np.nanmedian(np.linalg.norm(p.xy_px - q.xy_px, axis=1))) for q in pb)
        worst = max(worst, best / size)
    return worst


def stitch(earlier: list[PeopleFrame], later: list[PeopleFrame], settle_s: float) -> list[PeopleFrame]:
    """One run's frames from two parts that overlap in time.

    The stitch frame is, among the frames both parts posed at least ``settle_s`` after the
    later part's first frame, the one where they agree best (:func:`disagreement`; the
    latest of equals): ``earlier`` up to it, then ``later`` after it, re-numbered to follow
    on. Without frames in common the parts are simply joined.
    """
    if not later:
        return list(earlier)
    if not earlier:
        return list(later)
    by_t = {f.t_s: i for i, f in enumerate(earlier)}
    t_first = later[0].t_s
    common = [(by_t[f.t_s], j) for j, f in enumerate(later) if f.t_s in by_t]
    settled = [(i, j) for i, j in common if later[j].t_s >= t_first + settle_s] or common
    if settled:
        cost = [disagreement(earlier[i], later[j]) for i, j in settled]
        k = len(cost) - 1 - int(np.argmin(cost[::-1]))
        i, j = settled[k]
        shift = earlier[i].index - later[j].index
    else:  # no frame in common: the later part starts after the earlier one ends
        i, j = len(earlier) - 1, -1
        after = [f for f in later if f.t_s > earlier[-1].t_s]
        later, j = after, -1
        shift = earlier[-1].index + 1 - (later[0].index if later else 0)
    return earlier[: i + 1] + [renumbered(f, f.index + shift) for f in later[j + 1 :]]


def renumbered(frame: PeopleFrame, index: int) -> PeopleFrame:
    """``frame`` with the frame index ``index`` (its people's too)."""
    if frame.index == index:
        return frame
    return PeopleFrame(index=index, t_s=frame.t_s, people=tuple(replace(p, index=index) for p in frame.people),
                       searched=frame.searched)


# ---------------------------------------------------------------- posing


def pose_part(source: VideoFile | Webcam | str, settings: Settings, part: Part | None = None,
              progress: Callable[[float], None] | None = None) -> tuple[list[PeopleFrame], str]:
    """Every person in each frame of ``part`` (None: the whole video) of ``source`` (a
    source opened with ``io.source.open_source``, or a path), with the backend's name."""
    from flatback.pose.multi import MultiPose

    if isinstance(source, str):
        source = open_source(source, truncated_fraction=settings.source.truncated_fraction,
                             min_duration_s=settings.source.min_duration_s)
    everyone = MultiPose(settings.pose)
    out = []
    try:
        if part is None or isinstance(source, Webcam):
            frames = source.frames(settings.pose.max_rate_hz)
        else:
            frames = source.frames(settings.pose.max_rate_hz, part.start_s, part.stop_s)
        for frame in prefetch(frames):
            out.append(everyone(frame))
            if progress is not None:
                progress(frame.t_s)
    finally:
        everyone.close()
    return out, everyone.name


def _child(conn, path: str, settings: Settings, part: Part, every_s: float) -> None:
    """A part posed in a new process: sends ("progress", t_s) now and then, then ("done",
    (frames, name)) or ("error", exception)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    bound_heap()
    last = [part.start_s]

    def report(t_s: float) -> None:
        if t_s - last[0] >= every_s:
            last[0] = t_s
            conn.send(("progress", t_s))

    try:
        conn.send(("done", pose_part(path, settings, part, report)))
    except FlatbackError as e:
        conn.send(("error", e))
    except Exception as e:  # noqa: BLE001 - the parent poses the part itself
        conn.send(("failed", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


class _Worker:
    """A part posed by a new process (spawned: a forked mediapipe is not safe)."""

    def __init__(self, path: str, settings: Settings, part: Part):
        ctx = mp.get_context("spawn")
        self.part = part
        self.done_s = 0.0
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(child, path, settings, part, 0.5), daemon=True,
                                 name="flatback-pose-part")
        self._proc.start()
        child.close()
        self._result: tuple | None = None

    def poll(self) -> None:
        """Read the progress messages waiting (never blocks)."""
        while self._result is None and self._conn.poll():
            self._receive()

    def _receive(self) -> None:
        try:
            kind, value = self._conn.recv()
        except (EOFError, OSError):
            kind, value = "failed", f"the process ended ({self._proc.exitcode})"
        if kind == "progress":
            self.done_s = value - self.part.start_s
        else:
            self._result = (kind, value)

    def result(self) -> tuple[str, object]:
        """("done", (frames, name)), ("error", FlatbackError) or ("failed", reason); waits."""
        while self._result is None:
            self._receive()
        self._proc.join()
        self._conn.close()
        return self._result

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        self._conn.close()


def pose_people(source: VideoFile | Webcam, settings: Settings, progress: Progress | None = None
                ) -> tuple[list[PeopleFrame], str]:
    """Every person in every frame of an opened ``source`` (at most ``pose.max_rate_hz`` a
    second), a long video in parts posed at once (:func:`plan_parts`)."""
    s = settings.pose
    duration_s = source.info.duration_s if isinstance(source, VideoFile) else 0.0
    parts = plan_parts(duration_s, processes_for(settings), s.part_min_s, s.part_overlap_s)
    path = str(source.info.path)
    workers = [_Worker(path, settings, p) for p in parts[1:]]
    try:
        def report(t_s: float) -> None:
            if progress is not None:
                for w in workers:
                    w.poll()
                progress(t_s + sum(w.done_s for w in workers), duration_s + (len(parts) - 1) * s.part_overlap_s)

        frames, name = pose_part(source, settings, parts[0], report)
        for w in workers:
            kind, value = w.result()
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            part_frames: list[PeopleFrame]
            if kind == "failed":  # a process that could not pose its part: pose it here
                part_frames, _ = pose_part(path, settings, w.part)
            else:
                part_frames, _ = value  # type: ignore[misc]
            frames = stitch(frames, part_frames, s.part_overlap_s / 2)
    finally:
        for w in workers:
            w.stop()
    return frames, name


__all__ = ["Part", "disagreement", "plan_parts", "pose_part", "pose_people", "cores_each", "limit_processes", "processes_for", "stitch"]
