"""store: the journal's one SQLite connection, the lock that guards it, its write
transactions and its clock; the parts of the journal are built on it.

SQLite in WAL mode with synchronous=FULL: a row said done is done after a power cut.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from studiocut.journal import schema
from studiocut.journal.records import JOB_COLUMNS, Job, job_of


def clock() -> float:
    """The journal's clock: every time it records comes from here (tests stand in for
    ``time`` in this module)."""
    return time.time()


class Store:
    """One connection, guarded by a lock: SQLite serialises writers anyway, and the daemon's
    write rate is a few rows a second."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            uri = f"file:{path}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            schema.create(self._db)
        self._columns = JOB_COLUMNS if not readonly else schema.readable_columns(self._db)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _oldest(self, where: str, params: list[object], profile: str | None,
                limit: int) -> list[Job]:
        """Up to ``limit`` jobs matching ``where`` (of ``profile`` when given), oldest first."""
        if profile is not None:
            where += " AND profile=?"
            params = [*params, profile]
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._columns} FROM jobs WHERE {where} ORDER BY id LIMIT ?",
                (*params, limit)).fetchall()
        return [job_of(r) for r in rows]
