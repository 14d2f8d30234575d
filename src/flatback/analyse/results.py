"""The analysis's domain results: enums and frozen dataclasses, apart from any wire format.

Measurement and coaching modules speak these types; ``outputs/report.py`` turns them
into report.json one way. State never travels as text: a back state, a fault, a
momentum reason, a note are enum members, and code compares members, not sentences.
Enums are ``StrEnum``: their value is the word report.json writes. Notes (``Note``,
``NoteCode``) live in ``flatback.types`` since every stage may add one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Exercise(StrEnum):
    """What the clip shows (DESIGN.md, "Variations"), or that it is not a leg lift."""

    DOUBLE_LEG_LIFT = "double_leg_lift"
    BENT_KNEE_LEG_LIFT = "bent_knee_leg_lift"
    SINGLE_LEG_LIFT = "single_leg_lift"
    HEEL_TAP = "heel_tap"
    HANGING_LEG_RAISE = "hanging_leg_raise"
    DEAD_BUG = "dead_bug"
    HOLLOW_HOLD = "hollow_hold"
    NOT_LEG_LIFT = "not_leg_lift"
    UNKNOWN = "unknown"


class Rest(StrEnum):
    """Where reps rest (DESIGN.md, "Rep"): each rep leaves this position and returns to it."""

    FLOOR = "floor"  # lift from the floor and lower back to it
    TOP = "top"  # legs stay up: lower and return to vertical
    HANG = "hang"  # hanging: raise from the hang and lower back to it


class Side(StrEnum):
    """The moving leg of a one-leg-at-a-time variation, as the pose model labels it."""

    LEFT = "left"
    RIGHT = "right"


class Phase(StrEnum):
    """What the legs are doing in a frame."""

    NONE = ""
    ASCENT = "ascent"
    TOP = "top"
    DESCENT = "descent"
    BOTTOM = "bottom"
    HOLD = "hold"


class BackState(StrEnum):
    """The lower back in a frame or a rep (DESIGN.md, "Back lift")."""

    FLAT = "flat"
    LIFTED = "lifted"
    OCCLUDED = "occluded"  # hidden (an arm, a raised camera, a ragged mask): never a guess
    UNKNOWN = "unknown"  # no reading


class SecondaryBackCue(StrEnum):
    """A weaker sign of a lift, seen while the underside was hidden."""

    WAIST_ROSE = "waist_rose"  # the waist's top outline rose above its legs-up level


class Fault(StrEnum):
    """What makes a rep not a quality rep (DESIGN.md, "Faults")."""

    BACK_LIFTED = "back_lifted"
    MOMENTUM = "momentum"
    DESCENT_TOO_FAST = "descent_too_fast"
    KNEES_BENT = "knees_bent"
    SWINGING = "swinging"  # hanging: a kip from the lats


class MomentumReason(StrEnum):
    """Why a rep counts as momentum (DESIGN.md, "Momentum")."""

    FAST_ASCENT = "fast_ascent"
    OVERSHOOT = "overshoot"
    BOUNCE = "bounce"
    PELVIS_LIFT = "pelvis_lift"
    SWING = "swing"


class Aid(StrEnum):
    """Allowed aids: noted, never faulted (DESIGN.md)."""

    SLIGHT_KNEE_BEND = "slight_knee_bend"
    HEAD_LIFTED = "head_lifted"


class EndRangeMethod(StrEnum):
    """How the session's end range was derived."""

    BACK_LIFT_ONSET = "back_lift_onset"  # median leg angle at the back's lift-off
    LOWEST_FLAT = "lowest_flat"  # the back never lifted: at or below the lowest flat angle
    BACK_NOT_SEEN = "back_not_seen"  # the lower back was hidden in every rep
    NOT_MEASURED = "not_measured"  # not a leg lift, or no reps

    @property
    def at_or_below(self) -> bool:
        """The end range is an upper bound: the true one is at or below it."""
        return self is EndRangeMethod.LOWEST_FLAT


@dataclass(frozen=True)
class ExerciseChoice:
    """The exercise the clip shows: recognised (with a confidence in 0.5-1 and the
    deciding reason) or forced by the user. ``measured_as``: the leg-lift variation a
    doubtful call is measured as anyway (a low-confidence "not a leg lift" or "unknown"
    on a lying body whose legs do lift and lower), with ``doubt`` saying why."""

    name: Exercise
    confidence: float
    reason: str
    forced: bool = False
    measured_as: Exercise | None = None
    doubt: str | None = None

    @property
    def analysed_as(self) -> Exercise:
        """The exercise whose rules the clip is measured by."""
        return self.measured_as or self.name


@dataclass(frozen=True)
class Baseline:
    """The person's flat-back clearance, torso lengths, and the margin a lift must exceed."""

    clearance_ratio: float
    noise_ratio: float
    margin_ratio: float
    legs_up: bool  # taken with the legs up (DESIGN.md); False: from the lowest readings
    frames: int

    @property
    def source(self) -> str:
        return "legs up" if self.legs_up else "lowest readings (the legs were never up)"


@dataclass(frozen=True)
class RepBack:
    """The lower back during one rep."""

    state: BackState
    onset_s: float | None = None
    onset_leg_angle_deg: float | None = None
    end_range_deg: float | None = None  # onset angle if lifted, else the lowest angle seen flat
    measured_fraction: float = 0.0  # share of the rep's frames with the lumbar span in sight
    peak_clearance_ratio: float | None = None
    secondary: SecondaryBackCue | None = None
    confidence: float = 0.0  # measured_fraction, halved without a legs-up baseline; 0 if not judged


