"""The streaming analyzer against the simulator's truth and against the offline chain."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flatback.analyse.backlift import BackTracker
from flatback.analyse.reps import RepTracker, segment_reps
from flatback.coach.cues import CUE_WORDS, CueCode
from flatback.measure.clearance import ClearanceStatus
from flatback.measure.geometry import (
    FloorEstimator,
    compute_body_geometry,
    in_frame_visibility,
    unswap_left_right,
)
from flatback.pipeline import Analyzer
from flatback.pipeline.live import PHASES, LiveAnalyzer, analyze_live
from flatback.settings import GeometrySettings, RepSettings
from flatback.simulate import RepSpec, demo_clip, simulate
from flatback.types import PoseFrame

BOTTOM_TOL_S = 0.3  # the bound for streaming vs offline bottom times


@pytest.mark.parametrize("clip_name", ["clean_clip", "messy_clip", "top_rest_clip"])
def test_streaming_count_and_bottoms_match_truth_and_offline(clip_name, request):
    clip = request.getfixturevalue(clip_name)
    states, recording = analyze_live(clip.track)
    offline = Analyzer().analyze_track(clip.track)
    live = recording.segmentation
    assert len(live.reps) == clip.truth.rep_count == offline.rep_count
    assert live.rest == clip.truth.rest
    # On a still bottom the lowest sample may lie anywhere in the pause (noise decides,
    # live and offline alike): both must lie in the true pause.
    for got, off, true in zip(live.reps, offline.reps, clip.truth.reps):
        for bottom_s in (got.bottom_s, off.bottom_s):
            assert true.bottom_s - BOTTOM_TOL_S <= bottom_s <= true.bottom_end_s + BOTTOM_TOL_S
    assert states[-1].rep_count in (clip.truth.rep_count - 1, clip.truth.rep_count)  # last one may close at finish


def test_each_rep_is_reported_while_the_legs_rest_after_it(clean_clip):
    """A floor-rest rep is counted once the legs have dwelt ``rest_dwell_s`` at the
    bottom, before the next lift starts, not when the next lift confirms the bottom."""
    states, _ = analyze_live(clean_clip.track)
    dwell = RepSettings().rest_dwell_s
    counts = np.array([s.rep_count for s in states])
    t = np.array([s.t_s for s in states])
    for n, true in enumerate(clean_clip.truth.reps, start=1):
        first = t[np.argmax(counts >= n)]
        assert true.bottom_s <= first <= true.bottom_s + dwell + 0.3
        assert first < true.bottom_end_s  # still resting: the next lift has not begun
    events = [s.rep for s in states if s.rep is not None]
    assert {e.number for e in events} == set(range(1, clean_clip.truth.rep_count + 1))
    assert any(e.final for e in events)  # a rep's end is finalised when the next movement starts


def test_phases_and_tempo_count_follow_a_slow_lowering():
    clip = simulate([RepSpec(top_deg=90, bottom_deg=5, descent_s=5.0, ascent_s=2.0, pause_top_s=1.0)] * 2, seed=2)
    states, _ = analyze_live(clip.track)
    assert {s.phase for s in states} <= set(PHASES)
    true = clip.truth.reps[0]
    lowering = [s for s in states if true.bottom_s - 5.0 + 0.5 < s.t_s < true.bottom_s - 0.2]
    assert sum(s.phase == "descent" for s in lowering) > 0.9 * len(lowering)
    assert max(s.tempo_count for s in lowering) == 4  # whole seconds of a 5 s lowering, counted during it
    rising = [s for s in states if true.start_s + 0.3 < s.t_s < true.start_s + 1.7]
    assert all(s.phase == "ascent" and s.tempo_count == 0 for s in rising)


def test_a_long_gap_breaks_the_run_and_loses_only_the_rep_it_interrupts(clean_clip):
    track = clean_clip.track
    rep = clean_clip.truth.reps[2]
    gap = (track.t_s > rep.start_s + 1.0) & (track.t_s < rep.start_s + 3.0)  # 2 s > max_gap_s
    live = LiveAnalyzer(track.info)
    for i in range(len(track)):
        frame = PoseFrame.empty(i, float(track.t_s[i])) if gap[i] else track.frame(i)
        live.update(frame)
    seg = live.finish().segmentation
    assert len(seg.reps) == clean_clip.truth.rep_count - 1
    assert all(abs(r.bottom_s - rep.bottom_s) > 1.0 for r in seg.reps)
    assert seg.partial  # the interrupted rep is reported, not counted


def test_rep_tracker_break_run_splits_like_the_offline_cut(clean_clip):
    """break_run() is the offline cut: the offline driver and a hand-driven tracker agree."""
    a = Analyzer().analyze_track(clean_clip.track)
    t, x, v = a.signals.t_s, a.signals.leg_angle_deg, a.signals.leg_speed_deg_s
    cut = int(np.searchsorted(t, clean_clip.truth.reps[1].start_s + 2.0))
    breaks = np.zeros(len(t), bool)
    breaks[cut] = True
    offline = segment_reps(t, x, v, RepSettings(), "lying", breaks)
    tracker = RepTracker(RepSettings(), hysteresis_deg=offline.hysteresis_deg, range_deg=float(
        np.percentile(x, 98) - np.percentile(x, 2)))
    for i in range(len(t)):
        if i == cut:
            tracker.break_run()
        tracker.update(i, float(t[i]), float(x[i]), float(v[i]))
    streamed = tracker.finish()
    assert streamed == offline
    assert len(streamed.reps) == clean_clip.truth.rep_count - 1


def test_rep_tracker_memory_stays_bounded_over_a_long_set():
    """Thirty reps: the tracker keeps only the samples the latest turns need."""
    period_s, fps = 6.0, 30.0
    t = np.arange(0, 30 * period_s + 2, 1 / fps)
    x = 45 - 45 * np.cos(2 * np.pi * t / period_s)  # floor -> 90 deg -> floor, every 6 s
    v = np.gradient(x, t)
    tracker = RepTracker(RepSettings())
    most = 0
    for i in range(len(t)):
        tracker.update(i, float(t[i]), float(x[i]), float(v[i]))
        most = max(most, tracker.buffered_samples)
    assert tracker.rep_count == 30
    assert most <= 2 * period_s * fps  # two movements and the turn being confirmed, never the whole set
    assert len(tracker.finish().reps) == 30


def test_reset_starts_a_new_set(clean_clip):
    track = clean_clip.track
    live = LiveAnalyzer(track.info)
    first = [live.update(track.frame(i)) for i in range(len(track))]
    live.reset()
    again = [live.update(track.frame(i)) for i in range(len(track))]
    assert [s.rep_count for s in again] == [s.rep_count for s in first]
    assert len(live.finish().track) == len(track)  # only the frames since the reset


def test_the_back_lifting_now_is_the_cue_and_costs_the_rep_its_quality():
    clip = demo_clip()  # lowerings to 25 deg; the back lifts below 45 deg
    states, recording = analyze_live(clip.track)
    lifted = [s for s in states if s.back_state == "lifted"]
    assert lifted, "the back lift was not seen live"
    onset = min(s.back.onset_leg_angle_deg for s in lifted)
    assert onset == pytest.approx(45, abs=10)
    assert all(s.cue == CUE_WORDS[CueCode.BACK_LIFTED][1] for s in lifted)
    flat_with_legs_up = [s for s in states if s.leg_angle_deg > 70 and s.back_state in ("flat", "lifted")]
    assert flat_with_legs_up and all(s.back_state == "flat" for s in flat_with_legs_up)
    final = states[-1]
    assert final.rep_count == len(recording.segmentation.reps) == 2
    assert final.quality_rep_count == 0 and "back_lifted" in final.rep_faults


def test_floor_estimator_reproduces_the_clip_floor_and_converges_live(messy_clip):
    track = messy_clip.track
    geometry = compute_body_geometry(track)
    vis = in_frame_visibility(track.xy_px, track.visibility, track.info.width, track.info.height, 0.02)
    xy, vis, _ = unswap_left_right(track.xy_px, vis, GeometrySettings().swap_margin)
    estimator = FloorEstimator()
    rolls = []
    for i in range(len(track)):
        estimator.update(xy[i], vis[i], track.mask_x_px, track.mask_bottom_y_px[i])
        floor = estimator.current()
        rolls.append(np.nan if floor is None else floor.roll_deg)
    assert estimator.estimate() == (geometry.floor, geometry.posture)  # the offline answer, exactly
    late = np.array(rolls[len(rolls) // 4 :])
    assert np.abs(late - geometry.floor.roll_deg).max() < 1.0  # live: close to it after the first quarter


def test_back_tracker_needs_the_margin_for_min_lift_s():
    tracker = BackTracker()
    t = np.arange(0, 6, 1 / 30)
    flat = 0.01 + 0.002 * np.sin(7 * t)
    states = []
    for k, tk in enumerate(t):
        arch = 0.15 if 3.0 <= tk < 4.0 else (0.15 if 5.0 <= tk < 5.1 else 0.0)  # a lift, then a 0.1 s blip
        leg = 90.0 if tk < 2.0 else 30.0
        states.append(tracker.update(float(tk), float(flat[k] + arch), int(ClearanceStatus.MEASURED), leg, 300.0))
    state = np.array([s.state for s in states])
    assert (state[(t > 3.3) & (t < 4.0)] == "lifted").all()
    assert (state[(t > 1.0) & (t < 2.9)] == "flat").all()
    assert (state[t > 4.5] == "flat").all()  # the 0.1 s blip is shorter than min_lift_s
    onset = next(s.onset_s for s in states if s.state == "lifted")
    assert onset == pytest.approx(3.0, abs=0.15)
    assert tracker.update(6.0, np.nan, int(ClearanceStatus.ARM), 30.0, 300.0).state == "occluded"


class _DemoCamera:
    """A stand-in for the webcam: the demo clip's rendered frames, in real time order."""

    def __init__(self, clip):
        self.clip = clip
        self.info = clip.track.info

    def __iter__(self):
        from flatback.types import Frame

        for i, image in enumerate(self.clip.frames()):
            yield Frame(i, float(self.clip.track.t_s[i]), image)


