"""server: the review page's security and its life in the daemon, against a real ``studiocut
run`` subprocess driven with httpx as the page (or an attacker's page) would: the token and
its cookie, the Host and Origin checks, the bind address, ``review url``, and shutdown with a
live event stream; and the small parts (token file, host names, addresses) directly."""

from __future__ import annotations

import contextlib
import json
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from daemon_harness import Daemon
from review_client import WEB, Page, assert_hardened
from studiocut.review import server

# --------------------------------------------------------------------------- security


def test_requests_without_the_token_are_refused(page: Page) -> None:
    with httpx.Client(base_url=page.url) as anonymous:
        api = anonymous.get("/api/v1/status")
        assert api.status_code == 401
        assert "error" in api.json()
        assert_hardened(api)
        index = anonymous.get("/")
        assert index.status_code == 401
        assert index.headers["content-type"].startswith("text/html")
        assert "studiocut review url" in index.text
        wrong = anonymous.get("/", params={"token": "not-" + page.secret})
        assert wrong.status_code == 401
        assert "set-cookie" not in wrong.headers
    with httpx.Client(base_url=page.url, cookies={"studiocut_session": page.secret}) as forged:
        # the cookie holds a session derived from the token, never the token itself
        assert forged.get("/api/v1/status").status_code == 401


def test_token_link_sets_a_strict_httponly_cookie_that_then_signs_in_alone(page: Page) -> None:
    with httpx.Client(base_url=page.url) as browser:
        first = browser.get("/", params={"token": page.secret})
        assert first.status_code == 303
        assert first.headers["location"] == "/"
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert page.secret.lower() not in cookie  # the token itself never lands in a cookie
        assert_hardened(first)
        status = browser.get("/api/v1/status")
        assert status.status_code == 200
        assert {p["name"] for p in status.json()["profiles"]} >= {"held", "flagged"}
        assert "authorization" not in status.request.headers
        if (WEB / "index.html").is_file():
            index = browser.get("/")
            assert index.status_code == 200
            assert index.content == (WEB / "index.html").read_bytes()
            assert_hardened(index)


def test_bearer_token_signs_in(page: Page) -> None:
    response = page.get("/api/v1/status")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert_hardened(response)


def test_foreign_host_header_is_refused_even_with_the_token(page: Page) -> None:
    for host in (f"evil.example:{page.port}", "evil.example",
                 f"127.0.0.1.evil.example:{page.port}", f"127.0.0.1:{page.port + 1}"):
        response = page.get("/api/v1/status", headers={"Host": host})
        assert response.status_code == 421, host
        assert_hardened(response)
    response = page.get("/", params={"token": page.secret},
                        headers={"Host": f"evil.example:{page.port}"})
    assert response.status_code == 421
    assert "set-cookie" not in response.headers


def test_cookie_posts_need_the_pages_own_origin(page: Page) -> None:
    job = page.drop("held", "origin.jpg", folder="origin")
    output = page.output("held", "origin", "origin.png")
    approve = f"/api/v1/jobs/{job['id']}/approve"
    with httpx.Client(base_url=page.url) as browser:
        assert browser.get("/", params={"token": page.secret}).status_code == 303
        for headers in ({"Origin": "http://evil.example"},
                        {"Origin": f"http://evil.example:{page.port}"},
                        {"Origin": "null"}, {}):
            refused = browser.post(approve, json={}, headers=headers)
            assert refused.status_code == 403, headers
            assert "error" in refused.json()
            assert_hardened(refused)
        assert page.row("origin.jpg")["review"] == "held"
        assert not output.exists()
        done = browser.post(approve, json={}, headers={"Origin": page.origin})
        assert done.status_code == 200, done.text
        assert_hardened(done)
    assert done.json()["review"] == "approved"
    assert page.row("origin.jpg")["review"] == "approved"
    assert output.read_bytes() == page.media(job["revision"]["media"]["result"])


def test_token_file_is_private(page: Page) -> None:
    mode = stat.S_IMODE((page.daemon.state / "review.token").stat().st_mode)
    assert mode == 0o600
    assert len(page.secret) >= 24


def test_binding_beyond_loopback_needs_allowed_host(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path, args=["--review-bind", "0.0.0.0"])
    daemon.start(wait=False)
    try:
        assert daemon.wait_exit(30) == 2
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill9()
    assert "--allowed-host" in daemon.text()
    assert not (daemon.state / "daemon.json").exists()


