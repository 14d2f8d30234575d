"""``flatback serve``: the web app (FastAPI). Pages, the live WebSocket, uploads, reports.

Live frames: the page sends each camera frame as a binary WebSocket message (8 bytes of
capture time, ms, little-endian float64, then the JPEG). The server keeps only the newest
frame not yet analysed (a one-slot buffer: a frame that arrives while the model is busy
replaces the waiting one, so the picture analysed is never stale and nothing queues),
runs the pose model and the live analyzer on it in the session's own thread, and answers
with the state, echoing the capture time (the page's latency = now - capture).

Security: nothing is loaded from outside (every script and style sheet is in the
package); a token, when set (any host other than loopback), is required on every HTTP
request and WebSocket (query ``token`` once, then a cookie); on loopback the Host header
must name loopback (no DNS rebinding).
"""

from __future__ import annotations

import asyncio
import hmac
import re
import struct
import tempfile
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from flatback.coach.plan import plan_next
from flatback.errors import FlatbackError
from flatback.log.history import TrainingLog
from flatback.settings import Settings
from flatback.web.pages import history_page, page, saved_sets
from flatback.web.session import MODES, FrameError, LiveSession, hello
from flatback.web.uploads import SNIFF_BYTES, Jobs, known_types, sniff_video

STATIC = Path(__file__).parent / "static"
ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")  # the ids this server makes for sets, jobs, reports
REPORT_FILES = {"report.html": "text/html", "annotated.mp4": "video/mp4", "report.json": "application/json",
                "timeseries.csv": "text/csv", "test.json": "application/json"}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
COOKIE = "flatback_token"
HEADER = struct.Struct("<d")  # a live frame's capture time, ms


@dataclass(frozen=True)
class ServeConfig:
    """What ``flatback serve`` was started with."""

    settings: Settings
    data_dir: Path  # live sets under sets/, uploads' reports under reports/, temporary uploads under uploads/
    db_url: str | None = None
    token: str | None = None  # required on every request when set
    loopback_only: bool = True  # the Host header must name loopback
    upload_backend: Callable[[], Any] | None = None  # the uploads' pose backend (None: the model; docs' pictures replay)


def _backend(settings: Settings):
    """The pose model for a live session (a seam for tests)."""
    from flatback.pose.mediapipe import MediaPipePose

    return MediaPipePose(settings.pose)


class TokenGate:
    """ASGI middleware: the token (when set) and the Host check, on HTTP and WebSocket alike."""

    def __init__(self, app, config: ServeConfig):
        self.app, self.config = app, config

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        problem = None
        if self.config.loopback_only:
            host = headers.get("host", "").rsplit(":", 1)[0] if not headers.get("host", "").startswith("[") else "[::1]"
            if host not in LOOPBACK:
                problem = (400, f"this server answers only to 127.0.0.1 (the request named host {host!r})")
        if problem is None and self.config.token:
            given = _query(scope).get("token") or _cookies(headers).get(COOKIE) or headers.get("x-flatback-token", "")
            if not hmac.compare_digest(given.encode(), self.config.token.encode()):
                problem = (401, "a token is needed: open the address flatback serve printed (it ends in ?token=...)")
        if problem is None:
            return await self.app(scope, receive, send)
        status, message = problem
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4000 + status, "reason": message[:120]})
            return
        await JSONResponse({"error": message}, status_code=status)(scope, receive, send)


