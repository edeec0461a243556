"""notify: the systemd notify protocol, spoken to a socket the test binds, and the daemon's use
of it: READY once watching, WATCHDOG only from healthy ticks, STATUS, STOPPING on SIGTERM."""

from __future__ import annotations

import itertools
import logging
import secrets
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from daemon_harness import Daemon, shoot
from studiocut import faults, hotfolder
from studiocut.hotfolder import notify

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="abstract unix sockets and inotify are Linux's")


class FakeManager:
    """A datagram socket standing in for systemd's notify socket; records every message as
    (arrival time, {key: value})."""

    def __init__(self, path: Path | None = None) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if path is None:
            name = f"studiocut-test-{secrets.token_hex(8)}"
            self.sock.bind(b"\0" + name.encode())
            self.address = "@" + name
        else:
            self.sock.bind(str(path))
            self.address = str(path)
        self.messages: list[tuple[float, dict[str, str]]] = []

    def close(self) -> None:
        self.sock.close()

    def wait_for(self, key: str, *, timeout: float = 20.0, after: int = 0,
                 value: str | None = None) -> int:
        """Index of the first message from index ``after`` on that has ``key`` (with
        ``value``); fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        index = after
        while True:
            for i in range(index, len(self.messages)):
                fields = self.messages[i][1]
                if key in fields and (value is None or value in fields[key]):
                    return i
            index = len(self.messages)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {key} message in {timeout} s; got {self.messages}")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines())
            self.messages.append((time.monotonic(), fields))

    def pings(self, start: int = 0, end: int | None = None) -> list[float]:
        return [t for t, fields in self.messages[start:end] if fields.get("WATCHDOG") == "1"]


@pytest.fixture
def manager() -> Iterator[FakeManager]:
    fake = FakeManager()
    yield fake
    fake.close()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    instance = Daemon(tmp_path)
    yield instance
    if instance.proc is not None and instance.proc.poll() is None:
        instance.kill9()


def systemd_env(manager: FakeManager) -> dict[str, str]:
    return {"NOTIFY_SOCKET": manager.address, "WATCHDOG_USEC": "2000000"}


# --------------------------------------------------------------------------- the client


def test_without_notify_socket_every_call_is_a_no_op() -> None:
    notifier = notify.Notifier.from_environment({})

    assert not notifier.enabled
    assert not notifier.ready("x")
    assert not notifier.watchdog()
    assert not notifier.stopping()


def test_ready_and_status_reach_a_socket_at_a_path(tmp_path: Path) -> None:
    fake = FakeManager(tmp_path / "n.sock")
    try:
        notifier = notify.Notifier.from_environment({"NOTIFY_SOCKET": fake.address})

        assert notifier.ready("3 queued,\n 1 in progress")
        fake.wait_for("READY", timeout=2)
    finally:
        fake.close()

    assert fake.messages[0][1] == {"READY": "1", "STATUS": "3 queued, 1 in progress"}


def test_abstract_socket_names_start_with_at(manager: FakeManager) -> None:
    notifier = notify.Notifier(manager.address)

    assert notifier.stopping()

    assert manager.messages[manager.wait_for("STOPPING", timeout=2)][1] == {"STOPPING": "1"}
    assert notify.socket_address("@name") == b"\0name"
    assert notify.socket_address("/run/notify") == "/run/notify"
    assert notify.socket_address("vsock:2:1234") is None


def test_watchdog_pings_only_when_the_manager_asked_for_them(manager: FakeManager) -> None:
    asked = notify.Notifier.from_environment(
        {"NOTIFY_SOCKET": manager.address, "WATCHDOG_USEC": "5000000"})
    other_pid = notify.Notifier.from_environment(
        {"NOTIFY_SOCKET": manager.address, "WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"})
    not_asked = notify.Notifier.from_environment({"NOTIFY_SOCKET": manager.address})

    assert asked.watchdog_enabled
    assert not other_pid.watchdog_enabled
    assert not not_asked.watchdog()  # nothing to send: neither a ping nor a status
    assert not_asked.watchdog("idle")  # only the status
    assert asked.watchdog("busy")

    manager.wait_for("WATCHDOG", timeout=2)
    assert [fields for _, fields in manager.messages] == [
        {"STATUS": "idle"}, {"WATCHDOG": "1", "STATUS": "busy"}]


def test_an_undeliverable_notification_is_logged_once_and_never_raises(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = notify.Notifier(str(tmp_path / "gone.sock"))

    with caplog.at_level(logging.DEBUG, logger="studiocut.hotfolder.notify"):
        assert not notifier.ready()
        assert not notifier.status("x")

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "gone.sock" in warnings[0].getMessage()


# --------------------------------------------------------------------------- the daemon


def test_daemon_sends_ready_watchdog_status_and_stopping(
        daemon: Daemon, manager: FakeManager) -> None:
    daemon.start(extra_env=systemd_env(manager))

    ready = manager.wait_for("READY")
    assert "0 queued, 0 in progress, 0/min" in manager.messages[ready][1]["STATUS"]
    shoot(daemon.inbox / "a.jpg")
    daemon.wait_states({"a.jpg": "done"})
    busy = manager.wait_for("STATUS", after=ready, value="1/min", timeout=10)
    manager.wait_for("WATCHDOG", after=busy + 1, timeout=5)

    pings = manager.pings(ready)
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert len(pings) >= 2 and all(0.9 < gap < 3.0 for gap in gaps), gaps  # about one a second

    daemon.signal(signal.SIGTERM)
    stopping = manager.wait_for("STOPPING", timeout=15)
    assert daemon.wait_exit() == 0
    assert not manager.pings(stopping)  # nothing after STOPPING


def test_pings_stop_while_the_observer_is_dead_and_resume_after_the_rebuild(
        tmp_path: Path, manager: FakeManager) -> None:
    daemon = Daemon(tmp_path, faults="observer-event:raise")
    daemon.start(extra_env=systemd_env(manager))
    try:
        manager.wait_for("WATCHDOG", after=manager.wait_for("READY"))

        shoot(daemon.inbox / "a.jpg")  # its first event kills the observer thread
        sick = manager.wait_for("STATUS", value="unhealthy", timeout=10)
        daemon.wait_states({"a.jpg": "done"})  # rebuilt and rescanned meanwhile
        back = manager.wait_for("WATCHDOG", after=sick, timeout=10)
    finally:
        daemon.stop()

    assert "folder observer died" in manager.messages[sick][1]["STATUS"]
    assert "WATCHDOG" not in manager.messages[sick][1]  # the unhealthy tick sent no ping
    before = manager.pings(0, sick)[-1]
    assert manager.messages[back][0] - before > 1.8  # at least one tick went unpinged
    assert "unhealthy (no watchdog ping)" in daemon.text()


# --------------------------------------------------------------------------- health, in-process


def test_a_photo_holding_a_worker_too_long_makes_the_daemon_unhealthy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(faults, "_TABLE", faults._parse("after-claim:sleep=1"))
    inbox, outbox, profiles = tmp_path / "in", tmp_path / "out", tmp_path / "profiles"
    for folder in (inbox, outbox, profiles):
        folder.mkdir()
    (profiles / "studio.yaml").write_text(yaml.safe_dump({
        "watch": str(inbox), "output": str(outbox), "model": "backdrop-key", "format": "png",
        "backdrop": "transparent", "settle": 0.2}))
    daemon = hotfolder.Daemon(hotfolder.Options(
        profiles_dir=profiles, state_dir=tmp_path / "state", workers=1, shutdown_timeout=5,
        stuck_after=0.3))
    daemon.startup()
    try:
        assert daemon.health_problems() == []
        shoot(inbox / "slow.jpg")
        deadline = time.monotonic() + 10
        while not daemon.health_problems() and time.monotonic() < deadline:
            time.sleep(0.05)
        problems = daemon.health_problems()
    finally:
        daemon.shutdown()

    assert problems == ["worker-0 held by one photo for over 0.3 s"]
