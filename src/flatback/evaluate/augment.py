"""Re-filming a clip as a phone (or an editor) would have: the ``--augment`` transforms.

Each transform is a small pure function ``image -> image`` on RGB uint8 pictures of
shape (height, width, 3), plus one frame-rate function on timestamps. Geometric ones
also expose their 3x3 pixel mapping (``*_matrix``) so tests can check where a point
lands. :data:`REFILMS` is the table ``flatback eval --augment`` runs, and
:func:`refilm_video` writes one re-filmed clip with PyAV (H.264); tests reuse both to
build edited videos at test time.

Choices (the labels carry over unchanged because none of these moves time):

- roll: the picture turns about its centre, the canvas grows to keep the whole
  picture, and the corners are filled by continuing the edge pixels (wall above,
  floor below), so no hard artificial edge crosses the scene. ``roll_deg > 0`` turns
  the content counter-clockwise on screen (the phone rolled clockwise).
- portrait: a phone held upright at the same spot, with the person kept whole, sees
  the landscape scene as a band across the middle of a 9:16 frame, wall above and
  floor below. The canvas is 9:16 with its long side equal to the source's long side;
  the picture is scaled to fit its width and centred; the rest continues the edges.
- oblique: the body's (sagittal) plane seen by a camera orbited ``yaw_deg`` about the
  vertical axis: the picture plane turned about its vertical centre line and
  re-projected with a phone's focal length (horizontal field of view about 68
  degrees). It shortens lengths along the body by about cos(yaw) and adds perspective;
  the result is scaled to fit the original frame size.
- 480p at 15 fps: the short side scaled to 480 px (never up), and the first frame of
  every 1/15 s slot kept.
- dim and noisy: darker (gain and gamma) with per-pixel Gaussian sensor noise; the
  noise is seeded from the picture so the function stays pure yet differs per frame.
- captions: a large title at the top, a subtitle across the lower part of the picture
  and a running clock, white with a black outline, as edited workout videos show.

:data:`EXTRA_REFILMS`, by name only (``--transform``), are harder versions and what editors
do instead: rolls of 20 degrees, a 40-degree warp, a roll with black corners (an editor's
rotate), a roll zoomed until no corner is empty (a phone's straighten tool: 12 degrees zoom
a 16:9 picture 1.35 times and crop 45 % of it), and the 9:16 frame filled by a blurred,
zoomed copy of the clip behind it (as short-video apps post a landscape clip: a second,
large, blurred person), the same frame with black bars instead, and a clip squeezed through
messaging apps (360p, JPEG quality 20 per frame: blocks and smeared edges).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from flatback.io.source import VideoFile

ORIGINAL = "original"

# Horizontal field of view of a phone's main camera, degrees (the oblique warp's focal length).
PHONE_HFOV_DEG = 68.0


# --- pixel mappings (3x3, acting on homogeneous (x, y, 1) pixel coordinates) ---


def map_points(matrix: np.ndarray, xy_px: np.ndarray) -> np.ndarray:
    """Apply a 3x3 pixel mapping to points ``xy_px`` (..., 2), px -> (..., 2), px."""
    xy = np.asarray(xy_px, np.float64)
    h = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1) @ np.asarray(matrix, np.float64).T
    return h[..., :2] / h[..., 2:3]


def mirror_matrix(width: int, height: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Left-right flip: x -> width - 1 - x. Returns (matrix 3x3, output (width, height))."""
    return np.array([[-1.0, 0, width - 1], [0, 1, 0], [0, 0, 1]]), (width, height)


