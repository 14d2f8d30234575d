"""The README's pictures of ``flatback serve``'s pages: live, upload with its report, history.

    .venv/bin/python docs/make_serve_screenshots.py docs/

No real clip is copied into the repository, so the pictures show the simulator's demo
set (a drawn figure): chromium's fake camera plays it (a .y4m made here), and the pose
model's place is taken by the simulator's own poses of it (the app's pose seam), since
BlazePose is made for people, not drawings. Everything else is the real app: the server,
the live analyzer, the set-up check, the saved set's report, the training log, the pages.
Needs Debian's chromium and chromium-driver (``./run.sh test`` installs them).
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import cv2


def main(docs: str) -> None:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    import uvicorn

    from flatback.settings import Settings
    from flatback.simulate import demo_clip
    from flatback.web import app as web_app
    from flatback.web.app import ServeConfig, create_app
    from tests.browser.test_live_page import open_camera_browser, write_y4m
    from tests.browser.test_report_page import full_page_screenshot, open_browser, wait_for

    clip = demo_clip()
    track = clip.track

    class Replay:
        """The demo clip's poses, frame by frame, matched by time (the camera loops the clip),
        mapped by ``scale`` and a downward ``offset_y`` px (the live page's letterboxed 640x480)."""

        name = "simulator-replay"

        def __init__(self, scale: float = 1.0, offset_y: float = 0.0):
            self.scale, self.offset_y = scale, offset_y

        def __call__(self, frame):
            import numpy as np

            i = int(np.argmin(np.abs(track.t_s - frame.t_s % track.t_s[-1])))
            pf = track.frame(i)
            k, dy = self.scale, self.offset_y
            xy = pf.xy_px * k + np.array([0.0, dy], np.float32)
            mask = pf.mask
            if mask is not None:
                mask = replace(mask, x_px=mask.x_px * k, top_y_px=mask.top_y_px * k + dy,
                               bottom_y_px=mask.bottom_y_px * k + dy)
            return replace(pf, index=frame.index, t_s=frame.t_s, xy_px=xy.astype(np.float32), mask=mask)

        def close(self) -> None:
            pass

    docs_dir = Path(docs)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        video = clip.write_video(tmp / "demo_leg_lifts.mp4")
        write_y4m(video, tmp / "demo.y4m", tail_s=0.0)
        # the live page sends 640x480 pictures of the 1280x720 clip (letterboxed): the poses follow
        scale = 640 / track.info.width
        offset_y = (480 - track.info.height * scale) / 2

        def live_backend(settings):
            return Replay(scale, offset_y)

        web_app._backend = live_backend  # type: ignore[assignment]
        config = ServeConfig(Settings(), tmp / "web", f"sqlite:///{tmp / 'log.db'}",
                             upload_backend=lambda: Replay())
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", ws="websockets-sansio"))
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        while not server.started:
            time.sleep(0.1)

        def shoot(driver, name: str, scale_down: float = 0.75) -> None:
            full_page_screenshot(driver, tmp / "page.png")
            page = cv2.imread(str(tmp / "page.png"))
            cv2.imwrite(str(docs_dir / name), cv2.resize(page, None, fx=scale_down, fy=scale_down,
                                                         interpolation=cv2.INTER_AREA))

        # live: a set of two reps, caught on the way down, then its summary
        driver = open_camera_browser(tmp / "demo.y4m")
        try:
            driver.get(f"{base}/live?autostart=1&target=2&mute=1")
            wait_for(driver, "const s = window.flatback.state; return s.running && s.rep_count >= 1 && "
                             "s.phase === 'descent' && s.tempo_count >= 2 && s.cue", timeout=120)
            shoot(driver, "serve_live.png")
            wait_for(driver, "return window.flatback.summary", timeout=180)
        finally:
            driver.quit()
        # upload: the demo video analysed, its report below
        driver = open_browser(1200, 1000)
        try:
            driver.get(f"{base}/upload")
            driver.find_element("id", "file").send_keys(str(video))
            driver.find_element("id", "save").click()
            driver.find_element("id", "go").click()
            wait_for(driver, "return window.flatback.upload.report_url", timeout=240)
            time.sleep(3)
            driver.set_window_size(1200, 1000)
            shoot(driver, "serve_upload.png")
            driver.get(f"{base}/history")  # the live set and the upload, both in the log
            time.sleep(1)
            shoot(driver, "serve_history.png")
        finally:
            driver.quit()
        server.should_exit = True


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs")
