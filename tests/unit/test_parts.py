"""A long video posed in parts by several processes (pipeline/parts.py): the parts' plan,
the source's parts, and a stitched run that gives the reps of one run."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import av
import numpy as np
import pytest

from flatback.io.source import VideoFile
from flatback.measure.people import associate
from flatback.pipeline.offline import Analyzer, select_exerciser
from flatback.pipeline.parts import (
    Part,
    cores_each,
    disagreement,
    limit_processes,
    plan_parts,
    processes_for,
    stitch,
)
from flatback.settings import Settings
from flatback.simulate import simulate
from flatback.types import PeopleFrame, PoseTrack

# ---------------------------------------------------------------- plan


def work(part: Part, duration_s: float) -> float:
    return (duration_s if part.stop_s is None else part.stop_s) - part.start_s


def test_a_short_video_is_one_part():
    assert plan_parts(12.0, 2, min_part_s=10.0, overlap_s=4.0) == [Part(0.0, None, 0.0)]
    assert plan_parts(0.0, 4, min_part_s=10.0, overlap_s=4.0) == [Part(0.0, None, 0.0)]  # a webcam
    assert plan_parts(600.0, 1, min_part_s=10.0, overlap_s=4.0) == [Part(0.0, None, 0.0)]


@pytest.mark.parametrize(("duration_s", "processes", "expected"), [(60.0, 2, 2), (60.0, 4, 4), (30.0, 8, 4), (20.0, 8, 2)])
def test_parts_share_the_work_equally_and_overlap(duration_s, processes, expected):
    parts = plan_parts(duration_s, processes, min_part_s=10.0, overlap_s=4.0)
    assert len(parts) == expected
    works = [work(p, duration_s) for p in parts]
    assert max(works) - min(works) < 1e-9
    assert min(works) >= 10.0
    assert parts[0].start_s == 0.0 and parts[-1].stop_s is None
    for before, after in zip(parts, parts[1:]):
        assert before.stop_s == pytest.approx(after.own_s)
        assert after.own_s - after.start_s == pytest.approx(4.0)  # the overlap it poses to settle


def test_videos_analysed_at_once_share_the_cores(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr("flatback.pipeline.parts.CGROUP_CPU_MAX", "/nonexistent")
    s = Settings.load(None, {"pose.processes": 0})  # one per core
    assert processes_for(Settings()) == 8  # the default: one per core
    assert processes_for(Settings.load(None, {"pose.processes": 1})) == 1
    assert processes_for(s) == 8 and cores_each(3) == 2 and cores_each(64) == 1
    try:
        limit_processes(2)  # a batch worker
        assert processes_for(s) == 2
        assert processes_for(Settings.load(None, {"pose.processes": 3})) == 3  # as set
    finally:
        limit_processes(None)
    assert processes_for(s) == 8


# ---------------------------------------------------------------- the source's parts


@pytest.fixture(scope="module")
def numbered_video(tmp_path_factory):
    """3 s at 30 fps, a key frame every 0.4 s, each frame's grey level its number."""
    path = tmp_path_factory.mktemp("parts") / "numbered.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"g": "12", "crf": "0", "preset": "ultrafast"}
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        for i in range(90):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 2 * i, np.uint8), format="rgb24")
            frame.pts = round(i * 1000 / 30)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_a_part_of_the_video_has_the_whole_videos_frames_and_times(numbered_video):
    whole = [(f.t_s, int(f.image.mean())) for f in VideoFile(numbered_video)]
    assert len(whole) == 90
    first = [(f.t_s, int(f.image.mean())) for f in VideoFile(numbered_video).frames(stop_s=1.5)]
    later = list(VideoFile(numbered_video).frames(start_s=1.1))  # between key frames: decoded from the one before
    assert first == [w for w in whole if w[0] < 1.5]
    assert [(f.t_s, int(f.image.mean())) for f in later] == [w for w in whole if w[0] >= 1.1]
    assert [f.index for f in later] == list(range(len(later)))  # counted from the part's start; stitch re-numbers


# ---------------------------------------------------------------- stitching


def people_frames(track: PoseTrack, indices=None) -> list[PeopleFrame]:
    """Each frame of ``track`` as the multi-person backend gives it (one person or nobody)."""
    out = []
    for k, i in enumerate(range(len(track)) if indices is None else indices):
        person = replace(track.frame(i), index=k)
        out.append(PeopleFrame(k, float(track.t_s[i]), (person,) if person.detected else ()))
    return out


def later_part(track: PoseTrack, start_s: float, settle_s: float, rng, offset_px: float, noise_px: float):
    """The frames a process posing from ``start_s`` gives: indices from 0, landmarks off by
    ``offset_px`` until its tracker settles (``settle_s``), then within ``noise_px`` of one run."""
    t = track.t_s
    xy = track.xy_px.copy()
    xy[(t >= start_s) & (t < start_s + settle_s)] += offset_px
    settled = t >= start_s + settle_s
    if noise_px:
        xy[settled] += rng.normal(0, noise_px, xy[settled].shape).astype(np.float32)
    return people_frames(track.replaced(xy_px=xy), np.flatnonzero(t >= start_s))


@pytest.fixture(scope="module")
def clip():
    return simulate(n_reps=6, noise_px=0.8, width=1280, height=720, seed=4)


