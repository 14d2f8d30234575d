"""report.json: the wire schema of an analysis (pydantic), built one way from the
domain results with :meth:`Report.from_result`. Nothing below ``outputs/`` imports it.

schema_version 2 (from 1): ``notes`` (each ``{code, text}``) replaces the free-text
``warnings``; ``end_range_method`` is a code (``back_lift_onset``, ``lowest_flat``,
``back_not_seen``, ``not_measured``) with its words in ``end_range_text`` and
``end_range_at_or_below``; ``back_baseline.legs_up`` replaces its ``source`` sentence;
``exercise`` adds ``reason``, ``forced``, ``measured_as`` and ``doubt``; ``variation`` holds the
variation's typed extras plus its ``rung`` on the progression ladder; each rep has
``side`` and each partial rep ``side``.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flatback import __version__

if TYPE_CHECKING:
    from flatback.analyse.results import AssessedRep
    from flatback.pipeline.offline import Analysis

SCHEMA_VERSION = 2

ExerciseName = Literal[
    "double_leg_lift", "bent_knee_leg_lift", "single_leg_lift", "heel_tap", "hanging_leg_raise", "dead_bug",
    "hollow_hold", "not_leg_lift", "unknown",
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
    reason: str = ""
    forced: bool = False
    measured_as: ExerciseName | None = None  # a doubtful call measured anyway as this leg lift
    doubt: str | None = None


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
    legs_up: bool
    source: str


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

    @classmethod
    def from_rep(cls, r: AssessedRep) -> RepReport:
        b = r.back
        return cls(
            index=r.index, side=_value(r.side), start_s=r.start_s, bottom_s=r.bottom_s, end_s=r.end_s,
            descent_s=r.descent_s, ascent_s=r.ascent_s, pause_bottom_s=r.pause_bottom_s, pause_top_s=r.pause_top_s,
            min_leg_angle_deg=r.min_leg_angle_deg, max_leg_angle_deg=r.max_leg_angle_deg,
            peak_speed_down_deg_s=_finite(r.timing.peak_speed_down_deg_s),
            peak_speed_up_deg_s=_finite(r.timing.peak_speed_up_deg_s),
            momentum=r.momentum, momentum_reasons=[m.value for m in r.momentum_reasons],
            knee_flexion_max_deg=r.knee_flexion_max_deg, knee_flexion_mean_deg=r.knee_flexion_mean_deg,
            head_lifted=r.head_lifted, head_lift_deg=r.head_lift_deg, pelvis_lift_ratio=r.pelvis_lift_ratio,
            back_lift=BackLift(
                state=b.state.value, onset_s=b.onset_s, onset_leg_angle_deg=b.onset_leg_angle_deg,
                confidence=b.confidence, peak_clearance_ratio=b.peak_clearance_ratio, secondary=_value(b.secondary),
            ),
            end_range_deg=r.end_range_deg, faults=[f.value for f in r.faults], aids=[a.value for a in r.aids],
            quality_rep=r.quality_rep,
        )


class PartialRepReport(_Model):
    start_s: float
    end_s: float
    min_leg_angle_deg: float
    max_leg_angle_deg: float
    reason: str
    side: Literal["left", "right"] | None = None


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
    priority: int = Field(description="0 = most important")
    evidence: str = ""


class Note(_Model):
    code: str
    text: str


class Provenance(_Model):
    flatback_version: str
    pose_backend: str
    settings: dict
    floor_line: dict
    rest: str | None
    hysteresis_deg: float | None
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
    end_range_method: str = "not_measured"
    end_range_text: str = ""
    end_range_at_or_below: bool = False
    back_baseline: BackBaseline | None = None
    camera_elevation_deg: float | None = None
    holds: list[HoldReport] = []
    cues: list[Cue] = []
    notes: list[Note] = []
    variation: dict = {}  # the variation's extras (per-side counts, hold timer, swing...) and its ladder rung
    provenance: Provenance | None = None

    @classmethod
    def from_result(cls, a: Analysis) -> Report:
        """report.json's content from a finished analysis (one way: never read back)."""
        track, info = a.track, a.track.info
        baseline = a.baseline
        variation: dict[str, Any] = {"rung": a.variation.rung}
        if a.extras is not None:
            variation.update(_plain(dataclasses.asdict(a.extras)))
        provenance = None
        if a.measured is not None:
            g, m = a.measured.geometry, a.measured
            provenance = Provenance(
                flatback_version=__version__, pose_backend=track.backend, settings=a.settings.model_dump(),
                floor_line={"roll_deg": g.floor.roll_deg, "feet_sign": g.floor.feet_sign, "source": g.floor.source,
                            "posture": g.posture, "view_yaw_deg": _finite(g.view_yaw_deg),
                            "leg_angles": g.leg_angles_from,
                            "view_shear": g.view.shear, "view_scale": g.view.scale},
                rest=_value(a.rest), hysteresis_deg=a.hysteresis_deg,
                coverage={
                    "pose": float(track.detected.mean()) if len(track) else 0.0,
                    "leg_angle": m.signals.coverage(),
                    "leg_angle_thigh_only": float((g.leg_source == 2).mean()),
                    "lumbar_clearance": float((m.clearance.status == 0).mean()) if len(track) else 0.0,
                },
            )
        elevation = None if a.measured is None else a.measured.clearance.camera_elevation_deg
        return cls(
            source=SourceInfo(path=info.path, duration_s=float(track.t_s[-1]) if len(track) else 0.0, fps=info.fps,
                              width=info.width, height=info.height, rotation_deg=info.rotation_deg, frames=len(track)),
            exercise=Exercise(name=a.exercise.name.value, confidence=a.exercise.confidence, reason=a.exercise.reason,
                              forced=a.exercise.forced, measured_as=_value(a.exercise.measured_as),
                              doubt=a.exercise.doubt),
            rep_count=a.rep_count, quality_rep_count=a.quality_rep_count,
            reps=[RepReport.from_rep(r) for r in a.reps],
            partial_reps=[PartialRepReport(start_s=p.start_s, end_s=p.end_s, min_leg_angle_deg=p.min_leg_angle_deg,
                                           max_leg_angle_deg=p.max_leg_angle_deg, reason=p.reason, side=_value(p.side))
                          for p in a.partial_reps],
            end_range_deg=a.end_range.deg, end_range_method=a.end_range.method.value, end_range_text=a.end_range.text,
            end_range_at_or_below=a.end_range.method.at_or_below,
            back_baseline=None if baseline is None else BackBaseline(
                clearance_ratio=baseline.clearance_ratio, noise_ratio=baseline.noise_ratio,
                margin_ratio=baseline.margin_ratio, legs_up=baseline.legs_up, source=baseline.source),
            camera_elevation_deg=_finite(elevation),
            holds=[HoldReport(start_s=h.start_s, end_s=h.end_s, duration_s=h.duration_s,
                              mean_leg_angle_deg=h.mean_leg_angle_deg, back_flat_s=h.back_flat_s) for h in a.holds],
            cues=[Cue(t_s=c.t_s, code=c.code.value, text=c.text, priority=c.priority, evidence=c.evidence) for c in a.cues],
            notes=[Note(code=n.code.value, text=n.text) for n in a.notes],
            variation=variation,
            provenance=provenance,
        )


def _value(x: Enum | None) -> Any:
    return None if x is None else x.value


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else float(x)


def _plain(obj: Any) -> Any:
    """Enums to their values (also as dict keys), tuples to lists: JSON-ready."""
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, dict):
        return {_plain(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
