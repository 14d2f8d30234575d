"""``flatback serve``'s app without a browser: every endpoint's answers to good and bad
input, the token and Host gates, uploads' checks and clean-up, and a whole live set over
the WebSocket with the simulator's pose track standing in for the model."""

from __future__ import annotations

import json
import struct
from dataclasses import replace

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from flatback.log.history import TrainingLog
from flatback.settings import Settings
from flatback.simulate import demo_clip
from flatback.types import Frame, PoseFrame
from flatback.web import app as web_app
from flatback.web.app import LatestFrame, ServeConfig, create_app
from flatback.web.uploads import sniff_video


class LoopbackClient(TestClient):
    """Starlette's test client names host "testserver" on WebSockets: name loopback, as a browser would."""

    def websocket_connect(self, url, subprotocols=None, **kwargs):
        kwargs["headers"] = {"host": "127.0.0.1:8000", **(kwargs.get("headers") or {})}
        return super().websocket_connect(url, subprotocols, **kwargs)


class ReplayPose:
    """The simulator's poses, frame by frame, whatever the picture (the model's seam)."""

    name = "replay"

    def __init__(self, track):
        self.track, self.closed = track, False

    def __call__(self, frame: Frame) -> PoseFrame:
        pf = self.track.frame(frame.index % len(self.track))
        return replace(pf, index=frame.index, t_s=frame.t_s)

    def close(self) -> None:
        self.closed = True


@pytest.fixture(scope="module")
def clip():
    return demo_clip()


@pytest.fixture
def make_client(tmp_path, monkeypatch, clip):
    backends: list[ReplayPose] = []

    def fake_backend(settings):
        backends.append(ReplayPose(clip.track))
        return backends[-1]

    monkeypatch.setattr(web_app, "_backend", fake_backend)

    def make(settings: Settings | None = None, token: str | None = None, loopback_only: bool = True) -> LoopbackClient:
        config = ServeConfig(settings or Settings(), tmp_path / "data", f"sqlite:///{tmp_path / 'log.db'}", token,
                             loopback_only)
        client = LoopbackClient(create_app(config), base_url="http://127.0.0.1:8000")
        client.backends = backends  # type: ignore[attr-defined]
        return client

    return make


def jpeg(width: int, height: int) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 90, np.uint8))
    assert ok
    return data.tobytes()


def test_health_and_pages(make_client):
    client = make_client()
    assert client.get("/api/health").json() == {"status": "ok"}
    for path in ("/live", "/upload", "/history"):
        r = client.get(path)
        assert r.status_code == 200 and "<nav>" in r.text, path
    assert "flatback.state" in client.get("/static/live.js").text
    # every script and style sheet the pages name is the package's own
    for path in ("/live", "/upload", "/history"):
        for src in __import__("re").findall(r'(?:src|href)="([^"#]+)"', client.get(path).text):
            assert src.startswith("/"), (path, src)


def test_unknown_paths_and_methods_are_json_errors(make_client):
    client = make_client()
    r = client.get("/nothing-here")
    assert r.status_code == 404 and r.json()["error"].startswith("nothing at")
    r = client.delete("/api/health")
    assert r.status_code == 405 and "not allowed" in r.json()["error"]
    r = client.post("/api/upload?save=perhaps", content=b"x")
    assert r.status_code == 422 and "save" in r.json()["error"]


@pytest.mark.parametrize("path", ["/sets/../../etc/passwd", "/sets/20250101-000000-abcdef/report.html",
                                  "/reports/x/report.html", "/reports/20250101-000000-abcdef/secret.txt",
                                  "/api/jobs/../../x", "/api/jobs/20250101-000000-abcdef"])
def test_report_files_only_by_id_and_known_name(make_client, path):
    r = make_client().get(path)
    assert r.status_code == 404 and "error" in r.json()


def test_sniffing_reads_the_content_not_the_name():
    assert sniff_video(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 20) == ".mp4"
    assert sniff_video(b"\x1a\x45\xdf\xa3" + b"\x00" * 20) == ".mkv"
    assert sniff_video(b"RIFF\x00\x00\x00\x00AVI LIST") == ".avi"
    assert sniff_video(b"<html>not a video</html>") is None
    assert sniff_video(b"\x89PNG\r\n\x1a\n") is None


