"""``flatback serve``'s live loop measured end to end: analysed frames per second at
640x480 and the latency from a frame's capture to its state coming back.

    .venv/bin/python benchmarks/serve_live.py ../shared/clips/double_leg_lift_studio.mp4 [--seconds 30]

It starts the real server (``flatback serve --port 0``, in a subprocess: the pose model,
the live analyzer, the set-up check and the recording of a running set), and plays the
clip to it as the live page does: frames letterboxed to 640x480, a frame every 1/30 s
(the clip looped), each JPEG-encoded at the page's quality when it is "captured" (so the
encoding counts in the latency, as the page's ``toBlob`` does), at most two frames
unanswered (one analysed, one waiting: the page's rule; frames the camera gives while two
are out are not sent). Latency = the time the state arrives - the capture time. The
WebSocket client, decoding and encoding run in this process and share the machine with
the server, as a browser would.

Prints the analysed frames per second, the latency's median and 95th percentile, the
share of camera frames analysed, and the server's own compute time per frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CAMERA_FPS = 30.0
JPEG_QUALITY = 70  # the page's canvas.toBlob quality 0.7
MAX_IN_FLIGHT = 2


def letterbox_frames(video: str, width: int = 640, height: int = 480) -> list[np.ndarray]:
    """The clip's frames, scaled to fit width x height on black (BGR, for cv2.imencode)."""
    import cv2

    from flatback.io.source import open_source

    out = []
    for frame in open_source(video):
        h, w = frame.image.shape[:2]
        s = min(width / w, height / h)
        small = cv2.resize(frame.image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((height, width, 3), np.uint8)
        y0, x0 = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
        canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
        out.append(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    return out


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from flatback.cli import app; app()", "serve", "--port", "0", "--no-browser",
         "--data", str(tmp / "web"), "--db", f"sqlite:///{tmp / 'log.db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("flatback serve: "):
            url = line.split(": ", 1)[1].strip()
            return proc, url.replace("http://", "ws://").replace("/live", "/ws/live")
    raise RuntimeError("the server did not start")


async def play(ws_url: str, frames: list[np.ndarray], seconds: float, warmup_s: float) -> dict:
    import cv2
    import websockets

    latencies, computes, sent, answered = [], [], 0, 0
    in_flight = 0
    t_end = None
    async with websockets.connect(ws_url + "?mode=set&target=100", max_size=None) as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        await ws.send(json.dumps({"type": "start"}))
        done = asyncio.Event()

        async def receive() -> None:
            nonlocal in_flight, answered
            async for raw in ws:
                m = json.loads(raw)
                if m["type"] != "state":
                    continue
                in_flight -= 1
                now = time.perf_counter() * 1000
                if m["capture_ms"] >= measure_from:
                    latencies.append(now - m["capture_ms"])
                    computes.append(m["compute_ms"])
                    answered += 1
                if done.is_set() and in_flight == 0:
                    return

        t0 = time.perf_counter()
        measure_from = (t0 + warmup_s) * 1000
        receiver = asyncio.create_task(receive())
        k = 0
        while True:
            due = t0 + k / CAMERA_FPS
            now = time.perf_counter()
            if now - t0 > warmup_s + seconds:
                break
            if due > now:
                await asyncio.sleep(due - now)
            capture = time.perf_counter() * 1000
            if in_flight < MAX_IN_FLIGHT:
                ok, jpeg = cv2.imencode(".jpg", frames[k % len(frames)], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                await ws.send(struct.pack("<d", capture) + jpeg.tobytes())
                in_flight += 1
                if capture >= measure_from:
                    sent += 1
            k += 1
        t_end = time.perf_counter()
        done.set()
        await asyncio.wait_for(receiver, 10)
        await ws.send(json.dumps({"type": "cancel"}))
    camera_frames = int(seconds * CAMERA_FPS)
    return {"latencies": np.array(latencies), "computes": np.array(computes), "answered": answered,
            "camera_frames": camera_frames, "seconds": t_end - t0 - warmup_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds (after the warm-up)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not measured at the start (model loading)")
    args = parser.parse_args()
    frames = letterbox_frames(args.video)
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp))
        try:
            r = asyncio.run(play(url, frames, args.seconds, args.warmup))
        finally:
            proc.terminate()
            proc.wait(10)
    lat, comp = r["latencies"], r["computes"]
    fps = r["answered"] / r["seconds"]
    print(f"clip: {args.video} ({len(frames)} frames, letterboxed to 640x480), camera {CAMERA_FPS:.0f} fps, "
          f"{r['seconds']:.1f} s measured after {args.warmup:.0f} s of warm-up; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    print(f"analysed frames per second: {fps:.1f} ({r['answered']} of {r['camera_frames']} camera frames, "
          f"{r['answered'] / max(r['camera_frames'], 1):.0%})")
    print(f"capture-to-state latency: median {np.median(lat):.0f} ms, p95 {np.percentile(lat, 95):.0f} ms, "
          f"max {lat.max():.0f} ms")
    print(f"server compute per frame (pose + analyzer + set-up check + recording): median {np.median(comp):.0f} ms, "
          f"p95 {np.percentile(comp, 95):.0f} ms")


if __name__ == "__main__":
    main()
