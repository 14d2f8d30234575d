"""The batch as Ray tasks gives what the local batch gives (needs ``flatback[cluster]``).

Starts a fresh local Ray instance through the command (``--ray local``, not ``auto``:
on a shared machine ``auto`` would join any cluster someone else started), about 10 s.
The personless video runs the real pose model inside a Ray worker.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_batch import analyze, make_inputs, make_personless_video, read_summary

pytest.importorskip("ray", reason="Ray is not installed: pip install 'flatback[cluster]'")


def report_without_provenance(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("provenance", None)
    data["source"].pop("path", None)
    return data


def test_ray_batch_equals_the_local_batch(tmp_path):
    make_inputs(tmp_path / "videos")
    make_personless_video(tmp_path / "videos" / "nobody.mp4")
    local = analyze(tmp_path / "videos", "-o", tmp_path / "local", "--no-video", "-q")
    on_ray = analyze(tmp_path / "videos", "-o", tmp_path / "ray", "--no-video", "-q", "--ray", "local")

    assert on_ray.exit_code == local.exit_code == 4, on_ray.output  # nobody.mp4: no person (4), broken.mp4 (3)
    rows = read_summary(tmp_path / "ray" / "summary.csv")
    assert rows == read_summary(tmp_path / "local" / "summary.csv")
    assert [r["status"] for r in rows] == ["ok", "failed", "ok", "failed"]
    for name in ("a_flatback", "c_flatback"):
        assert report_without_provenance(tmp_path / "ray" / name / "report.json") == \
            report_without_provenance(tmp_path / "local" / name / "report.json")
        assert (tmp_path / "ray" / name / "timeseries.csv").read_text() == \
            (tmp_path / "local" / name / "timeseries.csv").read_text()
