"""Video sources: true timestamps (variable frame rate), rotation metadata."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from flatback.io.source import VideoFile, prefetch


def _write(path, pts_ms, size=(160, 120), rotation=None):
    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for _k, pts in enumerate(pts_ms):
            img = np.zeros((h, w, 3), np.uint8)
            img[:20, :40] = 255  # a white mark in the top-left corner
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = pts
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_variable_frame_rate_keeps_true_timestamps(tmp_path):
    rng = np.random.default_rng(0)
    pts = np.cumsum(rng.integers(20, 60, 60))  # 20-60 ms apart, like a phone under load
    pts = pts - pts[0]
    video = VideoFile(_write(tmp_path / "vfr.mp4", pts.tolist()))
    t = np.array([f.t_s for f in video])
    np.testing.assert_allclose(t, pts / 1000.0, atol=0.0015)


def test_rotation_metadata_is_applied(tmp_path):
    video = VideoFile(_write(tmp_path / "rot.mp4", list(range(0, 1000, 33)), rotation=90))
    assert (video.info.width, video.info.height) == (120, 160)
    first = next(iter(video))
    assert first.image.shape == (160, 120, 3)
    # rotated 90 degrees counter-clockwise: the top-left mark is now bottom-left
    assert first.image[-10:, :10].mean() > 200 and first.image[:10, :10].mean() < 50


@pytest.mark.parametrize("rotation", [None, 90, 180])
def test_i420_is_the_upright_picture(tmp_path, rotation):
    """The annotated video's frames (``VideoFile.i420``) are the pose's pictures in the
    encoder's format: turned upright the same way, converting back gives the same RGB."""
    import cv2

    video = VideoFile(_write(tmp_path / "v.mp4", list(range(0, 300, 33)), rotation=rotation))
    w, h = video.info.width, video.info.height
    decoded = next(video.decoded())
    buffer = video.i420(decoded)
    assert buffer.shape == (w * h * 3 // 2,)
    rgb = cv2.cvtColor(buffer.reshape(h * 3 // 2, w), cv2.COLOR_YUV2RGB_I420)
    np.testing.assert_array_equal(rgb, video.picture(decoded).image)


def test_i420_of_an_odd_sized_rgb_video_is_its_even_part(tmp_path):
    """A picture the fast path cannot take (RGB frames, odd size) goes through RGB."""
    path = tmp_path / "odd.mov"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("png", rate=10)
        stream.width, stream.height, stream.pix_fmt = 161, 121, "rgb24"
        for _ in range(10):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((121, 161, 3), 200, np.uint8), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    video = VideoFile(path)
    buffer = video.i420(next(video.decoded()))
    assert buffer.shape == (160 * 120 * 3 // 2,)
    assert abs(int(buffer[0]) - 188) <= 2  # grey 200 in video range: 16 + 200 * 219 / 255


def test_prefetch_passes_items_and_errors_through():
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))

    def broken():
        yield 1
        raise ValueError("decode failed")

    it = prefetch(broken())
    assert next(it) == 1
    with pytest.raises(ValueError, match="decode failed"):
        next(it)


def test_a_missing_webcam_is_a_clear_error():
    from flatback.errors import InputFileError
    from flatback.io.source import open_source

    with pytest.raises(InputFileError, match="Cannot open camera 97"):
        open_source("97")
