"""Real clips re-filmed as a phone and an editor would (``flatback eval``'s transforms), built
at test time: a dim, noisy room and a caption burned over the legs."""

from __future__ import annotations

import numpy as np

from flatback.evaluate.augment import refilm_named, refilm_video
from flatback.pipeline import Analyzer
from tests.conftest import clips_or_skip


def refilmed(tmp_path, name: str, transform: str):
    (refilm,) = refilm_named([transform])
    return refilm_video(clips_or_skip() / name, tmp_path / f"{transform}.mp4", refilm)


def test_a_dim_noisy_room_keeps_the_person_in_sight(tmp_path):
    """The portrait arch clip in dim light with sensor noise: as it was, BlazePose lost the
    thin, dark person for the first 4.5 s (two of three reps, 1 counted); the noisy pictures
    are now stretched and smoothed before the model (pose/conditioning.py)."""
    analysis = Analyzer().run(refilmed(tmp_path, "double_leg_lift_arch_then_flat.mp4", "dim_noisy"))
    early = analysis.track.t_s < 4.5
    assert analysis.track.detected[early].mean() > 0.9
    assert abs(analysis.rep_count - 3) <= 1


def test_a_caption_over_the_legs_adds_no_reps(tmp_path):
    """The low-res clip with captions burned in: the near leg, still scored 0.99 visible,
    jumps 20-40 deg from frame to frame under the text and read as 6 reps for 4; a leg the
    model does not follow now gives way to the steady one (geometry.unsteady_legs)."""
    analysis = Analyzer().run(refilmed(tmp_path, "double_leg_lift_lowres.mp4", "captions"))
    assert analysis.rep_count == 4
    assert analysis.measured is not None
    assert np.nanmax(analysis.measured.signals.leg_angle_deg) > 80  # the tops are still there
