"""outputs: the output of each rendition of a job whose profile has several, and the groups
being published.

A photo's renditions are published all or none: each output's name is reserved here (one
owner per file among every profile's jobs, as ``reserve_output`` keeps for single outputs),
every temp file is written, then the group is recorded ``staged`` with its temp files (the
commit point), then renamed one by one and recorded ``published``. A daemon killed between
two renames finds the group staged at its next start and finishes it. The jobs table's
``output`` is the first rendition's, so what reads a job's one output keeps working.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from studiocut.errors import OutputError
from studiocut.journal.store import Store

RESERVED, STAGED, PUBLISHED = "reserved", "staged", "published"


def owner(db: sqlite3.Connection, path: Path, job_id: int) -> int | None:
    """The job other than ``job_id`` whose output (of any rendition) is ``path``, if any."""
    key = os.fsencode(path)
    row = db.execute("SELECT id FROM jobs WHERE output=? AND id<>? UNION ALL "
                     "SELECT job FROM outputs WHERE path=? AND job<>? LIMIT 1",
                     (key, job_id, key, job_id)).fetchone()
    return None if row is None else int(row[0])


class Outputs(Store):
    """The renditions' outputs in the journal."""

    def reserve_outputs(self, job_id: int, wanted: Sequence[tuple[str, Sequence[Path]]], *,
                        exists: Callable[[Path], bool] = os.path.lexists) -> list[Path]:
        """Reserve for each rendition of the job (``wanted``: its name and candidate paths,
        in the profile's order) the first candidate that no other job owns, no other
        rendition of this job took, and that is not a file someone else put there (one that
        ``exists`` and is not this job's own earlier output); record them atomically, the
        first as the job's output, and return them. Raise OutputError (this photo's fault)
        naming the rendition when every candidate of one is taken."""
        with self._write() as db:
            earlier = {os.fsdecode(path) for (path,) in db.execute(
                "SELECT path FROM outputs WHERE job=? UNION SELECT output FROM jobs WHERE id=? "
                "AND output IS NOT NULL", (job_id, job_id))}
            chosen: list[Path] = []
            for rendition, candidates in wanted:
                found = next((c for c in candidates if c not in chosen
                              and owner(db, c, job_id) is None
                              and (str(c) in earlier or not exists(c))), None)
                if found is None:
                    names = ", ".join(c.name for c in candidates)
                    raise OutputError("output-taken", f"no free output name for rendition "
                                      f"{rendition}: {names} are taken by other photos or by "
                                      "files studiocut did not write", environment=False)
                chosen.append(found)
                db.execute("INSERT OR REPLACE INTO outputs (job, rendition, path, temp, state) "
                           "VALUES (?,?,?,NULL,?)",
                           (job_id, rendition, os.fsencode(found), RESERVED))
            kept = [rendition for rendition, _ in wanted]
            db.execute(f"DELETE FROM outputs WHERE job=? AND rendition NOT IN "
                       f"({','.join('?' * len(kept))})", (job_id, *kept))
            db.execute("UPDATE jobs SET output=? WHERE id=?", (os.fsencode(chosen[0]), job_id))
        return chosen

    def stage_outputs(self, job_id: int, staged: Sequence[tuple[Path, Path]]) -> None:
        """Record that every (temp, output) of the job's group is written and fsynced: from
        here the group is published, by the renames now or at the next start."""
        with self._write() as db:
            for temp, path in staged:
                db.execute("UPDATE outputs SET temp=?, state=? WHERE job=? AND path=?",
                           (os.fsencode(temp), STAGED, job_id, os.fsencode(path)))

    def end_outputs(self, job_id: int) -> None:
        """Record the job's staged group as renamed into place."""
        with self._write() as db:
            db.execute("UPDATE outputs SET temp=NULL, state=? WHERE job=? AND state=?",
                       (PUBLISHED, job_id, STAGED))

    def staged_outputs(self) -> dict[int, list[tuple[Path, Path]]]:
        """{job: its (temp, output) pairs} of the groups a crash left between their renames."""
        with self._lock:
            rows = self._db.execute("SELECT job, temp, path FROM outputs WHERE state=? "
                                    "ORDER BY job, rowid", (STAGED,)).fetchall()
        groups: dict[int, list[tuple[Path, Path]]] = {}
        for job, temp, path in rows:
            groups.setdefault(int(job), []).append((Path(os.fsdecode(temp)),
                                                    Path(os.fsdecode(path))))
        return groups

    def outputs_of(self, job_id: int) -> list[tuple[str, Path]]:
        """The job's (rendition, output) pairs, in the order they were reserved; empty for a
        job of a profile with one rendition (its output is the job's own)."""
        with self._lock:
            rows = self._db.execute("SELECT rendition, path FROM outputs WHERE job=? "
                                    "ORDER BY rowid", (job_id,)).fetchall()
        return [(str(rendition), Path(os.fsdecode(path))) for rendition, path in rows]

    def outputs_by_job(self, job_ids: Sequence[int]) -> dict[int, list[tuple[str, Path]]]:
        """``outputs_of`` for each of ``job_ids`` that has a profile with several renditions
        (the others are left out: their output is the job's own). A journal written before
        renditions, opened read only (``studiocut status``), has no outputs table: none."""
        found: dict[int, list[tuple[str, Path]]] = {}
        with self._lock:
            table = self._db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                     "name='outputs'").fetchone()
        if table is None:
            return found
        for start in range(0, len(job_ids), 500):  # SQLite's limit on bound parameters
            chunk = list(job_ids[start:start + 500])
            with self._lock:
                rows = self._db.execute(
                    f"SELECT job, rendition, path FROM outputs WHERE job IN "
                    f"({','.join('?' * len(chunk))}) ORDER BY job, rowid", chunk).fetchall()
            for job, rendition, path in rows:
                found.setdefault(int(job), []).append((str(rendition),
                                                       Path(os.fsdecode(path))))
        return found
