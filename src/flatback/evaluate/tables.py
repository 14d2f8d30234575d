"""The eval's results as rich tables (printed by ``cli.py``) and as JSON.

Headline numbers are over filmed clips only; clips labelled ``rendered: true`` (an
animated figure) are summarised in their own row and never enter the headline.
"""

from __future__ import annotations

from dataclasses import asdict

from rich.table import Table

from flatback.evaluate.augment import ORIGINAL
from flatback.evaluate.runner import EvalResult
from flatback.evaluate.score import (
    ANGLE_TOLERANCE_DEG,
    CRASHED,
    LOWERING_TOLERANCE_S,
    MAX_MATCH_S,
    REFUSED,
    ClipScore,
    ErrorStats,
    Summary,
    summarise,
)

JSON_VERSION = 1
OBLIQUE = "oblique25"


def headline_scores(result: EvalResult) -> list[ClipScore]:
    """Filmed clips (not rendered), every transform."""
    return [s for s in result.scores if not s.label.rendered]


def summaries(result: EvalResult) -> dict[str, Summary]:
    """One summary per transform (filmed clips), then ``all`` (the headline), ``all but
    oblique25`` (when it ran: issue #9's leg-angle target leaves the perspective warp out)
    and ``rendered`` (the rendered clips, every transform), when there are any."""
    filmed = headline_scores(result)
    out = {t: summarise([s for s in filmed if s.outcome.transform == t]) for t in result.transforms}
    out["all"] = summarise(filmed)
    if OBLIQUE in result.transforms:  # issue #9 scores leg angles on every transform but this one
        out[f"all but {OBLIQUE}"] = summarise([s for s in filmed if s.outcome.transform != OBLIQUE])
    rendered = [s for s in result.scores if s.label.rendered]
    if rendered:
        out["rendered"] = summarise(rendered)
    return out


# --- tables ---


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}%"


def _frac(k: int, n: int) -> str:
    return "-" if n == 0 else f"{k}/{n} {100 * k / n:.0f}%"


def _err(e: ErrorStats, unit: str) -> str:
    if e.n == 0:
        return "-"
    fmt = ".2f" if unit == "s" else ".0f"
    text = f"{e.median_abs:{fmt}} / {e.max_abs:{fmt}}"
    return text if e.within_pct is None else f"{text} ({e.within_pct:.0f}%)"


def summary_table(result: EvalResult) -> Table:
    """One row per transform, the headline, and the rendered clips."""
    table = Table(
        title="flatback eval: summary (filmed clips; rendered apart)",
        caption=(
            f"reps: rep count on leg-lift clips (negatives excluded), refusals count as wrong; "
            f"errors are |measured - label| median / max over reps matched within {MAX_MATCH_S} s; "
            f"(%) = share within {ANGLE_TOLERANCE_DEG:.0f} deg or {LOWERING_TOLERANCE_S} s; "
            "back: agree/judged, not judged = occluded or unknown"
        ),
    )
    for col in ("transform", "pairs", "refused", "crashed", "reps exact", "reps +-1", "recognised",
                "reps matched", "bottom s", "min deg", "max deg", "lowering s", "back agree", "not judged"):
        table.add_column(col, justify="left" if col == "transform" else "right")
    for name, s in summaries(result).items():
        style = "bold" if name.startswith("all") else "dim" if name == "rendered" else None
        table.add_row(
            "all (headline)" if name == "all" else name, str(s.pairs), str(s.refused),
            f"[red]{s.crashed}[/red]" if s.crashed else "0",
            _frac(s.rep_count_exact, s.rep_count_scored), _frac(s.rep_count_within_one, s.rep_count_scored),
            _frac(s.recognition_right, s.recognition_scored),
            f"{s.reps_matched}/{s.reps_labelled} +{s.reps_extra}",
            _err(s.bottom_time_s, "s"), _err(s.min_leg_angle_deg, "deg"), _err(s.max_leg_angle_deg, "deg"),
            _err(s.lowering_time_s, "s"), _frac(s.back_agree, s.back_agree + s.back_disagree), str(s.back_not_judged),
            style=style,
        )
    return table


