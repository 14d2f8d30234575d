"""Pages rendered on the server: the history and plan page, with its plot as inline SVG."""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

from flatback.coach.plan import Plan, SessionSummary

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 760, 260, 50, 50, 20, 50  # the plot's box, px


def progress_svg(sessions: list[SessionSummary]) -> str:
    """End range (line, left axis, deg; lower is better) and quality reps (bars, right
    axis) per session, as an inline SVG (nothing to load)."""
    n = len(sessions)
    if n == 0:
        return '<p class="muted">No sessions yet.</p>'
    iw, ih = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    xs = [PAD_L + iw * (i + 0.5) / n for i in range(n)]
    ranges = [s.end_range_deg for s in sessions]
    finite = [r for r in ranges if r is not None and math.isfinite(r)]
    lo, hi = (min(finite + [30.0]) - 5, max(finite + [90.0]) + 5) if finite else (0.0, 90.0)
    qmax = 4 * max(math.ceil(max(s.quality_reps for s in sessions) / 4), 1)  # whole ticks in 4 steps

    def y_deg(v: float) -> float:
        return PAD_T + ih * (hi - v) / (hi - lo)

    def y_q(v: float) -> float:
        return PAD_T + ih * (1 - v / qmax)

    out = [f'<svg id="progress" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
           'aria-label="End range and quality reps per session">']
    bw = max(min(iw / n * 0.6, 40), 2)
    for x, s in zip(xs, sessions):
        y = y_q(s.quality_reps)
        out.append(f'<rect class="bar" x="{x - bw / 2:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{PAD_T + ih - y:.1f}">'
                   f'<title>{s.quality_reps} quality reps</title></rect>')
    pts = [(x, y_deg(r)) for x, r in zip(xs, ranges) if r is not None and math.isfinite(r)]
    if len(pts) > 1:
        out.append('<polyline class="line" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
    for (x, y), r in zip(pts, [r for r in ranges if r is not None and math.isfinite(r)]):
        out.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="4"><title>end range {r:.0f} deg</title></circle>')
    for k in range(5):  # axes' ticks
        v = lo + (hi - lo) * k / 4
        q = qmax * k / 4
        out.append(f'<text class="tick" x="{PAD_L - 6}" y="{y_deg(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
        out.append(f'<text class="tick" x="{W - PAD_R + 6}" y="{y_q(q) + 4:.1f}">{q:.0f}</text>')
    step = max(1, n // 8)
    for i in range(0, n, step):
        out.append(f'<text class="tick" x="{xs[i]:.1f}" y="{H - PAD_B + 16}" text-anchor="middle">'
                   f'{sessions[i].started_at:%d %b}</text>')
    out.append(f'<text class="axis" x="{PAD_L}" y="{H - 8}">end range, deg (line, left; lower is better) - '
               'quality reps (bars, right)</text>')
    out.append(f'<line class="frame" x1="{PAD_L}" y1="{PAD_T + ih}" x2="{W - PAD_R}" y2="{PAD_T + ih}"/></svg>')
    return "\n".join(out)


def saved_sets(sets_dir: Path, reports_dir: Path) -> list[dict[str, Any]]:
    """The report folders on disk, newest first: live sets (their set.json) and uploads."""
    found = []
    for kind, folder in (("live", sets_dir), ("upload", reports_dir)):
        if not folder.is_dir():
            continue
        for d in folder.iterdir():
            report = d / "report.json"
            if not report.is_file():
                continue
            try:
                data = json.loads(report.read_text())
                meta = json.loads((d / "set.json").read_text()) if (d / "set.json").is_file() else {}
            except (OSError, ValueError):
                continue
            found.append({
                "id": d.name, "kind": kind, "mode": meta.get("mode", "upload"),
                "rep_count": data.get("rep_count"), "quality_rep_count": data.get("quality_rep_count"),
                "exercise": (data.get("exercise") or {}).get("name", "unknown"),
                "end_range_deg": data.get("end_range_deg"),
                "url": f"/{'reports' if kind == 'upload' else 'sets'}/{d.name}/report.html",
            })
    return sorted(found, key=lambda s: s["id"], reverse=True)


def _fmt(x: float | None, spec: str = ".0f") -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def history_page(sessions: list[SessionSummary], plan: Plan, sets: list[dict[str, Any]], log_url: str) -> str:
    rows = "\n".join(
        f"<tr><td>{s.started_at:%Y-%m-%d %H:%M}</td><td>{escape(s.exercise.replace('_', ' '))}</td><td>{s.sets}</td>"
        f"<td>{s.reps}</td><td>{s.quality_reps}</td><td>{_fmt(s.end_range_deg)}</td>"
        f"<td>{s.back_lifted_fraction:.0%}</td><td>{_fmt(s.median_descent_s, '.1f')}</td>"
        f"<td>{'pop' if s.pop else 'pain' if s.pain else '-'}</td></tr>"
        for s in reversed(sessions)
    ) or '<tr><td colspan="9" class="muted">The training log is empty: do a live set, or upload a video and tick "add to my log".</td></tr>'
    set_rows = "\n".join(
        f'<tr class="saved-set" data-id="{escape(s["id"])}"><td><a href="{escape(s["url"])}">{escape(s["id"])}</a></td>'
        f'<td>{"upload" if s["kind"] == "upload" else "live " + escape(str(s["mode"]))}</td><td>{escape(str(s["exercise"]).replace("_", " "))}</td>'
        f'<td class="reps">{s["rep_count"]}</td><td>{s["quality_rep_count"]}</td><td>{_fmt(s["end_range_deg"])}</td></tr>'
        for s in sets
    ) or '<tr><td colspan="6" class="muted">No reports yet.</td></tr>'
    plan_lines = "".join(f"<li>{escape(r)}</li>" for r in plan.reasons)
    next_text = escape(plan.text().splitlines()[1]) if len(plan.text().splitlines()) > 1 else ""
    lower = f"<p>Lower only to {plan.lower_to_deg:.0f} deg, where your back stays flat.</p>" if plan.lower_to_deg else ""
    body = f"""
<h1>History and plan</h1>
<section class="card" id="plan"><h2>Next session: {plan.date:%A %d %B}</h2>
<p class="big">{next_text}</p>{lower}<ul>{plan_lines}</ul>
<p class="muted">At least 48 h after the last session, twice a week.</p></section>
<section class="card"><h2>Progress</h2>{progress_svg(sessions)}</section>
<section class="card"><h2>Sessions</h2>
<table id="sessions"><thead><tr><th>date</th><th>exercise</th><th>sets</th><th>reps</th><th>quality</th>
<th>end range deg</th><th>back lifted</th><th>down s</th><th>pain/pop</th></tr></thead><tbody>{rows}</tbody></table>
<p class="muted">Training log: {escape(log_url)}</p></section>
<section class="card"><h2>Reports</h2>
<table id="sets"><thead><tr><th>report</th><th>from</th><th>exercise</th><th>reps</th><th>quality</th><th>end range deg</th></tr></thead>
<tbody>{set_rows}</tbody></table></section>"""
    return page("History - flatback", body, "history")


NAV = (("live", "/live", "Live coaching"), ("upload", "/upload", "Analyse a video"), ("history", "/history", "History and plan"))


def page(title: str, body: str, current: str, scripts: tuple[str, ...] = ()) -> str:
    """A page of the app: its nav bar, the shared style sheet, ``scripts`` from /static."""
    nav = "".join(f'<a href="{href}"{" class=current" if key == current else ""}>{label}</a>' for key, href, label in NAV)
    tags = "".join(f'<script src="/static/{s}"></script>' for s in scripts)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>
<link rel="stylesheet" href="/static/style.css"></head><body>
<nav><span class="brand">flatback</span>{nav}</nav><main>{body}</main>{tags}</body></html>"""


__all__ = ["history_page", "page", "progress_svg", "saved_sets"]
