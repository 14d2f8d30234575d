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

import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection

import numpy as np

from flatback.errors import FlatbackError
from flatback.io.source import VideoFile, Webcam, bound_heap, open_source, prefetch
from flatback.pose.sampling import sampled, sampler_for
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
    cores = _cores()
    return min(cores, _process_limit) if _process_limit else cores


def _cores() -> int:
    """CPU cores this process may use: its CPU affinity, within a container's CPU quota
    (cgroup v2 ``cpu.max``: a container limited to 2 CPUs on an 8-core host sees 8)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(cores, _quota_cores(CGROUP_CPU_MAX) or cores)


CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def _quota_cores(path: str) -> int | None:
    """Whole CPUs a cgroup v2 ``cpu.max`` file ("QUOTA PERIOD", or "max PERIOD") allows,
    at least 1; None without a quota or the file."""
    try:
        quota, period = open(path).read().split()[:2]
        return None if quota == "max" else max(1, int(quota) // int(period))
    except (OSError, ValueError):
        return None


def cores_each(jobs: int) -> int:
    """Pose processes for each of ``jobs`` analyses at once: their share of the cores."""
    return max(1, _cores() // max(1, jobs))


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


def stitch(earlier: list[PeopleFrame], later: list[PeopleFrame], cut_s: float, agree_ratio: float
           ) -> list[PeopleFrame]:
    """One run's frames from two parts that overlap in time.

    The stitch frame is the first frame at or after ``cut_s`` that both parts posed and
    where they agree (:func:`disagreement` at most ``agree_ratio``); failing that, the
    common frame where they agree best (the latest of equals). ``earlier`` up to it, then
    ``later`` after it, re-numbered to follow on. Without frames in common the parts are
    simply joined.
    """
    if not later:
        return list(earlier)
    if not earlier:
        return list(later)
    by_t = {f.t_s: i for i, f in enumerate(earlier)}
    common = [(by_t[f.t_s], j) for j, f in enumerate(later) if f.t_s in by_t]
    if common:
        cost = [disagreement(earlier[i], later[j]) for i, j in common]
        after = [k for k, (i, _) in enumerate(common) if earlier[i].t_s >= cut_s]
        agreed = [k for k in after if cost[k] <= agree_ratio]
        k = agreed[0] if agreed else len(cost) - 1 - int(np.argmin(cost[::-1]))
        i, j = common[k]
        shift = earlier[i].index - later[j].index
    else:  # no frame in common: the later part starts after the earlier one ends
        i, j = len(earlier) - 1, -1
        later = [f for f in later if f.t_s > earlier[-1].t_s]
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
              progress: Callable[[PeopleFrame], None] | None = None,
              until: Callable[[PeopleFrame], bool] | None = None, keep: bool = True
              ) -> tuple[list[PeopleFrame], str, np.ndarray]:
    """Every person in each posed frame of ``part`` (None: the whole video) of ``source``
    (a source opened with ``io.source.open_source``, or a path), the backend's name, and
    the times of every frame of the part, posed or not, s (the frames posed are chosen by
    ``pose/sampling.py``). ``progress`` sees each posed frame's result; ``until`` ends the
    part after the first frame it returns True for; ``keep`` = False returns no frames
    (``progress`` has had them)."""
    from flatback.pose.multi import MultiPose

    if isinstance(source, str):
        source = open_source(source, truncated_fraction=settings.source.truncated_fraction,
                             min_duration_s=settings.source.min_duration_s)
    everyone = MultiPose(settings.pose)
    out = []
    seen_s: list[float] = []
    sampler = sampler_for(settings.pose)
    try:
        if isinstance(source, Webcam):
            frames = prefetch(source.frames(settings.pose.max_rate_hz))
        elif part is None:
            frames = sampled(source, sampler, seen_s)
        else:
            frames = sampled(source, sampler, seen_s, part.start_s, part.stop_s)
        for frame in frames:
            people = everyone(frame)
            sampler.posed(frame.t_s, [p.xy_px for p in people.people if p.detected])
            if isinstance(source, Webcam):
                seen_s.append(frame.t_s)
            if keep:
                out.append(people)
            if progress is not None:
                progress(people)
            if until is not None and until(people):
                break
    finally:
        everyone.close()
    return out, everyone.name, np.array(seen_s)


def _child(conn, path: str, settings: Settings, part: Part, every_s: float) -> None:
    """A part posed in a new process: sends its frames as it goes (("frames", [...]) every
    ``every_s`` of video), then ("done", backend name), or ("error", FlatbackError) or
    ("failed", reason)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    bound_heap()
    chunk: list[PeopleFrame] = []

    def send(frame: PeopleFrame) -> None:
        chunk.append(frame)
        if chunk[-1].t_s - chunk[0].t_s >= every_s:
            conn.send(("frames", list(chunk)))
            chunk.clear()

    try:
        _, name, seen_s = pose_part(path, settings, part, send, keep=False)  # the parent keeps them
        conn.send(("frames", chunk))
        conn.send(("times", seen_s))
        conn.send(("done", name))
    except FlatbackError as e:
        conn.send(("error", e))
    except Exception as e:  # noqa: BLE001 - the parent poses the part itself
        conn.send(("failed", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


class _Worker:
    """A part posed by a new process, its frames received as they come.

    The process is a fresh interpreter running this module (``python -m
    flatback.pipeline.parts``), not a multiprocessing child: those import the caller's main
    script again, so a script calling ``flatback.analyze`` without an ``if __name__ ==
    "__main__"`` guard would run again in it; and a forked mediapipe is not safe. The part
    to pose comes on its stdin, its frames go back on a pipe of their own (stdout is left
    to the libraries' chatter), as ``multiprocessing.connection`` messages.
    """

    def __init__(self, path: str, settings: Settings, part: Part):
        self.part = part
        self.frames: list[PeopleFrame] = []
        self.seen_s = np.zeros(0)  # every frame's time, posed or not, s (sent at the end)
        self._by_t: dict[float, int] = {}
        read_fd, write_fd = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "flatback.pipeline.parts", str(write_fd)], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_fd,), env=env,
            )
        finally:
            os.close(write_fd)
        self._conn = Connection(read_fd, writable=False)
        assert self._proc.stdin is not None
        with self._proc.stdin as stdin:
            pickle.dump((path, settings, part, 0.5), stdin)
        self._end: tuple[str, object] | None = None  # ("done", name), ("error", e) or ("failed", reason)

    @property
    def done_s(self) -> float:
        """Video posed so far, s."""
        return self.frames[-1].t_s - self.part.start_s if self.frames else 0.0

    def poll(self) -> None:
        """Take the frames that have come (never blocks)."""
        while self._end is None and self._conn.poll():
            self._receive()

    def _receive(self) -> None:
        try:
            kind, value = self._conn.recv()
        except (EOFError, OSError):
            kind, value = "failed", f"the process ended ({self._proc.poll()})"
        if kind == "frames":
            for f in value:
                self._by_t[f.t_s] = len(self.frames)
                self.frames.append(f)
        elif kind == "times":
            self.seen_s = value
        else:
            self._end = (kind, value)

    def frame_at(self, t_s: float) -> PeopleFrame | None:
        """This part's frame at ``t_s``, waiting for it; None if the part has none."""
        while self._end is None and t_s not in self._by_t and (not self.frames or self.frames[-1].t_s < t_s):
            self._receive()
        i = self._by_t.get(t_s)
        return None if i is None else self.frames[i]

    def result(self) -> tuple[str, object]:
        """("done", frames), ("error", FlatbackError) or ("failed", reason); waits."""
        while self._end is None:
            self._receive()
        self._proc.wait()
        self._conn.close()
        kind, value = self._end
        return (kind, self.frames) if kind == "done" else (kind, value)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
        self._proc.wait()
        self._conn.close()