def clip_table(result: EvalResult, transform: str = ORIGINAL) -> Table:
    """Per clip under one transform: label vs measured."""
    table = Table(title=f"per clip, {transform}")
    for col in ("clip", "label", "recognised", "reps label", "reps", "partial", "matched",
                "bottom s", "min deg", "max deg", "lowering s", "back", "status"):
        table.add_column(col, justify="left" if col in ("clip", "label", "recognised", "status") else "right")
    for s in result.scores:
        if s.outcome.transform != transform:
            continue
        one = summarise([s])
        lab, m = s.label, s.outcome.measured
        count = "-" if m is None else str(m.rep_count)
        if s.rep_count_scored and m is not None:
            colour = "green" if s.rep_count_exact else "yellow" if s.rep_count_within_one else "red"
            count = f"[{colour}]{count}[/{colour}]"
        table.add_row(
            lab.clip + (" (rendered)" if lab.rendered else ""), lab.exercise,
            s.outcome.predicted if s.recognised else f"[red]{s.outcome.predicted}[/red]",
            f"{lab.rep_count}" + (f"+-{lab.rep_count_uncertainty}" if lab.rep_count_uncertainty else ""),
            count, "-" if m is None else str(m.partial_reps),
            f"{one.reps_matched}/{one.reps_labelled} +{one.reps_extra}" if lab.is_leg_lift else "-",
            _err(one.bottom_time_s, "s"), _err(one.min_leg_angle_deg, "deg"), _err(one.max_leg_angle_deg, "deg"),
            _err(one.lowering_time_s, "s"),
            _frac(one.back_agree, one.back_agree + one.back_disagree) + (f" ({one.back_not_judged} nj)" if one.back_not_judged else ""),
            {"ok": "ok", REFUSED: "[yellow]refused[/yellow]", CRASHED: "[bold red]CRASHED[/bold red]"}[s.outcome.status],
        )
    return table


def matrix_table(result: EvalResult) -> Table:
    """Clip x transform: measured rep count (green exact, yellow within one, red off) and,
    where recognition is wrong, what it said."""
    table = Table(title="rep count and recognition by transform (count; recognised name shown when wrong)")
    table.add_column("clip (label)")
    for t in result.transforms:
        table.add_column(t, justify="right")
    rows: dict[str, dict[str, str]] = {}
    for s in result.scores:
        name = f"{s.label.clip} ({s.label.rep_count}{'+-' + str(s.label.rep_count_uncertainty) if s.label.rep_count_uncertainty else ''})"
        rows.setdefault(name, {})[s.outcome.transform] = _cell(s)
    for name, cells in rows.items():
        table.add_row(name, *(cells.get(t, "") for t in result.transforms))
    return table


def _cell(s: ClipScore) -> str:
    if s.outcome.status == REFUSED:
        return "[yellow]refused[/yellow]"
    if s.outcome.status == CRASHED:
        return "[bold red]CRASH[/bold red]"
    text = str(s.counted)
    if s.rep_count_scored:
        colour = "green" if s.rep_count_exact else "yellow" if s.rep_count_within_one else "red"
        text = f"[{colour}]{text}[/{colour}]"
    if not s.recognised:
        text += f" [red]{s.outcome.predicted}[/red]"
    return text


def confusion_table(result: EvalResult) -> Table:
    """Labelled exercise (rows) x recognised (columns), over the headline pairs."""
    confusion = summaries(result)["all"].confusion
    predicted = sorted({p for row in confusion.values() for p in row})
    table = Table(title="recognition: label (rows) x report.exercise.name (columns), filmed clips, all transforms")
    table.add_column("label")
    for p in predicted:
        table.add_column(p, justify="right")
    for lab in sorted(confusion):
        row = confusion[lab]
        cells = []
        for p in predicted:
            n = row.get(p, 0)
            cells.append("." if n == 0 else f"[green]{n}[/green]" if p == lab else f"[red]{n}[/red]")
        table.add_row(lab, *cells)
    return table


