"""server: the review page and its HTTP API, served by uvicorn inside the daemon; the routes
themselves are in ``api``.

Security for a web page on a studio computer: bound to loopback unless told otherwise, a
token always required (exchanged once for an HttpOnly cookie), the Host header checked on
every request (DNS rebinding), Origin checked on every state-changing request (CSRF), no
CORS headers, a strict content security policy, and no file paths ever taken from a client.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h11
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from studiocut.review.api import Api, Daemon, json_error, plain_text

log = logging.getLogger(__name__)

TOKEN_FILE = "review.token"
COOKIE = "studiocut_session"
DEFAULT_PORT = 8770
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
CSP = ("default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
       "object-src 'none'")
SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Settings:
    """Where the page listens and who may reach it."""

    bind: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    allowed_hosts: tuple[str, ...] = ()  # names (or addresses) a LAN browser uses
    request_timeout: float = 10.0  # seconds a client has to send one whole request

    def problems(self) -> list[str]:
        if self.bind.strip("[]") not in LOOPBACK and not self.allowed_hosts:
            return [f"the review page binds {self.bind}, which other computers can reach: "
                    "name the addresses they use with --allowed-host (DNS rebinding guard)"]
        return []


MAX_CONNECTIONS = 64  # open connections (live streams included); more get 503


class BoundedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline on reading each request. uvicorn times out
    only idle keep-alive connections: a client that sends half a request (or its first byte)
    and then stalls would hold its connection forever. Here each request, from the moment the
    connection opens or the previous response ends, must arrive whole within
    ``request_timeout`` seconds, or the connection is closed."""

    request_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
            self._disarm()  # the request is in (or the connection is ending)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # for the next request on this connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.transport.close()


MIN_TOKEN = 16  # a shorter token (an empty or cut-short file) is replaced


def token(state_dir: Path) -> str:
    """The page's access token, made on first use and kept (mode 0600) in the state folder;
    written under a temp name and renamed, so a crash never leaves an empty token."""
    path = state_dir / TOKEN_FILE
    try:
        found = path.read_text().strip()
        if len(found) >= MIN_TOKEN:
            return found
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(24)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return value


def url(bind: str, port: int, secret: str | None = None) -> str:
    host = "127.0.0.1" if bind in ("0.0.0.0", "::", "[::]") else bind.strip("[]")
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/" + (f"?token={secret}" if secret else "")


# --------------------------------------------------------------------------- security


class Guard:
    """ASGI middleware: Host allow-list, token or session cookie, Origin on changes, and the
    security headers on every answer."""

    def __init__(self, app: ASGIApp, *, secret: str, hosts: set[str], origins: set[str]) -> None:
        self.app = app
        self.secret = secret
        self.session = hmac.new(secret.encode(), b"session", hashlib.sha256).hexdigest()
        self.hosts = hosts
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cached = scope["path"].startswith("/api/v1/media/") or scope["path"].startswith(
            "/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers += [(b"content-security-policy", CSP.encode()),
                            (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"no-referrer"),
                            (b"cross-origin-resource-policy", b"same-origin")]
                if not cached:
                    headers.append((b"cache-control", b"no-store"))
            await send(message)

        refusal = self.refusal(Request(scope))
        if refusal is not None:
            await refusal(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)

    def refusal(self, request: Request) -> Response | None:
        host = request.headers.get("host", "")
        if host.lower() not in self.hosts:
            return plain_text(421, "unknown host: this page answers only at its own address "
                          "(set --allowed-host for LAN access)")
        bearer = request.headers.get("authorization", "")
        by_header = _same(bearer, f"Bearer {self.secret}")
        by_cookie = _same(request.cookies.get(COOKIE, ""), self.session)
        if request.method not in SAFE_METHODS and not by_header:
            origin = request.headers.get("origin")
            if origin is None or origin.lower() not in self.origins:
                return json_error(403, "cross-origin request refused (Origin not allowed)")
        if by_header or by_cookie:
            return None
        given = request.query_params.get("token", "")
        if request.url.path == "/" and given and _same(given, self.secret):
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, self.session, httponly=True, samesite="strict",
                                path="/")
            return response
        if request.url.path.startswith("/api/"):
            return json_error(401, "not signed in: open the address `studiocut review url` prints")
        return HTMLResponse(_SIGNED_OUT, status_code=401)


_SIGNED_OUT = """<!doctype html><meta charset="utf-8"><title>studiocut</title>
<h1>studiocut review</h1><p>Open the address printed by <code>studiocut review url</code>
(it carries the access token).</p>"""


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of what a client sent (any characters) with a secret."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def create_app(daemon: Daemon, settings: Settings, secret: str, *,
               watch_of: Callable[[str], Path | None], closing: threading.Event,
               port: int) -> ASGIApp:
    api = Api(daemon, watch_of, closing)
    names = ["127.0.0.1", "localhost", "::1", *settings.allowed_hosts]
    if settings.bind not in ("0.0.0.0", "::"):
        names.append(settings.bind)  # the address it listens on, as `review url` prints it
    hosts: set[str] = set()
    for name in names:
        name = name.lower().strip("[]")
        if ":" in name:  # IPv6: browsers send it bracketed
            name = f"[{name}]"
        hosts |= {f"{name}:{port}"} | ({name} if port == 80 else set())
    origins = {f"http://{h}" for h in hosts}
    app = Starlette(routes=api.routes(), exception_handlers={OverflowError: _out_of_range})
    return Guard(app, secret=secret, hosts=hosts, origins=origins)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    return json_error(404 if "id" in request.path_params else 400, "number out of range")


# --------------------------------------------------------------------------- running


class Server:
    """uvicorn in a thread of the daemon. ``stop`` closes the live streams first, then the
    server, within the time it is given."""

    def __init__(self, daemon: Daemon, settings: Settings, secret: str, *,
                 watch_of: Callable[[str], Path | None]) -> None:
        import socket

        import uvicorn

        self.settings = settings
        self.closing = threading.Event()
        bind = settings.bind.strip("[]")
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((bind, settings.port))  # OSError: the caller reports it
        self._socket.listen(64)
        self.port = int(self._socket.getsockname()[1])
        app = create_app(daemon, settings, secret, watch_of=watch_of, closing=self.closing,
                         port=self.port)
        bounded = type("Bounded", (BoundedH11,), {"request_timeout": settings.request_timeout})
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2, server_header=False,
                                http=bounded, limit_concurrency=MAX_CONNECTIONS)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="review-page", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise OSError("the review page did not start within 10 s")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return url(self.settings.bind, self.port)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float) -> None:
        self.closing.set()  # streams end within 0.1 s, so the server need not wait on them
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(1.0)
        self._socket.close()
