"""locate: giving back the heap that freed arrays left, before each photo is decoded whole."""

from __future__ import annotations

import os

import numpy as np
import pytest

from studiocut.imaging import locate


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(locate._trim is None, reason="glibc's malloc_trim: Linux only")
def test_give_back_returns_the_heap_pages_freed_arrays_left() -> None:
    blocks = [np.ones(16_384, np.float32) for _ in range(2_000)]  # 64 KB each: the heap's
    del blocks[:-1]  # freed below the last one, which keeps the heap's top: free() keeps them
    held = resident_mb()

    locate.give_back()

    assert resident_mb() < held - 64  # most of the 128 MB


def test_entering_a_framing_slot_gives_back_first(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(locate, "give_back", lambda: calls.append(1))

    with locate.framing_slot():
        assert calls == [1]
