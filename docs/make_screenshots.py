"""The README's pictures of report.html and the annotated video, from the simulator's
demo clip (no real clip is copied into the repository).

    .venv/bin/python docs/make_screenshots.py docs/

Needs Debian's chromium and chromium-driver (``./run.sh test`` installs them).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import av
import cv2
import numpy as np

from flatback.outputs.files import write_outputs
from flatback.pipeline import Analyzer
from flatback.simulate import demo_clip


def main(docs: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.browser.test_report_page import full_page_screenshot, open_browser

    docs_dir = Path(docs)
    with tempfile.TemporaryDirectory() as tmp:
        clip = demo_clip()
        video = clip.write_video(Path(tmp) / "demo.mp4")
        track = clip.track.replaced(info=replace(clip.track.info, path="demo_leg_lifts.mp4"))
        analysis = Analyzer().analyze_track(track)
        out = write_outputs(analysis, Path(tmp) / "demo_flatback", video_source=video)
        driver = open_browser(1100, 900)
        driver.get((out / "report.html").as_uri())
        time.sleep(3)
        full_page_screenshot(driver, Path(tmp) / "page.png")
        driver.quit()
        page = cv2.imread(str(Path(tmp) / "page.png"))
        cv2.imwrite(str(docs_dir / "report.png"), cv2.resize(page, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA))
        # the first lowering, 0.8 s after the back began to lift
        onset = analysis.reps[0].back.onset_s
        wanted = int(np.argmin(np.abs(clip.track.t_s - (onset + 0.8))))
        with av.open(str(out / "annotated.mp4")) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i == wanted:
                    cv2.imwrite(str(docs_dir / "annotated_frame.png"), f.to_ndarray(format="bgr24"))
                    break


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs")
