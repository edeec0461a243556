"""journal: the daemon's memory, one SQLite row per (profile, source file).

Every file that enters a watched folder ends in one recorded state: done, failed (with a
reason), vanished or ignored. SQLite in WAL mode with synchronous=FULL: a row said done is done
after a power cut. Paths are stored as bytes (os.fsencode) so any file name round-trips.

A job's identity is its path, size, mtime and inode: a re-shot file with the same name is a
new job; touching a finished file without changing it is not.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    review TEXT NOT NULL DEFAULT 'none',
    undo TEXT,
    published INTEGER,
    publishing INTEGER,
    publishing_review TEXT,
    original BLOB,
    reshot INTEGER NOT NULL DEFAULT 0,
    UNIQUE (profile, source)
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, id);
CREATE INDEX IF NOT EXISTS jobs_output ON jobs (profile, output);
CREATE TABLE IF NOT EXISTS revisions (
    id INTEGER PRIMARY KEY,
    job INTEGER NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    ext TEXT NOT NULL,
    folder TEXT NOT NULL,
    UNIQUE (job, number)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    job INTEGER,
    profile TEXT,
    data TEXT
);
"""

# Review states of a finished job: none (not flagged), flagged (published, to be looked at),
# held (not published until approved), approved, rejected (output withdrawn), dismissed (a
# failure set aside).
REVIEW_STATES = ("none", "flagged", "held", "approved", "rejected", "dismissed")
# Revision statuses: ready (a candidate or an earlier version), published (in the output
# folder now), discarded (its artefacts were purged, or its photo was re-shot).
READY, PUBLISHED, DISCARDED = "ready", "published", "discarded"


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
    review: str = "none"
    published: int | None = None  # the revision number live in the output folder
    publishing: int | None = None  # a publish that was in progress (crash recovery)
    publishing_review: str | None = None  # the review state that publish was to leave
    original: Path | None = None  # where the original is now, when ``after`` moved it
    undo: str | None = None  # JSON of the review state and revision before the last action


@dataclass(frozen=True)
class Revision:
    """One version of a job's result; its artefacts live in the state folder."""

    id: int
    job: int
    number: int
    kind: str  # auto | refine | rerun
    params: dict[str, Any]
    status: str
    created: float
    size: tuple[int, int]
    ext: str  # the result's file extension
    folder: str  # its artefacts' folder, relative to the artefact store


