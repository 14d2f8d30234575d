"""The fuzzing corpus: tiny synthetic videos (and a real clip) truncated, corrupted and
mislabelled in a few hundred ways. ``build_corpus(folder)`` writes them and returns
``[Variant]``; each variant's file is alone in its own folder.

Kinds: cut at many offsets (index first and index last), bytes flipped (anywhere and in
the header), chunks zeroed, other files named .mp4 (PNG, JPEG, GIF, text, HTML, zip,
random bytes, one byte, empty, audio only, WAV), other containers and codecs, one frame
(0 fps), equal time stamps, huge and tiny pictures, variable frame rate with jitter, a
freeze and duplicates, rotation metadata, odd file names.
"""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from flatback.simulate import Body, RepSpec, SimulatedClip, simulate

W, H, FPS = 192, 108, 10  # tiny: decoding and drawing cost next to nothing


@dataclass(frozen=True)
class Variant:
    name: str  # kind/detail
    path: Path
    expect_codes: tuple[int, ...] = (0, 3, 4)  # a clean end: a report, a file problem, a content problem


def tiny_clip() -> SimulatedClip:
    """Two lowerings from vertical, 192x108 at 10 frames/s, about 11 s."""
    reps = [RepSpec(top_deg=90, bottom_deg=25, descent_s=2.2, ascent_s=1.0, pause_bottom_s=0.3)] * 2
    return simulate(reps, rest="top", lie_before_s=0.6, lie_after_s=0.6, lift_onset_deg=45, lift_gap_ratio=0.15,
                    arms="overhead", noise_px=0.3, width=W, height=H, body=Body(torso_px=42), fps=FPS, seed=1)


def encode(path: Path, frames, pts_s, *, codec="libx264", rate=FPS, options=None, rotation=None,
           pix_fmt="yuv420p", audio_s: float = 0.0) -> Path:
    """Encode RGB frames at the given presentation times (s) into ``path``."""
    with av.open(str(path), "w", options=options or {}) as out:
        h, w = frames[0].shape[:2]
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        astream = out.add_stream("aac", rate=16000) if audio_s else None
        for img, t in zip(frames, pts_s):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = int(round(t * 1000))
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if astream is not None:
            samples = (np.sin(np.arange(int(16000 * audio_s)) / 7) * 0.2).astype(np.float32)
            for k in range(0, len(samples), 1024):
                af = av.AudioFrame.from_ndarray(samples[None, k:k + 1024], format="fltp", layout="mono")
                af.sample_rate = 16000
                af.pts = k
                for packet in astream.encode(af):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)
    return path


