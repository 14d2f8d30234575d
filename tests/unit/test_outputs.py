"""Outputs: report.json contract, documented timeseries.csv, atomic folder, keypoint files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from flatback.cli import app
from flatback.outputs.files import TIMESERIES_COLUMNS, atomic_dir, write_outputs
from flatback.outputs.report import Report
from flatback.pipeline import Analyzer
from flatback.types import PoseTrack

CONTRACT_REP_FIELDS = {
    "index", "start_s", "bottom_s", "end_s", "descent_s", "ascent_s", "pause_bottom_s", "min_leg_angle_deg",
    "max_leg_angle_deg", "momentum", "back_lift", "end_range_deg", "faults", "quality_rep",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory, request):
    clip = request.getfixturevalue("clean_clip")
    out = tmp_path_factory.mktemp("o") / "clip_flatback"
    analysis = Analyzer().analyze_track(clip.track)
    write_outputs(analysis, out, save_keypoints=True)
    return out, analysis, clip


def test_report_json_follows_the_contract(written):
    out, analysis, clip = written
    data = json.loads((out / "report.json").read_text())
    assert data["schema_version"] == 2
    assert set(data["source"]) >= {"path", "duration_s", "fps", "width", "height"}
    assert data["exercise"]["name"] in {"unknown", "double_leg_lift"}
    assert data["rep_count"] == clip.truth.rep_count == len(data["reps"])
    for rep in data["reps"]:
        assert CONTRACT_REP_FIELDS <= set(rep)
        assert rep["back_lift"]["state"] in {"flat", "lifted", "occluded", "unknown"}
    for key in ("end_range_deg", "end_range_method", "holds", "cues", "notes"):
        assert key in data


def test_timeseries_has_one_documented_row_per_frame(written):
    out, analysis, clip = written
    with open(out / "timeseries.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(TIMESERIES_COLUMNS)
    assert len(rows) == len(clip.track)
    reps_seen = {r["rep"] for r in rows if r["rep"]}
    assert reps_seen == {str(i) for i in range(1, clip.truth.rep_count + 1)}
    angles = np.array([float(r["leg_angle_deg"]) for r in rows])
    assert np.max(np.abs(angles - clip.leg_angle_deg)) < 3


def test_keypoint_file_replays_to_the_same_report(written, tmp_path):
    out, analysis, clip = written
    track = PoseTrack.from_keypoint_file(out / "keypoints.npz")
    np.testing.assert_array_equal(track.xy_px, clip.track.xy_px)
    again = Report.from_result(Analyzer().analyze_track(track))
    first = Report.from_result(analysis)
    assert again.model_dump(exclude={"provenance"}) == first.model_dump(exclude={"provenance"})
    # the CLI takes keypoint files too
    result = CliRunner().invoke(app, ["analyze", str(out / "keypoints.npz"), "-o", str(tmp_path / "again"), "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "again" / "report.json").read_text())["rep_count"] == clip.truth.rep_count


def test_interrupted_write_leaves_no_folder(tmp_path):
    out = tmp_path / "result"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "report.json").write_text("{half")
            raise RuntimeError("power cut")
    assert list(tmp_path.iterdir()) == []


def test_rerun_replaces_the_previous_folder_whole(tmp_path):
    out = tmp_path / "result"
    with atomic_dir(out) as tmp:
        (tmp / "old.txt").write_text("old")
    with atomic_dir(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["result"]


def test_config_dump_lists_every_setting():
    result = CliRunner().invoke(app, ["config", "--dump"])
    assert result.exit_code == 0
    assert "[reps]" in result.output and "min_descent_s" in result.output
