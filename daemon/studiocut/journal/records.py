"""records: what the journal holds, as values: a job, a revision of its result, an event, the
states they go through, and how each is read back from its row.

Paths are stored as bytes (os.fsencode) so any file name round-trips.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PENDING, PROCESSING, DONE, FAILED, VANISHED, IGNORED = (
    "pending", "processing", "done", "failed", "vanished", "ignored")
TERMINAL = (DONE, FAILED, VANISHED, IGNORED)

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


JOB_COLUMNS = ("id, profile, source, size, mtime_ns, inode, state, attempts, reason, message, "
               "output, updated, created, flags, review, published, publishing, original, undo, "
               "publishing_review")
REVISION_COLUMNS = ("id, job, number, kind, params, status, created, width, height, ext, "
                    "folder")


def job_of(row: tuple[object, ...]) -> Job:
    """The Job in a row of JOB_COLUMNS."""
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


def revision_of(row: tuple[object, ...]) -> Revision:
    """The Revision in a row of REVISION_COLUMNS."""
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