@dataclass(frozen=True)
class RepTiming:
    """One counted rep's timing, s, range, deg, and peak speeds, deg/s (DESIGN.md "Tempo")."""

    start_s: float
    turn_s: float  # the far turning point: top for floor-rest reps, bottom for top-rest
    bottom_s: float  # the lowering's end (floor rest), the held bottom's middle (top rest), the highest point (hanging)
    end_s: float
    descent_s: float
    ascent_s: float
    pause_bottom_s: float
    pause_top_s: float
    min_leg_angle_deg: float
    max_leg_angle_deg: float
    peak_speed_down_deg_s: float
    peak_speed_up_deg_s: float
    phases: tuple[tuple[Phase, float, float], ...] = ()  # (phase, start_s, end_s) in time order
    side: Side | None = None  # one-leg variations: the leg this rep moved

    def phase_span(self, phase: Phase) -> tuple[float, float] | None:
        """(start_s, end_s) of a phase of this rep, or None if it has none."""
        return next(((a, b) for p, a, b in self.phases if p == phase), None)


@dataclass(frozen=True)
class AssessedRep:
    """A counted rep with its measurements, faults and back state."""

    index: int  # 1-based, in time order
    timing: RepTiming
    back: RepBack
    momentum_reasons: tuple[MomentumReason, ...] = ()
    knee_flexion_max_deg: float | None = None
    knee_flexion_mean_deg: float | None = None
    head_lifted: bool | None = None
    head_lift_deg: float | None = None
    pelvis_lift_ratio: float | None = None
    faults: tuple[Fault, ...] = ()
    aids: tuple[Aid, ...] = ()

    @property
    def quality_rep(self) -> bool:
        return not self.faults

    @property
    def momentum(self) -> bool:
        return bool(self.momentum_reasons)

    @property
    def side(self) -> Side | None:
        return self.timing.side

    # the timing's fields, read through the rep (what people ask of a rep)
    @property
    def start_s(self) -> float:
        return self.timing.start_s

    @property
    def bottom_s(self) -> float:
        return self.timing.bottom_s

    @property
    def end_s(self) -> float:
        return self.timing.end_s

    @property
    def descent_s(self) -> float:
        return self.timing.descent_s

    @property
    def ascent_s(self) -> float:
        return self.timing.ascent_s

    @property
    def pause_bottom_s(self) -> float:
        return self.timing.pause_bottom_s

    @property
    def pause_top_s(self) -> float:
        return self.timing.pause_top_s

    @property
    def min_leg_angle_deg(self) -> float:
        return self.timing.min_leg_angle_deg

    @property
    def max_leg_angle_deg(self) -> float:
        return self.timing.max_leg_angle_deg


    @property
    def end_range_deg(self) -> float | None:
        return self.back.end_range_deg

    @property
    def back_lift(self) -> RepBack:
        return self.back


@dataclass(frozen=True)
class PartialRep:
    """Part of a rep cut off by the clip's start or end (or a gap): reported, not counted."""

    start_s: float
    end_s: float
    min_leg_angle_deg: float
    max_leg_angle_deg: float
    reason: str
    side: Side | None = None


@dataclass(frozen=True)
class Hold:
    """A static hold: legs still and off the floor for at least ``reps.hold_min_s``.

    ``back_flat_s``: seconds of it with the back seen flat (None: the back was never seen).
    """

    start_s: float
    end_s: float
    mean_leg_angle_deg: float
    back_flat_s: float | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class EndRange:
    """The session's end range, deg, and how it was derived (DESIGN.md, "Back lift")."""

    deg: float | None
    method: EndRangeMethod
    reps: int = 0  # how many reps it rests on

    @property
    def text(self) -> str:
        """The method in words, for people."""
        return {
            EndRangeMethod.BACK_LIFT_ONSET: f"median leg angle at back-lift onset over {self.reps} rep(s)",
            EndRangeMethod.LOWEST_FLAT: (
                f"lowest leg angle reached with a flat back over {self.reps} rep(s); the back never "
                "lifted, so the true end range is at or below it"
            ),
            EndRangeMethod.BACK_NOT_SEEN: "the lower back was not visible in any rep",
            EndRangeMethod.NOT_MEASURED: "not measured",
        }[self.method]


@dataclass(frozen=True)
class VariationExtras:
    """What a variation adds to the report (each variation has its own subclass)."""


@dataclass(frozen=True)
class HollowHoldExtras(VariationExtras):
    hold_target_s: float
    longest_flat_hold_s: float | None  # None: the back was never seen in a hold
    holds_s: tuple[float, ...] = ()


@dataclass(frozen=True)
class HangingExtras(VariationExtras):
    swing_ratio: float  # how far the hips swing back behind the hands, torso lengths


@dataclass(frozen=True)
class PerSideExtras(VariationExtras):
    reps_per_side: dict[Side, int] = field(default_factory=dict)
    end_range_per_side_deg: dict[Side, float] = field(default_factory=dict)
    opposite_arm_and_leg: tuple[bool | None, ...] = ()  # dead bug: each rep moved the opposite arm
    tabletop_knee_deg: float | None = None  # heel taps: knee bend in tabletop
    side_note: str = "sides as the pose model labels them after swap repair"
