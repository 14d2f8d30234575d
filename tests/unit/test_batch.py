"""Batches: planning, the summary, skipping, --force, --jobs, folders and failures.

The inputs that analyse are keypoint files of simulated sets (the whole chain after
pose, in about a second each): the simulator's cartoon body is not a person to the pose
model. A grey-noise video goes through the real pose model and fails as a personless
video does; ``broken.mp4`` is a text file.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flatback.batch import (
    SUMMARY_COLUMNS,
    BatchError,
    Job,
    JobResult,
    Status,
    batch_exit_code,
    expand_inputs,
    is_complete,
    plan_jobs,
    write_summary,
)
from flatback.cli import app
from flatback.errors import InputFileError, VideoContentError
from flatback.simulate import RepSpec, simulate
from tests.fixtures.videos import write_video

SHORT_REP = RepSpec(descent_s=2.0, ascent_s=1.5, pause_top_s=0.3, pause_bottom_s=0.3)


def make_inputs(folder: Path) -> dict[str, Path]:
    """a.npz (1 rep), c.npz (2 reps): keypoint files of small simulated sets;
    broken.mp4: text named like a video."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, n_reps in (("a", 1), ("c", 2)):
        clip = simulate([SHORT_REP] * n_reps, width=480, height=270, fps=15, noise_px=1.0,
                        lie_before_s=1.0, lie_after_s=1.0, seed=n_reps)
        paths[name] = folder / f"{name}.npz"
        clip.track.save(paths[name])
    paths["broken"] = folder / "broken.mp4"
    paths["broken"].write_text("this is not a video\n")
    return paths


def make_personless_video(path: Path) -> Path:
    """2 s of grey noise at 15 fps: a valid video with nobody in it (the pose model runs)."""
    import numpy as np

    rng = np.random.default_rng(0)
    frames = [np.clip(rng.normal(128, 20, (180, 240, 3)), 0, 255).astype(np.uint8) for _ in range(30)]
    return write_video(path, frames, fps=15)


def read_summary(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == SUMMARY_COLUMNS
        return list(reader)


def analyze(*args) -> object:
    return CliRunner().invoke(app, ["analyze", *map(str, args)])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    return make_inputs(tmp_path_factory.mktemp("videos"))


@pytest.fixture(scope="module")
def first_run(inputs, tmp_path_factory):
    """a.npz, broken.mp4, c.npz -> OUT, once for the module: (result, OUT, its summary rows)."""
    out = tmp_path_factory.mktemp("batch") / "out"
    result = analyze(inputs["a"], inputs["broken"], inputs["c"], "-o", out, "--no-video")
    return result, out, read_summary(out / "summary.csv")


# --- planning (pure) ---------------------------------------------------------------------

def test_a_folder_gives_its_videos_and_keypoint_files_not_its_sub_folders(tmp_path):
    for name in ("b.mp4", "a.MOV", "k.npz", "notes.txt", ".hidden.mp4", "sub/deep.mp4", "a_flatback/annotated.mp4"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = expand_inputs([str(tmp_path), str(tmp_path / "b.mp4")])  # b.mp4 twice: kept once
    assert [Path(f).name for f in found] == ["a.MOV", "b.mp4", "k.npz"]


def test_plan_puts_each_folder_in_out_or_beside_its_video(tmp_path):
    video = tmp_path / "clients" / "ann.mp4"
    video.parent.mkdir()
    video.write_bytes(b"x")
    [beside] = plan_jobs([str(video)])
    assert beside.outdir == video.parent.resolve() / "ann_flatback"
    assert beside.label == str(video) and beside.video.is_absolute()
    [inside] = plan_jobs([str(video)], tmp_path / "results")
    assert inside.outdir == (tmp_path / "results" / "ann_flatback").resolve()


def test_plan_refuses_two_videos_writing_one_folder(tmp_path):
    for name in ("x/ann.mp4", "y/ann.mp4"):
        (tmp_path / name).parent.mkdir()
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(BatchError, match="would both write") as e:
        plan_jobs([str(tmp_path / "x/ann.mp4"), str(tmp_path / "y/ann.mp4")], tmp_path / "out")
    assert e.value.exit_code == 2


def test_a_folder_without_videos_is_an_input_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputFileError, match="is a folder with no video files"):
        plan_jobs([str(tmp_path)])


def test_a_video_folder_without_annotated_video_is_not_complete(tmp_path):
    job = Job("v.mp4", tmp_path / "v.mp4", tmp_path / "v_flatback")
    job.outdir.mkdir()
    (job.outdir / "report.json").write_text("{}")
    assert is_complete(job)  # not measured (no timeseries.csv): no video to draw
    (job.outdir / "timeseries.csv").write_text("")
    assert not is_complete(job)
    assert is_complete(job, no_video=True)
    assert not is_complete(job, no_video=True, save_keypoints=True)


def test_exit_code_is_the_largest_among_failures():
    ok = JobResult("a", Status.OK)
    assert batch_exit_code([ok, JobResult("b", Status.SKIPPED)]) == 0
    assert batch_exit_code([ok, JobResult("b", Status.FAILED, exit_code=4), JobResult("c", Status.FAILED, exit_code=3)]) == 4


def test_summary_is_written_whole_with_one_line_per_video(tmp_path):
    path = write_summary([JobResult("a.mp4", Status.OK, "double_leg_lift", 5, 3, 31.26),
                          JobResult("b.mp4", Status.FAILED, error="bad, \"quoted\"", exit_code=3)], tmp_path / "summary.csv")
    rows = read_summary(path)
    assert rows[0] == {"video": "a.mp4", "status": "ok", "exercise": "double_leg_lift", "rep_count": "5",
                       "quality_rep_count": "3", "end_range_deg": "31.3", "error": ""}
    assert rows[1]["error"] == "bad, \"quoted\"" and rows[1]["rep_count"] == ""
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]  # no temporary file left


