"""Sources of frames: a video file (PyAV), or a webcam (OpenCV).

``t_s`` comes from each frame's presentation timestamp, relative to the first frame,
so variable-frame-rate phone videos keep their true timing; phone rotation metadata is
applied so the image is upright as the phone showed it. Problems with the file raise
:class:`~flatback.errors.InputFileError` with a message that says what to do.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import av
import numpy as np

from flatback.errors import InputFileError
from flatback.types import Frame, VideoInfo

T = TypeVar("T")

MAX_PIXELS = 7680 * 4320  # 8K: a decoded RGB frame is then 100 MB; larger pictures are refused, not decoded


# glibc malloc: at most this many heaps (the decoder's threads otherwise each grow their own)
MALLOC_ARENAS = 2
# blocks of at least this many bytes are mapped for themselves and returned when freed, B:
# above a 4K RGB frame (25 MB), so the frames, all of a few sizes, are reused from the two
# heaps instead of being mapped and zeroed afresh each time (at 1 MB: 9.5 s of system time
# analysing the 63.5 s 720p studio loop with annotated.mp4; 3.8 s at 32 MB)
MALLOC_MMAP_THRESHOLD_B = 32 << 20
# free memory at the top of a heap kept for the next frames rather than returned, B
MALLOC_TRIM_THRESHOLD_B = 128 << 20


def bound_heap() -> None:
    """Keep a long analysis's resident memory from creeping up with the frames decoded.

    A decoded 1080p frame is 3 MB (YUV) to 6 MB (RGB). glibc first maps such blocks for
    themselves, then raises its mapping threshold after the first is freed, so later frames
    land in per-thread heaps (decoder threads, the prefetch thread, mediapipe's) that stay
    fragmented: 1080p analysis grew by about 40 MB a minute. Two heaps and fixed thresholds
    (which also stop the raising) keep it flat. No-op where glibc is absent.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8  # <malloc.h>
    mallopt(m_mmap_threshold, MALLOC_MMAP_THRESHOLD_B)
    mallopt(m_trim_threshold, MALLOC_TRIM_THRESHOLD_B)
    mallopt(m_arena_max, MALLOC_ARENAS)


def check_readable_file(path: str | Path) -> Path:
    """Raise a clear error unless ``path`` is an existing, readable, non-empty file."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"No such file: {path}. Check the path and try again.")
    if path.is_dir():
        raise InputFileError(f"{path} is a folder; give the path of a video file.")
    if not os.access(path, os.R_OK):
        raise InputFileError(f"Cannot read {path}: permission denied. Check its permissions.")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path} is empty (0 bytes): the recording or copy failed.")
    return path


# converted to RGB by OpenCV (BT.601, limited range, as swscale does for them): what phones and
# H.264 exports use; full-range (yuvj420p) and other formats go through swscale
FAST_RGB_FORMATS = ("yuv420p",)


@dataclass(frozen=True)
class Decoded:
    """A frame decoded but not converted: ``index`` counts every frame, ``t_s`` its time."""

    index: int
    t_s: float
    frame: av.VideoFrame


class VideoFile:
    """A video file opened with PyAV. Iterate to get :class:`Frame` objects.

    Opening checks the file (exists, readable, a container with a video stream); the
    iteration raises if decoding fails part-way or the file proves truncated.
    """

    def __init__(self, path: str | Path, *, truncated_fraction: float = 0.9, min_duration_s: float = 0.5,
                 max_pixels: int = MAX_PIXELS, frame_threads: bool = True):
        self.path = check_readable_file(path)
        # frame-parallel decoding overlaps the pose model; where decoding already has a thread
        # of its own beside other work (the annotated video), frame threads only add their
        # bookkeeping
        self._frame_threads = frame_threads
        self._truncated_fraction = truncated_fraction
        self._min_duration_s = min_duration_s
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
            raise InputFileError(
                f"{self.path} is not a video flatback can read, or it is damaged ({_reason(e)}). "
                "Record or export it as MP4 (H.264) or MOV, and copy it again if it was cut short."
            ) from None
        try:
            self._probe(max_pixels)
        except BaseException:
            self._container.close()
            raise

    def _probe(self, max_pixels: int) -> None:
        """Check the video stream (decodable codec, sane picture size) and fill ``info``."""
        if not self._container.streams.video:
            kind = "only audio" if self._container.streams.audio else "no video stream"
            raise InputFileError(
                f"{self.path} has {kind}: flatback needs a video of the exercise."
            )
        self._stream = self._container.streams.video[0]
        cc = self._stream.codec_context  # None when FFmpeg has no decoder for the stream's codec
        if cc is None:
            raise InputFileError(
                f"{self.path} holds a video in a format flatback cannot decode, or its header is damaged. "
                "Export it as MP4 (H.264) and try again."
            )
        self._set_threads()
        if not cc.width or not cc.height:
            raise InputFileError(f"{self.path} has a video stream without a picture size: the file is damaged.")
        coded_wh = (int(cc.width), int(cc.height))
        if coded_wh[0] * coded_wh[1] > max_pixels:
            raise InputFileError(
                f"{self.path} is {coded_wh[0]}x{coded_wh[1]} pixels, more than flatback handles "
                f"({max_pixels / 1e6:.0f} Mpixels, 8K). Export it at 4K or less; 1080p is plenty."
            )
        rotation = self._first_frame_rotation()
        width, height = coded_wh[::-1] if rotation % 180 else coded_wh
        self.declared_duration_s = _declared_duration_s(self._container, self._stream)
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.info = VideoInfo(
            path=str(self.path),
            duration_s=self.declared_duration_s or 0.0,
            fps=float(rate) if rate else 0.0,
            width=int(width),
            height=int(height),
            rotation_deg=rotation,
        )

    def _first_frame_rotation(self) -> int:
        """Display rotation (deg, counter-clockwise) from the first frame's display matrix;
        the container is re-opened afterwards so iteration starts at the first frame."""
        rotation = 0
        self._t0: float | None = None  # the first frame's time, s: every t_s counts from it
        try:
            for vf in self._container.decode(self._stream):
                self._t0 = None if vf.time is None else float(vf.time)
                degrees = float(vf.rotation or 0.0)
                # a damaged display matrix can say anything: keep the nearest quarter turn
                rotation = round(degrees / 90.0) * 90 % 360 if np.isfinite(degrees) else 0
                break
        except av.error.FFmpegError:
            pass  # a file that cannot decode even one frame fails, clearly, in __iter__
        self._container.close()
        self._container = av.open(str(self.path))
        self._stream = self._container.streams.video[0]
        self._set_threads()
        return rotation

    def _set_threads(self) -> None:
        if self._frame_threads:
            self._stream.thread_type = "AUTO"
        else:
            self._stream.codec_context.thread_count = 1

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, max_rate_hz: float = 0.0, start_s: float = 0.0, stop_s: float | None = None) -> Iterator[Frame]:
        """Every frame, or with ``max_rate_hz`` > 0 at most that many per second (see
        :class:`RatePicker`): the others are decoded (H.264 frames depend on each other) but
        not converted to RGB. ``Frame.index`` counts every frame of the video and ``t_s`` is
        each kept frame's own timestamp. ``start_s``, ``stop_s``: as :meth:`decoded`.
        """
        picker = RatePicker(max_rate_hz)
        for d in self.decoded(start_s, stop_s):
            if picker.take(d.t_s):
                yield self.picture(d)

    def decoded(self, start_s: float = 0.0, stop_s: float | None = None) -> Iterator[Decoded]:
        """Every frame, decoded but not yet converted (:meth:`picture` converts one), so
        the caller can choose which to convert as it goes (``pose/sampling.py``).

        A part of the video (``pipeline/parts.py``): ``start_s`` > 0 seeks to the key frame
        before it and yields from the first frame at or after it, with ``index`` counted
        from there (-1 before it: the caller re-numbers); ``stop_s`` ends after the last frame
        before it, unchecked for truncation (only a part that reaches the end checks that).
        """
        t0 = self._t0
        index = -1
        last_t = -1.0
        partial_end = False
        try:
            tb = self._stream.time_base
            if start_s > 0 and t0 is not None and tb:
                self._container.seek(int((t0 + start_s) / tb), stream=self._stream, backward=True)
            for vf in self._container.decode(self._stream):
                if vf.time is None:
                    continue
                if t0 is None:
                    t0 = vf.time
                t_s = float(vf.time - t0)
                if t_s <= last_t or t_s < start_s:  # duplicated or out-of-order timestamps: keep time increasing
                    continue
                if stop_s is not None and t_s >= stop_s:
                    partial_end = True
                    break
                last_t = t_s
                index += 1
                yield Decoded(index, t_s, vf)
        except av.error.FFmpegError as e:
            raise InputFileError(
                f"{self.path} is damaged: decoding failed after {max(last_t, 0):.2f} s "
                f"({_reason(e)}). Copy or export the video again."
            ) from None
        finally:
            self._container.close()
        if index < 0 and start_s <= 0:
            raise InputFileError(f"{self.path} contains no video frames.")
        if not partial_end and start_s <= 0:
            self._check_complete(last_t, index + 1)
        elif not partial_end:  # a last part: the frames before it are the other parts'
            self._check_complete(last_t, int(round(last_t * self.info.fps)) + 1)

    def picture(self, decoded: Decoded) -> Frame:
        """A decoded frame as RGB, turned upright."""
        vf = decoded.frame
        if vf.format.name in FAST_RGB_FORMATS and vf.width % 2 == 0 and vf.height % 2 == 0:
            import cv2  # opencv ships with mediapipe

            # the planes as they are, converted by OpenCV: 0.9 ms a 720p frame against
            # swscale's 1.5 ms, within 3 levels of it
            image: np.ndarray = cv2.cvtColor(vf.to_ndarray(), cv2.COLOR_YUV2RGB_I420)
        else:
            image = vf.to_ndarray(format="rgb24")
        if self.info.rotation_deg:  # display matrix: rotate counter-clockwise to show upright
            image = np.ascontiguousarray(np.rot90(image, k=self.info.rotation_deg // 90))
        return Frame(index=decoded.index, t_s=decoded.t_s, image=image)

    def i420(self, decoded: Decoded) -> np.ndarray:
        """A decoded frame as a flat I420 (yuv420p) buffer, turned upright and cut to even
        width and height (``info`` size rounded down): Y plane, then U and V at half size.

        The encoder's own format: the annotated video draws on it and encodes it without a
        round trip through RGB (which cost about 3 ms of CPU a 720p frame,
        ``benchmarks/video_cost.py``). Other pixel formats (4:2:2, 10-bit, RGB, odd sizes) go
        through RGB.
        """
        vf = decoded.frame
        if vf.format.name in FAST_RGB_FORMATS and vf.width % 2 == 0 and vf.height % 2 == 0:
            flat = vf.to_ndarray().reshape(-1)
            h, w = vf.height, vf.width
            if not self.info.rotation_deg:
                return flat
            n = w * h
            planes = (flat[:n].reshape(h, w), flat[n : n + n // 4].reshape(h // 2, w // 2),
                      flat[n + n // 4 :].reshape(h // 2, w // 2))
            k = self.info.rotation_deg // 90
            return np.concatenate([np.rot90(p, k=k).ravel() for p in planes])
        import cv2  # opencv ships with mediapipe

        image = self.picture(decoded).image
        h, w = image.shape[:2]
        even = np.ascontiguousarray(image[: h - h % 2, : w - w % 2])
        return cv2.cvtColor(even, cv2.COLOR_RGB2YUV_I420).reshape(-1)

    def _check_complete(self, last_t_s: float, n_frames: int) -> None:
        frame_s = 1.0 / self.info.fps if self.info.fps else 0.0
        decoded_s = last_t_s + frame_s
        declared = self.declared_duration_s
        if declared and decoded_s < self._truncated_fraction * declared:
            raise InputFileError(
                f"{self.path} is truncated: it declares {declared:.2f} s but its frames end "
                f"at {decoded_s:.2f} s. The copy or recording was interrupted; copy it again."
            )
        if decoded_s < self._min_duration_s:
            raise InputFileError(
                f"{self.path} lasts {decoded_s:.2f} s ({n_frames} frame(s)): too short for a rep. "
                "Film at least one whole rep."
            )


class RatePicker:
    """Chooses frames so that at most ``max_rate_hz`` per second are kept, on average.

    ``take(t_s)`` is True for the first frame at or after each point of a grid of
    ``1 / max_rate_hz`` s (within ``tolerance_s``, so float rounding of a 30 fps clip's
    timestamps does not skip a frame meant to land on the grid). A video slower than the
    rate keeps every frame; ``max_rate_hz`` = 0 keeps every frame. Feed it increasing times.
    """

    def __init__(self, max_rate_hz: float, tolerance_s: float = 1e-3):
        if max_rate_hz < 0:
            raise ValueError(f"max_rate_hz must be >= 0, got {max_rate_hz}")
        self.period_s = 1.0 / max_rate_hz if max_rate_hz > 0 else 0.0
        self.tolerance_s = tolerance_s
        self._next_s = float("-inf")

    def take(self, t_s: float) -> bool:
        if self.period_s == 0.0:
            return True
        if t_s < self._next_s - self.tolerance_s:
            return False
        self._next_s = (np.floor((t_s + self.tolerance_s) / self.period_s) + 1) * self.period_s
        return True


def _reason(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e)
    return text.split(":")[0].strip() or type(e).__name__


def _declared_duration_s(container: av.container.InputContainer, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return None


class Webcam:
    """Frames from a camera by index (OpenCV), timestamped with the monotonic clock."""

    def __init__(self, index: int, *, max_frames: int | None = None):
        import cv2  # opencv ships with mediapipe; only the webcam needs it here

        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            raise InputFileError(
                f"Cannot open camera {index}: is it connected and not in use by another program?"
            )
        self._cv2 = cv2
        self._max_frames = max_frames
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.info = VideoInfo(f"camera:{index}", 0.0, fps, width, height)

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, max_rate_hz: float = 0.0) -> Iterator[Frame]:
        """Every frame, or at most ``max_rate_hz`` per second (:class:`RatePicker`)."""
        picker = RatePicker(max_rate_hz)
        t0 = time.monotonic()
        index = 0
        try:
            while self._max_frames is None or index < self._max_frames:
                ok, bgr = self._cap.read()
                if not ok:
                    break
                t_s = time.monotonic() - t0
                if picker.take(t_s):
                    yield Frame(index, t_s, self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB))
                index += 1
        finally:
            self._cap.release()


def open_source(spec: str | Path, **kwargs) -> VideoFile | Webcam:
    """A digit string (``"0"``) opens that webcam, anything else a video file."""
    if isinstance(spec, str) and spec.isdigit() and not Path(spec).exists():
        return Webcam(int(spec))
    return VideoFile(spec, **kwargs)


_END = object()


def prefetch(items: Iterator[T], depth: int = 8) -> Iterator[T]:
    """Run ``items`` in a background thread, ``depth`` ahead (decoding overlaps pose).

    Exceptions raised by the producer are re-raised in the consumer.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(item)
            q.put(_END)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, which re-raises it
            q.put(e)

    thread = threading.Thread(target=produce, daemon=True, name="flatback-decode")
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


class FrameRecorder:
    """Writes the frames a live session saw to an H.264 MP4, keeping their timestamps
    (pts in ms from ``Frame.t_s``), so the session can be drawn on afterwards.

    ``with FrameRecorder(path, fps) as rec: rec.write(frame)``; the file is complete when
    the block ends. Sizes are cropped to even numbers (yuv420p needs them).
    """

    def __init__(self, path: str | Path, fps: float = 30.0):
        self.path = Path(path)
        self.fps = fps
        self._container: Any = None  # av.OutputContainer, opened at the first frame
        self._stream: Any = None
        self._last_ms = -1

    def __enter__(self) -> Self:
        return self

    def write(self, frame: Frame) -> None:
        from fractions import Fraction

        h, w = frame.image.shape[:2]
        if self._container is None:
            self._container = av.open(str(self.path), "w", format="mp4")
            stream = self._container.add_stream("libx264", rate=max(round(self.fps or 30), 1))
            stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
            stream.options = {"preset": "ultrafast"}  # live: the pose model needs the CPU
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
            self._stream = stream
        stream, container = self._stream, self._container
        assert stream is not None
        image = np.ascontiguousarray(frame.image[: int(stream.height), : int(stream.width)])
        video_frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        video_frame.pts = max(round(frame.t_s * 1000), self._last_ms + 1)  # strictly increasing
        self._last_ms = video_frame.pts
        for packet in stream.encode(video_frame):
            container.mux(packet)

    def close(self) -> None:
        if self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None

    def __exit__(self, *exc) -> None:
        self.close()
