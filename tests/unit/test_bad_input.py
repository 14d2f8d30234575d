"""Bad input: a clear, specific error, a non-zero exit code, no traceback, no output."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from flatback.cli import app
from flatback.errors import InputFileError, VideoContentError
from flatback.io.source import VideoFile
from flatback.measure.checks import check_in_frame, check_people, has_skeleton_3d
from flatback.pipeline import Analyzer
from flatback.settings import CheckSettings, GeometrySettings
from flatback.simulate import simulate
from flatback.types import Landmark as L
from flatback.types import NoteCode

runner = CliRunner()


def run_cli(*args):
    return runner.invoke(app, ["analyze", *map(str, args)])


def assert_clean_failure(result, code: int, *words: str):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for w in words:
        assert w in result.output


def test_missing_file(tmp_path):
    out = tmp_path / "out"
    result = run_cli(tmp_path / "nope.mp4", "-o", out)
    assert_clean_failure(result, InputFileError.exit_code, "No such file")
    assert not out.exists()


def test_folder_instead_of_file(tmp_path):
    assert_clean_failure(run_cli(tmp_path), InputFileError.exit_code, "is a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file, so permissions cannot be tested")
def test_unreadable_file(tmp_path):
    f = tmp_path / "locked.mp4"
    f.write_bytes(b"x" * 100)
    f.chmod(0)
    assert_clean_failure(run_cli(f), InputFileError.exit_code, "permission denied")


def test_unreadable_file_is_reported_without_permissions(tmp_path, monkeypatch):
    f = tmp_path / "locked.mp4"
    f.write_bytes(b"x" * 100)
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(InputFileError, match="permission denied"):
        VideoFile(f)


def test_zero_length_file(tmp_path):
    f = tmp_path / "empty.mp4"
    f.touch()
    assert_clean_failure(run_cli(f), InputFileError.exit_code, "empty (0 bytes)")


def test_not_a_video(tmp_path):
    f = tmp_path / "notes.mp4"
    f.write_text("these are my workout notes, not a video\n" * 50)
    assert_clean_failure(run_cli(f), InputFileError.exit_code, "not a video")


def test_audio_only(audio_only):
    assert_clean_failure(run_cli(audio_only), InputFileError.exit_code, "only audio")


def test_truncated_video(truncated_video, tmp_path):
    out = tmp_path / "out"
    result = run_cli(truncated_video, "-o", out)
    assert_clean_failure(result, InputFileError.exit_code)
    assert "truncated" in result.output or "damaged" in result.output
    assert not out.exists()


def test_no_person(noise_video, tmp_path):
    out = tmp_path / "out"
    result = run_cli(noise_video, "-o", out)
    assert_clean_failure(result, VideoContentError.exit_code, "No person found")
    assert not out.exists() and not any(tmp_path.glob(".out*"))


def test_real_entry_point_prints_no_traceback(tmp_path):
    f = tmp_path / "notes.mp4"
    f.write_text("not a video")
    proc = subprocess.run(
        [sys.executable, "-m", "flatback.cli", "analyze", str(f)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == InputFileError.exit_code
    assert proc.stderr.startswith("flatback: error:") and "Traceback" not in proc.stderr


# --- content checks on pose tracks (the model is replaced by the simulator) ---


def test_two_people():
    track = simulate(n_reps=1, seed=0).track
    second = np.where(np.arange(len(track)) % 30 == 0, 1, -1).astype(np.int8)
    with pytest.raises(VideoContentError, match="Two people"):
        check_people(track.replaced(second_person=second), CheckSettings())


def test_one_stray_second_person_detection_is_tolerated():
    track = simulate(n_reps=1, seed=0).track
    second = np.where(np.arange(len(track)) % 30 == 0, 0, -1).astype(np.int8)
    second[30] = 1
    track = track.replaced(second_person=second)
    check_people(track, CheckSettings())
    assert check_in_frame(track, CheckSettings(), GeometrySettings()) == []


def test_front_view():
    track = simulate(n_reps=1, seed=0).track
    xy = track.xy_px.copy()
    # seen from the feet: the shoulders and hips spread across the picture
    torso = np.linalg.norm(xy[:, L.LEFT_SHOULDER] - xy[:, L.LEFT_HIP], axis=1)[:, None]
    xy[:, [L.RIGHT_SHOULDER, L.RIGHT_HIP]] = xy[:, [L.LEFT_SHOULDER, L.LEFT_HIP]] + np.stack([0 * torso, -0.9 * torso], -1)
    with pytest.raises(VideoContentError, match="from the front, head or feet"):
        Analyzer().analyze_track(track.replaced(xy_px=xy))


def test_a_person_found_in_a_third_of_the_frames_keeps_their_3d_skeleton():
    """The 3-D skeleton is judged over the frames that show the trunk: an edited video
    that shows its person in a third of its frames was refused as a 2-D keypoint file
    ("these keypoints carry no 3-D skeleton") though every frame with a person had one."""
    from flatback.simulate3d import simulate as simulate3d

    track = simulate3d("double_leg_lift")
    lost = np.arange(len(track)) % 3 != 0
    xy, world = track.xy_px.copy(), track.world_xyz_m.copy()
    xy[lost], world[lost] = np.nan, np.nan
    thinned = track.replaced(xy_px=xy, world_xyz_m=world)
    assert has_skeleton_3d(thinned)
    assert not has_skeleton_3d(thinned.replaced(world_xyz_m=np.full_like(world, np.nan)))


def test_person_leaving_the_frame_is_measured_until_they_leave():
    """Prefer measuring to refusing: the part that shows the person is analysed and the
    note says from when they are gone."""
    sim = simulate(n_reps=2, seed=0)
    track = sim.track
    xy = track.xy_px.copy()
    gone = np.arange(len(track)) > 0.6 * len(track)
    xy[gone, :, 0] += 2000  # walked out to the right
    result = Analyzer().analyze_track(track.replaced(xy_px=xy))
    leaves_s = float(track.t_s[gone][0])
    note = next(n for n in result.notes if n.code is NoteCode.OUT_OF_FRAME)
    assert f"{leaves_s:.1f}-" in note.text and "only the part that shows them is measured" in note.text
    assert result.rep_count == sum(r.end_s < leaves_s for r in sim.truth.reps) == 1
    assert all(r.end_s <= leaves_s for r in result.reps)


def test_person_in_the_picture_too_briefly_is_refused():
    track = simulate(n_reps=2, seed=0).track
    xy = track.xy_px.copy()
    gone = track.t_s > 1.5  # in the picture for 1.5 s, then gone: no rep fits
    xy[gone, :, 0] += 2000
    with pytest.raises(VideoContentError, match="in the picture for only 1.5 s"):
        Analyzer().analyze_track(track.replaced(xy_px=xy))


def test_person_found_in_part_of_the_video_is_measured_there_and_the_rest_named():
    clip = simulate(n_reps=4, seed=0)
    track = clip.track
    xy, vis = track.xy_px.copy(), track.visibility.copy()
    end_s = clip.truth.reps[0].end_s + 1.0  # found for the first rep only
    lost = track.t_s > end_s
    xy[lost] = np.nan
    vis[lost] = 0
    analysis = Analyzer().analyze_track(track.replaced(xy_px=xy, visibility=vis))
    assert analysis.rep_count == 1
    found = [n.text for n in analysis.notes if "found in only" in n.text]
    assert len(found) == 1 and "only those times are measured" in found[0]
    assert found[0].startswith(f"A person is found in only {(~lost).mean():.0%}")


def test_bad_settings_file_exit_code(tmp_path, noise_video):
    cfg = tmp_path / "x.toml"
    cfg.write_text("[reps]\nrest = 'sideways'\n")
    assert_clean_failure(run_cli(noise_video, "--config", cfg), 2, "reps.rest")


def test_unwritable_output_folder(tmp_path):
    from flatback.errors import OutputError
    from flatback.outputs.files import atomic_dir

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="Cannot write"):
        with atomic_dir(blocker / "sub" / "out"):
            pass