def analysed(frames: list[PeopleFrame], track: PoseTrack):
    tracks = associate(frames, track.info, "test")
    return Analyzer(Settings()).analyze_track(*select_exerciser(tracks))


AGREE = Settings().pose.part_agree_ratio


def test_stitched_parts_that_agree_are_the_one_run_exactly(clip):
    track = clip.track
    one_run = people_frames(track)
    cut, overlap = 0.5 * float(track.t_s[-1]), 4.0
    earlier = [f for f in one_run if f.t_s < cut + 1.0]  # this process goes on past the cut until both agree
    later = later_part(track, cut - overlap, overlap / 2, np.random.default_rng(0), offset_px=15.0, noise_px=0.0)
    stitched = stitch(earlier, later, cut, AGREE)
    assert [(f.index, f.t_s) for f in stitched] == [(f.index, f.t_s) for f in one_run]
    for a, b in zip(stitched, one_run):
        assert len(a.people) == len(b.people)
        for p, q in zip(a.people, b.people):
            assert p.index == a.index
            np.testing.assert_array_equal(p.xy_px, q.xy_px)


def test_a_stitched_run_gives_the_reps_of_one_run(clip):
    """The later part's tracker is 15 px off until it settles, then within 0.3 px of the one
    run (two runs never agree to the bit): the stitch falls where both agree, the reps are one run's."""
    track = clip.track
    one_run = people_frames(track)
    cut, overlap = 0.5 * float(track.t_s[-1]), 4.0
    earlier = [f for f in one_run if f.t_s < cut + 1.0]
    later = later_part(track, cut - overlap, overlap / 2, np.random.default_rng(1), offset_px=15.0, noise_px=0.3)
    stitched = stitch(earlier, later, cut, AGREE)
    k = next(i for i, f in enumerate(stitched) if f.t_s >= cut)
    assert stitched[:k + 1] == one_run[:k + 1]  # the first part's own frames up to the cut
    assert [f.index for f in stitched] == list(range(len(one_run)))
    assert max(disagreement(a, b) for a, b in zip(stitched[k:], one_run[k:])) < AGREE
    single, split = analysed(one_run, track), analysed(stitched, track)
    assert single.rep_count == split.rep_count == 6
    for a, b in zip(single.reps, split.reps):
        assert abs(a.timing.start_s - b.timing.start_s) <= 2 / 30
        assert abs(a.timing.bottom_s - b.timing.bottom_s) <= 2 / 30
        assert abs(a.timing.end_s - b.timing.end_s) <= 2 / 30


def test_the_stitch_waits_past_a_disagreement_at_the_cut(clip):
    """The later part lost the person for a few frames around the cut (a shot cut its tracker
    took differently): the stitch falls after them, where both parts agree again."""
    track = clip.track
    one_run = people_frames(track)
    cut, overlap = 0.5 * float(track.t_s[-1]), 4.0
    earlier = [f for f in one_run if f.t_s < cut + 1.0]
    later = later_part(track, cut - overlap, overlap / 2, np.random.default_rng(2), offset_px=15.0, noise_px=0.0)
    lost = [j for j, f in enumerate(later) if cut - 0.1 <= f.t_s < cut + 0.2]
    for j in lost:
        later[j] = PeopleFrame(later[j].index, later[j].t_s, ())
    stitched = stitch(earlier, later, cut, AGREE)
    assert all(len(f.people) == 1 for f in stitched if cut - 0.1 <= f.t_s < cut + 0.2)  # the first part's
    assert [f.index for f in stitched] == list(range(len(one_run)))


def test_disagreement_counts_people_and_distance(clip):
    frames = people_frames(clip.track)
    a = frames[10]
    moved = PeopleFrame(a.index, a.t_s, tuple(replace(p, xy_px=p.xy_px + 5.0) for p in a.people))
    assert disagreement(a, a) == 0.0
    assert 0 < disagreement(a, moved) < 0.05
    assert disagreement(a, PeopleFrame(a.index, a.t_s, ())) == float("inf")
    assert disagreement(PeopleFrame(0, 0.0, ()), PeopleFrame(0, 0.0, ())) == 0.0


def test_the_other_parts_frames_are_taken_without_a_progress_bar():
    """A part's process waits while its pipe is full: the first part must read the others'
    frames as it goes even when nothing shows progress (stdout not a terminal, a batch),
    or the parts are posed one after the other."""
    from flatback.pipeline.parts import _reporter

    class Worker:
        polls = 0
        done_s = 0.0

        def poll(self) -> None:
            self.polls += 1

    w = Worker()
    report = _reporter(None, 60.0, [w])  # type: ignore[list-item]
    assert report is not None
    for k in range(3):
        report(PeopleFrame(index=k, t_s=k / 30, people=()))
    assert w.polls == 3
    assert _reporter(None, 60.0, []) is None  # one part: nothing to read


@pytest.mark.parametrize(("text", "cores"), [("200000 100000\n", 2), ("50000 100000\n", 1), ("max 100000\n", None),
                                              ("garbage", None)])
def test_a_containers_cpu_quota_bounds_the_cores(tmp_path, text, cores):
    from flatback.pipeline.parts import _quota_cores

    f = tmp_path / "cpu.max"
    f.write_text(text)
    assert _quota_cores(str(f)) == cores
    assert _quota_cores(str(tmp_path / "absent")) is None
