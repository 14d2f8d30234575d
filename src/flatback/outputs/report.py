"""report.json: the serialised result of an analysis (pydantic models, schema_version 1).

The field names listed in issue #2's contract are fixed; others may be added.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

ExerciseName = Literal[
    "double_leg_lift",
    "bent_knee_leg_lift",
    "single_leg_lift",
    "heel_tap",
    "hanging_leg_raise",
    "dead_bug",
    "hollow_hold",
    "not_leg_lift",
    "unknown",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceInfo(_Model):
    path: str
    duration_s: float
    fps: float
    width: int
    height: int
    rotation_deg: int = 0
    frames: int = 0


class Exercise(_Model):
    name: ExerciseName = "unknown"
    confidence: float = 0.0


class BackLift(_Model):
    state: Literal["flat", "lifted", "occluded", "unknown"] = "unknown"
    onset_s: float | None = None
    onset_leg_angle_deg: float | None = None
    confidence: float = 0.0  # share of the rep's frames with the lumbar span in sight (halved without a legs-up baseline)
    peak_clearance_ratio: float | None = None  # largest gap under the lower back in the rep, torso lengths
    secondary: str | None = None  # "waist_rose": the hidden back may have lifted (waist contour; weak)


class BackBaseline(_Model):
    """The person's flat-back lumbar clearance, torso lengths, and the lift threshold."""

    clearance_ratio: float
    noise_ratio: float
    margin_ratio: float
    source: str


class Momentum(_Model):
    """Why a rep counts as using momentum; empty ``reasons`` means controlled."""

    reasons: list[Literal["fast_ascent", "overshoot", "bounce", "pelvis_lift"]] = []


class RepReport(_Model):
    index: int
    side: Literal["left", "right"] | None = None  # the moving leg, for one-leg-at-a-time variations
    start_s: float
    bottom_s: float
    end_s: float
    descent_s: float
    ascent_s: float
    pause_bottom_s: float
    pause_top_s: float
    min_leg_angle_deg: float
    max_leg_angle_deg: float
    peak_speed_down_deg_s: float | None
    peak_speed_up_deg_s: float | None
    momentum: bool
    momentum_reasons: list[str] = []
    knee_flexion_max_deg: float | None = None
    knee_flexion_mean_deg: float | None = None
    head_lifted: bool | None = None
    head_lift_deg: float | None = None
    pelvis_lift_ratio: float | None = None
    back_lift: BackLift = BackLift()
    end_range_deg: float | None = None
    faults: list[str] = []
    aids: list[str] = []
    quality_rep: bool


class PartialRepReport(_Model):
    start_s: float
    end_s: float
    min_leg_angle_deg: float
    max_leg_angle_deg: float
    reason: str


class HoldReport(_Model):
    start_s: float
    end_s: float
    duration_s: float
    mean_leg_angle_deg: float
    back_flat_s: float | None = None


class Cue(_Model):
    t_s: float | None
    code: str
    text: str
    priority: int = Field(description="1 = most important")
    evidence: str = ""


class Provenance(_Model):
    flatback_version: str
    pose_backend: str
    settings: dict
    floor_line: dict
    rest: str
    hysteresis_deg: float
    coverage: dict[str, float]


class Report(_Model):
    """Everything ``flatback analyze`` found in one clip."""

    schema_version: int = SCHEMA_VERSION
    source: SourceInfo
    exercise: Exercise = Exercise()
    rep_count: int
    quality_rep_count: int = 0
    reps: list[RepReport]
    partial_reps: list[PartialRepReport] = []
    end_range_deg: float | None = None
    end_range_method: str = ""
    back_baseline: BackBaseline | None = None
    camera_elevation_deg: float | None = None
    holds: list[HoldReport] = []
    cues: list[Cue] = []
    warnings: list[str] = []
    variation: dict = {}  # what the variation adds: per-side counts, hold timer, swing...
    provenance: Provenance | None = None
