"""report.html: one self-contained page (no network) people would rather look at.

A summary card (end range, quality reps, the top cue), interactive plots of the leg
angle and the lumbar clearance with reps, phases, back-lift onsets and the end range
marked, a per-rep table, key frames, and the annotated video; clicking a rep (in the
table, on a key frame or on a plot) plays the video from there. Plotly's JavaScript is
inlined, the video and images are embedded as data URIs.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import cv2
import numpy as np

from flatback.analyse.results import BackState
from flatback.outputs.report import Report
from flatback.pipeline import Analysis

PHASE_COLOURS = {"ascent": "rgba(120,190,100,0.18)", "top": "rgba(160,160,160,0.12)",
                 "descent": "rgba(245,150,60,0.18)", "bottom": "rgba(90,130,220,0.16)"}
BACK_COLOURS = {"flat": "#2e9e4f", "lifted": "#d62728", "occluded": "#9a9a9a", "unknown": "#cccccc"}
MAX_EMBEDDED_VIDEO_BYTES = 60_000_000  # larger videos are linked (annotated.mp4 beside the page)


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _figures(analysis: Analysis, report: Report) -> tuple[str, str]:
    """The two plots as HTML fragments (plotly.js not included)."""
    import plotly.graph_objects as go

    m = analysis.measured
    assert m is not None
    s = m.signals
    t = s.t_s.tolist()
    shapes = []
    for rep in analysis.reps:  # the counted reps, as the table and report.json count them
        for name, a, b in rep.timing.phases:
            shapes.append(dict(type="rect", xref="x", yref="paper", x0=a, x1=b, y0=0, y1=1,
                               fillcolor=PHASE_COLOURS[name], line_width=0, layer="below"))
    for p in report.partial_reps:
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=p.start_s, x1=p.end_s, y0=0, y1=1,
                           fillcolor="rgba(0,0,0,0.05)", line=dict(width=1, dash="dot", color="#bbb"), layer="below"))
    legs = go.Figure()
    legs.add_trace(go.Scatter(x=t, y=_nan_none(s.leg_angle_raw_deg), name="leg angle, raw", line=dict(color="#aaa", width=1)))
    legs.add_trace(go.Scatter(x=t, y=_nan_none(s.leg_angle_deg), name="leg angle", line=dict(color="#111", width=2.5)))
    bottoms = [r.bottom_s for r in report.reps]
    legs.add_trace(go.Scatter(
        x=bottoms, y=[r.min_leg_angle_deg for r in report.reps], mode="markers+text", name="lowest point",
        text=[f"rep {r.index}" for r in report.reps], textposition="bottom center",
        marker=dict(color="#3a6fd8", size=9), customdata=[r.start_s for r in report.reps],
    ))
    onsets = [r for r in report.reps if r.back_lift.onset_s is not None]
    if onsets:
        legs.add_trace(go.Scatter(
            x=[r.back_lift.onset_s for r in onsets], y=[r.back_lift.onset_leg_angle_deg for r in onsets],
            mode="markers+text", name="back lifts", marker=dict(color=BACK_COLOURS["lifted"], size=12, symbol="x"),
            text=[f"back lifts at {r.back_lift.onset_leg_angle_deg:.0f} deg" for r in onsets], textposition="top right",
            customdata=[r.back_lift.onset_s for r in onsets],
        ))
    if report.end_range_deg is not None:
        shapes.append(dict(type="line", xref="paper", x0=0, x1=1, y0=report.end_range_deg, y1=report.end_range_deg,
                           line=dict(color=BACK_COLOURS["lifted"], dash="dash", width=1.5)))
        legs.add_annotation(xref="paper", x=1, y=report.end_range_deg, text=f"end range {report.end_range_deg:.0f} deg",
                            showarrow=False, xanchor="right", yanchor="bottom", font=dict(color=BACK_COLOURS["lifted"]))
    legs.update_layout(shapes=shapes, height=340, margin=dict(l=50, r=20, t=30, b=40), title="Leg angle (0 floor, 90 vertical)",
                       xaxis_title="time, s", yaxis_title="deg", legend=dict(orientation="h", y=-0.25), template="plotly_white")

    back = go.Figure()
    clearance = m.back.clearance_ratio
    for state, colour in BACK_COLOURS.items():
        y = np.where(m.back.state == BackState(state), clearance, np.nan)
        if np.isfinite(y).any():
            back.add_trace(go.Scatter(x=t, y=_nan_none(y), name=state, mode="lines", line=dict(color=colour, width=3)))
    hidden = np.isin(m.back.state, [BackState.OCCLUDED, BackState.UNKNOWN])
    if hidden.any():
        back.add_trace(go.Scatter(x=t, y=[0.0 if h else None for h in hidden], name="back hidden", mode="lines",
                                  line=dict(color=BACK_COLOURS["occluded"], width=8), opacity=0.5))
    base = report.back_baseline
    bshapes = [dict(shape, yref="paper") for shape in shapes if shape["type"] == "rect"]
    if base is not None:
        for level, colour in ((base.clearance_ratio, BACK_COLOURS["flat"]),
                              (base.clearance_ratio + base.margin_ratio, BACK_COLOURS["lifted"])):
            bshapes.append(dict(type="line", xref="paper", x0=0, x1=1, y0=level, y1=level,
                                line=dict(color=colour, dash="dot", width=1)))
    for r in onsets:
        bshapes.append(dict(type="line", xref="x", yref="paper", x0=r.back_lift.onset_s, x1=r.back_lift.onset_s, y0=0, y1=1,
                            line=dict(color=BACK_COLOURS["lifted"], width=1.5)))
    back.update_layout(shapes=bshapes, height=260, margin=dict(l=50, r=20, t=30, b=40),
                       title="Lumbar clearance (gap under the lower back / torso length)", xaxis_title="time, s",
                       yaxis=dict(title="torso lengths", rangemode="tozero"), legend=dict(orientation="h", y=-0.35),
                       template="plotly_white")
    cfg = {"displaylogo": False, "responsive": True}
    return (legs.to_html(full_html=False, include_plotlyjs=False, div_id="plot-legs", config=cfg),
            back.to_html(full_html=False, include_plotlyjs=False, div_id="plot-back", config=cfg))


def _nan_none(x: np.ndarray) -> list:
    return [None if not np.isfinite(v) else float(v) for v in x]


def _jpeg_data_uri(rgb: np.ndarray, max_side: int = 480) -> str:
    h, w = rgb.shape[:2]
    k = min(1.0, max_side / max(h, w))
    img = cv2.resize(rgb, (max(int(w * k), 1), max(int(h * k), 1))) if k < 1 else rgb
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()


def _fmt(x, spec=".1f", none="-") -> str:
    return none if x is None else format(x, spec)


def _rep_rows(report: Report) -> str:
    rows = []
    for r in report.reps:
        b = r.back_lift
        back = b.state + (f" at {b.onset_leg_angle_deg:.0f} deg" if b.onset_leg_angle_deg is not None else "")
        rows.append(
            f'<tr class="rep" data-t="{r.start_s:.3f}" tabindex="0" title="play rep {r.index}">'
            f"<td>{r.index}</td><td>{r.start_s:.1f}</td><td>{r.descent_s:.1f}</td><td>{r.pause_bottom_s:.1f}</td>"
            f"<td>{r.ascent_s:.1f}</td><td>{r.pause_top_s:.1f}</td>"
            f"<td>{r.min_leg_angle_deg:.0f}-{r.max_leg_angle_deg:.0f}</td>"
            f'<td style="color:{BACK_COLOURS[b.state]}">{html.escape(back)}</td><td>{_fmt(r.end_range_deg, ".0f")}</td>'
            f"<td>{html.escape(', '.join(r.momentum_reasons) or 'no')}</td>"
            f"<td>{html.escape(', '.join(r.faults) or '-')}</td><td>{'yes' if r.quality_rep else 'no'}</td></tr>"
        )
    return "\n".join(rows)


def render_html(
    analysis: Analysis, report: Report, video_src: str | None, key_frames: dict[str, tuple[float, np.ndarray]],
) -> str:
    """The page as a string. ``video_src``: a data URI or relative path (None: no video);
    ``key_frames``: {caption: (t_s, RGB crop)}."""
    name = html.escape(Path(report.source.path).name)
    if analysis.measured is None:
        return _not_measured_page(name, report)
    legs_plot, back_plot = _figures(analysis, report)
    if report.end_range_deg is not None:
        bound = "at or below " if report.end_range_at_or_below else ""
        end_range = f"{bound}{report.end_range_deg:.0f}&deg;"
    else:
        end_range = "not measured"
    top_cue = report.cues[0].text if report.cues else "No fault seen: keep it up."
    cues = "".join(
        f"<li><b>{html.escape(c.text)}</b> <span class=muted>({html.escape(c.evidence)})</span></li>" for c in report.cues
    )
    warnings = "".join(f"<li>{html.escape(n.text)}</li>" for n in report.notes)
    frames = "".join(
        f'<figure class="key" data-t="{t:.3f}" title="play from here"><img alt="{html.escape(cap)}" src="{_jpeg_data_uri(img)}">'
        f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        for cap, (t, img) in key_frames.items()
    )
    video = (
        f'<video id="video" controls muted playsinline preload="auto" src="{video_src}"></video>'
        if video_src else '<p class="muted">No annotated video (run without --no-video on a video file).</p>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flatback report: {name}</title>
<style>
body {{ font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 0; background: #f6f7f9; color: #1d1f23; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 16px; }}
h1 {{ font-size: 1.4rem; margin: 8px 0 16px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.card {{ background: white; border-radius: 10px; padding: 14px 18px; box-shadow: 0 1px 3px rgba(0,0,0,.12); flex: 1 1 220px; }}
.card .big {{ font-size: 2rem; font-weight: 700; }}
.card.cue {{ flex: 2 1 380px; border-left: 6px solid #d62728; }}
section {{ background: white; border-radius: 10px; padding: 12px 16px; margin: 14px 0; box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
table {{ border-collapse: collapse; width: 100%; font-size: .92rem; }}
th, td {{ padding: 6px 8px; border-bottom: 1px solid #e4e6ea; text-align: left; }}
tr.rep {{ cursor: pointer; }} tr.rep:hover, tr.rep:focus {{ background: #eef3ff; }}
.muted {{ color: #6b7280; font-size: .9em; }}
.keys {{ display: flex; flex-wrap: wrap; gap: 10px; }}
figure.key {{ margin: 0; cursor: pointer; max-width: 240px; }} figure.key img {{ width: 100%; border-radius: 6px; }}
figcaption {{ font-size: .85rem; }}
video {{ width: 100%; max-height: 70vh; background: black; border-radius: 8px; }}
</style>
<script>{_plotly_js()}</script>
</head>
<body><main>
<h1>flatback report: {name}</h1>
<div class="cards">
 <div class="card"><div class="muted">End range (lower is better)</div><div class="big" id="end-range">{end_range}</div>
  <div class="muted">{html.escape(report.end_range_text)}</div></div>
 <div class="card"><div class="muted">Quality reps</div><div class="big" id="quality">{report.quality_rep_count} / {report.rep_count}</div>
  <div class="muted">{len(report.partial_reps)} partial rep(s) not counted</div></div>
 <div class="card cue"><div class="muted">Fix this first</div><div style="font-size:1.15rem" id="top-cue">{html.escape(top_cue)}</div></div>
</div>
<section><h2>Video</h2>{video}</section>
<section>{legs_plot}{back_plot}</section>
<section><h2>Reps</h2><p class="muted">Click a rep to play it. Times in s, angles in degrees.</p>
<table id="reps"><thead><tr><th>rep</th><th>start</th><th>down</th><th>pause bottom</th><th>up</th><th>pause top</th>
<th>range</th><th>lower back</th><th>end range</th><th>momentum</th><th>faults</th><th>quality</th></tr></thead>
<tbody>{_rep_rows(report)}</tbody></table></section>
<section><h2>Key frames</h2><div class="keys">{frames or '<p class="muted">No video frames.</p>'}</div></section>
<section><h2>Cues</h2><ol>{cues or '<li>None: every rep was a quality rep.</li>'}</ol>
{f'<h3>Notes</h3><ul>{warnings}</ul>' if warnings else ''}
<p class="muted">flatback {html.escape(report.provenance.flatback_version if report.provenance else '')} &middot;
{report.source.width}x{report.source.height}, {report.source.duration_s:.1f} s &middot; analysed on this computer, nothing was uploaded.</p></section>
</main>
<script>
const video = document.getElementById("video");
function seek(t) {{
  if (!video) return;
  video.currentTime = Math.max(0, t - 0.3);
  video.play().catch(() => {{}});
  video.scrollIntoView({{behavior: "smooth", block: "center"}});
}}
document.querySelectorAll("[data-t]").forEach(el => {{
  el.addEventListener("click", () => seek(parseFloat(el.dataset.t)));
  el.addEventListener("keydown", e => {{ if (e.key === "Enter") seek(parseFloat(el.dataset.t)); }});
}});
for (const id of ["plot-legs", "plot-back"]) {{
  const el = document.getElementById(id);
  if (el && el.on) el.on("plotly_click", ev => seek(ev.points[0].customdata ?? ev.points[0].x));
}}
if (video) {{
  video.addEventListener("loadeddata", () => {{ document.body.dataset.videoReady = "1"; }});
  if (video.readyState >= 2) document.body.dataset.videoReady = "1";
}}
</script>
</body></html>
"""


def _not_measured_page(name: str, report) -> str:
    notes = "".join(f"<li>{html.escape(n.text)}</li>" for n in report.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>flatback report: {name}</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 800px; margin: 24px auto; padding: 0 16px; }}</style></head>
<body><h1>flatback report: {name}</h1>
<p><b>Exercise:</b> {html.escape(report.exercise.name.replace("_", " "))} (confidence {report.exercise.confidence:.2f})</p>
<ul>{notes}</ul></body></html>
"""


def write_html_report(
    analysis: Analysis, report: Report, path: Path, video_file: Path | None,
    key_frames: dict[str, tuple[float, np.ndarray]],
) -> None:
    """Write report.html; the annotated video is embedded when small enough, else linked."""
    src = None
    if video_file is not None and video_file.exists():
        if video_file.stat().st_size <= MAX_EMBEDDED_VIDEO_BYTES:
            src = "data:video/mp4;base64," + base64.b64encode(video_file.read_bytes()).decode()
        else:
            src = video_file.name
    path.write_text(render_html(analysis, report, src, key_frames), encoding="utf-8")
