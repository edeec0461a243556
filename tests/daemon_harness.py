"""A harness that runs ``studiocut run`` as a subprocess and talks to it only through folders,
the journal, its status file and signals, as a studio's tethering setup would."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from conftest import product_photo


class Daemon:
    """One daemon process over a test folder layout: ``in/``, ``out/``, ``profiles/``,
    ``state/``. Profiles default to the fast ``backdrop-key`` model."""

    def __init__(self, root: Path, profiles: dict[str, dict[str, Any]] | None = None,
                 *, faults: str = "", args: Sequence[str] = (),
                 wrapper: Sequence[str] = (), preexec: Callable[[], None] | None = None) -> None:
        self.root = root
        self.inbox = root / "in"
        self.outbox = root / "out"
        self.profiles = root / "profiles"
        self.state = root / "state"
        for folder in (self.inbox, self.outbox, self.profiles):
            folder.mkdir(parents=True, exist_ok=True)
        if profiles is None:
            profiles = {"studio": {}}
        for name, keys in profiles.items():
            self.write_profile(name, keys)
        self.faults = faults
        self.args = list(args)
        self.wrapper = list(wrapper)
        self.preexec = preexec
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / "daemon.log"
        self._log_handle: Any = None

    def write_profile(self, name: str, keys: dict[str, Any]) -> None:
        data = {
            "watch": str(self.inbox), "output": str(self.outbox), "model": "backdrop-key",
            "square": False, "format": "png", "backdrop": "transparent", "settle": 0.3,
            "retries": 2, "key": {"assist": "none"},
        }
        data.update(keys)
        (self.profiles / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")

    # ------------------------------------------------------------------ process

    def start(self, *, wait: bool = True, extra_env: dict[str, str] | None = None) -> Daemon:
        env = dict(os.environ, STUDIOCUT_FAULTS=self.faults, PYTHONUNBUFFERED="1")
        env.pop("NOTIFY_SOCKET", None)  # never tell a real service manager about test daemons
        env.update(extra_env or {})
        command = [*self.wrapper, sys.executable, "-m", "studiocut", "run",
                   "--profiles", str(self.profiles), "--state", str(self.state),
                   "--rescan", "2", "--shutdown-timeout", "5", "--review-port", "0",
                   *self.args]
        self._log_handle = open(self.log, "ab")  # noqa: SIM115 - closed in wait_exit
        self.proc = subprocess.Popen(command, stdout=self._log_handle,
                                     stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=self.preexec)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        assert self.proc is not None
        status = self.state / "daemon.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.text()}")
            try:
                data = json.loads(status.read_text())
                if data.get("pid") == self.proc.pid:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"daemon not ready in {timeout} s:\n{self.text()}")

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; return the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.wait_exit(timeout)
        self.signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.wait_exit(10)

    def wait_exit(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout)
        finally:
            if self._log_handle is not None:
                self._log_handle.close()
                self._log_handle = None
        return code

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    # ------------------------------------------------------------------ observation

    def jobs(self) -> list[dict[str, Any]]:
        db_path = self.state / "journal.db"
        if not db_path.exists():
            return []
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
        try:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM jobs ORDER BY id").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()
        result = []
        for row in rows:
            item = dict(row)
            item["source"] = os.fsdecode(item["source"])
            item["output"] = os.fsdecode(item["output"]) if item["output"] else None
            result.append(item)
        return result

    def states(self) -> dict[str, str]:
        """{file name: state}."""
        return {Path(j["source"]).name: j["state"] for j in self.jobs()}

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0,
                 what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if predicate():
            return
        raise AssertionError(f"timed out waiting for {what}; jobs={self.states()}\n"
                             f"log:\n{self.text()[-4000:]}")

    def wait_states(self, expected: dict[str, str], timeout: float = 30.0) -> None:
        def matches() -> bool:
            states = self.states()
            return all(states.get(name) == state for name, state in expected.items())

        self.wait_for(matches, timeout, f"states {expected}")

    def wait_done(self, count: int, timeout: float = 60.0) -> None:
        self.wait_for(lambda: sum(s == "done" for s in self.states().values()) >= count,
                      timeout, f"{count} done jobs")

    def review_url(self) -> str:
        """The review page's address (from the status file; the daemon must be ready)."""
        address = json.loads((self.state / "daemon.json").read_text()).get("review")
        assert address, "the daemon serves no review page"
        return str(address)

    def token(self) -> str:
        return (self.state / "review.token").read_text().strip()

    def status(self) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-m", "studiocut", "status", "--state", str(self.state),
             "--profiles", str(self.profiles), "--json", "--jobs", "0"],
            capture_output=True, check=True, timeout=30)
        data: dict[str, Any] = json.loads(out.stdout)
        return data

    def outputs(self) -> list[Path]:
        return sorted(p for p in self.outbox.rglob("*") if p.is_file())


def shoot(path: Path, *, size: tuple[int, int] = (160, 120), colour: tuple[int, int, int] = (
        200, 30, 30), fmt: str | None = None) -> Path:
    """Write a synthetic product photo (atomically enough for tests: via a hidden temp)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    image = product_photo(size, (w // 4, h // 4, 3 * w // 4, 3 * h // 4), colour)
    temp = path.with_name(f".{path.name}.part")
    image.save(temp, format=fmt or _format_of(path))
    os.replace(temp, path)
    return path


def photo_bytes(size: tuple[int, int] = (160, 120), fmt: str = "JPEG",
                colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    import io

    w, h = size
    buffer = io.BytesIO()
    product_photo(size, (w // 4, h // 4, 3 * w // 4, 3 * h // 4), colour).save(buffer, fmt)
    return buffer.getvalue()


def _format_of(path: Path) -> str:
    ext = path.suffix.lower()
    return {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF",
            ".tiff": "TIFF", ".webp": "WEBP"}.get(ext, "JPEG")


def valid_image(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except Exception:
        return False
