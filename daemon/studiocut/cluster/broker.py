"""broker: what a station knows of the broker: up, or down since when, and its queues.

Sends tell it most: a failed send starts the clock, and the broker is *down* once sends (or
probes) have failed for ``broker_down_after`` seconds; a good one ends it. While idle, the
waiting workers probe it at most every ``PROBE_EVERY`` seconds, with the same bounded socket
timeouts, so the status and the review page notice an outage that no send met.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis

from studiocut.cluster.config import Cluster

log = logging.getLogger(__name__)

PROBE_EVERY = 2.0


class Broker:
    """The broker's state as this station saw it last; thread-safe."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._lock = threading.Lock()
        self._probing = threading.Lock()
        self._failing_since: float | None = None  # monotonic, first failure of this run
        self._down_since: float | None = None  # wall clock, when it was called down
        self._seen = False
        self._probed = 0.0
        self._depths: dict[str, int] = {}
        self._client = redis.Redis.from_url(
            cluster.broker, socket_timeout=cluster.socket_timeout,
            socket_connect_timeout=cluster.socket_connect_timeout)

    @property
    def down(self) -> bool:
        with self._lock:
            return self._down_since is not None

    def ok(self) -> None:
        with self._lock:
            if self._down_since is not None:
                log.warning("cluster broker %s is back (down for %.0f s): sending again",
                            _safe(self._cluster.broker), time.time() - self._down_since)
            self._failing_since, self._down_since, self._seen = None, None, True

    def failed(self, error: BaseException) -> bool:
        """Record a failed send or probe; return whether the broker is now down."""
        now = time.monotonic()
        with self._lock:
            if self._failing_since is None:
                self._failing_since = now
            if (self._down_since is None
                    and now - self._failing_since >= self._cluster.broker_down_after):
                self._down_since = time.time() - (now - self._failing_since)
                log.error("cluster broker %s is down: %s", _safe(self._cluster.broker), error)
            return self._down_since is not None

    def probe(self, queues: tuple[str, ...]) -> None:
        """Ping the broker and read the queues' depths, unless another thread is at it or
        it was done less than PROBE_EVERY seconds ago."""
        if time.monotonic() - self._probed < PROBE_EVERY or not self._probing.acquire(False):
            return
        try:
            self._probed = time.monotonic()
            depths = {q: int(self._client.llen(q)) for q in queues}
        except (redis.RedisError, OSError) as e:
            self.failed(e)
        else:
            self.ok()
            with self._lock:
                self._depths.update(depths)
        finally:
            self._probing.release()

    def report(self) -> dict[str, Any]:
        """{"state": up | down | unknown, "since": epoch seconds or None, "queued": {queue:
        jobs waiting in Redis at the last probe}}."""
        with self._lock:
            if self._down_since is not None:
                state, since = "down", self._down_since
            else:
                state, since = ("up" if self._seen else "unknown"), None
            return {"url": _safe(self._cluster.broker), "state": state, "since": since,
                    "queued": dict(self._depths)}

    def close(self) -> None:
        self._client.close()


def _safe(url: str) -> str:
    """The broker URL without its password, for status and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return scheme + sep + rest
