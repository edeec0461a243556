"""journal: the daemon's memory, one SQLite row per (profile, source file).

Every file that enters a watched folder ends in one recorded state: done, failed (with a
reason), vanished or ignored. SQLite in WAL mode with synchronous=FULL: a row said done is done
after a power cut. Paths are stored as bytes (os.fsencode) so any file name round-trips.

A job's identity is its path, size, mtime and inode: a re-shot file with the same name is a
new job; touching a finished file without changing it is not.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PENDING, PROCESSING, DONE, FAILED, VANISHED, IGNORED = (
    "pending", "processing", "done", "failed", "vanished", "ignored")
TERMINAL = (DONE, FAILED, VANISHED, IGNORED)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    source BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    message TEXT,
    output BLOB,
    profile_version TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    started REAL,
    seconds REAL,
    not_before REAL NOT NULL DEFAULT 0,
    crashes INTEGER NOT NULL DEFAULT 0,
    flags TEXT,
    UNIQUE (profile, source)
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, id);
CREATE INDEX IF NOT EXISTS jobs_output ON jobs (profile, output);
"""


@dataclass(frozen=True)
class Identity:
    """What makes a file the same file: path, size, mtime and inode."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> Identity:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(frozen=True)
class Job:
    id: int
    profile: str
    source: Path
    identity: Identity
    state: str
    attempts: int
    reason: str | None
    message: str | None
    output: Path | None
    updated: float
    created: float
    flags: tuple[str, ...] = ()


class Journal:
    """Thread-safe access to the jobs table. One connection, guarded by a lock: SQLite
    serialises writers anyway, and the daemon's write rate is a few rows a second."""

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
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        self._lock = threading.Lock()

    def _add_missing_columns(self) -> None:
        """Bring a journal written by an earlier version up to this schema."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for column, definition in (("not_before", "REAL NOT NULL DEFAULT 0"),
                                   ("crashes", "INTEGER NOT NULL DEFAULT 0"),
                                   ("flags", "TEXT")):
            if column not in have:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {definition}")

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

    # ------------------------------------------------------------------ intake side

    def lookup(self, profile: str, source: Path) -> Job | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE profile=? AND source=?",
                (profile, os.fsencode(source)),
            ).fetchone()
        return _job(row) if row else None

    def is_known(self, profile: str, source: Path, identity: Identity) -> bool:
        """True when this exact file (same identity) already has a row, whatever its state."""
        job = self.lookup(profile, source)
        return job is not None and job.identity == identity

    def enqueue(self, profile: str, source: Path, identity: Identity, version: str) -> Job | None:
        """Record ``source`` as pending unless this identity is already known; return the job
        when it was (re)queued, None when it was already known."""
        now = time.time()
        key = os.fsencode(source)
        with self._write() as db:
            row = db.execute("SELECT id, size, mtime_ns, inode, state FROM jobs "
                             "WHERE profile=? AND source=?", (profile, key)).fetchone()
            ident = (identity.size, identity.mtime_ns, identity.inode)
            if row is None:
                cur = db.execute(
                    "INSERT INTO jobs (profile, source, size, mtime_ns, inode, state, "
                    "profile_version, created, updated) VALUES (?,?,?,?,?,?,?,?,?)",
                    (profile, key, *ident, PENDING, version, now, now))
                job_id = cur.lastrowid
            elif tuple(row[1:4]) == ident:
                return None
            else:  # same name, new content: a re-shot photo
                job_id = row[0]
                db.execute(
                    "UPDATE jobs SET size=?, mtime_ns=?, inode=?, state=?, attempts=0, "
                    "reason=NULL, message=NULL, profile_version=?, updated=?, created=?, "
                    "not_before=0, flags=NULL "
                    "WHERE id=?", (*ident, PENDING, version, now, now, job_id))
            found = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _job(found)

    def record(self, profile: str, source: Path, identity: Identity, state: str,
               reason: str, message: str) -> None:
        """Record a file that reached a terminal state without processing (ignored)."""
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO jobs (profile, source, size, mtime_ns, inode, state, reason, "
                "message, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (profile, source) DO UPDATE SET size=excluded.size, "
                "mtime_ns=excluded.mtime_ns, inode=excluded.inode, state=excluded.state, "
                "reason=excluded.reason, message=excluded.message, updated=excluded.updated",
                (profile, os.fsencode(source), identity.size, identity.mtime_ns,
                 identity.inode, state, reason, message, now, now))

    # ------------------------------------------------------------------ worker side

    def reserve_output(self, job_id: int, profile: str, wanted: Path, fallback: Path) -> Path:
        """Return ``wanted`` unless another source of this profile already owns it (a RAW and a
        JPEG of one stem), else ``fallback``, else ``fallback`` with the job id added; record
        the choice atomically."""
        with self._write() as db:
            chosen = wanted
            for candidate in (wanted, fallback, None):
                if candidate is None:
                    chosen = fallback.with_name(f"{fallback.stem}-{job_id}{fallback.suffix}")
                    break
                owner = db.execute(
                    "SELECT id FROM jobs WHERE profile=? AND output=? AND id<>?",
                    (profile, os.fsencode(candidate), job_id)).fetchone()
                if owner is None:
                    chosen = candidate
                    break
            db.execute("UPDATE jobs SET output=? WHERE id=?", (os.fsencode(chosen), job_id))
        return chosen

    def finish(self, job_id: int, state: str, *, reason: str | None = None,
               message: str | None = None, output: Path | None = None,
               seconds: float | None = None, flags: tuple[str, ...] = ()) -> None:
        """End a claimed job. A job no longer processing (its file was re-shot and queued
        again meanwhile) is left as it is, so the new version still runs. ``flags`` are the
        reasons a finished result should be reviewed."""
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET state=?, reason=?, message=?, output=COALESCE(?, output), "
                "seconds=?, updated=?, flags=? WHERE id=? AND state=?",
                (state, reason, message, os.fsencode(output) if output else None, seconds,
                 time.time(), "\n".join(flags) or None, job_id, PROCESSING))

    def release(self, job_id: int, *, uncount: bool, reason: str | None = None,
                message: str | None = None, delay: float = 0.0) -> None:
        """Put a claimed job back to pending, to be retried after ``delay`` seconds;
        ``uncount`` takes back its attempt (used when the daemon or the environment, not the
        photo, was the reason it did not finish)."""
        now = time.time()
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET state=?, attempts=MAX(0, attempts-?), reason=?, message=?, "
                "updated=?, not_before=? WHERE id=?",
                (PENDING, 1 if uncount else 0, reason, message, now, now + delay, job_id))

    def claim_next(self, profiles: list[str]) -> tuple[Job, int] | None:
        """Atomically take the oldest pending job of ``profiles`` that is due, mark it
        processing and count the attempt; return (job, attempt) or None."""
        if not profiles:
            return None
        now = time.time()
        marks = ",".join("?" * len(profiles))
        with self._write() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state=? AND not_before<=? "
                f"AND profile IN ({marks}) ORDER BY id LIMIT 1",
                (PENDING, now, *profiles)).fetchone()
            if row is None:
                return None
            job = _job(row)
            db.execute("UPDATE jobs SET state=?, attempts=attempts+1, started=?, updated=? "
                       "WHERE id=?", (PROCESSING, now, now, job.id))
        return job, job.attempts + 1

    def recover(self, max_crashes: int) -> tuple[int, int]:
        """After a crash: jobs left processing go back to pending, except those that have
        now been in progress during ``max_crashes`` crashes, which are quarantined as failed
        (ordinary retries of a file that was not ready do not count). Return (requeued,
        quarantined)."""
        now = time.time()
        with self._write() as db:
            db.execute("UPDATE jobs SET crashes=crashes+1 WHERE state=?", (PROCESSING,))
            quarantined = db.execute(
                "UPDATE jobs SET state=?, reason='quarantined', message='this file was being "
                "processed during ' || crashes || ' crashes of the daemon; it is set aside', "
                "updated=? WHERE state=? AND crashes>=?",
                (FAILED, now, PROCESSING, max_crashes)).rowcount
            requeued = db.execute("UPDATE jobs SET state=?, updated=? WHERE state=?",
                                  (PENDING, now, PROCESSING)).rowcount
        return requeued, quarantined

    def pending(self, profile: str | None = None, limit: int = 1000) -> list[Job]:
        """Pending jobs, oldest first."""
        query = f"SELECT {_COLUMNS} FROM jobs WHERE state=?"
        params: list[object] = [PENDING]
        if profile is not None:
            query += " AND profile=?"
            params.append(profile)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id LIMIT ?", (*params, limit)).fetchall()
        return [_job(r) for r in rows]

    # ------------------------------------------------------------------ reading

    def jobs(self, *, profile: str | None = None, states: tuple[str, ...] = (),
             limit: int | None = None, newest_first: bool = False) -> list[Job]:
        query = f"SELECT {_COLUMNS} FROM jobs WHERE 1=1"
        params: list[object] = []
        if profile is not None:
            query += " AND profile=?"
            params.append(profile)
        if states:
            query += f" AND state IN ({','.join('?' * len(states))})"
            params.extend(states)
        query += " ORDER BY updated DESC, id DESC" if newest_first else " ORDER BY id"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [_job(r) for r in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """{profile: {state: count}}."""
        with self._lock:
            rows = self._db.execute(
                "SELECT profile, state, COUNT(*) FROM jobs GROUP BY profile, state").fetchall()
        result: dict[str, dict[str, int]] = {}
        for profile, state, count in rows:
            result.setdefault(profile, {})[state] = count
        return result

    def flagged(self) -> dict[str, int]:
        """{profile: finished results flagged for review}."""
        with self._lock:
            rows = self._db.execute(
                "SELECT profile, COUNT(*) FROM jobs WHERE state=? AND flags IS NOT NULL "
                "GROUP BY profile", (DONE,)).fetchall()
        return {profile: int(count) for profile, count in rows}

    def oldest_pending(self) -> dict[str, float]:
        """{profile: creation time of its oldest pending or processing job}."""
        with self._lock:
            rows = self._db.execute(
                "SELECT profile, MIN(created) FROM jobs WHERE state IN (?, ?) GROUP BY profile",
                (PENDING, PROCESSING)).fetchall()
        return {profile: float(created) for profile, created in rows}


_COLUMNS = ("id, profile, source, size, mtime_ns, inode, state, attempts, reason, message, "
            "output, updated, created, flags")


def _job(row: tuple[object, ...]) -> Job:
    (job_id, profile, source, size, mtime_ns, inode, state, attempts, reason, message,
     output, updated, created, flags) = row
    assert isinstance(source, bytes)
    return Job(
        id=int(job_id),  # type: ignore[call-overload]
        profile=str(profile),
        source=Path(os.fsdecode(source)),
        identity=Identity(int(size), int(mtime_ns), int(inode)),  # type: ignore[call-overload]
        state=str(state),
        attempts=int(attempts),  # type: ignore[call-overload]
        reason=reason if isinstance(reason, str) else None,
        message=message if isinstance(message, str) else None,
        output=Path(os.fsdecode(output)) if isinstance(output, bytes) else None,
        updated=float(updated),  # type: ignore[arg-type]
        created=float(created),  # type: ignore[arg-type]
        flags=tuple(flags.split("\n")) if isinstance(flags, str) and flags else (),
    )