def roll_matrix(width: int, height: int, roll_deg: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Turn the picture ``roll_deg`` counter-clockwise on screen about its centre, on a
    canvas just large enough (even sizes) to keep all of it, the result centred."""
    a = math.radians(roll_deg)
    c, s = math.cos(a), math.sin(a)
    out_w = _even(abs(width * c) + abs(height * s))
    out_h = _even(abs(width * s) + abs(height * c))
    cx, cy = (width - 1) / 2, (height - 1) / 2
    ox, oy = (out_w - 1) / 2, (out_h - 1) / 2
    # image y grows downwards, so counter-clockwise on screen is (x, y) -> (x c + y s, -x s + y c)
    rot = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1.0]])
    return _translate(ox, oy) @ rot @ _translate(-cx, -cy), (out_w, out_h)


def portrait_matrix(width: int, height: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Fit the picture, centred, into a 9:16 canvas whose long side is the source's long side."""
    out_h = _even(max(width, height))
    out_w = _even(out_h * 9 / 16)
    scale = min(out_w / width, out_h / height)
    ox = (out_w - width * scale) / 2
    oy = (out_h - height * scale) / 2
    return np.array([[scale, 0, ox], [0, scale, oy], [0, 0, 1.0]]), (out_w, out_h)


def oblique_matrix(width: int, height: int, yaw_deg: float) -> tuple[np.ndarray, tuple[int, int]]:
    """The picture plane turned ``yaw_deg`` about its vertical centre line and seen by a
    pinhole camera (focal length from :data:`PHONE_HFOV_DEG`, at the distance where the
    unturned picture maps onto itself), scaled to fit the original frame size."""
    f = (max(width, height) / 2) / math.tan(math.radians(PHONE_HFOV_DEG / 2))
    a = math.radians(yaw_deg)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    corners = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float64)
    x, y = corners[:, 0] - cx, corners[:, 1] - cy
    depth = f + x * math.sin(a)
    u, v = f * x * math.cos(a) / depth, f * y / depth
    scale = min((width - 1) / np.ptp(u), (height - 1) / np.ptp(v))
    du = cx - scale * (u.max() + u.min()) / 2
    dv = cy - scale * (v.max() + v.min()) / 2
    target = np.stack([scale * u + du, scale * v + dv], axis=1)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target.astype(np.float32))
    return matrix.astype(np.float64), (width, height)


def straighten_matrix(width: int, height: int, roll_deg: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Turn the picture ``roll_deg`` counter-clockwise on screen about its centre and zoom
    until the turned picture covers the whole frame (same size): a phone's straighten tool."""
    a = math.radians(abs(roll_deg))
    c, s = math.cos(a), math.sin(a)
    zoom = max((width * c + height * s) / width, (width * s + height * c) / height)
    matrix = np.vstack([cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), roll_deg, zoom), [0, 0, 1.0]])
    return matrix, (width, height)


def _translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1.0]])


def _even(v: float) -> int:
    """Round a size to the nearest even number of pixels (H.264 4:2:0 needs even sizes)."""
    return max(2, round(v / 2) * 2)


def warp(image: np.ndarray, matrix: np.ndarray, out_wh: tuple[int, int], black: bool = False) -> np.ndarray:
    """Resample ``image`` through a 3x3 pixel mapping onto an ``out_wh`` canvas; pixels from
    outside the picture continue its edges (``black``: are black). Returns a new array."""
    border = cv2.BORDER_CONSTANT if black else cv2.BORDER_REPLICATE
    if np.allclose(matrix[2], [0, 0, 1]):
        return cv2.warpAffine(image, matrix[:2], out_wh, flags=cv2.INTER_LINEAR, borderMode=border)
    return cv2.warpPerspective(image, matrix, out_wh, flags=cv2.INTER_LINEAR, borderMode=border)


# --- the image transforms ---


def mirror(image: np.ndarray) -> np.ndarray:
    """The picture flipped left-right (the person faces the other way)."""
    return np.ascontiguousarray(image[:, ::-1])


def roll(image: np.ndarray, roll_deg: float) -> np.ndarray:
    """The picture of a phone rolled about its lens axis (see :func:`roll_matrix`)."""
    h, w = image.shape[:2]
    return warp(image, *roll_matrix(w, h, roll_deg))


