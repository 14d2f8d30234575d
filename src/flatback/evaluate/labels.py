"""Hand labels of an evaluation folder (``labels.json``, fields in ``../shared/clips/LABELS.md``).

Only what scoring needs is kept, as frozen dataclasses. Times are seconds from the
clip's first video frame (as flatback's ``t_s``); angles are degrees (0 = legs on the
floor, 90 = vertical). Problems raise :class:`LabelsError` naming the clip and field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flatback.analyse.results import Exercise, Rest
from flatback.analyse.variations import variation_for
from flatback.errors import InputFileError

LABELS_FILE = "labels.json"

NOT_LEG_LIFT = "not_leg_lift"
# Exercises flatback measures that do not rest on the floor between reps whatever the clip
# (besides those whose variation rests at the top: dead bug, heel taps).
NOT_FLOOR_REST = (Exercise.HANGING_LEG_RAISE, Exercise.HOLLOW_HOLD)


class LabelsError(InputFileError):
    """labels.json is missing, unreadable, or a clip's labels are malformed."""


@dataclass(frozen=True)
class LabelledRep:
    """One counted rep as labelled.

    ``bottom_s``: the time flatback reports as the rep's ``bottom_s``, s: the labelled
    ``bottom_s``; where the labeller gave only start, turn and end, the end for a lift
    that rests on the floor (DESIGN.md: a floor rep's bottom is the end of its lowering;
    its turn is the top) and the turn otherwise (a dead bug's extension, a hanging
    raise's top); ``min_leg_angle_deg`` / ``max_leg_angle_deg``: degrees or
    None; ``lower_back_lifts``: True, False or None (not seen); ``descent_s``: the
    labelled lowering time ``descent_end_s - descent_start_s``, s, or None.
    """

    bottom_s: float
    min_leg_angle_deg: float | None = None
    max_leg_angle_deg: float | None = None
    lower_back_lifts: bool | None = None
    descent_s: float | None = None


@dataclass(frozen=True)
class ClipLabel:
    """The labels of one clip that scoring uses."""

    clip: str
    exercise: str
    rep_count: int
    rep_count_uncertainty: int = 0
    reps: tuple[LabelledRep, ...] = ()
    rendered: bool = False
    exclude_from: tuple[str, ...] = ()

    @property
    def is_leg_lift(self) -> bool:
        """False for the negatives: their reps are not leg-lift reps and are not scored."""
        return self.exercise != NOT_LEG_LIFT