# --- the command -------------------------------------------------------------------------

def test_batch_of_three_with_one_broken_file(first_run, inputs):
    result, out, rows = first_run
    assert result.exit_code == InputFileError.exit_code, result.output
    assert "Traceback" not in result.output
    assert [(r["video"], r["status"]) for r in rows] == [
        (str(inputs["a"]), "ok"), (str(inputs["broken"]), "failed"), (str(inputs["c"]), "ok")]
    a, broken, c = rows
    assert (a["rep_count"], c["rep_count"]) == ("1", "2")  # the simulated sets (recognition is not under test here)
    assert int(a["quality_rep_count"]) <= 1 and int(c["quality_rep_count"]) <= 2
    assert a["error"] == c["error"] == ""
    assert "not a video" in broken["error"] and "\n" not in broken["error"]
    assert broken["exercise"] == broken["rep_count"] == ""
    assert f"{inputs['broken']}: " in result.output  # the failure also said on stderr
    assert sorted(p.name for p in out.iterdir()) == ["a_flatback", "c_flatback", "summary.csv"]
    report = json.loads((out / "c_flatback" / "report.json").read_text())
    assert report["rep_count"] == 2


def test_second_run_skips_complete_folders_and_force_redoes_them(first_run, inputs):
    _, out, before = first_run
    stamp = (out / "a_flatback" / "report.json").stat().st_mtime_ns

    again = analyze(inputs["a"], inputs["broken"], inputs["c"], "-o", out, "--no-video", "-q")
    assert again.exit_code == InputFileError.exit_code  # the broken file is tried again, and fails again
    rows = read_summary(out / "summary.csv")
    assert [r["status"] for r in rows] == ["skipped", "failed", "skipped"]
    drop = {"status"}
    assert [{k: v for k, v in r.items() if k not in drop} for r in rows] == \
        [{k: v for k, v in r.items() if k not in drop} for r in before]  # skipped rows keep their numbers
    assert (out / "a_flatback" / "report.json").stat().st_mtime_ns == stamp

    forced = analyze(inputs["a"], inputs["c"], "-o", out, "--no-video", "-q", "--force")
    assert forced.exit_code == 0, forced.output
    assert [r["status"] for r in read_summary(out / "summary.csv")] == ["ok", "ok"]
    assert (out / "a_flatback" / "report.json").stat().st_mtime_ns != stamp


def test_two_jobs_give_the_same_outputs(first_run, inputs, tmp_path):
    _, out, rows = first_run
    result = analyze(inputs["a"], inputs["broken"], inputs["c"], "-o", tmp_path, "--no-video", "-q", "--jobs", "2")
    assert result.exit_code == InputFileError.exit_code, result.output
    assert read_summary(tmp_path / "summary.csv") == rows
    for name in ("a_flatback", "c_flatback"):
        for f in ("report.json", "timeseries.csv"):
            assert (tmp_path / name / f).read_text() == (out / name / f).read_text(), f"{name}/{f}"


def test_a_folder_writes_beside_each_video_and_exits_with_the_worst_failure(inputs, tmp_path, monkeypatch):
    folder = tmp_path / "clients"
    make_inputs(folder)
    make_personless_video(folder / "nobody.mp4")
    monkeypatch.chdir(tmp_path)
    result = analyze("clients", "--no-video", "-q")
    assert result.exit_code == VideoContentError.exit_code, result.output  # 4 (nobody) beats 3 (broken)
    rows = read_summary(tmp_path / "summary.csv")
    assert [(r["video"], r["status"]) for r in rows] == [
        ("clients/a.npz", "ok"), ("clients/broken.mp4", "failed"), ("clients/c.npz", "ok"), ("clients/nobody.mp4", "failed")]
    assert "person" in rows[3]["error"].lower()
    assert (folder / "a_flatback" / "report.json").is_file() and (folder / "c_flatback" / "report.json").is_file()
    assert not (folder / "nobody_flatback").exists()


def test_one_input_keeps_the_single_video_behaviour(inputs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = analyze(inputs["a"], "-o", tmp_path / "one")
    assert result.exit_code == 0, result.output
    assert "Exercise:" in result.output and "Wrote" in result.output
    assert (tmp_path / "one" / "report.json").is_file()  # -o is the output folder itself
    assert not (tmp_path / "summary.csv").exists()
    failed = analyze(inputs["broken"], "-o", tmp_path / "bad")
    assert failed.exit_code == InputFileError.exit_code and not (tmp_path / "summary.csv").exists()


def test_batch_refuses_the_single_video_options(inputs, tmp_path):
    result = analyze(inputs["a"], inputs["c"], "-o", tmp_path, "--save")
    assert result.exit_code == 2 and "one video at a time" in result.output


def test_ray_without_ray_installed_says_how_to_install_it(inputs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    result = analyze(inputs["a"], inputs["c"], "-o", tmp_path, "--ray", "auto")
    assert result.exit_code == 2
    assert "pip install 'flatback[cluster]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("address, words", [
    ("127.0.0.1:1", "Cannot reach the Ray head at 127.0.0.1:1"),
    ("nonsense", "is not an address"),
])
def test_a_wrong_ray_address_fails_fast_with_one_line(inputs, tmp_path, address, words):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'flatback[cluster]'")
    result = analyze(inputs["a"], inputs["c"], "-o", tmp_path, "--ray", address)
    assert result.exit_code == 2 and words in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "summary.csv").exists()
