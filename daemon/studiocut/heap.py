"""heap: glibc's malloc, told to keep fewer arenas and to give freed pages back to the system.

A studiocut process passes 24 MP images between threads, and glibc's defaults keep much of
what they freed: an arena for each thread that allocates, and the holes arrays freed out of
order leave in the heap. Both settings were measured with bench/memory.py. On other systems,
and under another C library (musl has neither call), each function here does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any


def _glibc() -> Any:
    """glibc, when this process runs on it, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_libc = _glibc()

M_ARENA_MAX = -8  # glibc's malloc.h


def fewer_arenas() -> None:
    """Limit glibc to two malloc arenas, as MALLOC_ARENA_MAX=2 does. By default each thread
    that allocates gets an arena of its own (up to eight a core) that keeps its freed memory:
    with workers passing 24 MP images between them that held about 60 MB more at the peak and
    over 100 MB more at rest, for no speed. An explicit MALLOC_ARENA_MAX wins."""
    if _libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
        _libc.mallopt(M_ARENA_MAX, 2)


def give_back() -> None:
    """Return to the system the heap pages that freed arrays left (malloc_trim). glibc keeps
    them for the next allocation, and a photo's arrays, freed in another order than they
    were made, leave its heap full of holes it keeps: about 100 MB at rest. Given back
    before each photo is decoded whole, the peak over 1000 u2netp photos fell from 652 to
    604 MB (bench/memory.py) for no measurable CPU; it takes 0.2 ms."""
    if _libc is not None:
        _libc.malloc_trim(0)
