"""heap: glibc told to keep two malloc arenas, and to give back the pages freed arrays left."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from studiocut import heap

glibc = pytest.mark.skipif(heap._libc is None, reason="glibc's malloc: Linux only")


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@glibc
def test_give_back_returns_the_heap_pages_freed_arrays_left() -> None:
    blocks = [np.ones(16_384, np.float32) for _ in range(2_000)]  # 64 KB each: the heap's
    del blocks[:-1]  # freed below the last one, which keeps the heap's top: free() keeps them
    held = resident_mb()

    heap.give_back()

    assert resident_mb() < held - 64  # most of the 128 MB


# Eight threads that allocate at once, then glibc's count of its arenas (malloc_stats
# writes a block starting "Arena N:" for each to stderr).
ARENAS = textwrap.dedent("""
    import ctypes, sys, threading
    from studiocut import heap
    if sys.argv[1] == "fewer":
        heap.fewer_arenas()
    together = threading.Barrier(8)
    def allocate():
        together.wait()
        kept = [bytearray(1000) for _ in range(200)]
        together.wait()
    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ctypes.CDLL(None).malloc_stats()
""")


def arenas(how: str, **env: str) -> int:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run([sys.executable, "-c", ARENAS, how], capture_output=True, text=True,
                          env=environment, timeout=60, check=True)
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@glibc
def test_fewer_arenas_keeps_threads_to_two() -> None:
    assert arenas("default") > 2  # an arena for each thread that allocates at once
    assert arenas("fewer") == 2


@glibc
def test_an_explicit_malloc_arena_max_wins() -> None:
    assert arenas("fewer", MALLOC_ARENA_MAX="4") == 4