def _query(scope) -> dict[str, str]:
    from urllib.parse import parse_qs

    return {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for part in headers.get("cookie", "").split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            out[k] = v
    return out


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(config: ServeConfig) -> FastAPI:
    settings = config.settings
    sets_dir, reports_dir, uploads_dir = (config.data_dir / n for n in ("sets", "reports", "uploads"))
    for d in (sets_dir, reports_dir, uploads_dir):
        d.mkdir(parents=True, exist_ok=True)
    jobs = Jobs(settings, reports_dir, config.db_url, config.upload_backend)
    app = FastAPI(title="flatback", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        messages = {404: f"nothing at {request.url.path}", 405: f"{request.method} is not allowed on {request.url.path}"}
        return error(exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error(422, f"invalid request: {problems}")

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        traceback.print_exc()
        return error(500, f"internal error ({type(exc).__name__}); the server's log has the details")

    @app.middleware("http")
    async def token_cookie(request: Request, call_next):
        """A token given in the query becomes a cookie, so the page's own requests carry it."""
        response = await call_next(request)
        token = request.query_params.get("token")
        if config.token and token:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: data:; "
            "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
            "connect-src 'self' ws: wss:"
        )
        return response

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(TokenGate, config=config)

    @app.get("/api/health")
    async def health():
        return {"status": "ok"}

    @app.get("/")
    async def index(request: Request):
        return RedirectResponse("/live" + (f"?{request.url.query}" if request.url.query else ""))

    @app.get("/live", response_class=HTMLResponse)
    async def live_page():
        return (STATIC / "live.html").read_text()

    @app.get("/upload", response_class=HTMLResponse)
    async def upload_page():
        return (STATIC / "upload.html").read_text()

    @app.get("/history", response_class=HTMLResponse)
    async def history():
        def build() -> str:
            log = TrainingLog(config.db_url)
            sessions = log.summaries()
            return history_page(sessions, plan_next(sessions, settings=settings), saved_sets(sets_dir, reports_dir), log.url)

        try:
            return await asyncio.to_thread(build)
        except FlatbackError as e:
            return HTMLResponse(page("History - flatback", f'<p class="error">{e}</p>', "history"), status_code=503)

    @app.get("/api/history")
    async def history_json():
        def build() -> dict[str, Any]:
            sessions = TrainingLog(config.db_url).summaries()
            plan = plan_next(sessions, settings=settings)
            return {"sessions": [{**s.__dict__, "started_at": s.started_at.isoformat()} for s in sessions],
                    "plan": plan.text(), "reports": saved_sets(sets_dir, reports_dir)}

        try:
            return await asyncio.to_thread(build)
        except FlatbackError as e:
            return error(503, str(e))

    def report_file(folder: Path, item_id: str, name: str):
        if not ID.match(item_id) or name not in REPORT_FILES:
            return error(404, "no such report file")
        path = folder / item_id / name
        if not path.is_file():
            return error(404, "no such report file")
        return FileResponse(path, media_type=REPORT_FILES[name])

    @app.get("/sets/{item_id}/{name}")
    async def set_file(item_id: str, name: str):
        return report_file(sets_dir, item_id, name)

    @app.get("/reports/{item_id}/{name}")
    async def upload_file(item_id: str, name: str):
        return report_file(reports_dir, item_id, name)

    @app.post("/api/upload")
    async def upload(request: Request, save: bool = False):
        """The video as the request body (any name the browser gives is ignored)."""
        limit = int(settings.serve.max_upload_mb * 1e6)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return error(413, f"the video is larger than the {settings.serve.max_upload_mb:g} MB limit")
        folder = Path(tempfile.mkdtemp(prefix="upload-", dir=uploads_dir))
        path, size, head = folder / "video", 0, b""
        try:
            with path.open("wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise _Refused(413, f"the video is larger than the {settings.serve.max_upload_mb:g} MB limit")
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    f.write(chunk)
            if size == 0:
                raise _Refused(400, "the upload is empty: choose a video file")
            ext = sniff_video(head)
            if ext is None:
                raise _Refused(415, f"this is not a video flatback reads ({known_types()}); the file name is not trusted, its content is")
            stored = path.rename(folder / f"video{ext}")
        except _Refused as e:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            return error(e.status, e.message)
        except BaseException:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            raise
        job = jobs.submit(stored, save)
        return JSONResponse(job.public(), status_code=202)

    @app.get("/api/jobs/{job_id}")
    async def job_status(job_id: str):
        job = jobs.get(job_id) if ID.match(job_id) else None
        if job is None:
            return error(404, f"no analysis {job_id!r}")
        return job.public()

    @app.websocket("/ws/live")
    async def live_socket(ws: WebSocket):
        await ws.accept()
        query = ws.query_params
        mode = query.get("mode", "set")
        target_text = query.get("target")
        if mode not in MODES or (target_text is not None and not target_text.isdigit()):
            await ws.send_json({"type": "error", "error": f"mode must be one of {', '.join(MODES)} and target a whole number"})
            await ws.close(code=4400)
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flatback-live")
        loop = asyncio.get_running_loop()
        session: LiveSession | None = None
        try:
            backend = await loop.run_in_executor(executor, _backend, settings)
            session = LiveSession(backend, settings, sets_dir, config.db_url, mode)  # type: ignore[arg-type]
            session.configure(mode, int(target_text) if target_text else None)
            await ws.send_json(hello(settings, session.mode, session.target))
            await _serve_live(ws, session, executor)
        except WebSocketDisconnect:
            pass
        finally:
            if session is not None:
                executor.submit(session.close)  # on its own thread, after the frame in hand
            executor.shutdown(wait=False)

    return app


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


class LatestFrame:
    """The one-slot buffer: ``put`` replaces what waits (counting it as dropped), ``take`` waits for one."""

    def __init__(self):
        self._item: tuple[float, bytes] | None = None
        self._ready = asyncio.Event()
        self.dropped = 0

    def put(self, item: tuple[float, bytes]) -> None:
        if self._item is not None:
            self.dropped += 1
        self._item = item
        self._ready.set()

    async def take(self) -> tuple[float, bytes]:
        await self._ready.wait()
        self._ready.clear()
        item, self._item = self._item, None
        assert item is not None
        return item


async def _serve_live(ws: WebSocket, session: LiveSession, executor: ThreadPoolExecutor) -> None:
    """Receive frames and commands; analyse the newest frame whenever the model is free."""
    loop = asyncio.get_running_loop()
    slot = LatestFrame()
    commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    closed = asyncio.Event()

    async def receive() -> None:
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data, text = message.get("bytes"), message.get("text")
                if data is not None:
                    if len(data) <= HEADER.size:
                        await ws.send_json({"type": "error", "error": "a frame must be 8 bytes of capture time, then a JPEG"})
                        continue
                    slot.put((HEADER.unpack_from(data)[0], data[HEADER.size:]))
                elif text is not None:
                    try:
                        import json

                        command = json.loads(text)
                        if not isinstance(command, dict) or "type" not in command:
                            raise ValueError
                    except ValueError:
                        await ws.send_json({"type": "error", "error": 'a command is JSON like {"type": "start"}'})
                        continue
                    await commands.put(command)
                    slot._ready.set()  # wake the worker for the command
        finally:
            closed.set()
            slot._ready.set()

    async def work() -> None:
        while not closed.is_set():
            await slot._ready.wait()
            while not commands.empty():
                await _command(ws, session, executor, await commands.get())
            if slot._item is None:
                slot._ready.clear()
                continue
            capture_ms, jpeg = await slot.take()
            try:
                state = await loop.run_in_executor(executor, session.process, capture_ms, jpeg)
            except FrameError as e:
                await ws.send_json({"type": "error", "error": str(e)})
                continue
            except Exception as e:  # a bug: one line for the page, the trace in the server's log
                traceback.print_exc()
                await ws.send_json({"type": "error", "error": f"internal error ({type(e).__name__}) on a frame; "
                                    "the server's log has the details"})
                continue
            state["dropped"] = slot.dropped
            await ws.send_json(state)
            if state["done"]:
                await _command(ws, session, executor, {"type": "stop"})

    receiver = asyncio.create_task(receive())
    try:
        await work()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        receiver.cancel()


async def _command(ws: WebSocket, session: LiveSession, executor: ThreadPoolExecutor, command: dict[str, Any]) -> None:
    """start / stop (save) / cancel / mode, run between frames on the session's thread."""
    loop = asyncio.get_running_loop()
    kind = command.get("type")
    try:
        if kind == "start":
            await loop.run_in_executor(executor, session.start)
            await ws.send_json({"type": "started", "mode": session.mode, "target": session.target})
        elif kind == "cancel":
            session.running = False
            await loop.run_in_executor(executor, session.close_recording)
            await ws.send_json({"type": "cancelled"})
        elif kind == "stop":
            if not session.running:
                return
            await ws.send_json({"type": "saving"})
            saved = await loop.run_in_executor(executor, session.finish)
            if saved is None:
                await ws.send_json({"type": "error", "error": "nothing was recorded: no frame was analysed in the set"})
            else:
                await ws.send_json({"type": "summary", **saved.summary})
        elif kind == "mode":
            target = command.get("target")
            session.configure(str(command.get("mode")), int(target) if isinstance(target, int | float) else None)
            await ws.send_json(hello(session.settings, session.mode, session.target))
        else:
            await ws.send_json({"type": "error", "error": f"unknown command {kind!r}: start, stop, cancel or mode"})
    except FlatbackError as e:
        await ws.send_json({"type": "error", "error": str(e)})
    except (ValueError, TypeError) as e:  # a command with a wrong value (e.g. a target that is not a number)
        await ws.send_json({"type": "error", "error": f"bad {kind!r} command: {e}"})
    except Exception as e:  # a bug: one line for the page, the trace in the server's log
        traceback.print_exc()
        await ws.send_json({"type": "error", "error": f"internal error ({type(e).__name__}) in {kind!r}; "
                            "the server's log has the details"})


__all__ = ["LatestFrame", "ServeConfig", "TokenGate", "create_app"]
