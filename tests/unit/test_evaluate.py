"""flatback eval: labels, scoring with known errors, the re-filming transforms' geometry,
and the command end to end on a simulator clip (pose stood in by the simulator's truth)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from flatback.cli import app
from flatback.evaluate import augment as aug
from flatback.evaluate.labels import (
    ClipLabel,
    LabelledRep,
    LabelsError,
    load_labels,
    parse_labels,
)
from flatback.evaluate.runner import evaluate_folder
from flatback.evaluate.score import (
    Measured,
    MeasuredRep,
    Outcome,
    match_reps,
    score_clip,
    summarise,
)
from flatback.evaluate.tables import all_tables, result_json
from flatback.io.source import VideoFile
from flatback.outputs.report import (
    BackLift,
    Exercise,
    PartialRepReport,
    Report,
    RepReport,
    SourceInfo,
)
from tests.fixtures.videos import write_video

# --- labels ---


def test_labels_keep_bottom_or_turn_time_and_the_lowering():
    labels = parse_labels([
        {"clip": "a.mp4", "exercise": "double_leg_lift", "rep_count": 2, "rep_count_uncertainty": 1,
         "reps": [{"bottom_s": 3.0, "turn_s": 9.0, "min_leg_angle_deg": 10, "max_leg_angle_deg": 85,
                   "lower_back_lifts": True, "descent_start_s": 1.0, "descent_end_s": 3.5},
                  {"turn_s": 6.5, "lower_back_lifts": None},
                  {"start_s": 7.0}]},
        {"clip": "b.mp4", "exercise": "not_leg_lift", "rep_count": 0, "rendered": True},
    ])
    a, b = labels
    assert a.reps == (LabelledRep(3.0, 10.0, 85.0, True, 2.5), LabelledRep(6.5))
    assert a.rep_count_uncertainty == 1 and a.is_leg_lift and not a.rendered
    assert b.rendered and not b.is_leg_lift and b.reps == ()


def test_a_rep_labelled_start_turn_end_is_matched_where_flatback_puts_its_bottom():
    """A lift resting on the floor reports the end of its lowering as its bottom (its turn
    is the top, held for seconds in a single-leg lift): the label's end is compared. A dead
    bug's turn is its extension's bottom, a hanging raise's its top: the turn is. A lying
    lift whose rest flatback chooses rests on the floor unless its label says top."""
    rep = {"start_s": 2.7, "turn_s": 9.6, "end_s": 16.75}
    labels = parse_labels([
        {"clip": "single.mp4", "exercise": "single_leg_lift", "rep_count": 1, "reps": [rep]},
        {"clip": "bug.mp4", "exercise": "dead_bug", "rep_count": 1, "reps": [rep]},
        {"clip": "hang.mp4", "exercise": "hanging_leg_raise", "rep_count": 1, "reps": [rep]},
        {"clip": "floor.mp4", "exercise": "double_leg_lift", "rep_rest": "floor", "rep_count": 1, "reps": [rep]},
        {"clip": "top.mp4", "exercise": "double_leg_lift", "rep_rest": "top", "rep_count": 1, "reps": [rep]},
        {"clip": "crunch.mp4", "exercise": "not_leg_lift", "rep_count": 1, "reps": [rep]},
        {"clip": "auto.mp4", "exercise": "bent_knee_leg_lift", "rep_count": 1, "reps": [rep]},
        {"clip": "hold.mp4", "exercise": "hollow_hold", "rep_count": 1, "reps": [rep]},
    ])
    assert [lab.reps[0].bottom_s for lab in labels] == [16.75, 9.6, 9.6, 16.75, 9.6, 9.6, 16.75, 9.6]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "No labels.json"),
        ("{not json", "Cannot read"),
        ("[]", "non-empty JSON list"),
        ('[{"clip": "a.mp4", "exercise": "dead_bug"}]', "'rep_count' must be a whole number"),
        ('[{"clip": "a.mp4", "exercise": "dead_bug", "rep_count": 1, "reps": [{"bottom_s": "x"}]}]', "must be a number"),
        ('[{"clip": "a.mp4", "exercise": "dead_bug", "rep_count": 1}, {"clip": "a.mp4", "exercise": "x", "rep_count": 0}]',
         "labelled twice"),
        ('[{"clip": "missing.mp4", "exercise": "dead_bug", "rep_count": 1}]', "missing.mp4"),
    ],
)
def test_bad_labels_are_one_clear_error(tmp_path, content, words):
    (tmp_path / "a.mp4").write_bytes(b"x")
    if content is not None:
        (tmp_path / "labels.json").write_text(content)
    with pytest.raises(LabelsError, match=words) as e:
        load_labels(tmp_path)
    assert "\n" not in str(e.value)


# --- scoring ---


def rep(bottom_s, lo=20.0, hi=90.0, descent_s=4.0, back="flat") -> MeasuredRep:
    return MeasuredRep(bottom_s, lo, hi, descent_s, back)


def test_reps_match_one_to_one_closest_pairs_first():
    labelled = (LabelledRep(2.0), LabelledRep(5.0), LabelledRep(8.0))
    reported = (rep(2.3), rep(4.0), rep(4.9), rep(12.0))
    matched, extra = match_reps(labelled, reported, max_match_s=1.5)
    assert [None if r is None else r.bottom_s for _, r in matched] == [2.3, 4.9, None]
    assert extra == 2  # 4.0 lost 5.0 to the closer 4.9; 12.0 is too far from 8.0


def test_clip_score_has_the_known_errors():
    label = ClipLabel("a.mp4", "double_leg_lift", rep_count=3, reps=(
        LabelledRep(3.0, 10, 80, lower_back_lifts=False, descent_s=4.0),
        LabelledRep(7.0, 20, 90, lower_back_lifts=True, descent_s=3.0),
        LabelledRep(11.0, 15, 85, lower_back_lifts=True),
    ))
    measured = Measured("double_leg_lift", rep_count=3, reps=(
        rep(3.25, lo=22, hi=78, descent_s=3.0, back="flat"),
        rep(6.5, lo=20, hi=105, descent_s=3.25, back="flat"),
        rep(11.1, lo=14, hi=85, descent_s=2.0, back="occluded"),
    ))
    s = score_clip(label, Outcome("a.mp4", "original", measured=measured))
    assert s.rep_count_exact and s.recognised and s.extra_reps == 0
    assert [m.bottom_err_s for m in s.matches] == pytest.approx([0.25, -0.5, 0.1])
    assert [m.min_angle_err_deg for m in s.matches] == [12, 0, -1]
    assert [m.max_angle_err_deg for m in s.matches] == [-2, 15, 0]
    assert [m.lowering_err_s for m in s.matches] == [-1.0, 0.25, None]
    assert [m.back_agrees for m in s.matches] == [True, False, None]

    total = summarise([s])
    assert total.bottom_time_s.n == 3
    assert total.bottom_time_s.median_abs == pytest.approx(0.25)
    assert total.bottom_time_s.max_abs == pytest.approx(0.5)
    assert total.min_leg_angle_deg.within_pct == pytest.approx(200 / 3)  # 12 deg is out
    assert total.max_leg_angle_deg.within_pct == pytest.approx(200 / 3)  # 15 deg is out
    assert (total.lowering_time_s.n, total.lowering_time_s.median_abs) == (2, pytest.approx(0.625))
    assert total.lowering_time_s.within_pct == 50.0
    assert (total.back_agree, total.back_disagree, total.back_not_judged) == (1, 1, 1)
    assert total.back_agreement_pct == 50.0


def test_summary_counts_refusals_as_wrong_and_leaves_negatives_out_of_rep_count():
    lift = ClipLabel("lift.mp4", "double_leg_lift", rep_count=3)
    neg = ClipLabel("crunch.mp4", "not_leg_lift", rep_count=7)
    scores = [
        score_clip(lift, Outcome("lift.mp4", "original", measured=Measured("double_leg_lift", 3))),
        score_clip(lift, Outcome("lift.mp4", "mirror", measured=Measured("single_leg_lift", 4))),
        score_clip(lift, Outcome("lift.mp4", "portrait", refused="No person found.")),
        score_clip(neg, Outcome("crunch.mp4", "original", measured=Measured("not_leg_lift", 0))),
        score_clip(neg, Outcome("crunch.mp4", "mirror", crashed="ValueError: boom")),
    ]
    s = summarise(scores)
    assert (s.pairs, s.refused, s.crashed) == (5, 1, 1)
    assert (s.rep_count_scored, s.rep_count_exact, s.rep_count_within_one) == (3, 1, 2)
    assert s.rep_count_exact_pct == pytest.approx(100 / 3)
    assert (s.recognition_scored, s.recognition_right) == (5, 2)
    assert s.confusion == {
        "double_leg_lift": {"double_leg_lift": 1, "single_leg_lift": 1, "refused": 1},
        "not_leg_lift": {"not_leg_lift": 1, "crashed": 1},
    }


def test_measured_takes_only_the_reports_wire_fields():
    r = RepReport(
        index=1, start_s=1.0, bottom_s=3.0, end_s=5.0, descent_s=2.0, ascent_s=1.0, pause_bottom_s=0.0,
        pause_top_s=0.0, min_leg_angle_deg=12.0, max_leg_angle_deg=88.0, peak_speed_down_deg_s=None,
        peak_speed_up_deg_s=None, momentum=False, quality_rep=True, back_lift=BackLift(state="lifted"),
    )
    report = Report(
        source=SourceInfo(path="x.mp4", duration_s=6.0, fps=30.0, width=640, height=360),
        exercise=Exercise(name="double_leg_lift", confidence=0.9), rep_count=1, reps=[r],
        partial_reps=[PartialRepReport(start_s=5, end_s=6, min_leg_angle_deg=0, max_leg_angle_deg=40, reason="end")],
    )
    assert Measured.from_report(report) == Measured("double_leg_lift", 1, (MeasuredRep(3.0, 12.0, 88.0, 2.0, "lifted"),), 1)


# --- the re-filming transforms ---


def dot_image(w: int, h: int, xy: tuple[float, float]) -> np.ndarray:
    image = np.zeros((h, w, 3), np.uint8)
    x, y = xy
    image[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3] = 255
    return image


def dot_centre(image: np.ndarray) -> np.ndarray:
    """Centroid of the bright pixels, px (x, y)."""
    ys, xs = np.nonzero(image[..., 0] > 128)
    return np.array([xs.mean(), ys.mean()])


def test_mirror_flips_x():
    image = dot_image(64, 48, (10, 20))
    assert dot_centre(aug.mirror(image)) == pytest.approx([53, 20])
    matrix, _ = aug.mirror_matrix(64, 48)
    assert aug.map_points(matrix, [10, 20]) == pytest.approx([53, 20])


@pytest.mark.parametrize("roll_deg", [12.0, -12.0])
def test_roll_turns_about_the_centre_and_keeps_the_whole_picture(roll_deg):
    w, h = 320, 180
    matrix, (out_w, out_h) = aug.roll_matrix(w, h, roll_deg)
    a = math.radians(roll_deg)
    assert (out_w, out_h) == (aug._even(w * math.cos(a) + h * abs(math.sin(a))),
                              aug._even(w * abs(math.sin(a)) + h * math.cos(a)))
    corners = aug.map_points(matrix, np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]))
    assert corners.min() >= -0.5 and (corners[:, 0] <= out_w - 0.5).all() and (corners[:, 1] <= out_h - 0.5).all()
    # a point 100 px right of the centre rises on screen for a positive (counter-clockwise) roll
    centre_in, centre_out = np.array([(w - 1) / 2, (h - 1) / 2]), np.array([(out_w - 1) / 2, (out_h - 1) / 2])
    expected = centre_out + 100 * np.array([math.cos(a), -math.sin(a)])
    assert aug.map_points(matrix, centre_in + [100, 0]) == pytest.approx(expected)
    out = aug.roll(dot_image(w, h, centre_in + [100, 0.5]), roll_deg)
    assert out.shape == (out_h, out_w, 3)
    assert dot_centre(out) == pytest.approx(expected, abs=1.0)


def test_portrait_puts_the_landscape_picture_in_a_9_16_frame():
    w, h = 640, 360
    matrix, (out_w, out_h) = aug.portrait_matrix(w, h)
    assert (out_w, out_h) == (360, 640)
    assert aug.map_points(matrix, [[0, 0], [w, h]]).ravel() == pytest.approx([0, 218.75, 360, 421.25])
    out = aug.portrait(dot_image(w, h, (320, 180)))
    assert out.shape == (640, 360, 3)
    assert dot_centre(out) == pytest.approx(aug.map_points(matrix, [320.5, 180.5]), abs=1.0)


def test_roll_black_leaves_the_corners_black_and_the_picture_where_roll_puts_it():
    w, h = 320, 180
    image = dot_image(w, h, (260.5, 90.5))
    image[image == 0] = 40  # a grey picture: the corners are the only black
    out = aug.roll_black(image, 12.0)
    matrix, (out_w, out_h) = aug.roll_matrix(w, h, 12.0)
    assert out.shape == (out_h, out_w, 3)
    assert (out[0, 0] == 0).all() and (out[-1, -1] == 0).all()
    assert dot_centre(out) == pytest.approx(aug.map_points(matrix, [260.5, 90.5]), abs=1.0)


@pytest.mark.parametrize("roll_deg", [12.0, -12.0])
def test_straighten_turns_and_zooms_until_no_corner_is_empty(roll_deg):
    """A phone's straighten tool: same frame size, every output pixel from inside the
    picture (the turned picture's corners lie outside the frame), the centre kept."""
    w, h = 320, 180
    matrix, size = aug.straighten_matrix(w, h, roll_deg)
    assert size == (w, h)
    inverse = np.linalg.inv(matrix)
    frame = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], float)
    back = aug.map_points(inverse, frame)
    assert back.min() >= -0.5 and (back[:, 0] <= w - 0.5).all() and (back[:, 1] <= h - 0.5).all()
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    assert aug.map_points(matrix, centre) == pytest.approx(centre)
    out = aug.straighten(dot_image(w, h, centre + [60, 0.5]), roll_deg)
    assert dot_centre(out) == pytest.approx(aug.map_points(matrix, centre + [60, 0.5]), abs=1.5)


