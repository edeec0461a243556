"""lock: one daemon per state folder, held by an OS file lock for the life of the process.

The OS drops the lock when the process dies, so a kill -9 never leaves a stale lock.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from studiocut.errors import StudiocutError

LOCK_FILE = "daemon.lock"


class AlreadyRunning(StudiocutError):
    """Another daemon holds the state folder's lock."""


def take_lock(path: Path) -> Any:
    """Hold an exclusive lock on ``path`` for the life of the process; raise AlreadyRunning.
    The OS drops the lock when the process dies, so a kill -9 never leaves a stale lock."""
    handle = _try_lock(path)
    if handle is None:
        raise AlreadyRunning(f"studiocut is already running on the state folder {path.parent} "
                             "(another daemon holds its lock)")
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _try_lock(path: Path) -> Any:
    """The locked file handle, or None when another process holds the lock."""
    handle = open(path, "a+")  # noqa: SIM115 - held open until release_lock
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def release_lock(handle: Any) -> None:
    if handle is not None:
        handle.close()


def is_running(state_dir: Path) -> bool:
    """True when a daemon holds the state folder's lock (the lock file is left as it is)."""
    path = state_dir / LOCK_FILE
    if not path.exists():
        return False
    handle = _try_lock(path)
    release_lock(handle)
    return handle is None