def test_bad_uploads_are_refused_and_leave_nothing(make_client, tmp_path):
    client = make_client(Settings().replace(serve__max_upload_mb=0.01))  # 10 kB
    r = client.post("/api/upload", content=b"")
    assert r.status_code == 400 and "empty" in r.json()["error"]
    r = client.post("/api/upload", content=b"#!/bin/sh\nrm -rf /\n" * 10, headers={"content-type": "application/octet-stream"})
    assert r.status_code == 415 and "not a video" in r.json()["error"]
    r = client.post("/api/upload", content=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 20_000)
    assert r.status_code == 413 and "limit" in r.json()["error"]
    assert list((tmp_path / "data" / "uploads").iterdir()) == []


def test_a_damaged_video_fails_its_job_with_a_message(make_client, tmp_path):
    client = make_client()
    r = client.post("/api/upload", content=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 5000)
    assert r.status_code == 202
    job = r.json()
    for _ in range(200):
        job = client.get(f"/api/jobs/{job['id']}").json()
        if job["stage"] in ("done", "failed"):
            break
        __import__("time").sleep(0.05)
    assert job["stage"] == "failed" and job["error"] and "internal" not in job["error"]
    assert list((tmp_path / "data" / "uploads").iterdir()) == []  # the stored upload was removed


def test_token_is_needed_on_http_and_websocket(make_client):
    client = make_client(token="s3cret", loopback_only=False)
    r = client.get("/api/health")
    assert r.status_code == 401 and "token" in r.json()["error"]
    assert client.get("/api/health", headers={"x-flatback-token": "wrong"}).status_code == 401
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/live") as ws:
            ws.receive_json()
    assert refused.value.code == 4401
    r = client.get("/live?token=s3cret")
    assert r.status_code == 200 and "flatback_token" in r.headers.get("set-cookie", "")
    assert client.get("/api/health").status_code == 200  # the cookie now carries it
    with client.websocket_connect("/ws/live", headers={"cookie": "flatback_token=s3cret"}) as ws:
        assert ws.receive_json()["type"] == "hello"
    with client.websocket_connect("/ws/live?token=s3cret") as ws:
        assert ws.receive_json()["type"] == "hello"


def test_loopback_server_answers_only_to_loopback_names(make_client):
    client = make_client()
    r = client.get("/api/health", headers={"host": "attacker.example:8000"})
    assert r.status_code == 400 and "127.0.0.1" in r.json()["error"]
    assert client.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200


def test_latest_frame_keeps_only_the_newest():
    import asyncio

    async def run():
        slot = LatestFrame()
        for k in range(5):
            slot.put((float(k), b"x"))
        return await slot.take(), slot.dropped

    (capture_ms, _), dropped = asyncio.run(run())
    assert capture_ms == 4.0 and dropped == 4


def test_bad_live_messages_get_errors_and_the_socket_stays(make_client):
    client = make_client()
    with client.websocket_connect("/ws/live?mode=set&target=3") as ws:
        assert ws.receive_json()["target"] == 3
        ws.send_bytes(b"1234")
        assert "8 bytes" in ws.receive_json()["error"]
        ws.send_bytes(struct.pack("<d", 0.0) + b"GIF89a not a jpeg")
        assert "not a JPEG" in ws.receive_json()["error"]
        ws.send_bytes(struct.pack("<d", 0.0) + b"\xff\xd8\xff\xe0 broken")
        assert "decoded" in ws.receive_json()["error"]
        ws.send_text("start now")
        assert "JSON" in ws.receive_json()["error"]
        ws.send_text(json.dumps({"type": "jump"}))
        assert "unknown command" in ws.receive_json()["error"]
        ws.send_text(json.dumps({"type": "mode", "mode": "set", "target": 1000}))
        assert "outside" in ws.receive_json()["error"]
        ws.send_bytes(struct.pack("<d", 0.0) + jpeg(640, 480))
        assert ws.receive_json()["type"] == "state"
    with client.websocket_connect("/ws/live?mode=sideways") as ws:
        assert "mode must be" in ws.receive_json()["error"]