def problems_table(result: EvalResult) -> Table | None:
    """Every refusal (its message) and crash (loudly); None when there were none."""
    rows = [s for s in result.scores if s.outcome.status != "ok"]
    if not rows:
        return None
    table = Table(title="refused and crashed")
    for col in ("clip", "transform", "what", "message"):
        table.add_column(col)
    for s in sorted(rows, key=lambda s: (s.outcome.status != CRASHED, s.label.clip)):
        crashed = s.outcome.status == CRASHED
        table.add_row(
            s.label.clip, s.outcome.transform,
            "[bold red]CRASH[/bold red]" if crashed else "refused",
            s.outcome.crashed if crashed else s.outcome.refused,
        )
    return table


def all_tables(result: EvalResult) -> list[Table]:
    """The tables ``flatback eval`` prints, in order."""
    out = [clip_table(result)]
    if len(result.transforms) > 1:
        out.append(matrix_table(result))
    out += [confusion_table(result), summary_table(result)]
    problems = problems_table(result)
    return out + ([problems] if problems is not None else [])


# --- JSON ---


def result_json(result: EvalResult) -> dict:
    """Everything, as plain JSON types: summaries, per-pair rows and the run's settings."""
    from flatback import __version__

    return {
        "json_version": JSON_VERSION,
        "flatback_version": __version__,
        "folder": result.folder,
        "transforms": list(result.transforms),
        "pose_key": result.pose_key,
        "analysis_key": result.analysis_key,
        "cache": result.cache,
        "tracked_this_run": result.tracked,
        "rules": {
            "max_match_s": MAX_MATCH_S,
            "angle_tolerance_deg": ANGLE_TOLERANCE_DEG,
            "lowering_tolerance_s": LOWERING_TOLERANCE_S,
            "headline": "filmed clips (rendered apart), every transform; rep count on leg-lift clips only",
        },
        "summary": {name: _summary_json(s) for name, s in summaries(result).items()},
        "pairs": [_pair_json(s) for s in result.scores],
    }


def _summary_json(s: Summary) -> dict:
    d = asdict(s)
    d.update(
        rep_count_exact_pct=s.rep_count_exact_pct,
        rep_count_within_one_pct=s.rep_count_within_one_pct,
        recognition_pct=s.recognition_pct,
        back_agreement_pct=s.back_agreement_pct,
    )
    return d


def _pair_json(s: ClipScore) -> dict:
    m = s.outcome.measured
    return {
        "clip": s.label.clip,
        "transform": s.outcome.transform,
        "rendered": s.label.rendered,
        "status": s.outcome.status,
        "message": s.outcome.refused or s.outcome.crashed,
        "label": {
            "exercise": s.label.exercise,
            "rep_count": s.label.rep_count,
            "rep_count_uncertainty": s.label.rep_count_uncertainty,
        },
        "measured": None if m is None else {
            "exercise": m.exercise, "rep_count": m.rep_count, "partial_reps": m.partial_reps,
        },
        "rep_count_scored": s.rep_count_scored,
        "rep_count_exact": s.rep_count_exact,
        "rep_count_within_one": s.rep_count_within_one,
        "recognised": s.recognised,
        "extra_reps": s.extra_reps,
        "reps": [
            {
                "label": asdict(r.label),
                "measured": None if r.rep is None else asdict(r.rep),
                "bottom_err_s": r.bottom_err_s,
                "min_angle_err_deg": r.min_angle_err_deg,
                "max_angle_err_deg": r.max_angle_err_deg,
                "lowering_err_s": r.lowering_err_s,
                "back_agrees": r.back_agrees,
                "back_judged": r.back_judged,
            }
            for r in s.matches
        ],
    }
