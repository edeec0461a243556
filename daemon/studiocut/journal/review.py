"""review: the journal's side of the review page: the revisions of each result, review
states, publishing a revision (with crash recovery), retrying a failure, the page's views,
and discarding old revisions' artefacts."""

from __future__ import annotations

import json
from typing import Any

from studiocut.journal.events import write_event
from studiocut.journal.records import (
    DISCARDED,
    DONE,
    FAILED,
    PENDING,
    PROCESSING,
    PUBLISHED,
    READY,
    REVIEW_STATES,
    REVISION_COLUMNS,
    Job,
    Revision,
    job_of,
    revision_of,
)
from studiocut.journal.store import Store, clock

VIEWS: dict[str, tuple[str, tuple[object, ...]]] = {
    "flagged": ("state=? AND review IN ('flagged', 'held')", (DONE,)),
    "all": ("state=?", (DONE,)),
    "held": ("state=? AND review='held'", (DONE,)),
    "approved": ("state=? AND review='approved'", (DONE,)),
    "rejected": ("state=? AND review='rejected'", (DONE,)),
    "failed": ("state=? AND review<>'dismissed'", (FAILED,)),
    "queue": ("state IN (?, ?)", (PENDING, PROCESSING)),
}


class Reviews(Store):
    """Revisions, review states and publishing."""

    def job(self, job_id: int) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {self._columns} FROM jobs WHERE id=?",
                                   (job_id,)).fetchone()
        return job_of(row) if row else None

    def view(self, view: str, *, profile: str | None = None, after: int = 0,
             limit: int = 200) -> list[Job]:
        """Jobs of a review-page view, oldest first, with ids above ``after``."""
        query, params = VIEWS[view]
        return self._oldest(f"({query}) AND id>?", [*params, after], profile, limit)

    def add_revision(self, job_id: int, kind: str, params: dict[str, Any], size: tuple[int, int],
                     ext: str, folder: str) -> Revision:
        """Record a new revision of ``job_id`` (numbered after the last); return it. Its
        artefacts are written before this is called, under a name of their own."""
        now = clock()
        with self._write() as db:
            (last,) = db.execute("SELECT COALESCE(MAX(number), 0) FROM revisions WHERE job=?",
                                 (job_id,)).fetchone()
            cur = db.execute(
                "INSERT INTO revisions (job, number, kind, params, status, created, width, "
                "height, ext, folder) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (job_id, last + 1, kind, json.dumps(params), READY, now, size[0], size[1], ext,
                 folder))
            write_event(db, "revision", job_id, None, {"number": last + 1, "kind": kind})
            row = db.execute(f"SELECT {REVISION_COLUMNS} FROM revisions WHERE id=?",
                             (cur.lastrowid,)).fetchone()
        return revision_of(row)

    def next_revision(self, job_id: int) -> int:
        """The number ``add_revision`` gives the job's next revision."""
        with self._lock:
            (last,) = self._db.execute("SELECT COALESCE(MAX(number), 0) FROM revisions "
                                       "WHERE job=?", (job_id,)).fetchone()
        return int(last) + 1

    def revisions(self, job_id: int) -> list[Revision]:
        with self._lock:
            rows = self._db.execute(f"SELECT {REVISION_COLUMNS} FROM revisions WHERE job=? "
                                    "ORDER BY number", (job_id,)).fetchall()
        return [revision_of(r) for r in rows]

    def revision(self, revision_id: int) -> Revision | None:
        with self._lock:
            row = self._db.execute(f"SELECT {REVISION_COLUMNS} FROM revisions WHERE id=?",
                                   (revision_id,)).fetchone()
        return revision_of(row) if row else None

    def latest_revisions(self, job_ids: list[int]) -> dict[int, Revision]:
        """{job id: its newest revision that still has artefacts}."""
        if not job_ids:
            return {}
        marks = ",".join("?" * len(job_ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {REVISION_COLUMNS} FROM revisions r WHERE job IN ({marks}) AND "
                "status<>? AND number=(SELECT MAX(number) FROM revisions WHERE job=r.job AND "
                "status<>?)", (*job_ids, DISCARDED, DISCARDED)).fetchall()
        return {rev.job: rev for rev in map(revision_of, rows)}

    def set_review(self, job_id: int, review: str, *, published: int | bool | None = False,
                   undo: str | bool | None = False) -> None:
        """Set a job's review state (and, unless False, its published revision and undo
        record) in one transaction, with an event."""
        assert review in REVIEW_STATES
        with self._write() as db:
            sets, args = ["review=?", "updated=?"], [review, clock()]
            if published is not False:
                sets.append("published=?")
                args.append(published)
            if undo is not False:
                sets.append("undo=?")
                args.append(undo)
            db.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE id=?", (*args, job_id))
            write_event(db, "review", job_id, None, {"review": review})

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
                       "updated=? WHERE id=?", (number, clock(), job_id))
            write_event(db, "published", job_id, None, {"number": number})

    def interrupted_publishes(self) -> list[Job]:
        """Jobs whose publish was cut short by a crash."""
        with self._lock:
            rows = self._db.execute(f"SELECT {self._columns} FROM jobs WHERE publishing IS NOT NULL"
                                    ).fetchall()
        return [job_of(r) for r in rows]

    def retry(self, job_id: int) -> bool:
        """Put a failed job back in the queue with fresh attempts; False if it is not failed."""
        now = clock()
        with self._write() as db:
            changed = db.execute(
                "UPDATE jobs SET state=?, attempts=0, crashes=0, not_before=0, reason=NULL, "
                "message=NULL, review='none', updated=? WHERE id=? AND state=?",
                (PENDING, now, job_id, FAILED)).rowcount
            if changed:
                write_event(db, "queued", job_id, None, {"retry": True})
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
            rows = db.execute(f"SELECT {REVISION_COLUMNS} FROM revisions WHERE {where}",
                              (older_than, DISCARDED)).fetchall()
            db.execute(f"UPDATE revisions SET status=? WHERE {where}",
                       (DISCARDED, older_than, DISCARDED))
        return [revision_of(r) for r in rows]
