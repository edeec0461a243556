"""A harness for the cluster's tests and benchmark: a real redis-server on a free port, real
``studiocut worker`` subprocesses (killed with SIGKILL), the station as a real ``studiocut
run`` (daemon_harness), and the invariants every fault must leave intact."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from daemon_harness import Daemon

QUEUE = "cutout"
# short times, so faults resolve in seconds: each still keeps the order the checks demand
TIMES = {"task_time_limit": 4, "visibility_timeout": 6, "job_deadline": 12,
         "restore_interval": 1, "worker_lost_wait": 1, "broker_down_after": 1,
         "socket_timeout": 1, "socket_connect_timeout": 0.5}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
             interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """redis-server on 127.0.0.1, without persistence: a restart loses everything, the
    worst case."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, 10, "redis-server")
        return self

    def client(self) -> Any:
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=2)

    def ping(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def queues(self) -> dict[str, int]:
        """What is in the broker: jobs queued, delivered but unacknowledged."""
        c = self.client()
        return {"queued": int(c.llen(QUEUE)), "unacked": int(c.hlen("unacked")),
                "unacked_index": int(c.zcard("unacked_index"))}


class Worker:
    """``studiocut worker`` in its own process group."""

    count = 0

    def __init__(self, root: Path, cluster_file: Path, *, concurrency: int = 1,
                 faults: str = "", threads: int = 0) -> None:
        Worker.count += 1
        self.name = f"w{Worker.count}"
        self.log = root / f"{self.name}.log"
        self.command = [sys.executable, "-m", "studiocut", "worker", "--cluster",
                        str(cluster_file), "--queue", QUEUE, "--concurrency", str(concurrency),
                        "--name", self.name, "--threads", str(threads)]
        self.concurrency = concurrency
        self.env = dict(os.environ, STUDIOCUT_FAULTS=faults, PYTHONUNBUFFERED="1")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> Worker:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env, start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 40) -> None:
        assert self.proc is not None
        wait_for(lambda: " ready." in self.text() or self.proc.poll() is not None,  # type: ignore[union-attr]
                 timeout, f"{self.name} ready")
        assert self.proc.poll() is None, self.text()[-3000:]
        wait_for(lambda: len(self.children()) >= self.concurrency, timeout,
                 f"{self.name}'s pool processes")

    def children(self) -> list[int]:
        assert self.proc is not None
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def kill_child(self) -> int:
        """SIGKILL the pool process (the one running a job when concurrency is 1)."""
        pid = self.children()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill(self) -> None:
        """SIGKILL the whole worker, main process and pool (a machine dying)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Warm shutdown, then SIGKILL whatever is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        self.kill()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Cluster:
    """A test studio: redis-server, a spool, cluster.yaml, workers and one station."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spool = root / "spool"
        self.redis = RedisServer(root).start()
        self.cluster_file = root / "cluster.yaml"  # beside the station's profiles folder
        self.workers: list[Worker] = []
        self.station: Daemon | None = None

    def configure(self, **over: Any) -> Path:
        data: dict[str, Any] = {"broker": self.redis.url, "spool": {"*": str(self.spool)},
                                "queues": {QUEUE: {"models": []}}, **TIMES, **over}
        self.cluster_file.write_text(yaml.safe_dump(data), encoding="utf-8")
        return self.cluster_file

    def worker(self, *, concurrency: int = 1, faults: str = "", wait: bool = True,
               threads: int = 0) -> Worker:
        worker = Worker(self.root, self.cluster_file, concurrency=concurrency, faults=faults,
                        threads=threads)
        self.workers.append(worker)
        return worker.start(wait=wait)

    def make_station(self, *, faults: str = "", workers: int = 2, review: bool = False,
                     **profile: Any) -> Daemon:
        keys = {"executor": "cluster", "queue": QUEUE, **profile}
        args = ["--workers", str(workers)] + ([] if review else ["--no-review"])
        self.station = Daemon(self.root, {"studio": keys}, faults=faults, args=args)
        return self.station

    def close(self) -> None:
        station = self.station
        if station is not None and station.proc is not None and station.proc.poll() is None:
            station.kill9()
        for worker in self.workers:
            worker.kill()  # a warm shutdown proves nothing here and takes seconds
        self.redis.stop()

    # ------------------------------------------------------------------ invariants

    def outbox(self) -> list[dict[str, Any]]:
        import sqlite3

        db = sqlite3.connect(self.root / "state" / "journal.db", timeout=10)
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM remote ORDER BY job")]
        finally:
            db.close()

    def check(self, names: list[str], *, failed: frozenset[str] = frozenset(),
              settle: float = 15, outputs: list[str] | None = None) -> None:
        """One finished row per input (done, or failed for ``failed``), one output per done
        input (or exactly ``outputs``, paths relative to the output folder), no temp files
        in the spool or the outputs, the spool emptied by the station, and, within
        ``settle`` seconds, the broker's queues empty."""
        station = self.station
        assert station is not None
        states = station.states()
        assert sorted(states) == sorted(names), f"one row per input: {states}"
        wrong = {n: s for n, s in states.items() if s != ("failed" if n in failed else "done")}
        assert not wrong, f"unfinished rows: {wrong}\n{station.text()[-3000:]}"
        if outputs is None:
            outputs = [Path(n).stem + ".png" for n in names if n not in failed]
        found = [p.relative_to(station.outbox).as_posix() for p in station.outputs()]
        assert sorted(found) == sorted(outputs), found
        assert not [p for p in station.outbox.rglob("*") if "tmp" in p.name]
        assert {r["state"] for r in self.outbox()} <= {"done", "failed"}
        left = [p for p in self.spool.rglob("*") if p.is_file()]
        assert not left, f"spool files left: {left}"
        wait_for(lambda: self.redis.queues() == {"queued": 0, "unacked": 0,
                                                 "unacked_index": 0},
                 settle, f"empty queues, now {self.redis.queues()}", interval=0.2)
