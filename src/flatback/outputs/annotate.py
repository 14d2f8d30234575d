"""The annotated video: what flatback measured, drawn on the video's frames.

One annotator per visual, all with ``annotate(canvas, overlay)``; each draws in place on a
:class:`Canvas`, the frame in the encoder's own format (I420: the decoder gives it, the
encoder takes it, no RGB in between). ``overlays(analysis)`` gives the per-frame state they
draw; ``write_annotated_video`` decodes the source again, draws, and encodes H.264 (yuv420p,
plays in browsers) with the source's own timestamps (every frame, or every 2nd of a 24-30 fps
video: ``output.video_max_fps``), so the result lasts as long as the source.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np

from flatback.analyse.results import BackState, Phase
from flatback.io.source import VideoFile, prefetch
from flatback.measure.clearance import lumbar_span
from flatback.outputs.report import Report
from flatback.pipeline import Analysis
from flatback.types import Landmark as L

# RGB colours
GREEN, RED, GREY, WHITE, YELLOW, BLUE = (46, 170, 80), (220, 40, 40), (150, 150, 150), (255, 255, 255), (250, 200, 30), (40, 200, 255)
BACK_COLOURS = {BackState.FLAT: GREEN, BackState.LIFTED: RED, BackState.OCCLUDED: GREY, BackState.UNKNOWN: GREY}
BONES = [
    (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), (L.LEFT_HIP, L.RIGHT_HIP),
    (L.LEFT_SHOULDER, L.LEFT_HIP), (L.RIGHT_SHOULDER, L.RIGHT_HIP),
    (L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST),
    (L.LEFT_HIP, L.LEFT_KNEE), (L.LEFT_KNEE, L.LEFT_ANKLE), (L.LEFT_ANKLE, L.LEFT_FOOT_INDEX),
    (L.RIGHT_HIP, L.RIGHT_KNEE), (L.RIGHT_KNEE, L.RIGHT_ANKLE), (L.RIGHT_ANKLE, L.RIGHT_FOOT_INDEX),
    (L.LEFT_SHOULDER, L.LEFT_EAR), (L.RIGHT_SHOULDER, L.RIGHT_EAR),
]
PHASE_WORDS = {Phase.DESCENT: "down", Phase.ASCENT: "up", Phase.TOP: "hold top", Phase.BOTTOM: "hold bottom",
               Phase.HOLD: "hold"}


@dataclass(frozen=True)
class Overlay:
    """What one frame shows. Coordinates in image px; angles in deg."""

    t_s: float
    xy_px: np.ndarray  # (33, 2)
    visibility: np.ndarray  # (33,)
    hip_px: np.ndarray  # (2,)
    shoulder_px: np.ndarray  # (2,)
    feet_dir: np.ndarray  # unit vector along the floor towards the feet
    up_dir: np.ndarray
    floor_line: tuple[float, float] | None  # (slope, intercept) of the frame's floor tangent
    leg_angle_deg: float
    back_state: BackState
    clearance_ratio: float
    reps_done: int
    quality_done: int
    rep_total: int
    phase: Phase
    phase_elapsed_s: float
    tempo_count: int  # during a lowering: the count said (1, 2, 3...), else 0
    cue: str
    scale: float  # text and line size for this video


def overlays(analysis: Analysis, width: int, height: int) -> list[Overlay]:
    """The per-frame overlay state of an analysis, from its per-frame table."""
    m = analysis.measured
    assert m is not None, "only a measured clip is drawn"
    g, s, table = m.geometry, m.signals, m.frames
    # text about 3 % of the frame's short side: readable when a phone shows the video full width
    scale = max(1.25 * min(width, height) / 720.0, 0.5)
    out = []
    for i in range(len(table)):
        line = m.clearance.floor_line[i]
        out.append(
            Overlay(
                t_s=float(table.t_s[i]),
                xy_px=g.xy_px[i],
                visibility=analysis.track.visibility[i],
                hip_px=g.hip_px[i],
                shoulder_px=g.shoulder_px[i],
                feet_dir=g.floor.feet_dir,
                up_dir=g.floor.up_dir,
                floor_line=None if not np.isfinite(line).all() else (float(line[0]), float(line[1])),
                leg_angle_deg=float(s.leg_angle_deg[i]),
                back_state=table.back_state[i],
                clearance_ratio=float(m.back.clearance_ratio[i]),
                reps_done=int(table.reps_done[i]),
                quality_done=int(table.quality_done[i]),
                rep_total=analysis.rep_count,
                phase=table.phase[i],
                phase_elapsed_s=float(table.t_s[i] - table.phase_start_s[i]),
                tempo_count=int(table.tempo_count[i]),
                cue=str(table.cue[i]),
                scale=scale,
            )
        )
    return out


def _lerp(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """``a`` to ``b`` by ``w`` (0-1) where both are finite, else ``a``."""
    both = np.isfinite(a) & np.isfinite(b)
    return np.where(both, a + w * (b - a), a)


def overlay_at(states: list[Overlay], t_s: np.ndarray, t: float) -> Overlay:
    """The overlay of a video frame at ``t`` s from the overlays of the analysed frames at ``t_s``.

    The pose may have been taken at a lower rate than the video (``pose.max_rate_hz``): a frame
    between two analysed ones draws the body, hip, shoulders and leg angle interpolated in time
    (where both neighbours have them) and the states (phase, counts, back, cue) of the earlier
    one, with the phase's elapsed time and tempo count of its own time. An analysed frame draws
    its own overlay; a frame after the last analysed one holds it.
    """
    i = int(np.searchsorted(t_s, t + 1e-6, side="right")) - 1
    if i < 0:
        return states[0]
    a = states[i]
    if abs(t - a.t_s) <= 1e-6:
        return a
    if i + 1 >= len(states):
        b, w = a, 0.0
    else:
        b = states[i + 1]
        w = (t - a.t_s) / (b.t_s - a.t_s)
    elapsed = a.phase_elapsed_s + (t - a.t_s)
    count = int(np.floor(elapsed)) + 1 if a.phase == Phase.DESCENT else 0
    return replace(
        a, t_s=t, xy_px=_lerp(a.xy_px, b.xy_px, w), hip_px=_lerp(a.hip_px, b.hip_px, w),
        shoulder_px=_lerp(a.shoulder_px, b.shoulder_px, w),
        leg_angle_deg=float(_lerp(np.array(a.leg_angle_deg), np.array(b.leg_angle_deg), w)),
        phase_elapsed_s=elapsed, tempo_count=count,
    )


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


@lru_cache(maxsize=64)
def yuv(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """An RGB colour's (Y, U, V) as OpenCV's I420 conversion gives it (BT.601, video range)."""
    patch = np.empty((2, 2, 3), np.uint8)
    patch[:] = colour
    y, _, _, _, u, v = cv2.cvtColor(patch, cv2.COLOR_RGB2YUV_I420).ravel()
    return int(y), int(u), int(v)


BLACK_YUV = yuv((0, 0, 0))


@lru_cache(maxsize=1024)
def _text_sprite(text: str, scale: float, thickness: int) -> tuple[tuple[int, int], tuple[np.ndarray, ...], int, int]:
    """The text's anti-aliased glyphs on its padded box, drawn once per text and size (video
    frames repeat it): the box's (height, width), both even; for the full-size plane and the
    half-size ones, the flat indices of the pixels the glyphs touch and their coverage (0-1,
    float32); the box's height above the baseline and its padding, px."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    pad = int(6 * scale)
    bh, bw = h + base + 2 * pad, w + 2 * pad
    canvas = np.zeros((bh + bh % 2, bw + bw % 2), np.uint8)
    cv2.putText(canvas, text, (pad, pad + h), font, scale, (255,), thickness, cv2.LINE_AA)
    cover = canvas.astype(np.float32) / 255.0
    half = cover.reshape(cover.shape[0] // 2, 2, cover.shape[1] // 2, 2).mean(axis=(1, 3))
    idx, idx_half = np.flatnonzero(cover), np.flatnonzero(half)
    glyphs = (idx, cover.ravel()[idx], idx_half, half.ravel()[idx_half])
    return (canvas.shape[0], canvas.shape[1]), glyphs, h, pad


class Canvas:
    """A video frame in the encoder's format, drawn on in place: a flat I420 (yuv420p)
    buffer, the Y plane at full size and U and V at half. Each primitive is drawn on the
    three planes (the chroma ones at half the coordinates, OpenCV's ``shift``), so a frame
    goes from the decoder to the encoder without a round trip through RGB. Colours are RGB,
    coordinates full-size px."""

    def __init__(self, buffer: np.ndarray, width: int, height: int):
        if width % 2 or height % 2 or buffer.size != width * height * 3 // 2:
            raise ValueError(f"an I420 canvas needs even sizes and w*h*3/2 bytes, got {width}x{height}, {buffer.size}")
        n = width * height
        self.width, self.height = width, height
        self.buffer = buffer.reshape(-1)
        self.planes = (self.buffer[:n].reshape(height, width), self.buffer[n : n + n // 4].reshape(height // 2, width // 2),
                       self.buffer[n + n // 4 :].reshape(height // 2, width // 2))

    @classmethod
    def from_rgb(cls, image: np.ndarray) -> Canvas:
        """A canvas of an RGB image (its even part)."""
        h, w = image.shape[0] - image.shape[0] % 2, image.shape[1] - image.shape[1] % 2
        return cls(cv2.cvtColor(np.ascontiguousarray(image[:h, :w]), cv2.COLOR_RGB2YUV_I420).reshape(-1), w, h)

    def rgb(self) -> np.ndarray:
        """The picture as RGB (H, W, 3) uint8: a copy."""
        return cv2.cvtColor(self.buffer.reshape(self.height * 3 // 2, self.width), cv2.COLOR_YUV2RGB_I420)

    def _each(self, colour: tuple[int, int, int], thickness: int):
        """(plane, shift, value, thickness) for the three planes."""
        for k, (plane, value) in enumerate(zip(self.planes, yuv(colour), strict=True)):
            yield plane, int(k > 0), value, thickness if k == 0 or thickness < 0 else max(1, round(thickness / 2))

    def line(self, p0: tuple[int, int], p1: tuple[int, int], colour: tuple[int, int, int], thickness: int) -> None:
        for plane, shift, value, th in self._each(colour, thickness):
            cv2.line(plane, p0, p1, (value,), th, cv2.LINE_AA, shift)

    def circle(self, centre: tuple[int, int], radius: int, colour: tuple[int, int, int]) -> None:
        """A filled disc."""
        for plane, shift, value, _ in self._each(colour, -1):
            cv2.circle(plane, centre, radius, (value,), -1, cv2.LINE_AA, shift)

    def arc(self, centre: tuple[int, int], radius: int, start_deg: float, end_deg: float,
            colour: tuple[int, int, int], thickness: int) -> None:
        """A circular arc from ``start_deg`` to ``end_deg`` (image angles, clockwise)."""
        for plane, shift, value, th in self._each(colour, thickness):
            cv2.ellipse(plane, centre, (radius, radius), 0, start_deg, end_deg, (value,), th, cv2.LINE_AA, shift)

    def text(self, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int] = (255, 255, 255),
             thickness: int | None = None) -> int:
        """Text on a dark box (35 % picture), readable on any background; returns the box's
        bottom y. The glyphs are rendered once per string (:func:`_text_sprite`): a frame only
        darkens the box and blends the pixels they touch. The box starts on even px (the
        half-size planes' grid); a box partly outside the picture is drawn as far as it lies
        inside."""
        th = thickness or max(1, int(2 * scale))
        (bh, bw), glyphs, h, pad = _text_sprite(text, float(scale), th)
        y0, x0 = (org[1] - h - pad) & ~1, (org[0] - pad) & ~1
        for k, (plane, value, black) in enumerate(zip(self.planes, yuv(colour), BLACK_YUV, strict=True)):
            f = 2 if k else 1
            idx, cover = glyphs[2 * (k > 0)], glyphs[2 * (k > 0) + 1]
            _blend_box(plane, y0 // f, x0 // f, bh // f, bw // f, idx, cover, value, black)
        return y0 + bh


def _blend_box(plane: np.ndarray, y0: int, x0: int, bh: int, bw: int, idx: np.ndarray, cover: np.ndarray,
               value: int, black: int) -> None:
    """One plane of :meth:`Canvas.text`: the box at (y0, x0) of size (bh, bw) shows 35 % of
    the picture (towards ``black``, the plane's value of black), then the glyph pixels
    ``idx`` (flat in the box) blend to ``value`` by ``cover``."""
    ih, iw = plane.shape
    top, left, bottom, right = max(y0, 0), max(x0, 0), min(y0 + bh, ih), min(x0 + bw, iw)
    if bottom <= top or right <= left:
        return
    box = np.full((bh, bw), black, np.float32)
    box[top - y0 : bottom - y0, left - x0 : right - x0] = plane[top:bottom, left:right]
    flat = box.reshape(-1)
    flat *= 0.35
    flat += 0.65 * black
    flat[idx] += cover * (value - flat[idx])
    plane[top:bottom, left:right] = (box[top - y0 : bottom - y0, left - x0 : right - x0] + 0.5).astype(np.uint8)


def _wrap(text: str, max_px: int, scale: float) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if cv2.getTextSize(trial, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, int(2 * scale)))[0][0] > max_px and line:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + ([line] if line else [])


class Annotator(Protocol):
    """Draws one visual of a frame's overlay state on the canvas, in place."""

    def annotate(self, canvas: Canvas, o: Overlay) -> None: ...


class SkeletonAnnotator:
    """The body's landmarks and bones."""

    def annotate(self, canvas: Canvas, o: Overlay) -> None:
        th = max(1, int(3 * o.scale))
        for a, b in BONES:
            pa, pb = o.xy_px[a], o.xy_px[b]
            if np.isfinite(pa).all() and np.isfinite(pb).all() and min(o.visibility[a], o.visibility[b]) > 0.3:
                canvas.line(_pt(pa), _pt(pb), WHITE, th)
        for j in (L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE, L.LEFT_SHOULDER, L.RIGHT_SHOULDER):
            if np.isfinite(o.xy_px[j]).all() and o.visibility[j] > 0.3:
                canvas.circle(_pt(o.xy_px[j]), max(2, int(5 * o.scale)), YELLOW)


class FloorLineAnnotator:
    """The floor line the leg angle and lumbar gap are measured from."""

    def annotate(self, canvas: Canvas, o: Overlay) -> None:
        if o.floor_line is None:
            return
        m, c = o.floor_line
        w = canvas.width
        canvas.line((0, int(c)), (w, int(m * w + c)), BLUE, max(2, int(3 * o.scale)))


class LegAngleAnnotator:
    """An arc at the hip from the floor to the legs, with the angle in degrees."""

    def annotate(self, canvas: Canvas, o: Overlay) -> None:
        if not (np.isfinite(o.leg_angle_deg) and np.isfinite(o.hip_px).all()):
            return
        torso = np.linalg.norm(o.shoulder_px - o.hip_px) if np.isfinite(o.shoulder_px).all() else 100.0
        r = max(int(0.45 * torso), 20)
        start = np.degrees(np.arctan2(o.feet_dir[1], o.feet_dir[0]))
        # image angles grow clockwise; the legs rise towards up_dir
        sweep = -o.leg_angle_deg if np.cross(o.feet_dir, o.up_dir) < 0 else o.leg_angle_deg
        canvas.arc(_pt(o.hip_px), r, start, start + sweep, YELLOW, max(2, int(3 * o.scale)))
        mid = np.deg2rad(start + sweep / 2)
        label = o.hip_px + (r + 12 * o.scale) * np.array([np.cos(mid), np.sin(mid)])
        text = f"{round(o.leg_angle_deg) + 0:.0f} deg"  # + 0: no "-0"
        tw = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.8 * o.scale, max(1, int(2 * o.scale)))[0][0]
        x = int(np.clip(label[0], 8, canvas.width - tw - 8))  # keep the number inside the picture
        y = int(np.clip(label[1], 30 * o.scale, canvas.height - 8))
        canvas.text(text, (x, y), 0.8 * o.scale, YELLOW)


class BackStateAnnotator:
    """The lower back's state where the clearance is measured: green flat, red lifted,
    grey occluded."""

    def annotate(self, canvas: Canvas, o: Overlay) -> None:
        if not (np.isfinite(o.hip_px).all() and np.isfinite(o.shoulder_px).all()):
            return
        lo, hi = lumbar_span(o.hip_px[0], o.shoulder_px[0])
        colour = BACK_COLOURS.get(o.back_state, GREY)
        if o.floor_line is not None:
            m, c = o.floor_line
            y0, y1 = m * lo + c, m * hi + c
        else:
            y = o.hip_px[1] + 0.15 * np.linalg.norm(o.shoulder_px - o.hip_px)
            y0 = y1 = y
        th = max(4, int(8 * o.scale))
        canvas.line((int(lo), int(y0)), (int(hi), int(y1)), colour, th)
        label = {BackState.FLAT: "back flat", BackState.LIFTED: "BACK LIFTED", BackState.OCCLUDED: "back hidden",
                 BackState.UNKNOWN: "back ?"}[o.back_state]
        if o.back_state in (BackState.FLAT, BackState.LIFTED) and np.isfinite(o.clearance_ratio):
            label += f" ({o.clearance_ratio:.2f})"
        canvas.text(label, (int(lo), int(max(y0, y1) + 30 * o.scale)), 0.7 * o.scale, colour)


class RepCounterAnnotator:
    """Rep counter, quality reps, and the phase with a tempo count."""

    def annotate(self, canvas: Canvas, o: Overlay) -> None:
        s = o.scale
        y = canvas.text(f"Rep {o.reps_done}/{o.rep_total}  quality {o.quality_done}", (int(14 * s), int(40 * s)), 1.0 * s)
        if o.phase != Phase.NONE:
            word = PHASE_WORDS[o.phase]
            # the tempo count during a lowering; elsewhere the seconds held or moving
            last = o.tempo_count if o.phase == Phase.DESCENT else int(o.phase_elapsed_s) + 1
            count = ", ".join(str(k) for k in range(1, last + 1))
            colour = YELLOW if o.phase == Phase.DESCENT else WHITE
            canvas.text(f"{word} {count}", (int(14 * s), int(y + 34 * s)), 0.9 * s, colour)


class CueAnnotator:
    """The current cue, wrapped across the bottom of the frame."""

    def annotate(self, canvas: Canvas, o: Overlay) -> None:
        if not o.cue:
            return
        s = 0.8 * o.scale
        lines = _wrap(o.cue, canvas.width - int(40 * o.scale), s)
        y = canvas.height - int(20 * o.scale) - int(34 * o.scale) * (len(lines) - 1)
        for line in lines:
            canvas.text(line, (int(14 * o.scale), y), s, WHITE)
            y += int(34 * o.scale)


ANNOTATORS: list[Annotator] = [FloorLineAnnotator(), BackStateAnnotator(), SkeletonAnnotator(), LegAngleAnnotator(),
              RepCounterAnnotator(), CueAnnotator()]


def key_frame_times(report: Report) -> dict[str, float]:
    """{caption: t_s} for each rep's lowest point and each back lift-off."""
    out = {}
    for rep in report.reps:
        out[f"Rep {rep.index}: lowest point, {rep.min_leg_angle_deg:.0f} deg"] = rep.bottom_s
        if rep.back_lift.onset_s is not None:
            out[f"Rep {rep.index}: back lifts at {rep.back_lift.onset_leg_angle_deg:.0f} deg"] = rep.back_lift.onset_s
    return out


def crop_to_body(image: np.ndarray, xy: np.ndarray, pad: float = 0.12) -> np.ndarray:
    """The part of the image around the body's landmarks (with a margin)."""
    ok = np.isfinite(xy).all(axis=1)
    if not ok.any():
        return image
    h, w = image.shape[:2]
    (x0, y0), (x1, y1) = xy[ok].min(axis=0), xy[ok].max(axis=0)
    px, py = pad * (x1 - x0) + 20, pad * (y1 - y0) + 20
    return image[max(int(y0 - py), 0) : min(int(y1 + py), h), max(int(x0 - px), 0) : min(int(x1 + px), w)].copy()


def frame_step(fps: float, max_fps: float) -> int:
    """Every how many frames of a ``fps`` video one is kept so that at most ``max_fps`` are
    (both 1/s; ``max_fps`` 0: every frame): a whole step, so the kept frames stay evenly
    spaced (a 30 fps video at most 15: every 2nd; 24 fps: every 2nd, 12 a second)."""
    if max_fps <= 0 or not np.isfinite(fps) or fps <= max_fps:
        return 1
    return int(np.ceil(fps / max_fps - 1e-6))


def write_annotated_video(
    analysis: Analysis, video_path: str | Path, out_path: Path, *, crf: int = 26, preset: str = "superfast",
    max_fps: float = 0.0, key_times: dict[str, float] | None = None, progress=None,
) -> dict[str, np.ndarray]:
    """Draw the overlays on the frames of the source and encode ``out_path`` (H.264).

    Every frame is drawn, or with ``max_fps`` (1/s) every :func:`frame_step`-th, also those
    the pose model skipped (``overlay_at``). Returns {caption: RGB crop} for the analysed
    frames nearest ``key_times``. Decoding runs in one thread and encoding in another,
    drawing on the calling thread; frames stay I420 from the decoder to the encoder
    (:class:`Canvas`).
    """
    source = VideoFile(video_path, frame_threads=False)  # decoding has its own thread here
    w, h = source.info.width, source.info.height
    fps = source.info.fps or 30.0
    step = frame_step(fps, max_fps)
    ew, eh = w - w % 2, h - h % 2  # yuv420p needs even sizes
    states = overlays(analysis, w, h)
    t_posed = analysis.track.t_s
    # key frames are analysed frames: found in the video by their exact timestamps
    wanted: dict[float, list[str]] = {}
    for cap, t in (key_times or {}).items():
        wanted.setdefault(round(float(t_posed[np.argmin(np.abs(t_posed - t))]), 6), []).append(cap)
    keys: dict[str, np.ndarray] = {}

    container = av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"})
    stream = container.add_stream("libx264", rate=max(int(round(fps / step)), 1))
    stream.width, stream.height, stream.pix_fmt = ew, eh, "yuv420p"
    stream.options = {"crf": str(crf), "preset": preset}
    stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)  # pts in ms: the source's own times
    frames: queue.Queue = queue.Queue(maxsize=16)
    error: list[BaseException] = []

    def encode() -> None:
        try:
            while (item := frames.get()) is not None:
                buffer, pts = item
                vf = av.VideoFrame.from_ndarray(buffer.reshape(eh * 3 // 2, ew), format="yuv420p")
                vf.pts = pts
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        except BaseException as e:  # reported on the calling thread
            error.append(e)
            while frames.get() is not None:
                pass

    writer = threading.Thread(target=encode, name="flatback-encode", daemon=True)
    writer.start()
    last_pts = -1
    try:
        # the frames off the step are decoded (H.264 frames depend on each other), not converted
        kept = ((d.t_s, n % step == 0, source.i420(d)) for n, d in enumerate(source.decoded())
                if n % step == 0 or round(d.t_s, 6) in wanted)
        for t_s, shown, buffer in prefetch(kept):
            if error:
                break
            canvas = Canvas(buffer, ew, eh)  # decoded for this loop alone: drawn on in place
            state = overlay_at(states, t_posed, t_s)
            for annotator in ANNOTATORS:
                annotator.annotate(canvas, state)
            for cap in wanted.get(round(t_s, 6), []):
                keys[cap] = crop_to_body(canvas.rgb(), state.xy_px)
            if not shown:  # drawn for a key frame's crop only
                continue
            pts = max(int(round(t_s * 1000)), last_pts + 1)
            last_pts = pts
            frames.put((canvas.buffer, pts))
            if progress is not None:
                progress(t_s, source.info.duration_s)
    finally:
        frames.put(None)
        writer.join()
        container.close()
    if error:
        raise error[0]
    return keys
