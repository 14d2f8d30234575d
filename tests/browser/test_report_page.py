"""report.html in a real headless browser (Debian's chromium): plots, table, video, seeking.

Saves a screenshot (the README's picture is made the same way, docs/make_screenshots.py).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(autouse=True, scope="session")  # session: decided before the demo clip is rendered
def _chromium():
    """Skip, saying why, without the browser; in CI (CI=true) fail instead."""
    if not (CHROMIUM and DRIVER):
        skip_or_fail("Debian's chromium and chromium-driver are not installed (./run.sh test installs them)")


def open_browser(width=1200, height=1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--window-size={width},{height}", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def full_page_screenshot(driver, path: Path) -> None:
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    })
    path.write_bytes(base64.b64decode(shot["data"]))


def wait_for(driver, script, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {script}")


@pytest.fixture(scope="module")
def page(demo, demo_outdir):
    driver = open_browser()
    driver.get((demo_outdir / "report.html").as_uri())
    yield driver, demo_outdir, demo[0]
    driver.quit()


def test_plots_render(page):
    driver, _, _ = page
    wait_for(driver, "return document.querySelectorAll('#plot-legs .main-svg').length > 0")
    assert driver.execute_script("return document.querySelectorAll('#plot-back .main-svg').length") > 0
    # the curve is drawn: a path with many points
    assert driver.execute_script("return document.querySelector('#plot-legs .scatterlayer path.js-line').getAttribute('d').length") > 500


def test_nothing_is_fetched_from_the_network(page):
    driver, _, _ = page
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in urls if u.startswith(("http:", "https:"))]


def test_table_and_key_frames_render(page):
    driver, out, clip = page
    rows = driver.execute_script("return document.querySelectorAll('#reps tbody tr').length")
    assert rows == clip.truth.rep_count
    widths = driver.execute_script("return [...document.querySelectorAll('figure.key img')].map(i => i.naturalWidth)")
    assert widths and min(widths) > 0
    assert "lifted" in driver.execute_script("return document.querySelector('#reps tbody').innerText")


def test_video_plays_and_a_click_on_a_rep_seeks_to_it(page, tmp_path):
    driver, out, _ = page
    wait_for(driver, "return document.body.dataset.videoReady === '1'")
    duration = driver.execute_script("return document.getElementById('video').duration")
    assert duration > 10
    second = driver.find_elements("css selector", "#reps tbody tr")[1]
    start = float(second.get_attribute("data-t"))
    second.click()
    t = wait_for(driver, f"const v = document.getElementById('video'); return v.currentTime > {start} - 1 && v.currentTime")
    assert start - 1 < t < start + 2
    shot = tmp_path / "report.png"
    full_page_screenshot(driver, shot)
    assert shot.stat().st_size > 50_000