def test_portrait_black_puts_the_picture_where_portrait_does_between_black_bars():
    w, h = 640, 360
    image = np.full((h, w, 3), 60, np.uint8)
    out = aug.portrait_black(image)
    assert out.shape == aug.portrait(image).shape == (640, 360, 3)
    matrix, _ = aug.portrait_matrix(w, h)
    (_, y0), (_, y1) = aug.map_points(matrix, [0, 0]), aug.map_points(matrix, [w, h])
    assert (out[: int(y0) - 1] == 0).all() and (out[int(y1) + 1 :] == 0).all()
    assert (out[int(np.ceil(y0)) + 1 : int(y1) - 1] == 60).all()


def test_blocky_shrinks_to_360p_and_leaves_8px_blocks_yet_the_picture_recognisable():
    rng = np.random.default_rng(3)
    image = cv2.GaussianBlur(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), (0, 0), 6)
    image[200:500, 300:900] = (200, 40, 40)  # a red body: the colour channels keep their order
    out = aug.blocky(image)
    small = aug.downscale(image, 360)
    assert out.shape == small.shape == (360, 640, 3)
    err = np.abs(out.astype(float) - small.astype(float))
    assert 0 < err.mean() < 12
    assert out[200, 320, 0] > 150 and out[200, 320, 2] < 90
    # compression, not noise: the error jumps across the 8 px block grid
    rows = np.abs(np.diff(out.astype(float), axis=0)).mean(axis=(1, 2))
    assert rows[7::8].mean() > 1.2 * np.delete(rows, np.s_[7::8]).mean()