def load_labels(folder: str | Path) -> tuple[ClipLabel, ...]:
    """Read ``folder/labels.json`` and check that every labelled clip is there.

    Raises :class:`LabelsError` with one line naming the problem.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LabelsError(f"{folder} is not a folder: give the folder that holds the clips and {LABELS_FILE}.")
    path = folder / LABELS_FILE
    if not path.is_file():
        raise LabelsError(f"No {LABELS_FILE} in {folder}: write one in the format of ../shared/clips/labels.json.")
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LabelsError(f"Cannot read {path}: {e}") from None
    labels = parse_labels(raw, source=str(path))
    missing = [lab.clip for lab in labels if not (folder / lab.clip).is_file()]
    if missing:
        raise LabelsError(f"{path} labels clip(s) not in {folder}: {', '.join(missing)}.")
    return labels


def parse_labels(raw: object, source: str = LABELS_FILE) -> tuple[ClipLabel, ...]:
    """Labels from the decoded JSON (a list of clip objects); raises :class:`LabelsError`."""
    if not isinstance(raw, list) or not raw:
        raise LabelsError(f"{source} must be a non-empty JSON list of clips, got {type(raw).__name__}.")
    labels = tuple(_parse_clip(c, k, source) for k, c in enumerate(raw))
    seen: set[str] = set()
    for lab in labels:
        if lab.clip in seen:
            raise LabelsError(f"{source}: clip {lab.clip!r} is labelled twice.")
        seen.add(lab.clip)
    return labels


def _parse_clip(c: object, k: int, source: str) -> ClipLabel:
    if not isinstance(c, dict):
        raise LabelsError(f"{source}: entry {k} must be an object, got {type(c).__name__}.")
    name = c.get("clip")
    where = f"{source}: clip {name!r}" if name else f"{source}: entry {k}"
    if not isinstance(name, str) or not name:
        raise LabelsError(f"{where} has no 'clip' file name.")
    exercise = c.get("exercise")
    if not isinstance(exercise, str) or not exercise:
        raise LabelsError(f"{where} has no 'exercise'.")
    count = c.get("rep_count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise LabelsError(f"{where}: 'rep_count' must be a whole number >= 0, got {count!r}.")
    reps = c.get("reps", [])
    if not isinstance(reps, list):
        raise LabelsError(f"{where}: 'reps' must be a list, got {type(reps).__name__}.")
    uncertainty = c.get("rep_count_uncertainty") or 0
    if not isinstance(uncertainty, int) or uncertainty < 0:
        raise LabelsError(f"{where}: 'rep_count_uncertainty' must be a whole number >= 0, got {uncertainty!r}.")
    return ClipLabel(
        clip=name,
        exercise=exercise,
        rep_count=count,
        rep_count_uncertainty=uncertainty,
        reps=tuple(r for j, rep in enumerate(reps)
                   if (r := _parse_rep(rep, f"{where} rep {j + 1}", _rests_on_floor(c))) is not None),
        rendered=bool(c.get("rendered", False)),
        exclude_from=tuple(c.get("exclude_from") or ()),
    )


def _rests_on_floor(clip: dict) -> bool:
    """The clip's reps rest on the floor: its ``rep_rest``, else its exercise's rest (a lying
    lift whose rest flatback chooses from the clip rests on the floor unless it shows the
    top-rest protocol, which its label would say)."""
    if clip.get("rep_rest") is not None:
        return clip.get("rep_rest") == "floor"
    try:
        exercise = Exercise(str(clip.get("exercise")))
    except ValueError:  # not an exercise flatback knows: nothing to match
        return False
    if exercise is Exercise.NOT_LEG_LIFT or exercise in NOT_FLOOR_REST:
        return False
    return variation_for(exercise).rest in (Rest.FLOOR, None)


def _parse_rep(rep: object, where: str, floor_rest: bool) -> LabelledRep | None:
    """One rep; None when it has no time to match (no ``bottom_s``, ``turn_s`` or, for a
    floor rep, ``end_s``)."""
    if not isinstance(rep, dict):
        raise LabelsError(f"{where} must be an object.")
    t = rep.get("bottom_s")
    if t is None and floor_rest:
        t = rep.get("end_s")
    if t is None:
        t = rep.get("turn_s")
    if t is None:
        return None
    lifts = rep.get("lower_back_lifts")
    if lifts is not None and not isinstance(lifts, bool):
        raise LabelsError(f"{where}: 'lower_back_lifts' must be true, false or null, got {lifts!r}.")
    start, end = rep.get("descent_start_s"), rep.get("descent_end_s")
    descent = None
    if start is not None and end is not None:
        descent = _number(end, where, "descent_end_s") - _number(start, where, "descent_start_s")
        if descent < 0:
            raise LabelsError(f"{where}: descent_end_s {end} is before descent_start_s {start}.")
    return LabelledRep(
        bottom_s=_number(t, where, "bottom_s"),
        min_leg_angle_deg=_optional_number(rep.get("min_leg_angle_deg"), where, "min_leg_angle_deg"),
        max_leg_angle_deg=_optional_number(rep.get("max_leg_angle_deg"), where, "max_leg_angle_deg"),
        lower_back_lifts=lifts,
        descent_s=descent,
    )


def _number(v: object, where: str, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise LabelsError(f"{where}: '{name}' must be a number, got {v!r}.")
    return float(v)


def _optional_number(v: object, where: str, name: str) -> float | None:
    return None if v is None else _number(v, where, name)