def roll_black(image: np.ndarray, roll_deg: float) -> np.ndarray:
    """:func:`roll`, the corners left black as an editor's rotate leaves them."""
    h, w = image.shape[:2]
    return warp(image, *roll_matrix(w, h, roll_deg), black=True)


def straighten(image: np.ndarray, roll_deg: float) -> np.ndarray:
    """The picture turned and zoomed to fill its frame (see :func:`straighten_matrix`)."""
    h, w = image.shape[:2]
    return warp(image, *straighten_matrix(w, h, roll_deg))


def blur_fill(image: np.ndarray) -> np.ndarray:
    """:func:`portrait`, the frame around the picture filled by a copy of it zoomed to
    cover the frame, blurred (sigma a 60th of the frame's long side) and darkened."""
    h, w = image.shape[:2]
    matrix, (out_w, out_h) = portrait_matrix(w, h)
    cover = max(out_w / w, out_h / h)
    back = np.array([[cover, 0, (out_w - w * cover) / 2], [0, cover, (out_h - h * cover) / 2], [0, 0, 1.0]])
    out = cv2.GaussianBlur(warp(image, back, (out_w, out_h)), (0, 0), sigmaX=max(out_w, out_h) / 60)
    out = (out.astype(np.float32) * 0.7).astype(np.uint8)
    front = warp(image, matrix, (out_w, out_h))
    x0, y0 = map_points(matrix, np.array([0.0, 0.0]))
    x1, y1 = map_points(matrix, np.array([float(w), float(h)]))
    rows, cols = slice(int(math.ceil(y0)), int(y1)), slice(int(math.ceil(x0)), int(x1))
    out[rows, cols] = front[rows, cols]
    return out


def portrait(image: np.ndarray) -> np.ndarray:
    """The scene as a phone held upright sees it (see :func:`portrait_matrix`)."""
    h, w = image.shape[:2]
    return warp(image, *portrait_matrix(w, h))


def portrait_black(image: np.ndarray) -> np.ndarray:
    """The picture, centred, in a 9:16 frame with black bars above and below (a landscape
    clip posted as a vertical video without a fill)."""
    h, w = image.shape[:2]
    return warp(image, *portrait_matrix(w, h), black=True)


def blocky(image: np.ndarray, short_side_px: int = 360, jpeg_quality: int = 20) -> np.ndarray:
    """A clip re-encoded again and again on its way through messaging apps: the short side
    at ``short_side_px`` and every frame through JPEG at ``jpeg_quality`` (0-100), whose 8x8
    blocks and smeared edges stand for a starved video bitrate."""
    small = downscale(image, short_side_px)
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(small[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1])  # OpenCV codes BGR


def oblique(image: np.ndarray, yaw_deg: float) -> np.ndarray:
    """The body's plane seen from ``yaw_deg`` off the side view (see :func:`oblique_matrix`)."""
    h, w = image.shape[:2]
    return warp(image, *oblique_matrix(w, h, yaw_deg))


def downscale(image: np.ndarray, short_side_px: int = 480) -> np.ndarray:
    """The picture with its short side scaled down to ``short_side_px`` (never up), even sizes."""
    h, w = image.shape[:2]
    scale = short_side_px / min(w, h)
    if scale >= 1:
        return image
    return cv2.resize(image, (_even(w * scale), _even(h * scale)), interpolation=cv2.INTER_AREA)


def dim_noisy(image: np.ndarray, gain: float = 0.45, gamma: float = 1.3, noise_sd: float = 9.0) -> np.ndarray:
    """Dim light: ``gain * (v / 255) ** gamma * 255`` per channel, plus Gaussian noise of
    ``noise_sd`` (0-255 levels) seeded from the picture itself."""
    seed = zlib.crc32(np.ascontiguousarray(image[::17, ::13]).tobytes())
    rng = np.random.default_rng(seed)
    dim = gain * 255.0 * (image.astype(np.float32) / 255.0) ** gamma
    noisy = dim + rng.normal(0.0, noise_sd, image.shape).astype(np.float32)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


