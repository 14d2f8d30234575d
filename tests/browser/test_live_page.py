"""``flatback serve`` in Debian's headless chromium, its camera faked from a development clip.

The clip is letterboxed to 640x480 and written as a .y4m at test time (chromium's
``--use-file-for-fake-video-capture``; it loops the file, so the clip is followed by a
few seconds of its last frame held still). The server is the real command,
``flatback serve --port 0``, with the real pose model. Checked: the live count against
the offline count of the same clip, the tempo count and a cue shown and spoken (the page's
``speechSynthesis.speak`` is wrapped by a script injected before the page loads), the set
saved and listed in history, the set-up check on a clip filmed from above, the upload page,
and that the browser fetched nothing but 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from tests.browser.test_report_page import CHROMIUM, DRIVER, wait_for
from tests.conftest import clips_or_skip, skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
LIVE_CLIP = "double_leg_lift_lowres.mp4"  # 16 s, four reps from vertical; live and offline both count 4
FROM_ABOVE_CLIP = "single_leg_lift.mp4"  # the camera looks down on her from about 30 degrees
UPLOAD_CLIP = "double_leg_lift_lowres.mp4"
TAIL_S = 4.0  # the last frame held still after the clip, s: the set is read before the loop restarts

SPEECH_SPY = """
window.__spoken = [];
if (window.speechSynthesis) {
  const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
  window.speechSynthesis.speak = function (u) { window.__spoken.push(u.text); try { speak(u); } catch (e) {} };
}
"""


@pytest.fixture(autouse=True, scope="module")
def _chromium():
    if not (CHROMIUM and DRIVER):
        skip_or_fail("Debian's chromium and chromium-driver are not installed (./run.sh test installs them)")


def write_y4m(src: Path, dst: Path, tail_s: float = TAIL_S, max_s: float | None = None) -> float:
    """The clip letterboxed to 640x480 as a .y4m (yuv420p), its last frame held ``tail_s``;
    returns the clip's duration, s."""
    import av
    import cv2

    from flatback.io.source import open_source

    source = open_source(src)
    fps = round(source.info.fps) or 30
    with av.open(str(dst), "w", format="yuv4mpegpipe") as out:
        stream = out.add_stream("rawvideo", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, fps)
        canvas = np.zeros((480, 640, 3), np.uint8)
        n = 0

        def put(rgb: np.ndarray, index: int) -> None:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)

        for frame in source:
            if max_s is not None and frame.t_s > max_s:
                break
            h, w = frame.image.shape[:2]
            s = min(640 / w, 480 / h)
            small = cv2.resize(frame.image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            canvas = np.zeros((480, 640, 3), np.uint8)
            y0, x0 = (480 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
            canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
            put(canvas, n)
            n += 1
        for k in range(int(tail_s * fps)):
            put(canvas, n + k)
        for packet in stream.encode():
            out.mux(packet)
    return n / fps


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real ``flatback serve`` on a free port, its log and data in a temporary folder."""
    tmp = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from flatback.cli import app; app()", "serve", "--port", "0", "--no-browser",
         "--data", str(tmp / "web"), "--db", f"sqlite:///{tmp / 'log.db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    url = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("flatback serve: "):
            url = line.split(": ", 1)[1].strip()
            break
    if url is None:
        proc.kill()
        pytest.fail(f"flatback serve did not start: {proc.stderr.read() if proc.stderr else ''}")
    base = url.rsplit("/live", 1)[0]
    yield base
    proc.terminate()
    proc.wait(20)


def open_camera_browser(y4m: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", "--autoplay-policy=no-user-gesture-required",
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={y4m}"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SPEECH_SPY})
    return driver


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for (HTTP and WebSocket), from chromium's performance log."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


def assert_only_loopback(urls: list[str]) -> None:
    assert urls, "the performance log recorded no request"
    outside = [u for u in urls if not (u.startswith(("data:", "blob:")) or urlparse(u).hostname == "127.0.0.1")]
    assert not outside, f"requests left 127.0.0.1: {outside}"


def test_live_set_counts_coaches_speaks_and_is_saved(server, clip_track, tmp_path):
    from flatback.pipeline import Analyzer

    clips = clips_or_skip()
    offline = Analyzer().analyze_track(clip_track(LIVE_CLIP)).rep_count
    clip_s = write_y4m(clips / LIVE_CLIP, tmp_path / "clip.y4m")
    driver = open_camera_browser(tmp_path / "clip.y4m")
    try:
        driver.get(f"{server}/live?autostart=1&target=50")  # a target the clip cannot reach: the set ends here
        wait_for(driver, "return window.flatback && window.flatback.state.running", timeout=60)
        seen_tempo, seen_cues = set(), set()
        end = time.time() + clip_s * 4 + 60  # a slow machine analyses fewer frames, never slower than real time
        state = {}
        while time.time() < end:
            state = driver.execute_script("return window.flatback.state")
            if state["phase"] == "descent" and state["tempo_count"] >= 1:
                seen_tempo.add(state["tempo_count"])
            if state.get("cue"):
                seen_cues.add(state["cue"])
            if state.get("t_s", 0) >= clip_s + 1.0:
                break
            time.sleep(0.1)
        assert state.get("t_s", 0) >= clip_s + 1.0, f"the set did not get through the clip: {state.get('t_s')}"
        for key in ("rep_count", "phase", "cue", "back", "fps"):
            assert key in state
        assert state["fps"] > 0
        live = state["rep_count"]
        assert abs(live - offline) <= 1, f"live counted {live}, offline {offline}"
        assert seen_tempo, "no tempo count was shown on the way down"
        assert seen_cues, "no cue was shown"
        spoken = driver.execute_script("return window.__spoken")
        print(f"live {live} offline {offline}, {state['fps']} fps, latency p95 {state.get('latency_p95_ms')} ms, "
              f"tempo {sorted(seen_tempo)}, cues {seen_cues}, spoken {spoken}")
        assert any(w in " ".join(spoken).lower().split() for w in ("two", "three", "four")) or any(
            "One" in s for s in spoken), f"no count spoken: {spoken}"
        assert any(c in spoken for c in seen_cues), f"no cue spoken: {spoken}"
        driver.execute_script("window.flatback.stop()")
        summary = wait_for(driver, "return window.flatback.summary", timeout=180)
        assert summary["live_rep_count"] == live
        assert abs(summary["rep_count"] - offline) <= 1
        driver.get(f"{server}/history")
        row = driver.find_element("css selector", f'tr.saved-set[data-id="{summary["id"]}"]')
        assert row.find_element("css selector", "td.reps").text == str(summary["rep_count"])
        assert driver.find_elements("css selector", "#sessions tbody tr td")[3].text == str(summary["rep_count"])
        driver.get(f"{server}{summary['report_url']}")
        wait_for(driver, "return document.readyState === 'complete'")
        assert_only_loopback(requested_urls(driver))
    finally:
        driver.quit()


def test_setup_check_flags_a_camera_filmed_from_above(server, tmp_path):
    clips = clips_or_skip()
    write_y4m(clips / FROM_ABOVE_CLIP, tmp_path / "above.y4m", tail_s=0.0, max_s=8.0)
    driver = open_camera_browser(tmp_path / "above.y4m")
    try:
        driver.get(f"{server}/live")
        item = wait_for(driver, """
            const s = window.flatback.state.setup || [];
            const c = s.find(i => i.key === 'camera_height');
            return c && c.ok === false ? c : null;""", timeout=90)
        assert "looks down" in item["text"]
        shown = wait_for(driver, "const li = document.querySelector('#setup li[data-key=camera_height]'); "
                                 "return li && li.className")  # the list is redrawn at every state: read it at once
        assert shown == "bad"
        assert_only_loopback(requested_urls(driver))
    finally:
        driver.quit()


def test_upload_page_analyses_a_clip_and_shows_its_report(server):
    from tests.browser.test_report_page import open_browser

    clip = clips_or_skip() / UPLOAD_CLIP
    driver = open_browser(1200, 900)
    try:
        driver.get(f"{server}/upload")
        driver.find_element("id", "file").send_keys(str(clip))
        driver.find_element("id", "go").click()
        url = wait_for(driver, """
            const u = window.flatback.upload;
            if (u.stage === 'failed') return 'failed: ' + u.error;
            return u.report_url;""", timeout=240)
        assert not url.startswith("failed"), url
        driver.switch_to.frame(driver.find_element("id", "report"))
        wait_for(driver, "return document.readyState === 'complete' && document.body.innerText.length > 100")
        assert "rep" in driver.find_element("tag name", "body").text.lower()
    finally:
        driver.quit()
