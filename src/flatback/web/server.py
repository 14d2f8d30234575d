"""Starting the web app: the address, the token for the local network, uvicorn."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from flatback.errors import FlatbackError
from flatback.settings import Settings
from flatback.web.app import ServeConfig, create_app


class ServeError(FlatbackError):
    """The server cannot start (address in use, bad host, unwritable data folder)."""

    exit_code = 2


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_data_dir() -> Path:
    """Where live sets' and uploads' reports go: beside the default training log."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "flatback" / "web"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
    except OSError as e:
        raise ServeError(f"Cannot listen on {host}:{port}: {e.strerror or e}. Choose another --port or --host.") from None
    return sock


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, data_dir: Path | None = None,
          db_url: str | None = None, ssl_certfile: Path | None = None, ssl_keyfile: Path | None = None,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Run the app until interrupted. ``on_ready(url)`` gets the address to open (with
    the token when the host is not loopback)."""
    import uvicorn

    loopback = is_loopback(host)
    token = None if loopback else secrets.token_urlsafe(16)
    data = data_dir or default_data_dir()
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ServeError(f"Cannot use the data folder {data}: {e.strerror or e}. Choose another with --data.") from None
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise ServeError("--cert and --key go together.")
    app = create_app(ServeConfig(settings, data, db_url, token, loopback_only=loopback))
    sock = bind(host, port)
    scheme = "https" if ssl_certfile else "http"
    shown = host if ":" not in host else f"[{host}]"
    url = f"{scheme}://{shown}:{sock.getsockname()[1]}/live" + (f"?token={token}" if token else "")
    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", ws_max_size=4 * 1024 * 1024,
                            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
                            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None)
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(url)
    server.run(sockets=[sock])


__all__ = ["ServeError", "bind", "default_data_dir", "is_loopback", "serve"]