@dataclass(frozen=True)
class Event:
    id: int
    time: float
    kind: str
    job: int | None
    profile: str | None
    data: dict[str, Any]


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
        self._columns = _COLUMNS if not readonly else self._readable_columns()
        self._lock = threading.Lock()

    def _readable_columns(self) -> str:
        """The job columns to select from a journal that may predate this version (read
        only, so it cannot be upgraded here): defaults stand in for missing columns."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        defaults = {"not_before": "0", "crashes": "0", "review": "'none'"}
        return ", ".join(c if c in have else f"{defaults.get(c, 'NULL')} AS {c}"
                         for c in _COLUMNS.split(", "))

    def _add_missing_columns(self) -> None:
        """Bring a journal written by an earlier version up to this schema."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for column, definition in (("not_before", "REAL NOT NULL DEFAULT 0"),
                                   ("crashes", "INTEGER NOT NULL DEFAULT 0"),
                                   ("flags", "TEXT"),
                                   ("review", "TEXT NOT NULL DEFAULT 'none'"),
                                   ("undo", "TEXT"), ("published", "INTEGER"),
                                   ("publishing", "INTEGER"), ("publishing_review", "TEXT"),
                                   ("original", "BLOB"),
                                   ("reshot", "INTEGER NOT NULL DEFAULT 0")):
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
                f"SELECT {self._columns} FROM jobs WHERE profile=? AND source=?",
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
                assert job_id is not None
            elif tuple(row[1:4]) == ident:
                return None
            elif row[4] == PROCESSING:
                # re-shot while a worker has the old version: that worker's finish or
                # release queues the job again (two workers must never hold one job)
                job_id = row[0]
                db.execute("UPDATE jobs SET size=?, mtime_ns=?, inode=?, profile_version=?, "
                           "reshot=1 WHERE id=?", (*ident, version, job_id))
                db.execute("UPDATE revisions SET status=? WHERE job=?", (DISCARDED, job_id))
                found = db.execute(f"SELECT {self._columns} FROM jobs WHERE id=?",
                                   (job_id,)).fetchone()
                return _job(found)
            else:  # same name, new content: a re-shot photo
                job_id = row[0]
                db.execute(
                    "UPDATE jobs SET size=?, mtime_ns=?, inode=?, state=?, attempts=0, "
                    "reason=NULL, message=NULL, profile_version=?, updated=?, created=?, "
                    "not_before=0, flags=NULL, review='none', undo=NULL, published=NULL, "
                    "publishing=NULL, original=NULL "
                    "WHERE id=?", (*ident, PENDING, version, now, now, job_id))
                db.execute("UPDATE revisions SET status=? WHERE job=?", (DISCARDED, job_id))
            _event(db, "queued", job_id, profile)
            found = db.execute(f"SELECT {self._columns} FROM jobs WHERE id=?", (job_id,)).fetchone()
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
               seconds: float | None = None, flags: tuple[str, ...] = (),
               review: str = "none", published: int | None = None,
               original: Path | None = None) -> None:
        """End a claimed job. A job no longer processing (its file was re-shot and queued
        again meanwhile) is left as it is, so the new version still runs. ``flags`` are the
        reasons a finished result should be reviewed; ``review`` its review state,
        ``published`` the revision in the output folder, ``original`` where ``after`` moved
        the original."""
        with self._write() as db:
            if self._requeue_reshot(db, job_id):
                return
            changed = db.execute(
                "UPDATE jobs SET state=?, reason=?, message=?, output=COALESCE(?, output), "
                "seconds=?, updated=?, flags=?, review=?, undo=NULL, published=?, original=? "
                "WHERE id=? AND state=?",
                (state, reason, message, os.fsencode(output) if output else None, seconds,
                 time.time(), "\n".join(flags) or None, review, published,
                 os.fsencode(original) if original else None, job_id, PROCESSING)).rowcount
            if changed:
                if published is not None:
                    db.execute("UPDATE revisions SET status=? WHERE job=? AND number=?",
                               (PUBLISHED, job_id, published))
                _event(db, state, job_id, None, {"reason": reason} if reason else None)

    def _requeue_reshot(self, db: sqlite3.Connection, job_id: int) -> bool:
        """If the job's photo was re-shot while it was processing, queue the new version
        (whatever became of the old one) and return True."""
        now = time.time()
        requeued = db.execute(
            "UPDATE jobs SET state=?, reshot=0, attempts=0, crashes=0, reason=NULL, "
            "message=NULL, flags=NULL, review='none', undo=NULL, published=NULL, "
            "publishing=NULL, original=NULL, not_before=0, updated=?, created=? "
            "WHERE id=? AND reshot=1", (PENDING, now, now, job_id)).rowcount
        if requeued:
            db.execute("UPDATE revisions SET status=? WHERE job=?", (DISCARDED, job_id))
            _event(db, "queued", job_id, None, {"reshot": True})
        return bool(requeued)

    def release(self, job_id: int, *, uncount: bool, reason: str | None = None,
                message: str | None = None, delay: float = 0.0) -> None:
        """Put a claimed job back to pending, to be retried after ``delay`` seconds;
        ``uncount`` takes back its attempt (used when the daemon or the environment, not the
        photo, was the reason it did not finish)."""
        now = time.time()
        with self._write() as db:
            if self._requeue_reshot(db, job_id):
                return
            db.execute(
                "UPDATE jobs SET state=?, attempts=MAX(0, attempts-?), reason=?, message=?, "
                "updated=?, not_before=? WHERE id=?",
                (PENDING, 1 if uncount else 0, reason, message, now, now + delay, job_id))
            _event(db, "queued", job_id, None, {"reason": reason} if reason else None)

    def claim_next(self, profiles: list[str]) -> tuple[Job, int] | None:
        """Atomically take the oldest pending job of ``profiles`` that is due, mark it
        processing and count the attempt; return (job, attempt) or None."""
        if not profiles:
            return None
        now = time.time()
        marks = ",".join("?" * len(profiles))
        with self._write() as db:
            row = db.execute(
                f"SELECT {self._columns} FROM jobs WHERE state=? AND not_before<=? "
                f"AND profile IN ({marks}) ORDER BY id LIMIT 1",
                (PENDING, now, *profiles)).fetchone()
            if row is None:
                return None
            job = _job(row)
            db.execute("UPDATE jobs SET state=?, attempts=attempts+1, started=?, updated=? "
                       "WHERE id=?", (PROCESSING, now, now, job.id))
            _event(db, "processing", job.id, job.profile)
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
            requeued = db.execute("UPDATE jobs SET state=?, updated=?, reshot=0 WHERE state=?",
                                  (PENDING, now, PROCESSING)).rowcount
        return requeued, quarantined

    def pending(self, profile: str | None = None, limit: int = 1000) -> list[Job]:
        """Pending jobs, oldest first."""
        return self._oldest("state=?", [PENDING], profile, limit)

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
        return [_job(r) for r in rows]

    # ------------------------------------------------------------------ reading

    def jobs(self, *, profile: str | None = None, states: tuple[str, ...] = (),
             limit: int | None = None, newest_first: bool = False) -> list[Job]:
        query = f"SELECT {self._columns} FROM jobs WHERE 1=1"
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


    # ------------------------------------------------------------------ review side

    def job(self, job_id: int) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {self._columns} FROM jobs WHERE id=?",
                                   (job_id,)).fetchone()
        return _job(row) if row else None

    def view(self, view: str, *, profile: str | None = None, after: int = 0,
             limit: int = 200) -> list[Job]:
        """Jobs of a review-page view, oldest first, with ids above ``after``."""
        query, params = VIEWS[view]
        return self._oldest(f"({query}) AND id>?", [*params, after], profile, limit)

    def add_revision(self, job_id: int, kind: str, params: dict[str, Any], size: tuple[int, int],
                     ext: str, folder: str) -> Revision:
        """Record a new revision of ``job_id`` (numbered after the last); return it. Its
        artefacts are written before this is called, under a name of their own."""
        now = time.time()
        with self._write() as db:
            (last,) = db.execute("SELECT COALESCE(MAX(number), 0) FROM revisions WHERE job=?",
                                 (job_id,)).fetchone()
            cur = db.execute(
                "INSERT INTO revisions (job, number, kind, params, status, created, width, "
                "height, ext, folder) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (job_id, last + 1, kind, json.dumps(params), READY, now, size[0], size[1], ext,
                 folder))
            _event(db, "revision", job_id, None, {"number": last + 1, "kind": kind})
            row = db.execute(f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE id=?",
                             (cur.lastrowid,)).fetchone()
        return _revision(row)

    def revisions(self, job_id: int) -> list[Revision]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE job=? "
                                    "ORDER BY number", (job_id,)).fetchall()
        return [_revision(r) for r in rows]

    def revision(self, revision_id: int) -> Revision | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE id=?",
                                   (revision_id,)).fetchone()
        return _revision(row) if row else None

    def latest_revisions(self, job_ids: list[int]) -> dict[int, Revision]:
        """{job id: its newest revision that still has artefacts}."""
        if not job_ids:
            return {}
        marks = ",".join("?" * len(job_ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_REVISION_COLUMNS} FROM revisions r WHERE job IN ({marks}) AND "
                "status<>? AND number=(SELECT MAX(number) FROM revisions WHERE job=r.job AND "
                "status<>?)", (*job_ids, DISCARDED, DISCARDED)).fetchall()
        return {rev.job: rev for rev in map(_revision, rows)}

    def set_review(self, job_id: int, review: str, *, published: int | bool | None = False,
                   undo: str | bool | None = False) -> None:
        """Set a job's review state (and, unless False, its published revision and undo
        record) in one transaction, with an event."""
        assert review in REVIEW_STATES
        with self._write() as db:
            sets, args = ["review=?", "updated=?"], [review, time.time()]
            if published is not False:
                sets.append("published=?")
                args.append(published)
            if undo is not False:
                sets.append("undo=?")
                args.append(undo)
            db.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE id=?", (*args, job_id))
            _event(db, "review", job_id, None, {"review": review})

    def begin_publish(self, job_id: int, number: int, review: str | None = None) -> None:
        """Note that revision ``number`` is being published, by an action meant to leave the
        job in ``review`` state: a crash before end_publish is finished at the next start."""
        with self._write() as db:
            db.execute("UPDATE jobs SET publishing=?, publishing_review=? WHERE id=?",
                       (number, review, job_id))

    def end_publish(self, job_id: int, number: int | None) -> None:
        """Record revision ``number`` (None: nothing) as the one in the output folder."""
        with self._write() as db:
            db.execute("UPDATE revisions SET status=? WHERE job=? AND status=?",
                       (READY, job_id, PUBLISHED))
            if number is not None:
                db.execute("UPDATE revisions SET status=? WHERE job=? AND number=? AND "
                           "status<>?", (PUBLISHED, job_id, number, DISCARDED))
            db.execute("UPDATE jobs SET published=?, publishing=NULL, publishing_review=NULL, "
                       "updated=? WHERE id=?", (number, time.time(), job_id))
            _event(db, "published", job_id, None, {"number": number})

    def interrupted_publishes(self) -> list[Job]:
        """Jobs whose publish was cut short by a crash."""
        with self._lock:
            rows = self._db.execute(f"SELECT {self._columns} FROM jobs WHERE publishing IS NOT NULL"
                                    ).fetchall()
        return [_job(r) for r in rows]

    def retry(self, job_id: int) -> bool:
        """Put a failed job back in the queue with fresh attempts; False if it is not failed."""
        now = time.time()
        with self._write() as db:
            changed = db.execute(
                "UPDATE jobs SET state=?, attempts=0, crashes=0, not_before=0, reason=NULL, "
                "message=NULL, review='none', updated=? WHERE id=? AND state=?",
                (PENDING, now, job_id, FAILED)).rowcount
            if changed:
                _event(db, "queued", job_id, None, {"retry": True})
        return bool(changed)

    def folders(self) -> set[str]:
        """The artefact folders of revisions not discarded."""
        with self._lock:
            rows = self._db.execute("SELECT folder FROM revisions WHERE status<>?",
                                    (DISCARDED,)).fetchall()
        return {str(folder) for (folder,) in rows}

    def discard_revisions(self, older_than: float) -> list[Revision]:
        """Mark revisions created before ``older_than`` discarded, except those of results
        still waiting for a person (held, flagged, rejected: the only copy of a held result,
        the versions an undo needs); return them (their artefacts are to be deleted). A
        published result's output stays where it is."""
        where = ("created<? AND status<>? AND job NOT IN (SELECT id FROM jobs WHERE review "
                 "IN ('held', 'flagged', 'rejected'))")
        with self._write() as db:
            rows = db.execute(f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE {where}",
                              (older_than, DISCARDED)).fetchall()
            db.execute(f"UPDATE revisions SET status=? WHERE {where}",
                       (DISCARDED, older_than, DISCARDED))
        return [_revision(r) for r in rows]

    # ------------------------------------------------------------------ events

    def event(self, kind: str, *, job: int | None = None, profile: str | None = None,
              data: dict[str, Any] | None = None) -> None:
        with self._write() as db:
            _event(db, kind, job, profile, data)

    def events(self, after: int, limit: int = 500, *, tail: bool = False) -> list[Event]:
        """Events after id ``after``, oldest first; with ``tail`` the newest ``limit``. Each
        names its job's file (``data["name"]``)."""
        where, order = ("1=1", "DESC") if tail else ("e.id>?", "")
        with self._lock:
            rows = self._db.execute(
                "SELECT e.id, e.time, e.kind, e.job, COALESCE(e.profile, j.profile), e.data, "
                f"j.source FROM events e LEFT JOIN jobs j ON j.id=e.job WHERE {where} "
                f"ORDER BY e.id {order} LIMIT ?", (limit,) if tail else (after, limit)
            ).fetchall()
        found = []
        for i, t, k, j, p, d, source in sorted(rows):
            data = json.loads(d) if d else {}
            if isinstance(source, bytes):
                data["name"] = os.path.basename(os.fsdecode(source))
            found.append(Event(int(i), float(t), str(k), None if j is None else int(j),
                               None if p is None else str(p), data))
        return found

    def last_event(self) -> int:
        with self._lock:
            (last,) = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()
        return int(last)

    def prune_events(self, older_than: float) -> None:
        with self._write() as db:
            db.execute("DELETE FROM events WHERE time<? AND id<(SELECT MAX(id) FROM events)",
                       (older_than,))

    def counts_since(self, since: float) -> dict[str, dict[str, int]]:
        """{profile: {"done", "failed", "flagged": jobs that ended so since ``since``}}."""
        with self._lock:
            rows = self._db.execute(
                "SELECT profile, state, review, COUNT(*) FROM jobs WHERE updated>=? AND state "
                "IN (?, ?) GROUP BY profile, state, review", (since, DONE, FAILED)).fetchall()
        result: dict[str, dict[str, int]] = {}
        for profile, state, review, count in rows:
            entry = result.setdefault(profile, {"done": 0, "failed": 0, "flagged": 0})
            entry[state] += count
            if review in ("flagged", "held"):
                entry["flagged"] += count
        return result

    def last_error(self) -> dict[str, str]:
        """{profile: the message of its most recent failure}."""
        with self._lock:
            rows = self._db.execute(
                "SELECT profile, message FROM jobs j WHERE state=? AND updated=(SELECT "
                "MAX(updated) FROM jobs WHERE profile=j.profile AND state=?)",
                (FAILED, FAILED)).fetchall()
        return {str(p): str(m or "") for p, m in rows}