CAPTION_TOP = "LEG LIFTS: FLAT BELLY CHALLENGE"
CAPTION_LOW = "KEEP YOUR LOWER BACK ON THE FLOOR"


def burn_text(image: np.ndarray, counter: str) -> np.ndarray:
    """Large captions and a counter burned into a copy of the picture: a title across the
    top (about 8 % of the height), a subtitle at 78 % of the height across the width, and
    ``counter`` large in the top-right corner; white with a black outline."""
    out = image.copy()
    h, w = out.shape[:2]
    _put_text(out, CAPTION_TOP, centre_xy=(w / 2, 0.12 * h), max_w=0.92 * w, max_h=0.08 * h)
    _put_text(out, CAPTION_LOW, centre_xy=(w / 2, 0.78 * h), max_w=0.92 * w, max_h=0.07 * h)
    _put_text(out, counter, centre_xy=(0.86 * w, 0.27 * h), max_w=0.22 * w, max_h=0.12 * h)
    return out


def clock(t_s: float) -> str:
    """A running clock as editors burn in: ``m:ss``."""
    return f"{int(t_s) // 60}:{int(t_s) % 60:02d}"


def _put_text(image: np.ndarray, text: str, centre_xy: tuple[float, float], max_w: float, max_h: float) -> None:
    """Draw ``text`` in place, as large as fits ``max_w`` x ``max_h`` px, centred at ``centre_xy``."""
    font = cv2.FONT_HERSHEY_DUPLEX
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, 2)
    scale = min(max_w / tw, max_h / th)
    thick = max(1, round(2 * scale))
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    org = (round(centre_xy[0] - tw / 2), round(centre_xy[1] + th / 2))
    cv2.putText(image, text, org, font, scale, (0, 0, 0), thick * 3, cv2.LINE_AA)
    cv2.putText(image, text, org, font, scale, (255, 255, 255), thick, cv2.LINE_AA)


# --- the frame-rate transform ---


def frame_slot(t_s: float | np.ndarray, fps: float) -> np.ndarray:
    """Index of the 1/fps-long time slot each timestamp falls in (t_s in s, fps in 1/s)."""
    return np.floor(np.asarray(t_s, np.float64) * fps + 1e-6).astype(np.int64)


def keep_at_fps(t_s: np.ndarray, fps: float) -> np.ndarray:
    """(N,) bool: frames kept when re-filming at ``fps``: the first of each 1/fps slot."""
    slots = frame_slot(t_s, fps)
    keep = np.ones(len(slots), bool)
    keep[1:] = slots[1:] != slots[:-1]
    return keep


# --- the table ``--augment`` runs ---

Edit = Callable[[np.ndarray, float], np.ndarray]  # (image RGB uint8, t_s) -> image


@dataclass(frozen=True)
class Refilm:
    """One way of re-filming a clip: ``edit(image, t_s)`` per frame, optionally at ``fps``.

    ``version`` goes into the cache key: bump it when the transform changes.
    """

    name: str
    what: str
    edit: Edit
    fps: float | None = None
    version: int = 1

    @property
    def key(self) -> str:
        return f"{self.name}.v{self.version}"


def _still(image: np.ndarray, t_s: float, fn: Callable[..., np.ndarray], **kwargs) -> np.ndarray:
    """An image transform as an :data:`Edit` (time unused); with ``partial`` it pickles,
    so ``--jobs`` can send it to worker processes."""
    return fn(image, **kwargs)


def _captions(image: np.ndarray, t_s: float) -> np.ndarray:
    return burn_text(image, clock(t_s))


