"""Journals for the tests: two identities of a file, a clock to stand in for the journal's,
and shortcuts that queue, finish and revise jobs."""

from __future__ import annotations

from pathlib import Path

from studiocut import journal
from studiocut.journal import Identity, Journal


class Clock:
    """Stands in for the ``time`` module inside the journal's store, so delays need no
    sleeping."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


A = Identity(size=1000, mtime_ns=1_700_000_000_000_000_000, inode=11)
B = Identity(size=2000, mtime_ns=1_700_000_100_000_000_000, inode=12)


def queue(db: Journal, name: str, profile: str = "p", identity: Identity = A) -> int:
    job = db.enqueue(profile, Path("/in") / name, identity, "v1")
    assert job is not None
    return job.id


def finished(db: Journal, name: str, *, profile: str = "p", state: str = journal.DONE,
             review: str = "none", published: int | None = None,
             reason: str | None = None, message: str | None = None) -> int:
    """Queue, claim and finish one photo; return its job id."""
    job_id = queue(db, name, profile)
    claimed = db.claim_next([profile])
    assert claimed is not None and claimed[0].id == job_id
    db.finish(job_id, state, output=Path("/out") / name if state == journal.DONE else None,
              review=review, published=published, reason=reason, message=message)
    return job_id


def revise(db: Journal, job_id: int, kind: str = "auto") -> journal.Revision:
    return db.add_revision(job_id, kind, {"by": kind}, (40, 30), "jpg",
                           f"{job_id}/{kind}{len(db.revisions(job_id))}")


def the_job(db: Journal, job_id: int) -> journal.Job:
    job = db.job(job_id)
    assert job is not None
    return job
