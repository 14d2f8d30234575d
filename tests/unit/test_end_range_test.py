"""The end-range test (double-leg-lowering test) on simulated tries."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from flatback.cli import app
from flatback.coach.end_range_test import NORMS_DEG, compare, evaluate
from flatback.pipeline import Analyzer
from flatback.settings import Settings
from flatback.simulate import Body, RepSpec, simulate

FRAMING = dict(width=1280, height=720, body=Body(torso_px=300), arms="overhead", noise_px=1.0, mask_noise_px=0.5)
TOP = Settings().replace(reps__rest="top")


def tries(onset_deg, gap=0.1, n=3, seed=3, **kw):
    reps = [RepSpec(top_deg=90, bottom_deg=20, descent_s=5, ascent_s=2, pause_bottom_s=0.5) for _ in range(n)]
    return simulate(reps, rest="top", lift_onset_deg=onset_deg, lift_gap_ratio=gap, seed=seed, **{**FRAMING, **kw})


@pytest.mark.parametrize("onset_deg", [40.0, 60.0])
def test_three_consistent_tries_give_a_confident_end_range(onset_deg):
    analysis = Analyzer(TOP).analyze_track(tries(onset_deg).track)
    result = evaluate(analysis.reps, analysis.notes)
    assert result.end_range_deg == pytest.approx(onset_deg, abs=3)
    assert result.confidence == "high" and not result.at_or_below
    assert [t.how for t in result.tries] == ["back lifted"] * 3
    assert len(result.comparison) == len(NORMS_DEG)


def test_a_back_that_never_lifts_gives_an_upper_bound():
    analysis = Analyzer(TOP).analyze_track(tries(45.0, gap=0.0).track)
    result = evaluate(analysis.reps, analysis.notes)
    assert result.at_or_below
    assert result.end_range_deg == pytest.approx(20, abs=3)


def test_a_hidden_back_gives_no_number_and_says_why():
    analysis = Analyzer(TOP).analyze_track(tries(45.0, arms="floor").track)
    result = evaluate(analysis.reps, analysis.notes)
    assert result.end_range_deg is None and result.confidence == "none"
    assert "not visible" in result.confidence_reason and "arm" in result.confidence_reason


def test_comparison_with_norms():
    assert compare(40, False)[0].startswith("better than")
    assert compare(47, False)[0].startswith("about")
    assert compare(80, False)[2].startswith("short of")


def test_cli_test_command_writes_test_json(tmp_path):
    track_file = tmp_path / "tries.npz"
    tries(50.0).track.save(track_file)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["test", str(track_file), "-o", str(out), "--set", "reps.rest=top"])
    assert result.exit_code == 0, result.output
    assert "Lower both legs together" in result.output  # the guidance comes first
    assert "Your end range:" in result.output
    data = json.loads((out / "test.json").read_text())
    assert data["end_range_deg"] == pytest.approx(50, abs=3)
    assert (out / "report.json").exists()