def pose_people(source: VideoFile | Webcam, settings: Settings, progress: Progress | None = None
                ) -> tuple[list[PeopleFrame], str, np.ndarray]:
    """Every person in each posed frame of an opened ``source`` (chosen by
    ``pose/sampling.py``), a long video in parts posed at once (:func:`plan_parts`); the
    backend's name; every frame's time, posed or not, s.

    This process poses the first part and goes on past its cut until a frame where it
    agrees with the next part's process; a middle part's process poses ``part_overlap_s``
    past its cut for the same search (:func:`stitch`).
    """
    s = settings.pose
    duration_s = source.info.duration_s if isinstance(source, VideoFile) else 0.0
    parts = plan_parts(duration_s, processes_for(settings), s.part_min_s, s.part_overlap_s)
    if len(parts) == 1:
        return pose_part(source, settings, parts[0], _reporter(progress, duration_s, []))
    path = str(source.info.path)
    posed = [replace(p, stop_s=None if p.stop_s is None else p.stop_s + s.part_overlap_s) for p in parts]
    workers = [_Worker(path, settings, p) for p in posed[1:]]
    total_s = duration_s + (len(parts) - 1) * s.part_overlap_s
    try:
        def agrees(frame: PeopleFrame) -> bool:  # past the cut, where the next part agrees
            if frame.t_s < parts[1].own_s:
                return False
            other = workers[0].frame_at(frame.t_s)
            return other is not None and disagreement(frame, other) <= s.part_agree_ratio

        first = replace(parts[0], stop_s=None)
        frames, name, seen_s = pose_part(source, settings, first, _reporter(progress, total_s, workers), agrees)
        times = [seen_s]
        for part, w in zip(parts[1:], workers):
            kind, value = w.result()
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            part_frames: list[PeopleFrame]
            if kind == "failed":  # a process that could not pose its part: pose it here
                part_frames, _, part_s = pose_part(path, settings, replace(part, stop_s=w.part.stop_s))
            else:
                part_frames, part_s = value, w.seen_s  # type: ignore[assignment]
            times.append(part_s)
            frames = stitch(frames, part_frames, part.own_s, s.part_agree_ratio)
    finally:
        for w in workers:
            w.stop()
    return frames, name, np.unique(np.concatenate(times))  # the parts overlap: each time once


def _reporter(progress: Progress | None, total_s: float, workers: list[_Worker]):
    """A per-frame callback that takes the frames the other parts have sent (with or
    without a progress bar: a part's process waits while its pipe is full, so frames left
    unread would pose the parts one after the other) and reports the video posed by every
    part so far."""
    if progress is None and not workers:
        return None

    def report(frame: PeopleFrame) -> None:
        for w in workers:
            w.poll()
        if progress is not None:
            progress(min(frame.t_s + sum(w.done_s for w in workers), total_s), total_s)

    return report


def _main() -> None:
    """A part's process: ``python -m flatback.pipeline.parts FD``, the part on stdin."""
    path, settings, part, every_s = pickle.load(sys.stdin.buffer)
    _child(Connection(int(sys.argv[1]), readable=False), path, settings, part, every_s)


__all__ = ["Part", "disagreement", "plan_parts", "pose_part", "pose_people", "cores_each", "limit_processes", "processes_for", "stitch"]


if __name__ == "__main__":
    _main()
