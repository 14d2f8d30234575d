"""Issue #5: the variation is recognised on every clip; not-leg-lift clips get no verdicts."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from flatback.analyse.recognize import recognize
from flatback.pipeline import Analyzer
from tests.conftest import CLIPS

NAMES = sorted(c["clip"] for c in json.loads((CLIPS / "labels.json").read_text())) if (CLIPS / "labels.json").exists() else []


@pytest.fixture(scope="module")
def recognised(clip_track, labels):
    return {name: recognize(clip_track(name)) for name in labels}


def test_every_clip_is_recognised(recognised, labels):
    confusion = Counter((labels[n]["exercise"], r.name) for n, r in recognised.items())
    table = "\n".join(f"{truth:20s} -> {got:20s} {k}" for (truth, got), k in sorted(confusion.items()))
    wrong = {n: (labels[n]["exercise"], r.name) for n, r in recognised.items() if r.name != labels[n]["exercise"]}
    assert not wrong, f"confusion table:\n{table}"


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("neg_")])
def test_not_leg_lift_clips_get_a_message_and_no_verdicts(name, clip_track):
    report = Analyzer().analyze_track(clip_track(name))
    assert report.exercise.name == "not_leg_lift"
    assert report.rep_count == 0 and report.reps == [] and report.end_range.deg is None
    assert report.notes[0].code == "not_leg_lift" and "does not look like a leg lift" in report.notes[0].text


def test_forcing_the_exercise(clip_track):
    from flatback.settings import Settings

    forced = Settings().replace(recognition__exercise="bent_knee_leg_lift")
    report = Analyzer(forced).analyze_track(clip_track("double_leg_lift_studio.mp4"))
    assert report.exercise.name == "bent_knee_leg_lift" and report.exercise.confidence == 1.0


def test_hanging_leg_raise_counts_its_one_complete_rep(clip_track, labels):
    name = "hanging_leg_raise.mp4"
    report = Analyzer().analyze_track(clip_track(name))
    (label,) = labels[name]["reps"]
    assert report.rep_count == labels[name]["rep_count"] == 1
    assert abs(report.reps[0].bottom_s - label["turn_s"]) <= 0.5  # bottom_s: the highest point when hanging
    assert report.reps[0].max_leg_angle_deg > 150  # toes to the bar, past horizontal without wrapping
    assert len(report.partial_reps) == 1  # the rep that began before the clip
    assert "swinging" not in report.reps[0].faults  # "fast but no visible body kip"


def test_dead_bug_reps_are_counted_per_side(clip_track, labels):
    """Each leg is segmented on its own. The far leg's ankle, hidden behind the near shin
    in the tabletop, is placed by the model: its extensions count too. All 4 labelled
    extensions are found, none extra (their sides: the next test)."""
    name = "dead_bug.mp4"
    report = Analyzer().analyze_track(clip_track(name))
    turns = [r["turn_s"] for r in labels[name]["reps"]]
    for rep in report.reps:
        assert min(abs(rep.bottom_s - t) for t in turns) <= 0.5  # no rep that is not there
    assert report.rep_count == len(turns) == 4


@pytest.mark.xfail(
    reason="known: which leg works in this clip's tabletop (the far leg hidden behind the near shin) turns "
    "on the left/right repair's frame-to-frame continuity where the legs overlap: 2/2 with every frame "
    "posed, 1/3 or 0/4 with the frames the motion chooses (pose/sampling.py)",
    strict=False,
)
def test_dead_bug_reps_alternate_sides(clip_track):
    report = Analyzer().analyze_track(clip_track("dead_bug.mp4"))
    assert sorted(report.extras.reps_per_side.values()) == [2, 2]
    sides = [r.side for r in sorted(report.reps, key=lambda r: r.bottom_s)]
    assert all(a is not b for a, b in zip(sides, sides[1:]))  # alternating
