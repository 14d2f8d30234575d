"""Pose at a lower rate than the video (pose.max_rate_hz): the same reps, exact timestamps,
and an annotated video that still has every frame (or every 2nd, output.video_max_fps)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from flatback.io.source import RatePicker, VideoFile
from flatback.outputs.annotate import overlay_at, overlays, write_annotated_video
from flatback.pipeline import Analyzer
from flatback.pose.replay import ReplayPose
from flatback.settings import Settings


def picked(times, rate):
    p = RatePicker(rate)
    return [t for t in times if p.take(t)]


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97, 30.0, 50.0, 60.0])
def test_picker_keeps_at_most_the_rate_on_average(fps):
    times = np.arange(0, 20, 1 / fps)
    kept = picked(times, 10.0)
    rate = (len(kept) - 1) / (kept[-1] - kept[0])
    assert 9.5 <= rate <= 10.0 + 1e-9
    assert np.max(np.diff(kept)) <= 0.1 + 1 / fps + 1e-9  # no long holes: at most one grid step plus a frame


def test_picker_takes_every_third_frame_of_30_fps_despite_rounding():
    times = [round(i / 30, 6) for i in range(90)]  # timestamps as containers round them
    assert picked(times, 10.0) == times[::3]


@pytest.mark.parametrize("rate", [0.0, 40.0])
def test_picker_keeps_every_frame_at_rate_zero_or_above_the_video(rate):
    times = list(np.arange(0, 3, 1 / 30))
    assert picked(times, rate) == times


def test_picker_refuses_a_negative_rate():
    with pytest.raises(ValueError, match="max_rate_hz"):
        RatePicker(-1.0)


def test_video_frames_at_a_lower_rate_keep_their_own_index_and_time(demo):
    _, video, _ = demo
    every = [(f.index, f.t_s) for f in VideoFile(video)]
    some = list(VideoFile(video).frames(max_rate_hz=10.0))
    assert len(some) < len(every) / 2
    for f in some:
        assert every[f.index] == (f.index, f.t_s)  # the video's own frame, not a renumbered one
        assert f.image.shape[2] == 3


@pytest.fixture(scope="module")
def analyses(demo):
    clip, video, _ = demo

    def run(**changes: str):
        settings = Settings.load(None, changes)
        return Analyzer(settings, backend=ReplayPose(clip.track)).run(video)

    return run(**{"pose.still_rate_hz": "0"}), run(**{"pose.max_rate_hz": "10"})


def test_a_lower_pose_rate_counts_the_same_reps_at_the_same_times(analyses, demo):
    clip, video, _ = demo
    full, low = analyses
    assert low.track.posed.sum() < len(full.track) / 2  # posed at most 10 times a second
    assert full.track.posed.all()
    assert low.rep_count == full.rep_count == clip.truth.rep_count
    assert np.array_equal(low.track.t_s, full.track.t_s)  # the others filled in, at the video's own times
    for a, b in zip(full.reps, low.reps, strict=True):
        for name in ("start_s", "end_s", "descent_s", "ascent_s", "pause_bottom_s"):
            assert getattr(b, name) == pytest.approx(getattr(a, name), abs=0.1), name  # one pose interval
        # the lowest reading of a 0.5 s pause at the bottom, level within 0.2 deg: any moment of it
        assert b.bottom_s == pytest.approx(a.bottom_s, abs=a.pause_bottom_s + 0.1)
        assert b.min_leg_angle_deg == pytest.approx(a.min_leg_angle_deg, abs=2.0)


def test_the_annotated_video_has_every_frame_at_a_lower_pose_rate(analyses, demo, tmp_path):
    _, video, _ = demo
    _, low = analyses
    out = tmp_path / "annotated.mp4"
    write_annotated_video(low, video, out)
    with av.open(str(out)) as c:
        drawn = [f.time for f in c.decode(video=0)]
    source = [f.t_s for f in VideoFile(video)]
    assert len(drawn) == len(source)
    np.testing.assert_allclose(drawn, source, atol=0.002)


def test_frames_between_analysed_ones_draw_the_pose_interpolated(analyses):
    _, low = analyses
    states = overlays(low, low.track.info.width, low.track.info.height)
    t = low.track.t_s
    k = int(np.argmax(np.abs(np.diff(low.signals.leg_angle_deg))))  # a moving stretch
    mid = overlay_at(states, t, float((t[k] + t[k + 1]) / 2))
    np.testing.assert_allclose(mid.xy_px, (states[k].xy_px + states[k + 1].xy_px) / 2, atol=1e-3)
    assert mid.leg_angle_deg == pytest.approx((states[k].leg_angle_deg + states[k + 1].leg_angle_deg) / 2)
    assert overlay_at(states, t, float(t[k])) is states[k]  # an analysed frame draws its own state
    assert overlay_at(states, t, float(t[-1] + 1.0)).reps_done == states[-1].reps_done  # held after the end


def test_key_frames_between_the_shown_frames_are_still_cropped(analyses, demo, tmp_path):
    """At 15 frames a second of a 30 fps video only even frames are shown; a key frame on
    an odd one is drawn for the report's crop all the same, and not shown."""
    _, video, _ = demo
    full, _ = analyses
    t = full.track.t_s
    keys = {"odd frame": float(t[41]), "even frame": float(t[60])}
    out = tmp_path / "annotated.mp4"
    crops = write_annotated_video(full, video, out, max_fps=15.0, key_times=keys)
    assert set(crops) == set(keys)
    assert all(c.ndim == 3 and c.shape[0] > 20 and c.shape[1] > 20 for c in crops.values())
    with av.open(str(out)) as c:
        shown = np.array([f.time for f in c.decode(video=0)])
    np.testing.assert_allclose(shown, t[::2], atol=0.002)
    assert np.min(np.abs(shown - t[41])) > 0.01