def audio_only(path: Path, fmt: str | None = None) -> Path:
    with av.open(str(path), "w", format=fmt) as out:
        codec = "pcm_s16le" if fmt == "wav" else "aac"
        stream = out.add_stream(codec, rate=16000)
        samples = (np.sin(np.arange(16000) / 10) * 0.3).astype(np.float32)[None, :]
        layout_fmt = "s16" if codec == "pcm_s16le" else "fltp"
        data = (samples * 32767).astype(np.int16) if layout_fmt == "s16" else samples
        frame = av.AudioFrame.from_ndarray(data, format=layout_fmt, layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def image_bytes(fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((64, 96, 3), 120, np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


class _Corpus:
    def __init__(self, folder: Path):
        self.folder = folder
        self.variants: list[Variant] = []

    def add(self, name: str, data: bytes | None = None, *, filename: str = "clip.mp4",
            expect: tuple[int, ...] = (0, 3, 4)) -> Path:
        """A new variant in its own folder; returns the path (write it yourself when data is None)."""
        d = self.folder / f"v{len(self.variants):03d}"
        d.mkdir()
        path = d / filename
        if data is not None:
            path.write_bytes(data)
        self.variants.append(Variant(name, path, expect))
        return path


def build_corpus(folder: Path, real_clip: Path | None = None) -> list[Variant]:
    """Write every variant under ``folder``."""
    rng = random.Random(2026)
    c = _Corpus(folder)
    src = folder / "_sources"
    src.mkdir(parents=True)
    clip = tiny_clip()
    frames = list(clip.frames())
    t = clip.track.t_s
    fast = clip.write_video(src / "fast.mp4")  # faststart: the index first
    slow = encode(src / "slow.mp4", frames, t)  # the index last, as phones write it
    fast_b, slow_b = fast.read_bytes(), slow.read_bytes()

    c.add("intact/faststart", fast_b)
    c.add("intact/index_last", slow_b)
    # cut at many offsets: the first bytes densely (headers), then across the file
    for name, data in (("faststart", fast_b), ("index_last", slow_b)):
        offsets = sorted({1, 4, 8, 12, 16, 24, 32, 48, 64, 100, 200, 500, 1000, 2000}
                         | {int(len(data) * f / 40) for f in range(1, 40)})
        for off in offsets:
            c.add(f"cut/{name}/{off}", data[:off])
    # bytes flipped anywhere, and in the header (index-first file: the moov box)
    for k in range(40):
        data = bytearray(fast_b if k % 2 else slow_b)
        for _ in range(rng.choice([1, 2, 8, 32])):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        c.add(f"flip/anywhere/{k}", bytes(data))
    for k in range(20):
        data = bytearray(fast_b)
        for _ in range(rng.choice([1, 4, 16])):
            i = rng.randrange(min(3000, len(data)))
            data[i] = rng.randrange(256)
        c.add(f"flip/header/{k}", bytes(data))
    for k in range(10):
        data = bytearray(slow_b)
        n = rng.choice([64, 512, 4096])
        i = rng.randrange(len(data) - n)
        data[i:i + n] = b"\0" * n
        c.add(f"zeroed/{k}", bytes(data))
    # other things named .mp4
    c.add("mislabel/png", image_bytes("PNG"), expect=(3,))
    c.add("mislabel/jpeg", image_bytes("JPEG"), expect=(3,))
    c.add("mislabel/gif", image_bytes("GIF"), expect=(3,))
    c.add("mislabel/text", b"my leg lifts, monday: 3 x 12\n" * 40, expect=(3,))
    c.add("mislabel/html", b"<!doctype html><html><body><video src=x.mp4></video></body></html>\n", expect=(3,))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("clip.mp4", fast_b)
    c.add("mislabel/zip", zbuf.getvalue(), expect=(3,))
    c.add("mislabel/random", rng.randbytes(50_000), expect=(3,))
    c.add("mislabel/one_byte", b"\0", expect=(3,))
    c.add("mislabel/empty", b"", expect=(3,))
    c.add("mislabel/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 20, expect=(3,))
    audio_only(c.add("mislabel/audio_only_m4a", filename="clip.mp4", expect=(3,)))
    audio_only(c.add("mislabel/wav", filename="clip.mp4", expect=(3,)), fmt="wav")
    # the same pictures in other containers and codecs
    encode(c.add("container/mkv", filename="clip.mkv"), frames, t)
    encode(c.add("container/mov", filename="clip.mov"), frames, t)
    encode(c.add("container/avi_mpeg4", filename="clip.avi"), frames, t, codec="mpeg4")
    encode(c.add("container/mjpeg", filename="clip.mov"), frames, t, codec="mjpeg", pix_fmt="yuvj420p")
    encode(c.add("container/webm_vp9", filename="clip.webm"), frames, t, codec="libvpx-vp9")
    encode(c.add("container/with_long_audio"), frames, t, audio_s=float(t[-1]) * 2.5)
    # frame rates: one frame (0 fps), a still held, equal and duplicated time stamps
    encode(c.add("fps/one_frame", expect=(3,)), frames[:1], [0.0])
    encode(c.add("fps/two_frames", expect=(3,)), frames[:2], [0.0, 0.1])
    encode(c.add("fps/rate_1_per_s"), frames[::10], np.arange(len(frames[::10])) * 1.0, rate=1)
    encode(c.add("vfr/jitter"), frames, t + np.concatenate([[0], np.cumsum(np.abs([rng.gauss(0, 0.02) for _ in t[1:]]))]))
    freeze = t.copy()
    freeze[len(t) // 2:] += 3.0  # the recording froze for 3 s
    encode(c.add("vfr/freeze"), frames, freeze)
    encode(c.add("vfr/120fps_burst"), frames, np.where(np.arange(len(t)) < 40, np.arange(len(t)) / 120, t))
    # sizes: huge (far above 8K), odd and tiny
    big = [np.zeros((4000, 12000, 3), np.uint8)] * 2  # 48 Mpixels, above 8K
    encode(c.add("size/huge_12000x4000", expect=(3,)), big, [0.0, 0.5], codec="mjpeg", pix_fmt="yuvj420p", rate=2)
    odd = [f[:107, :191] for f in frames]
    encode(c.add("size/odd_191x107", filename="clip.mkv"), odd, t, codec="mpeg4")
    tiny = [f[::6, ::6] for f in frames]  # 32x18
    encode(c.add("size/32x18"), tiny, t)
    # rotation metadata (phones): display matrix on a landscape picture
    for deg in (90, 180, 270, -90):
        encode(c.add(f"rotated/{deg}"), frames, t, rotation=deg)
    # odd names and not-files
    for name in ("-starts-with-dash.mp4", "clip (1) copy.mp4", "ünïcödé 😀.mp4", "no_extension", "CLIP.MP4"):
        c.add(f"name/{name}", fast_b, filename=name)
    d = c.add("notfile/folder_named_mp4", filename="folder.mp4", expect=(3,))
    d.mkdir()
    link = c.add("notfile/dangling_symlink", filename="gone.mp4", expect=(3,))
    link.symlink_to(link.parent / "nowhere.mp4")
    if real_clip is not None:  # the same cuts and flips on a real recording
        real = real_clip.read_bytes()  # 483 frames: a few variants only (CI time)
        for f in (0.02, 0.5, 0.95, 0.99):
            c.add(f"real/cut/{f}", real[: int(len(real) * f)])
        for k in range(5):
            data = bytearray(real)
            for _ in range(rng.choice([1, 8, 64])):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
            c.add(f"real/flip/{k}", bytes(data))
    (folder / "manifest.tsv").write_text("".join(f"{v.path.parent.name}\t{v.name}\n" for v in c.variants))
    return c.variants
