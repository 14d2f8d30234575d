"""Issue #2's acceptance on real footage (../shared/clips, hand labels in labels.json).

Labels are human estimates: times about +-0.25 s, angles about +-10 degrees.
"""

from __future__ import annotations

import numpy as np
import pytest

from flatback.errors import VideoContentError
from flatback.pipeline import Analyzer
from tests.fixtures.videos import write_video

LYING_LIFT_CLIPS = [
    "double_leg_lift_studio.mp4",
    "double_leg_lift_home.mp4",
    "double_leg_lift_arch_then_flat.mp4",
    "double_leg_lift_lowres.mp4",
    "bent_knee_leg_lift_home.mp4",
]
TURN_TOL_S = 0.5
ANGLE_TOL_DEG = 10.0

# Where a label's max angle disagrees with the labeller's own description of the same
# moment, the description is the reference (checked by eye on the frames):
# - double_leg_lift_home reps 2-3 are labelled 90/88, but the clip's description says
#   "~80-85 deg (thighs vertical, shins tipped slightly toward the dresser)"; the
#   hip-to-ankle line measures 76-78 on the frames at 5.75 s and 9.4 s.
# - bent_knee_leg_lift_home rep 1 is labelled 62, the top of the *next* cycle; its own
#   raise is "first raise with straight legs 1.15 -> ~45 deg".
MAX_ANGLE_REFERENCE = {
    ("double_leg_lift_home.mp4", 2): 82.5,
    ("double_leg_lift_home.mp4", 3): 82.5,
    ("bent_knee_leg_lift_home.mp4", 1): 45.0,
}


# Where both pose models misread a rep's lowest angle against the frames (strict: when it
# comes within tolerance, the entry must go). None now: double_leg_lift_arch_then_flat rep 3
# (only the thighs in the picture at 10.9-11.2 s, the frame shows about 12-14 deg, label 12)
# read 1.2 on the Tasks landmarker until the floor line took the trunk's rise toward the feet
# into account (issue 9); it reads 6.3 now.
MIN_ANGLE_MISREAD: set[tuple[str, int]] = set()


@pytest.fixture(scope="module")
def reports(clip_track):
    return {name: Analyzer().analyze_track(clip_track(name)) for name in LYING_LIFT_CLIPS}


@pytest.mark.parametrize("name", LYING_LIFT_CLIPS)
def test_rep_count_matches_labels(name, reports, labels):
    assert reports[name].rep_count == labels[name]["rep_count"]


@pytest.mark.parametrize("name", LYING_LIFT_CLIPS)
def test_each_labelled_rep_is_found_with_its_turning_point_and_range(name, reports, labels):
    reps = reports[name].reps
    for k, label in enumerate(labels[name]["reps"], start=1):
        match = min(reps, key=lambda r: abs(r.bottom_s - label["bottom_s"]))
        assert abs(match.bottom_s - label["bottom_s"]) <= TURN_TOL_S, (k, match.bottom_s, label["bottom_s"])
        reference = MAX_ANGLE_REFERENCE.get((name, k), label["max_leg_angle_deg"])
        assert match.max_leg_angle_deg == pytest.approx(reference, abs=ANGLE_TOL_DEG), k
        within = match.min_leg_angle_deg == pytest.approx(label["min_leg_angle_deg"], abs=ANGLE_TOL_DEG)
        assert within != ((name, k) in MIN_ANGLE_MISREAD), (k, match.min_leg_angle_deg)


@pytest.mark.parametrize("name", LYING_LIFT_CLIPS)
def test_partial_reps_are_not_counted(name, reports, labels):
    partial_turns = [p["bottom_s"] for p in labels[name].get("partial_reps", [])]
    for t in partial_turns:
        assert all(abs(r.bottom_s - t) > TURN_TOL_S for r in reports[name].reps)


@pytest.mark.parametrize("name", LYING_LIFT_CLIPS)
def test_descents_are_fast_in_these_demos(reports, name):
    # none of the demo clips lowers over a count of four: every rep gets the tempo fault. The arch
    # clip's first two lowerings halt part-way down for a tenth of a second (at about 53 deg), less
    # than a pause (reps.min_plateau_s): they are timed from the top (0.3-0.9 s read before, #9)
    for r in reports[name].reps:
        assert 0.5 < r.descent_s < 4.0
        assert "descent_too_fast" in r.faults


def test_two_people_are_refused(tmp_path, clip_track):
    """Two people doing the exercise, one above the other: the lower one (the same clip,
    mirrored) 1.5 s behind. flatback cannot tell whom to coach and says who is where.
    (A copy moving in step would be one person shown twice, a split screen, which issue 10
    asks to analyse: ``test_people_real.py::test_a_split_screen_of_the_same_lifter...``.)"""
    import av
    import cv2

    from tests.conftest import clips_or_skip

    images = []
    with av.open(str(clips_or_skip() / "double_leg_lift_studio.mp4")) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= 195:
                break
            images.append(f.to_ndarray(format="rgb24"))
    frames = [cv2.resize(np.vstack([images[i], images[i + 45][:, ::-1]]), (640, 720)) for i in range(150)]
    video = write_video(tmp_path / "two.mp4", frames, fps=30)
    with pytest.raises(VideoContentError, match="Two people do the exercise side by side.*person 1.*person 2"):
        Analyzer().run(video)


def test_person_walking_out_of_the_frame_is_refused(tmp_path):
    import av

    from tests.conftest import clips_or_skip

    frames = []
    with av.open(str(clips_or_skip() / "double_leg_lift_studio.mp4")) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= 150:
                break
            img = f.to_ndarray(format="rgb24")[::2, ::2]
            shift = max(0, i - 40) * 12  # after 1.3 s the picture slides left: the person leaves
            out = np.zeros_like(img)
            if shift < img.shape[1]:
                out[:, : img.shape[1] - shift] = img[:, shift:]
            frames.append(out)
    video = write_video(tmp_path / "leaving.mp4", frames, fps=30)
    with pytest.raises(VideoContentError, match="outside the picture|in the picture for only"):
        Analyzer().run(video)


def test_edits_that_cut_to_another_shot_are_found(clip_track):
    """neg_crunch.mp4 is edited from several shots; its label's notes give the cuts
    ("cuts at 3.83, 5.8, 8.7, 12.13, 14.93 s" and "a wipe at ~18.2 s"). The lying-lift
    clips are single shots."""
    from flatback.measure.geometry import compute_body_geometry

    labelled = [3.83, 5.8, 8.7, 12.13, 14.93, 18.2]
    track = clip_track("neg_crunch.mp4")
    g = compute_body_geometry(track)
    # a cut is found inside the analysed shots, or where a shot that does not show the
    # exercise begins or ends (its frames are skipped, so the geometry never sees them)
    found = np.concatenate([g.t_s[g.cut], track.t_s[1:][np.diff(track.in_scope.astype(np.int8)) != 0]])
    assert sum(any(abs(f - t) <= 0.5 for f in found) for t in labelled) >= 5
    for name in LYING_LIFT_CLIPS:
        assert not compute_body_geometry(clip_track(name)).cut.any(), name
