"""clock: where one photo's time goes, stage by stage.

The pipeline marks its stages (``with clock.stage("decode"):``). Nothing is kept unless the
thread doing the work has a ``Recorder`` installed (``bench/throughput.py`` does, for its
per-stage profile): a stage then costs two clock readings, else one attribute lookup.
Stages may nest: a nested stage's time is its own, not its parent's, so the stages add up.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()


class Recorder:
    """Wall and thread-CPU seconds per stage name, summed over the stages this thread ran
    while the recorder was installed."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._open: list[str] = []  # the stages running now, innermost last

    def enter(self, name: str) -> None:
        self._open.append(name)

    def leave(self, wall: float, cpu: float) -> None:
        name = self._open.pop()
        self.wall[name] += wall
        self.cpu[name] += cpu
        if self._open:  # the parent's own time is what its children did not take
            self.wall[self._open[-1]] -= wall
            self.cpu[self._open[-1]] -= cpu


class _Stage:
    __slots__ = ("_cpu", "_name", "_recorder", "_wall")

    def __init__(self, name: str) -> None:
        self._name = name
        self._recorder: Recorder | None = getattr(_local, "recorder", None)

    def __enter__(self) -> None:
        if self._recorder is not None:
            self._recorder.enter(self._name)
            self._wall, self._cpu = time.perf_counter(), time.thread_time()

    def __exit__(self, *exc: object) -> None:
        if self._recorder is not None:
            self._recorder.leave(time.perf_counter() - self._wall,
                                 time.thread_time() - self._cpu)


def stage(name: str) -> _Stage:
    """A context manager that adds its block's time to ``name`` in this thread's recorder."""
    return _Stage(name)


@contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    """Install ``recorder`` on this thread for a ``with`` block."""
    previous = getattr(_local, "recorder", None)
    _local.recorder = recorder
    try:
        yield recorder
    finally:
        _local.recorder = previous
