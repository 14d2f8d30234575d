"""Every threshold flatback uses: one pydantic tree, one section per pipeline stage.

Each field has a default, a unit (in its name or description) and the reason for its
value. Three faces share this one schema:

- Python: ``Settings()`` or ``Settings.load(toml_path, overrides)``;
- TOML: ``flatback config --dump`` writes the commented template generated from here;
- CLI: ``--config FILE`` and ``--set section.key=value`` (repeatable).

Values merge as defaults <- file <- overrides into a new object; nothing is mutated.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flatback.errors import SettingsError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(_Section):
    min_duration_s: float = Field(
        0.5, gt=0, description="Shortest video accepted, s. One rep needs more than this."
    )
    truncated_fraction: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Decoded duration below this fraction of the declared duration means "
        "the file is truncated (an interrupted copy or recording).",
    )


class PoseSettings(_Section):
    min_detection_confidence: float = Field(
        0.5, ge=0, le=1, description="Person detector score needed to start tracking."
    )
    min_tracking_confidence: float = Field(
        0.5, ge=0, le=1, description="Landmark score below which the tracker re-detects."
    )
    second_person_every_s: float = Field(
        1.0,
        gt=0,
        description="How often, s, the frame is searched for a second person with the "
        "tracked one masked out (BlazePose itself tracks only one).",
    )
    mask_threshold: float = Field(
        0.5, ge=0, le=1, description="Segmentation probability counted as the person."
    )
    mask_column_step_px: int = Field(
        2, ge=1, description="Spacing of the mask contour samples along the image x axis, px."
    )


class CheckSettings(_Section):
    min_person_fraction: float = Field(
        0.5, ge=0, le=1,
        description="The person must be found in at least this fraction of frames; below it "
        "the video does not show the exercise (or the light is too poor).",
    )
    max_out_of_frame_fraction: float = Field(
        0.25, ge=0, le=1,
        description="Largest fraction of frames with the trunk (shoulders, hips) outside the "
        "picture or lost; beyond it the person left the frame.",
    )
    two_people_fraction: float = Field(
        0.3, ge=0, le=1,
        description="Fraction of searched frames with a second person above which the video "
        "shows two people (a stray detection in a busy room stays below it).",
    )
    front_view_ratio: float = Field(
        0.75,
        description="Median shoulder width / torso length above which the camera faces the "
        "person's front, head or feet instead of their side (side views give 0.1-0.5).",
    )


class RecognitionSettings(_Section):
    exercise: Literal[
        "auto", "double_leg_lift", "bent_knee_leg_lift", "single_leg_lift", "heel_tap", "hanging_leg_raise",
        "dead_bug", "hollow_hold", "not_leg_lift",
    ] = Field("auto", description="The exercise in the clip; auto recognises it (flatback analyze --exercise NAME forces it).")
    hollow_hold_target_s: float = Field(
        20.0, description="Hollow-body hold target with the back flat, s (DESIGN.md: about 20 s as a warm-up)."
    )
    side_turn_min_visibility: float = Field(
        0.85,
        description="One-leg variations: a leg's rep counts only if its knee and ankle are this visible "
        "at the turn; in a side view the far leg is mostly the pose model's guess.",
    )
    hanging_swing_ratio: float = Field(
        0.4,
        description="Hanging leg raise: the hips swinging back behind the hands by more than this, torso "
        "lengths, is a kip from the lats rather than the abs curling the pelvis (a clean raise: about 0.2).",
    )


class GeometrySettings(_Section):
    min_visibility: float = Field(
        0.5, ge=0, le=1, description="Landmark visibility below which a point is treated as unseen."
    )
    lying_max_trunk_tilt_deg: float = Field(
        35.0,
        description="Trunk (hip to shoulder) within this angle of the image horizontal "
        "counts as lying; used to find the floor line.",
    )
    max_camera_roll_deg: float = Field(
        20.0,
        description="Largest floor-line tilt in the image accepted as camera roll, deg; "
        "beyond it the person is not lying on the floor (or the camera is on its side).",
    )
    floor_agree_deg: float = Field(
        4.0,
        description="The mask's underside tangent is used as the floor when it is within "
        "this angle of the trunk line, deg; otherwise something else touches the floor under "
        "the body (a hand, a cushion) and the trunk line is the safer floor direction.",
    )
    legs_agree_deg: float = Field(
        20.0,
        description="Two legs whose angles differ by less than this move together; their "
        "angle is then averaged. Beyond it the lifted (higher) leg is the working leg.",
    )
    cut_size_change: float = Field(
        0.3,
        description="A change of the body's size by this fraction from one moment to the next "
        "(medians of 5 frames) is a cut to another shot; zooms and moves are slower.",
    )
    cut_jump_ratio: float = Field(
        0.5,
        description="A jump of the hips by this many torso lengths between the same medians "
        "is a cut as well.",
    )
    swap_margin: float = Field(
        0.7,
        gt=0,
        le=1,
        description="Left/right labels are swapped back when the swapped assignment moves "
        "the joints less than this fraction of the unswapped motion.",
    )


class ClearanceSettings(_Section):
    max_floor_tilt_deg: float = Field(
        8.0,
        description="A frame's floor tangent (under buttocks and upper back) may tilt this far "
        "from the clip's floor line, deg; beyond it it rests on something else (a hand, a "
        "cushion) and the frame has no floor.",
    )
    max_hidden_fraction: float = Field(
        0.5, description="Share of the lumbar span hidden (arm, missing mask) above which the frame is occluded."
    )
    ragged_ratio: float = Field(
        0.02,
        description="Median bend of the underside contour between neighbouring samples, torso "
        "lengths, above which the mask is too ragged to read (loose clothing, poor segmentation).",
    )
    max_camera_elevation_deg: float = Field(
        20.0,
        description="Camera elevation above the floor, deg, beyond which the gap under the back "
        "is out of sight: a raised camera looks over the near side of the body.",
    )


class BackLiftSettings(_Section):
    baseline_min_leg_angle_deg: float = Field(
        60.0,
        description="Frames with the legs at least this high, deg, give the person's flat-back "
        "baseline (DESIGN.md: taken with legs vertical, back pressed); body shape and mat cancel out.",
    )
    margin_ratio: float = Field(
        0.025,
        description="Smallest clearance rise above the flat baseline that is a lift, torso "
        "lengths (about 1.2 cm). A flat back reads 0.0-0.04 and shifts by up to 0.02 as the "
        "pelvis follows the legs; an arch reads about 0.2. Lower it (to 0.005) for close, "
        "sharp, floor-level footage to catch the first millimetres of a lift.",
    )
    margin_noise_k: float = Field(
        4.0,
        description="...and at least this many times the reading's frame-to-frame jitter, so a "
        "noisy mask does not make lifts out of jitter.",
    )
    min_margin_px: float = Field(
        2.0,
        description="...and at least this many pixels: the mask's outline moves in pixel steps "
        "(a low-resolution video cannot see a gap of one pixel).",
    )
    min_lift_s: float = Field(0.2, description="A lift must last this long, s.")
    smooth_s: float = Field(0.2, description="Rolling-median window for the clearance, s.")
    rep_min_measured_fraction: float = Field(
        0.5,
        description="A rep whose lumbar span is readable in less than this share of its frames "
        "is 'occluded' (or 'unknown'), never 'flat'.",
    )
    setup_flat_max_ratio: float = Field(
        0.08,
        description="Clearance above this, torso lengths, before the first lowering means the "
        "back is not pressed flat at set-up (flat backs read 0.0-0.04).",
    )
    secondary_margin_ratio: float = Field(
        0.03,
        description="Rise of the waist's top contour above its baseline, torso lengths, that "
        "counts as a lift when the underside is hidden (secondary cue, lower confidence).",
    )


class SignalSettings(_Section):
    max_gap_s: float = Field(
        0.5, description="Longest gap, s, filled by interpolation; longer gaps stay missing."
    )
    outlier_window_s: float = Field(
        0.3, description="Window of the Hampel outlier filter, s (spikes shorter than half of it go)."
    )
    outlier_mads: float = Field(
        4.0, description="Deviation from the local median, in MADs, that marks an outlier."
    )
    outlier_min_deg: float = Field(
        8.0, description="Deviations below this, deg, are never outliers (guards against MAD=0)."
    )
    lowpass_hz: float = Field(
        4.0,
        description="Zero-phase Butterworth cut-off, Hz. Leg lifts move below 1 Hz and a "
        "bounce lasts about 0.3 s; 4 Hz keeps both, rounds a sharp turn by under 0.1 s, and "
        "removes landmark jitter.",
    )
    causal_min_cutoff_hz: float = Field(
        1.0, description="One-euro filter cut-off at rest, Hz (frame-by-frame mode)."
    )
    causal_beta: float = Field(
        0.05,
        description="One-euro filter speed coefficient, 1/deg: at 60 deg/s the cut-off rises "
        "to 4 Hz, keeping the lag of a moving leg near 0.04 s.",
    )


class RepSettings(_Section):
    min_amplitude_deg: float = Field(
        20.0,
        description="Smallest leg-angle swing counted as a movement, deg (hysteresis of the "
        "turning-point detector); smaller wobbles are noise or adjustments.",
    )
    min_amplitude_frac: float = Field(
        0.35,
        description="A swing must also reach this fraction of the clip's largest swing, so "
        "a half-hearted twitch between reps does not count.",
    )
    pause_level_deg: float = Field(
        2.0,
        description="Samples within this many degrees of a turning point belong to its pause.",
    )
    pause_speed_frac: float = Field(
        0.2,
        description="Around a turning point the legs are pausing while they move slower than "
        "this fraction of the adjacent movements' steady speed.",
    )
    min_plateau_s: float = Field(
        0.15,
        description="A turning point still for at least this long, s, is a pause; a shorter "
        "one is a sharp turn (a bounce, or a turn the low-pass rounded), timed where the "
        "incoming and outgoing movements meet.",
    )
    rest: Literal["auto", "floor", "top"] = Field(
        "auto",
        description="Where reps rest. floor: each lift and lowering back to the floor is a "
        "rep. top: legs stay up, each lowering and return to vertical is a rep. auto: top "
        "when the legs rest on the floor at the start or end but never return to it between "
        "lowerings.",
    )
    top_rest_min_gap_deg: float = Field(
        20.0,
        description="auto rest: the lowerings between reps must stay this far above the floor "
        "level seen at the start or end, deg, to be top-rest reps (an end range of about 45 "
        "degrees, DESIGN.md); bent-knee lowerings to 10 degrees are floor-rest.",
    )
    rest_dwell_s: float = Field(
        0.5,
        ge=0,
        description="Live: a rep's last turning point counts as reached once the legs have stayed "
        "short of the hysteresis from it for this long, s, so the count comes as the rep ends, not "
        "when the next movement starts (offline results do not depend on it).",
    )
    live_level_tolerance_deg: float = Field(
        1.0,
        ge=0,
        description="Live: the legs dwell at a turn (see rest_dwell_s) while they stay within this "
        "many degrees of its extreme, deg. The causal filter settles into a still pause slowly, "
        "setting a new extreme by hundredths of a degree for a while; without it the dwell "
        "would restart at each.",
    )
    rest_tolerance_deg: float = Field(
        10.0,
        description="A clip that starts (ends) within this many degrees of the rest level "
        "starts (ends) at rest, so its first (last) rep is complete.",
    )
    rest_tolerance_frac: float = Field(
        0.15, description="...or within this fraction of the rep's range, whichever is larger."
    )
    hold_min_s: float = Field(
        2.0, description="A still period with the legs up this long, s, is a static hold."
    )
    hold_max_speed_deg_s: float = Field(
        12.0, description="Leg angular speed below which the legs count as still, deg/s."
    )
    hold_max_range_deg: float = Field(
        10.0, description="Largest leg-angle range inside a hold, deg."
    )
    hold_min_leg_angle_deg: float = Field(
        5.0, description="Legs below this angle, deg, rest on the floor: no hold."
    )


class AssessmentSettings(_Section):
    min_descent_s: float = Field(
        3.0,
        description="Shortest lowering that is not rushed, s. DESIGN.md asks for at least a "
        "count of four; descent_s counts the time at lowering speed (slow starts and finishes "
        "count as pause), which reads a natural 4 s lowering as 3 to 3.5 s.",
    )
    momentum_ascent_ratio: float = Field(
        0.5,
        description="Ascent shorter than this fraction of the descent, with a fast peak "
        "speed, is momentum ('fast ascent').",
    )
    momentum_min_speed_deg_s: float = Field(
        120.0,
        description="Peak upward speed, deg/s, above which a short ascent is a swing rather "
        "than a brisk but controlled return.",
    )
    overshoot_deg: float = Field(
        105.0, description="Max leg angle beyond this, deg, swings past vertical: 'overshoot'."
    )
    bounce_max_pause_s: float = Field(
        0.1, description="A bottom turn shorter than this, s, with fast speed on both sides, is a bounce."
    )
    bounce_min_speed_deg_s: float = Field(
        90.0, description="Speed into and out of the bottom, deg/s, that makes a short turn a bounce."
    )
    pelvis_lift_ratio: float = Field(
        0.12,
        description="Hip rise above the floor during the ascent, as a fraction of torso "
        "length, that counts as the pelvis swinging up.",
    )
    knee_bent_deg: float = Field(
        30.0,
        description="Knee flexion above this, deg, is a bent-knee lift; below it a slight "
        "bend is allowed for tight hamstrings (DESIGN.md).",
    )
    head_lift_deg: float = Field(
        20.0,
        description="Head (shoulder-to-ear line) raised this many degrees above the person's "
        "own lying baseline counts as head lifted (an allowed aid).",
    )


class OutputSettings(_Section):
    decimals: int = Field(3, ge=0, le=6, description="Decimals written in report.json and timeseries.csv.")


class Settings(_Section):
    """All of flatback's thresholds. Build with ``Settings.load`` to merge a TOML file
    and ``section.key=value`` overrides over the defaults."""

    source: SourceSettings = SourceSettings()
    pose: PoseSettings = PoseSettings()
    checks: CheckSettings = CheckSettings()
    recognition: RecognitionSettings = RecognitionSettings()
    geometry: GeometrySettings = GeometrySettings()
    clearance: ClearanceSettings = ClearanceSettings()
    back_lift: BackLiftSettings = BackLiftSettings()
    signals: SignalSettings = SignalSettings()
    reps: RepSettings = RepSettings()
    assessment: AssessmentSettings = AssessmentSettings()
    output: OutputSettings = OutputSettings()

    @classmethod
    def load(
        cls, path: str | Path | None = None, overrides: dict[str, Any] | None = None
    ) -> Settings:
        """Defaults, then the TOML file at ``path``, then ``{"section.key": value}``."""
        data: dict[str, dict[str, Any]] = {}
        if path is not None:
            path = Path(path)
            try:
                data = tomllib.loads(path.read_text())
            except FileNotFoundError:
                raise SettingsError(f"Settings file not found: {path}") from None
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                raise SettingsError(f"Cannot read settings file {path}: {e}") from None
        for dotted, value in (overrides or {}).items():
            section, _, key = dotted.partition(".")
            if not key or section not in cls.model_fields:
                raise SettingsError(
                    f"Unknown setting {dotted!r}: use section.key, sections are "
                    f"{', '.join(cls.model_fields)} (see `flatback config --dump`)."
                )
            data.setdefault(section, {})[key] = value
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
            )
            raise SettingsError(f"Invalid settings: {problems}") from None

    def replace(self, **overrides: Any) -> Settings:
        """A copy with ``section__key=value`` (Python-friendly) overrides applied."""
        dotted = {k.replace("__", ".", 1): v for k, v in overrides.items()}
        return Settings.load(None, {**_flatten(self), **dotted})


def _flatten(settings: Settings) -> dict[str, Any]:
    return {
        f"{section}.{key}": value
        for section, values in settings.model_dump().items()
        for key, value in values.items()
    }


def parse_override(text: str) -> tuple[str, Any]:
    """Parse one ``section.key=value`` CLI override; the value is read as TOML."""
    key, sep, raw = text.partition("=")
    if not sep:
        raise SettingsError(f"Override {text!r} must look like section.key=value")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as floor: keep it as a string
    return key.strip(), value


def dump_toml_template(settings: Settings | None = None) -> str:
    """The commented TOML template: every setting with its value, unit and reason."""
    settings = settings or Settings()
    lines = ["# flatback settings. Pass with --config FILE; any key may be left out.", ""]
    for section, field in Settings.model_fields.items():
        sub = getattr(settings, section)
        lines.append(f"[{section}]")
        for key, info in type(sub).model_fields.items():
            lines.append(f"# {info.description}")
            lines.append(f"{key} = {_toml_value(getattr(sub, key))}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)