def test_allowed_host_is_answered_and_others_are_not(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path, args=["--review-bind", "0.0.0.0", "--allowed-host",
                                    "Studio.Local"])
    daemon.start()
    try:
        lan = Page(daemon)
        try:
            for host in (f"studio.local:{lan.port}", f"127.0.0.1:{lan.port}"):
                assert lan.get("/api/v1/status", headers={"Host": host}).status_code == 200
            for host in ("evil.example", "studio.local"):  # no port: not this page's address
                assert lan.get("/api/v1/status", headers={"Host": host}).status_code == 421
            refused = lan.client.post("/api/v1/bulk", json={"ids": [], "action": "approve"},
                                      headers={"Authorization": "",
                                               "Origin": "http://evil.example"})
            assert refused.status_code == 403
        finally:
            lan.close()
    finally:
        assert daemon.stop() == 0


# --------------------------------------------------------------------------- review url


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "studiocut", *args], capture_output=True,
                          text=True, timeout=60)


def test_review_url_prints_the_address_with_its_token(page: Page) -> None:
    state = str(page.daemon.state)
    plain = run_cli("review", "url", "--state", state)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == f"{page.url}?token={page.secret}"
    as_json = run_cli("review", "url", "--state", state, "--json")
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["url"] == f"{page.url}?token={page.secret}"
    assert answer["address"] == page.url


def test_review_url_without_a_daemon_fails_with_a_message(tmp_path: Path) -> None:
    result = run_cli("review", "url", "--state", str(tmp_path / "state"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no review page is running" in result.stderr


# --------------------------------------------------------------------------- shutdown


def test_sigterm_with_an_open_event_stream_exits_promptly(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path)
    daemon.start()
    page = Page(daemon)
    try:
        with page.client.stream("GET", "/api/v1/events",
                                timeout=httpx.Timeout(10.0)) as response:
            lines = response.iter_lines()
            assert next(lines) == "retry: 2000"
            started = time.monotonic()
            daemon.signal(signal.SIGTERM)
            code = daemon.wait_exit(10)
            took = time.monotonic() - started
            remaining: list[str] = []
            with contextlib.suppress(httpx.HTTPError):  # a stream cut off at exit is fine too
                remaining.extend(lines)
            assert all(not line or line.startswith(":") for line in remaining)
    finally:
        page.close()
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill9()
    assert code == 0
    # a stream left open would hold uvicorn for its 2 s graceful timeout (the daemon's
    # --shutdown-timeout is 5 s); closing streams first makes the exit take a fraction
    assert took < 2.0, f"took {took:.1f} s"
    assert "Traceback" not in daemon.text()


# --------------------------------------------------------------------------- small parts


def test_an_empty_or_cut_short_token_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / server.TOKEN_FILE).write_text("\n")  # a crash right after creating it

    made = server.token(tmp_path)

    assert len(made) >= server.MIN_TOKEN
    assert server.token(tmp_path) == made  # kept from then on
    assert (tmp_path / server.TOKEN_FILE).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [server.TOKEN_FILE]  # no temp left


def _hosts(settings: server.Settings, port: int = 8770) -> set[str]:
    app = server.create_app(None, settings, "s" * 24,  # type: ignore[arg-type]
                            watch_of=lambda name: None, closing=threading.Event(), port=port)
    assert isinstance(app, server.Guard)
    return app.hosts


def test_the_page_answers_at_the_address_it_listens_on_and_bracketed_ipv6() -> None:
    hosts = _hosts(server.Settings(bind="192.168.1.20", allowed_hosts=("fd00::5",)))

    assert {"192.168.1.20:8770", "[fd00::5]:8770", "127.0.0.1:8770", "[::1]:8770"} <= hosts
    assert "fd00::5" not in hosts and "192.168.1.20" not in hosts  # not on port 80
    assert server.url("192.168.1.20", 8770) == "http://192.168.1.20:8770/"
    assert server.url("::", 8770) == "http://127.0.0.1:8770/"
    assert server.url("[fd00::5]", 8770) == "http://[fd00::5]:8770/"


# --------------------------------------------------------------------------- slow clients


def test_a_half_sent_request_is_cut_off_and_whole_ones_are_served() -> None:
    """uvicorn alone waits forever for the rest of a request (slowloris)."""
    import socket

    page = server.Server(object(), server.Settings(port=0, request_timeout=0.5),  # type: ignore[arg-type]
                         "s" * 32, watch_of=lambda name: None)
    page.start()
    try:
        def connect() -> socket.socket:
            return socket.create_connection(("127.0.0.1", page.port), timeout=5)

        half, silent, whole = connect(), connect(), connect()
        host = f"Host: 127.0.0.1:{page.port}".encode()
        half.sendall(b"GET /api/v1/status HTTP/1.1\r\n" + host)  # and then nothing
        whole.sendall(b"GET /api/v1/status HTTP/1.1\r\n" + host + b"\r\n\r\n")
        assert whole.recv(100).startswith(b"HTTP/1.1 401")  # served (no token: refused)
        started = time.monotonic()
        assert half.recv(100) == b"" and silent.recv(100) == b""  # closed by the server
        assert time.monotonic() - started < 3
        for client in (half, silent, whole):
            client.close()
    finally:
        page.stop(2)
