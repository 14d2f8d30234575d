"""annotated.mp4: H.264, yuv420p, the source's frames at their own times (every one, or
evenly spaced up to output.video_max_fps), same duration; written atomically."""

from __future__ import annotations

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from flatback.cli import app
from flatback.io.source import VideoFile
from flatback.outputs.annotate import frame_step
from flatback.settings import Settings


def probe(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        times = [f.time for f in c.decode(s)]
        return s.codec_context.name, s.codec_context.pix_fmt, len(times), times


@pytest.fixture
def outdir(demo_outdir):
    return demo_outdir


def test_annotated_video_matches_the_source(outdir, demo):
    """The default cap of 15 frames a second keeps every 2nd frame of the 30 fps demo, at
    the source's own times, so the video lasts as long."""
    _, video, _ = demo
    codec, pix_fmt, n, times = probe(outdir / "annotated.mp4")
    src_codec, _, src_n, src_times = probe(video)
    assert codec == "h264" and pix_fmt == "yuv420p"
    step = frame_step(VideoFile(video).info.fps, Settings().output.video_max_fps)
    assert step == 2
    assert n == len(src_times[::step])
    np.testing.assert_allclose(times, src_times[::step], atol=0.002)  # the source's timestamps
    assert src_times[-1] - times[-1] < step / VideoFile(video).info.fps


@pytest.mark.parametrize(("fps", "max_fps", "step"), [
    (30.0, 15.0, 2), (29.97, 15.0, 2), (24.0, 15.0, 2), (25.0, 15.0, 2), (60.0, 15.0, 4), (59.94, 15.0, 4),
    (50.0, 15.0, 4), (15.0, 15.0, 1), (12.0, 15.0, 1), (30.0, 0.0, 1), (float("nan"), 15.0, 1),
])
def test_frame_step_keeps_at_most_the_cap_evenly_spaced(fps, max_fps, step):
    assert frame_step(fps, max_fps) == step
    if step > 1:
        assert fps / step <= max_fps < fps / (step - 1)


def test_the_video_can_show_every_frame(demo, tmp_path):
    """output.video_max_fps 0: every source frame, from the command line."""
    _, video, keypoints = demo
    out = tmp_path / "every"
    result = CliRunner().invoke(app, ["analyze", str(keypoints), "--video", str(video), "-o", str(out), "-q",
                                      "--set", "output.video_max_fps=0"])
    assert result.exit_code == 0, result.output
    _, _, n, times = probe(out / "annotated.mp4")
    _, _, src_n, src_times = probe(video)
    assert n == src_n
    np.testing.assert_allclose(times, src_times, atol=0.002)


def test_annotations_are_drawn(outdir, demo):
    """The back turns red on the frames where the simulated back is lifted."""
    clip, video, _ = demo
    lifted = int(np.argmax(clip.lumbar_gap_ratio))
    t_lifted = clip.track.t_s[lifted]
    with av.open(str(outdir / "annotated.mp4")) as c:
        nearest = min(c.decode(video=0), key=lambda f: abs(f.time - t_lifted))  # frames shown: every 2nd
        img = nearest.to_ndarray(format="rgb24").astype(int)
    red = (img[..., 0] > 180) & (img[..., 1] < 80) & (img[..., 2] < 80)
    assert red.sum() > 200


def test_report_html_is_self_contained(outdir):
    import re

    page = (outdir / "report.html").read_text()
    assert "data:video/mp4;base64," in page and "data:image/jpeg;base64," in page
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # plotly's code mentions URLs it never loads
    assert not re.search(r"(src|href)=\"(https?:)?//", markup)
    assert "<script src" not in page and "<link" not in page
    assert page.count('class="rep"') == 2


def test_no_video_flag_skips_the_video(demo, tmp_path):
    _, video, keypoints = demo
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["analyze", str(keypoints), "--video", str(video), "--no-video", "-o", str(out), "-q"])
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "timeseries.csv"]


def test_an_interrupted_run_leaves_no_half_written_report(demo, tmp_path, monkeypatch):
    import flatback.outputs.html_report

    _, video, keypoints = demo

    def power_cut(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(flatback.outputs.html_report, "write_html_report", power_cut)
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["analyze", str(keypoints), "--video", str(video), "-o", str(out), "-q"])
    assert result.exit_code == 130
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary sibling


@pytest.mark.parametrize("org", [(40, 80), (-30, 10)])  # inside; partly outside the picture
def test_text_darkens_its_box_and_draws_the_glyphs_in_colour(org):
    """The text blend (Canvas.text) on each plane of the frame: the box shows 35 % of the
    picture (towards the plane's black), a glyph's full pixels the colour, and nothing
    outside the box changes."""
    from flatback.outputs.annotate import BLACK_YUV, Canvas, _text_sprite, yuv

    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, 120 * 400 * 3 // 2, dtype=np.uint8)
    canvas = Canvas(picture.copy(), 400, 120)
    before = Canvas(picture, 400, 120).planes
    bottom = canvas.text("Rep 3/12", org, 1.0, (0, 255, 255))
    (bh, bw), glyphs, h, pad = _text_sprite("Rep 3/12", 1.0, 2)
    y0, x0 = (org[1] - h - pad) & ~1, (org[0] - pad) & ~1
    assert bottom == y0 + bh and bh % 2 == 0 and bw % 2 == 0
    for k, (plane, old) in enumerate(zip(canvas.planes, before, strict=True)):
        f = 2 if k else 1
        idx, cover = glyphs[2 * (k > 0)], glyphs[2 * (k > 0) + 1]
        py0, px0, pbh, pbw = y0 // f, x0 // f, bh // f, bw // f
        inside = np.zeros(plane.shape, bool)
        inside[max(py0, 0) : py0 + pbh, max(px0, 0) : px0 + pbw] = True
        assert np.array_equal(plane[~inside], old[~inside])
        glyph = np.zeros((pbh, pbw), bool)
        glyph.ravel()[idx] = True
        ys, xs = np.nonzero(~glyph)
        ys, xs = ys + py0, xs + px0
        keep = (ys >= 0) & (xs >= 0) & (ys < plane.shape[0]) & (xs < plane.shape[1])
        black = BLACK_YUV[k]
        np.testing.assert_allclose(plane[ys[keep], xs[keep]], black + 0.35 * (old[ys[keep], xs[keep]] - black.__float__()),
                                   atol=1.0)
        full = np.zeros((pbh, pbw), bool)
        full.ravel()[idx[cover == 1.0]] = True
        ys, xs = np.nonzero(full)
        keep = (ys + py0 >= 0) & (xs + px0 >= 0)
        assert full.any() and (plane[ys[keep] + py0, xs[keep] + px0] == yuv((0, 255, 255))[k]).all()


def test_canvas_draws_in_colour_on_every_plane():
    """A line drawn on the I420 canvas reads back, through RGB, in its colour (chroma drawn
    at half the coordinates lands under the luma), and a line across the frame's edge is
    cut there."""
    from flatback.outputs.annotate import YELLOW, Canvas

    canvas = Canvas.from_rgb(np.full((120, 160, 3), 40, np.uint8))
    canvas.line((-20, 60), (200, 60), YELLOW, 9)
    rgb = canvas.rgb().astype(int)
    np.testing.assert_allclose(rgb[58:63, 10:150].reshape(-1, 3).mean(axis=0), YELLOW, atol=8)
    assert (np.abs(rgb[:45] - 40) <= 2).all() and (np.abs(rgb[75:] - 40) <= 2).all()