VIEWS: dict[str, tuple[str, tuple[object, ...]]] = {
    "flagged": ("state=? AND review IN ('flagged', 'held')", (DONE,)),
    "all": ("state=?", (DONE,)),
    "held": ("state=? AND review='held'", (DONE,)),
    "approved": ("state=? AND review='approved'", (DONE,)),
    "rejected": ("state=? AND review='rejected'", (DONE,)),
    "failed": ("state=? AND review<>'dismissed'", (FAILED,)),
    "queue": ("state IN (?, ?)", (PENDING, PROCESSING)),
}


def _event(db: sqlite3.Connection, kind: str, job: int | None, profile: str | None,
           data: dict[str, Any] | None = None) -> None:
    db.execute("INSERT INTO events (time, kind, job, profile, data) VALUES (?,?,?,?,?)",
               (time.time(), kind, job, profile, json.dumps(data) if data else None))


_COLUMNS = ("id, profile, source, size, mtime_ns, inode, state, attempts, reason, message, "
            "output, updated, created, flags, review, published, publishing, original, undo, "
            "publishing_review")
_REVISION_COLUMNS = ("id, job, number, kind, params, status, created, width, height, ext, "
                     "folder")


def _job(row: tuple[object, ...]) -> Job:
    (job_id, profile, source, size, mtime_ns, inode, state, attempts, reason, message,
     output, updated, created, flags, review, published, publishing, original, undo,
     publishing_review) = row
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
        review=str(review),
        published=published if isinstance(published, int) else None,
        publishing=publishing if isinstance(publishing, int) else None,
        original=Path(os.fsdecode(original)) if isinstance(original, bytes) else None,
        undo=undo if isinstance(undo, str) else None,
        publishing_review=publishing_review if isinstance(publishing_review, str) else None,
    )


def _revision(row: tuple[object, ...]) -> Revision:
    rev_id, job, number, kind, params, status, created, width, height, ext, folder = row
    return Revision(
        id=int(rev_id),  # type: ignore[call-overload]
        job=int(job),  # type: ignore[call-overload]
        number=int(number),  # type: ignore[call-overload]
        kind=str(kind),
        params=json.loads(str(params)),
        status=str(status),
        created=float(created),  # type: ignore[arg-type]
        size=(int(width), int(height)),  # type: ignore[call-overload]
        ext=str(ext),
        folder=str(folder),
    )