def test_blur_fill_puts_the_picture_where_portrait_does_over_a_blurred_copy():
    w, h = 640, 360
    image = np.full((h, w, 3), 60, np.uint8)
    image[:, 300:340] = 250  # a bright stripe top to bottom: the copy behind shows it above and below the picture
    out = aug.blur_fill(image)
    assert out.shape == aug.portrait(image).shape == (640, 360, 3)
    matrix, _ = aug.portrait_matrix(w, h)
    x0, y0 = aug.map_points(matrix, [0, 0])
    x1, y1 = aug.map_points(matrix, [w, h])
    band = out[int(np.ceil(y0)) : int(y1)]
    assert band.shape[0] == pytest.approx(y1 - y0, abs=1) and band.max() >= 240  # the picture, sharp
    above = out[: int(y0)]
    assert 0 < above.std() and above.max() < 240  # the zoomed copy, blurred and darkened


def test_the_extra_edits_are_named_only():
    assert {r.name for r in aug.refilm_named(["blurfill", "rollfill-12", "mirror"])} == {"blurfill", "rollfill-12",
                                                                                          "mirror"}
    assert not {r.name for r in aug.EXTRA_REFILMS} & {r.name for r in aug.REFILMS}
    with pytest.raises(KeyError, match="rollblack"):
        aug.refilm_named(["sideways"])