REFILMS: tuple[Refilm, ...] = (
    Refilm("mirror", "flipped left-right", partial(_still, fn=mirror)),
    Refilm("roll+12", "phone rolled: picture turned 12 deg counter-clockwise", partial(_still, fn=roll, roll_deg=12.0)),
    Refilm("roll-12", "phone rolled: picture turned 12 deg clockwise", partial(_still, fn=roll, roll_deg=-12.0)),
    Refilm("480p15", "short side 480 px, 15 frames/s", partial(_still, fn=downscale, short_side_px=480), fps=15.0),
    Refilm("portrait", "phone upright: the scene inside a 9:16 frame", partial(_still, fn=portrait)),
    Refilm("oblique25", "camera 25 deg off the side view (perspective)", partial(_still, fn=oblique, yaw_deg=25.0)),
    Refilm("dim_noisy", "dim light and sensor noise", partial(_still, fn=dim_noisy)),
    Refilm("captions", "burned-in captions and a running clock", _captions),
)


EXTRA_REFILMS: tuple[Refilm, ...] = (
    Refilm("roll+20", "phone rolled: picture turned 20 deg counter-clockwise", partial(_still, fn=roll, roll_deg=20.0)),
    Refilm("roll-20", "phone rolled: picture turned 20 deg clockwise", partial(_still, fn=roll, roll_deg=-20.0)),
    Refilm("oblique40", "camera 40 deg off the side view (perspective)", partial(_still, fn=oblique, yaw_deg=40.0)),
    Refilm("rollblack+12", "editor's rotate: picture turned 12 deg counter-clockwise, black corners",
           partial(_still, fn=roll_black, roll_deg=12.0)),
    Refilm("rollfill-12", "phone's straighten tool: turned 12 deg clockwise and zoomed to fill the frame",
           partial(_still, fn=straighten, roll_deg=-12.0)),
    Refilm("blurfill", "posted 9:16: the picture over a blurred, zoomed copy of itself", partial(_still, fn=blur_fill)),
    Refilm("portraitblack", "posted 9:16: the picture between black bars", partial(_still, fn=portrait_black)),
    Refilm("blocky", "re-encoded by messaging apps: 360p, heavy compression", partial(_still, fn=blocky)),
)


def refilm_named(names: list[str] | tuple[str, ...]) -> tuple[Refilm, ...]:
    """The transforms with these names (:data:`REFILMS`, then :data:`EXTRA_REFILMS`), in
    table order; raises ``KeyError`` naming unknown ones."""
    table = (*REFILMS, *EXTRA_REFILMS)
    known = {r.name: r for r in table}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown transform(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(r for r in table if r.name in names)


def refilm_video(src: str | Path, dst: str | Path, refilm: Refilm) -> Path:
    """Write ``src`` re-filmed by ``refilm`` to ``dst`` (H.264 MP4), atomically.

    Frames keep their timestamps (from the source's first frame, so the labels' times
    still hold); the display rotation of the source is applied first.
    """
    import av

    dst = Path(dst)
    tmp = dst.with_name(dst.stem + ".tmp" + dst.suffix)
    try:
        with av.open(str(tmp), "w", options={"movflags": "+faststart"}) as out:
            stream = None
            last_slot = None
            for frame in VideoFile(src):
                if refilm.fps:
                    slot = int(frame_slot(frame.t_s, refilm.fps))
                    if slot == last_slot:
                        continue
                    last_slot = slot
                image = refilm.edit(frame.image, frame.t_s)
                if stream is None:
                    stream = _h264_stream(out, image.shape[1] // 2 * 2, image.shape[0] // 2 * 2, refilm.fps or 30)
                image = np.ascontiguousarray(image[: stream.height, : stream.width])
                vf = av.VideoFrame.from_ndarray(image, format="rgb24")
                vf.pts = round(frame.t_s * 1000)
                for packet in stream.encode(vf):
                    out.mux(packet)
            if stream is not None:
                for packet in stream.encode():
                    out.mux(packet)
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def _h264_stream(container, width: int, height: int, rate: float):
    stream = container.add_stream("libx264", rate=round(rate), options={"preset": "veryfast", "crf": "20"})
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
    return stream
