"""queue: the journal's job queue: files enter it (enqueue, record), workers claim them, finish
or release them, and a restart recovers what a crash left in progress.

A job's identity is its path, size, mtime and inode: a re-shot file with the same name is a
new job; touching a finished file without changing it is not.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from studiocut.errors import OutputError
from studiocut.journal.events import write_event
from studiocut.journal.outputs import owner
from studiocut.journal.records import (
    DISCARDED,
    FAILED,
    PENDING,
    PROCESSING,
    PUBLISHED,
    Identity,
    Job,
    job_of,
)
from studiocut.journal.store import Store, clock


class Queue(Store):
    """The intake and worker side of the journal."""

    # ------------------------------------------------------------------ intake side

    def lookup(self, profile: str, source: Path) -> Job | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._columns} FROM jobs WHERE profile=? AND source=?",
                (profile, os.fsencode(source)),
            ).fetchone()
        return job_of(row) if row else None

    def is_known(self, profile: str, source: Path, identity: Identity) -> bool:
        """True when this exact file (same identity) already has a row, whatever its state."""
        job = self.lookup(profile, source)
        return job is not None and job.identity == identity

    def enqueue(self, profile: str, source: Path, identity: Identity, version: str) -> Job | None:
        """Record ``source`` as pending unless this identity is already known; return the job
        when it was (re)queued, None when it was already known."""
        now = clock()
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
                return job_of(found)
            else:  # same name, new content: a re-shot photo
                job_id = row[0]
                db.execute(
                    "UPDATE jobs SET size=?, mtime_ns=?, inode=?, state=?, attempts=0, "
                    "reason=NULL, message=NULL, profile_version=?, updated=?, created=?, "
                    "not_before=0, flags=NULL, review='none', undo=NULL, published=NULL, "
                    "publishing=NULL, original=NULL "
                    "WHERE id=?", (*ident, PENDING, version, now, now, job_id))
                db.execute("UPDATE revisions SET status=? WHERE job=?", (DISCARDED, job_id))
            write_event(db, "queued", job_id, profile)
            found = db.execute(f"SELECT {self._columns} FROM jobs WHERE id=?", (job_id,)).fetchone()
        return job_of(found)

    def record(self, profile: str, source: Path, identity: Identity, state: str,
               reason: str, message: str) -> None:
        """Record a file that reached a terminal state without processing (ignored)."""
        now = clock()
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

    def reserve_output(self, job_id: int, candidates: Sequence[Path], *,
                       exists: Callable[[Path], bool] = os.path.lexists) -> Path:
        """Reserve for the job the first of ``candidates`` that no other job (of any profile)
        owns and that is not a file someone else put there (one that ``exists`` and is not
        the job's own earlier output); record the choice atomically and return it. Raise
        OutputError (this photo's fault, not the folder's) when every candidate is taken."""
        with self._write() as db:
            row = db.execute("SELECT output FROM jobs WHERE id=?", (job_id,)).fetchone()
            earlier = os.fsdecode(row[0]) if row is not None and row[0] is not None else None
            for candidate in candidates:
                if owner(db, candidate, job_id) is None and (
                        str(candidate) == earlier or not exists(candidate)):
                    db.execute("UPDATE jobs SET output=? WHERE id=?",
                               (os.fsencode(candidate), job_id))
                    return candidate
        names = ", ".join(c.name for c in candidates)
        raise OutputError("output-taken", f"no free output name: {names} are taken by other "
                          "photos or by files studiocut did not write", environment=False)

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
                 clock(), "\n".join(flags) or None, review, published,
                 os.fsencode(original) if original else None, job_id, PROCESSING)).rowcount
            if changed:
                if published is not None:
                    db.execute("UPDATE revisions SET status=? WHERE job=? AND number=?",
                               (PUBLISHED, job_id, published))
                write_event(db, state, job_id, None, {"reason": reason} if reason else None)

    def _requeue_reshot(self, db: sqlite3.Connection, job_id: int) -> bool:
        """If the job's photo was re-shot while it was processing, queue the new version
        (whatever became of the old one) and return True."""
        now = clock()
        requeued = db.execute(
            "UPDATE jobs SET state=?, reshot=0, attempts=0, crashes=0, reason=NULL, "
            "message=NULL, flags=NULL, review='none', undo=NULL, published=NULL, "
            "publishing=NULL, original=NULL, not_before=0, updated=?, created=? "
            "WHERE id=? AND reshot=1", (PENDING, now, now, job_id)).rowcount
        if requeued:
            db.execute("UPDATE revisions SET status=? WHERE job=?", (DISCARDED, job_id))
            write_event(db, "queued", job_id, None, {"reshot": True})
        return bool(requeued)

    def release(self, job_id: int, *, uncount: bool, reason: str | None = None,
                message: str | None = None, delay: float = 0.0) -> None:
        """Put a claimed job back to pending, to be retried after ``delay`` seconds;
        ``uncount`` takes back its attempt (used when the daemon or the environment, not the
        photo, was the reason it did not finish)."""
        now = clock()
        with self._write() as db:
            if self._requeue_reshot(db, job_id):
                return
            db.execute(
                "UPDATE jobs SET state=?, attempts=MAX(0, attempts-?), reason=?, message=?, "
                "updated=?, not_before=? WHERE id=?",
                (PENDING, 1 if uncount else 0, reason, message, now, now + delay, job_id))
            write_event(db, "queued", job_id, None, {"reason": reason} if reason else None)

    def claim_next(self, profiles: list[str]) -> tuple[Job, int] | None:
        """Atomically take the oldest pending job of ``profiles`` that is due, mark it
        processing and count the attempt; return (job, attempt) or None."""
        if not profiles:
            return None
        now = clock()
        marks = ",".join("?" * len(profiles))
        with self._write() as db:
            row = db.execute(
                f"SELECT {self._columns} FROM jobs WHERE state=? AND not_before<=? "
                f"AND profile IN ({marks}) ORDER BY id LIMIT 1",
                (PENDING, now, *profiles)).fetchone()
            if row is None:
                return None
            job = job_of(row)
            db.execute("UPDATE jobs SET state=?, attempts=attempts+1, started=?, updated=? "
                       "WHERE id=?", (PROCESSING, now, now, job.id))
            write_event(db, "processing", job.id, job.profile)
        return job, job.attempts + 1

    def recover(self, max_crashes: int) -> tuple[int, int]:
        """After a crash: jobs left processing go back to pending, except those that have
        now been in progress during ``max_crashes`` crashes, which are quarantined as failed
        (ordinary retries of a file that was not ready do not count). Return (requeued,
        quarantined)."""
        now = clock()
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