def test_oblique_warp_foreshortens_with_perspective():
    w, h, yaw = 640, 360, 25.0
    matrix, size = aug.oblique_matrix(w, h, yaw)
    assert size == (w, h)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    centre = aug.map_points(matrix, [cx, cy])
    left, right = aug.map_points(matrix, [[cx - 200, cy], [cx + 200, cy]])
    # the centre row stays level; the side turned away (right, deeper) shrinks by the depth ratio
    assert left[1] == pytest.approx(cy, abs=1e-3) and right[1] == pytest.approx(cy, abs=1e-3)
    f = (w / 2) / math.tan(math.radians(aug.PHONE_HFOV_DEG / 2))
    s = math.sin(math.radians(yaw))
    assert (right[0] - centre[0]) / (centre[0] - left[0]) == pytest.approx((f - 200 * s) / (f + 200 * s), rel=1e-5)
    # a vertical segment at the far side is shorter than the same one at the near side
    top_l, bot_l, top_r, bot_r = aug.map_points(matrix, [[cx - 200, cy - 100], [cx - 200, cy + 100],
                                                         [cx + 200, cy - 100], [cx + 200, cy + 100]])
    assert (bot_r[1] - top_r[1]) < (bot_l[1] - top_l[1])
    # the picture still fits the frame, and the image follows the mapping
    corners = aug.map_points(matrix, [[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    assert corners.min() >= -1e-3 and corners[:, 0].max() <= w - 1 + 1e-3 and corners[:, 1].max() <= h - 1 + 1e-3
    point = np.array([cx + 150.5, cy - 60.5])
    assert dot_centre(aug.oblique(dot_image(w, h, point), yaw)) == pytest.approx(aug.map_points(matrix, point), abs=1.0)


def test_downscale_and_frame_rate():
    assert aug.downscale(np.zeros((720, 1280, 3), np.uint8)).shape == (480, 854, 3)
    assert aug.downscale(np.zeros((360, 640, 3), np.uint8)).shape == (360, 640, 3)  # never up
    t30 = np.arange(60) / 30
    assert aug.keep_at_fps(t30, 15.0).sum() == 30
    assert np.flatnonzero(aug.keep_at_fps(t30, 15.0))[:4].tolist() == [0, 2, 4, 6]
    t24 = np.arange(48) / 24
    kept = t24[aug.keep_at_fps(t24, 15.0)]
    assert len(kept) == 30 and np.diff(kept).max() <= 2 / 24 + 1e-9


def test_dim_noisy_is_darker_noisy_and_pure():
    image = np.full((60, 80, 3), 200, np.uint8)
    out = aug.dim_noisy(image)
    assert out.mean() == pytest.approx(0.45 * 255 * (200 / 255) ** 1.3, abs=1.0)
    assert 7 < out.astype(float).std() < 11
    assert np.array_equal(out, aug.dim_noisy(image))
    assert np.array_equal(image, np.full((60, 80, 3), 200, np.uint8))  # input untouched


def test_burn_text_writes_captions_and_counter_over_the_picture():
    image = np.full((360, 640, 3), 90, np.uint8)
    out = aug.burn_text(image, aug.clock(67.4))
    assert aug.clock(67.4) == "1:07"
    changed = (out != image).any(axis=2)
    for band in ((0.08, 0.16), (0.74, 0.82)):  # title and subtitle
        assert changed[int(band[0] * 360) : int(band[1] * 360)].mean() > 0.1
    assert changed[int(0.2 * 360) : int(0.33 * 360), int(0.76 * 640) :].mean() > 0.05  # the clock
    assert (out == 255).all(axis=2).sum() > 500 and not (image != 90).any()


def test_refilm_video_keeps_times_at_15_fps(tmp_path):
    frames = [np.full((120, 160, 3), 10 * k, np.uint8) for k in range(24)]
    src = write_video(tmp_path / "src.mp4", frames, fps=30)
    refilm = aug.refilm_named(["480p15"])[0]
    dst = aug.refilm_video(src, tmp_path / "out.mp4", refilm)
    with av.open(str(dst)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    t = np.array([f.t_s for f in VideoFile(dst)])
    assert t == pytest.approx(np.arange(12) * 2 / 30, abs=2e-3)
    with pytest.raises(KeyError, match="unknown transform"):
        aug.refilm_named(["sideways"])


# --- end to end: `flatback eval` on a simulator clip ---


class TruthPose:
    """Stands in for BlazePose (which finds no person in the simulator's flat silhouette):
    answers each frame with the simulator's keypoints at the nearest time, scaled to the
    frame's size (so a downscaled re-filming reads the same body)."""

    calls = 0
    track = None

    def __init__(self, settings=None):
        self.name = "truth-replay"

    def __call__(self, frame):
        from dataclasses import replace

        from flatback.types import MaskProfile

        TruthPose.calls += 1
        track = TruthPose.track
        i = int(np.argmin(np.abs(track.t_s - frame.t_s)))
        pose = track.frame(i)
        k = frame.image.shape[1] / track.info.width
        mask = None if pose.mask is None else MaskProfile(
            pose.mask.x_px * k, pose.mask.top_y_px * k, pose.mask.bottom_y_px * k
        )
        return replace(pose, index=frame.index, t_s=frame.t_s, xy_px=pose.xy_px * k, mask=mask)

    def close(self):
        pass


class TruthPeople(TruthPose):
    """The same, as the multi-person backend (the default pose stage): one person per frame."""

    def __init__(self, settings=None, options=None):
        super().__init__(settings)

    def __call__(self, frame):
        from flatback.types import PeopleFrame

        return PeopleFrame(index=frame.index, t_s=frame.t_s, people=(super().__call__(frame),), searched=True)


@pytest.fixture
def eval_folder(demo, tmp_path, monkeypatch) -> Path:
    """Two labelled copies of the demo video: a double-leg lift, and the same labelled
    as not a leg lift (same content: one pose track serves both)."""
    clip, video, _ = demo
    folder = tmp_path / "clips"
    folder.mkdir()
    shutil.copy(video, folder / "demo.mp4")
    shutil.copy(video, folder / "demo_neg.mp4")
    reps = [{"bottom_s": b, "min_leg_angle_deg": 25, "max_leg_angle_deg": 90, "lower_back_lifts": True,
             "descent_start_s": b - 4.0, "descent_end_s": b} for b in (8.5, 15.5)]
    (folder / "labels.json").write_text(json.dumps([
        {"clip": "demo.mp4", "exercise": "double_leg_lift", "rep_count": 2, "rep_rest": "top", "reps": reps},
        {"clip": "demo_neg.mp4", "exercise": "not_leg_lift", "rep_count": 2, "reps": []},
    ]))
    TruthPose.track, TruthPose.calls = clip.track, 0
    monkeypatch.setattr("flatback.pose.mediapipe.MediaPipePose", TruthPose)
    monkeypatch.setattr("flatback.pose.multi.MultiPose", TruthPeople)
    # the truth backend exists in this process only: no parts posed by new processes
    monkeypatch.setattr("flatback.pipeline.parts.processes_for", lambda settings: 1)
    return folder


def test_eval_command_end_to_end(eval_folder, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["eval", str(eval_folder), "--cache", str(cache), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "per clip, original" in result.output and "all (headline)" in result.output
    d = json.loads(out.read_text())
    assert d["transforms"] == ["original"] and d["tracked_this_run"] == 1  # one content, one track
    s = d["summary"]["all"]
    assert (s["pairs"], s["rep_count_scored"], s["rep_count_exact"], s["recognition_right"]) == (2, 1, 1, 1)
    assert s["confusion"] == {"double_leg_lift": {"double_leg_lift": 1}, "not_leg_lift": {"double_leg_lift": 1}}
    assert (s["reps_labelled"], s["reps_matched"], s["reps_extra"]) == (2, 2, 0)
    # the labels mark where the 0.5 s pauses at the bottom start; a top-rest rep's bottom is their middle
    assert s["bottom_time_s"]["max_abs"] == pytest.approx(0.25, abs=0.05)
    assert s["max_leg_angle_deg"]["within_pct"] == 100.0 and s["max_leg_angle_deg"]["max_abs"] < 1.0
    assert s["lowering_time_s"]["max_abs"] < 0.1  # 4.0 s lowerings
    assert (s["back_agree"], s["back_disagree"]) == (2, 0)
    pair = d["pairs"][0]
    assert pair["status"] == "ok" and pair["measured"]["rep_count"] == 2 and len(pair["reps"]) == 2
    assert [p["clip"] for p in d["pairs"]] == ["demo.mp4", "demo_neg.mp4"]
    assert sorted(cache.iterdir()) == [cache / "results", cache / "tracks"]

    # with --augment (one transform): only the new pair runs pose; the rest comes from the cache
    calls = TruthPose.calls
    result = CliRunner().invoke(app, ["eval", str(eval_folder), "--cache", str(cache), "--json", str(out),
                                      "--augment", "--transform", "480p15"])
    assert result.exit_code == 0, result.output
    d = json.loads(out.read_text())
    assert d["transforms"] == ["original", "480p15"] and d["tracked_this_run"] == 1
    # 30 -> 15 frames/s, of which the motion sampler poses some (pose/sampling.py)
    assert 0 < TruthPose.calls - calls <= len(TruthPose.track) // 2
    assert d["summary"]["480p15"]["rep_count_exact"] == 1
    assert "rep count and recognition by transform" in result.output
    assert len(list((cache / "videos").rglob("480p15.v1.mp4"))) == 1


def test_eval_lists_refusals_and_crashes(eval_folder, tmp_path, monkeypatch):
    from flatback.errors import VideoContentError
    from flatback.pipeline import Analyzer

    def analyze_track(self, track):
        raise VideoContentError("No person found in the video.")

    monkeypatch.setattr(Analyzer, "analyze_track", analyze_track)
    result = evaluate_folder(eval_folder, cache=tmp_path / "cache", only=("demo",))
    assert [s.outcome.status for s in result.scores] == ["refused"]
    assert result.scores[0].outcome.refused == "No person found in the video."

    def crash(self, track):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Analyzer, "analyze_track", crash)
    result = evaluate_folder(eval_folder, cache=tmp_path / "cache2", only=("demo_neg.mp4",))
    (score,) = result.scores
    assert score.outcome.status == "crashed" and score.outcome.crashed.startswith("ZeroDivisionError")
    assert "test_evaluate.py" in score.outcome.crashed
    titles = [t.title for t in all_tables(result)]
    assert "refused and crashed" in titles
    assert result_json(result)["summary"]["all"]["crashed"] == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["eval", "{tmp}/nowhere"], "is not a folder"),
        (["eval", "{tmp}"], "No labels.json"),
        (["eval", "{folder}", "--only", "nope"], "--only nope"),
        (["eval", "{folder}", "--augment", "--transform", "sideways"], "unknown transform"),
    ],
)
def test_eval_bad_input_is_one_line_and_non_zero(eval_folder, tmp_path, args, words):
    args = [a.format(tmp=tmp_path, folder=eval_folder) for a in args]
    result = CliRunner().invoke(app, [*args, "--cache", str(tmp_path / "cache")])
    assert result.exit_code != 0
    assert words in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1


def test_rendered_clips_are_scored_apart_from_the_headline():
    from flatback.evaluate.runner import EvalResult
    from flatback.evaluate.tables import summaries

    filmed = ClipLabel("filmed.mp4", "double_leg_lift", rep_count=2)
    rendered = ClipLabel("figure.mp4", "double_leg_lift", rep_count=1, rendered=True)
    scores = (
        score_clip(filmed, Outcome("filmed.mp4", "original", measured=Measured("double_leg_lift", 2))),
        score_clip(rendered, Outcome("figure.mp4", "original", measured=Measured("not_leg_lift", 0))),
        score_clip(filmed, Outcome("filmed.mp4", "mirror", measured=Measured("double_leg_lift", 1))),
    )
    result = EvalResult("clips", ("original", "mirror"), scores, "p", "a", "cache", tracked=0)
    s = summaries(result)
    assert list(s) == ["original", "mirror", "all", "rendered"]
    assert (s["all"].pairs, s["all"].rep_count_exact, s["all"].recognition_right) == (2, 1, 2)
    assert (s["original"].pairs, s["mirror"].rep_count_within_one) == (1, 1)
    assert (s["rendered"].pairs, s["rendered"].rep_count_exact, s["rendered"].recognition_right) == (1, 0, 0)
    d = result_json(result)
    assert d["summary"]["all"]["rep_count_exact_pct"] == 50.0 and d["pairs"][1]["rendered"] is True