def test_a_live_set_is_counted_saved_and_shown_in_history(make_client, clip, tmp_path):
    """The demo clip's two reps through the socket: live count, the saved report, the log."""
    client = make_client()
    w, h = clip.track.info.width, clip.track.info.height
    picture = jpeg(w, h)
    states = []
    with client.websocket_connect("/ws/live?mode=set&target=2") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_text(json.dumps({"type": "start"}))
        assert ws.receive_json()["type"] == "started"
        summary = None
        for i in range(len(clip.track)):
            ws.send_bytes(struct.pack("<d", 1000.0 * clip.track.t_s[i] + 5000.0) + picture)
            m = ws.receive_json()
            assert m["type"] == "state", m
            states.append(m)
            if m["done"]:
                assert ws.receive_json()["type"] == "saving"
                summary = ws.receive_json()
                break
    assert summary is not None and summary["type"] == "summary", summary
    assert states[-1]["rep_count"] == 2
    assert any(s["tempo_count"] >= 1 and s["phase"] == "descent" for s in states)
    assert {i["key"] for i in states[-1]["setup"]} == {"in_frame", "side_view", "camera_height", "arms", "back_flat"}
    assert states[-1]["points"] and states[-1]["floor"] is not None
    assert summary["rep_count"] >= 1 and summary["live_rep_count"] == 2
    report = client.get(summary["report_url"])
    assert report.status_code == 200 and "<html" in report.text.lower()
    assert client.get(summary["report_url"].replace("report.html", "annotated.mp4")).status_code == 200
    sessions = TrainingLog(f"sqlite:///{tmp_path / 'log.db'}").summaries()
    assert len(sessions) == 1 and sessions[0].reps == summary["rep_count"]
    history = client.get("/history").text
    assert summary["id"] in history and "<svg" in history


def test_the_test_mode_reports_the_norms(make_client, clip):
    client = make_client()
    w, h = clip.track.info.width, clip.track.info.height
    picture = jpeg(w, h)
    with client.websocket_connect("/ws/live?mode=test") as ws:
        hello = ws.receive_json()
        assert hello["target"] == Settings().end_range_test.tries and hello["protocol"]
        ws.send_text(json.dumps({"type": "start"}))
        ws.receive_json()
        for i in range(len(clip.track)):
            ws.send_bytes(struct.pack("<d", 1000.0 * clip.track.t_s[i]) + picture)
            ws.receive_json()
        ws.send_text(json.dumps({"type": "stop"}))
        ws.send_bytes(struct.pack("<d", 1e6) + picture)  # the command is read between frames
        messages = [ws.receive_json() for _ in range(3)]
    summary = next(m for m in messages if m["type"] == "summary")
    test = summary["test"]
    assert len(test["tries"]) >= 1 and test["norms_deg"]["adolescents"] == 72.0
    assert test["end_range_deg"] is None or test["comparison"]


def test_side_view_limit_is_where_the_picture_errs_by_the_allowed_degrees():
    from flatback.measure.view import BodyFrame3D, picture_angle_error_deg
    from flatback.pipeline.setup_check import side_view_max_yaw_deg

    e = Settings().geometry.picture_max_error_deg
    yaw = side_view_max_yaw_deg(e)

    def error_at(yaw_deg: float) -> float:  # a camera at floor height, turned yaw_deg off the side view
        r = np.radians(yaw_deg)
        feet = np.array([np.cos(r), 0.0, np.sin(r)])
        return picture_angle_error_deg(BodyFrame3D(np.array([0.0, -1.0, 0.0]), feet, yaw_deg),
                                       tuple(np.linspace(5, 85, 81)))

    assert error_at(yaw) == pytest.approx(e, abs=0.05)
    assert error_at(yaw - 5) < e < error_at(yaw + 5)


@pytest.mark.parametrize("args, code, words", [
    (["--db", "mysql://u@h/x"], 6, "training log"),
    (["--cert", "c.pem"], 2, "--cert and --key"),
    (["--host", "256.1.1.1"], 2, "Cannot listen"),
])
def test_serve_refuses_bad_options_in_one_line(tmp_path, args, code, words):
    from typer.testing import CliRunner

    from flatback.cli import app

    extra = [] if "--db" in args else ["--db", f"sqlite:///{tmp_path / 'log.db'}"]
    result = CliRunner().invoke(app, ["serve", "--no-browser", "--port", "0", "--data", str(tmp_path / "w"), *extra, *args])
    assert result.exit_code == code, result.output
    assert words in result.output and "Traceback" not in result.output