def test_webcam_session_shows_the_count_live_and_writes_the_outputs(tmp_path, monkeypatch):
    """`flatback analyze 0 --duration S` without a camera: the demo clip's frames stand in
    for the camera and its recorded poses for the pose model."""
    from typer.testing import CliRunner

    import flatback.cli
    import flatback.io.source
    import flatback.pipeline.live as live_module
    from flatback.pose.replay import ReplayPose

    clip = demo_clip()
    duration = clip.truth.reps[-1].end_s + 1.0  # both reps, stopped before the set-down ends
    monkeypatch.setattr(flatback.io.source, "open_source", lambda spec, **kw: _DemoCamera(clip))
    monkeypatch.setattr(flatback.cli, "_live_backend", lambda settings: ReplayPose(clip.track))
    seen = []
    real_run = live_module.run_live_session

    def spy(*args, on_state=None, **kwargs):
        return real_run(*args, on_state=lambda s: (seen.append(s), on_state(s)), **kwargs)

    monkeypatch.setattr(live_module, "run_live_session", spy)
    out = tmp_path / "camera0_flatback"
    result = CliRunner().invoke(flatback.cli.app, ["analyze", "0", "--duration", f"{duration:.1f}", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Live: {clip.truth.rep_count} reps counted" in result.output
    assert seen[-1].t_s <= duration
    assert max(s.rep_count for s in seen) == clip.truth.rep_count
    for name in ("report.json", "timeseries.csv", "report.html", "annotated.mp4"):
        assert (out / name).stat().st_size > 0, name
    report = json.loads((out / "report.json").read_text())
    assert report["rep_count"] == clip.truth.rep_count


@pytest.mark.parametrize("name", ["double_leg_lift", "heel_tap", "single_leg_lift"])
@pytest.mark.parametrize("yaw", [50.0, 60.0])
def test_live_measures_a_camera_well_off_the_side_and_above_as_offline_does(name, yaw):
    """Filmed 50-60 deg off the side from 20 deg above, the floor line tilts 21-31 deg in
    the picture. Offline measures by the 3-D skeleton's estimate of the camera's place;
    live refused every frame's floor as a camera on its side (0 reps) and judged lying in
    the picture alone. Both now take the 3-D skeleton as offline does."""
    from flatback.simulate3d import Camera
    from flatback.simulate3d import simulate as simulate3d

    track = simulate3d(name, Camera(yaw_deg=yaw, elevation_deg=20.0), duration_s=12.0)
    offline = Analyzer().analyze_track(track)
    _, live = analyze_live(track, variation=offline.variation)
    assert offline.rep_count >= 2
    assert len(live.segmentation.reps) == offline.rep_count
    for got, want in zip(live.segmentation.reps, offline.reps):
        assert got.max_leg_angle_deg == pytest.approx(want.max_leg_angle_deg, abs=3)
