"""events: the journal's event feed: one row for every change of a job's state or review,
read by the review page after a cursor, and pruned by age."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from studiocut.journal.records import Event
from studiocut.journal.store import Store, clock


def write_event(db: sqlite3.Connection, kind: str, job: int | None, profile: str | None,
                data: dict[str, Any] | None = None) -> None:
    """Add an event in the transaction open on ``db``."""
    db.execute("INSERT INTO events (time, kind, job, profile, data) VALUES (?,?,?,?,?)",
               (clock(), kind, job, profile, json.dumps(data) if data else None))


class Events(Store):
    """Writing and reading the event feed."""

    def event(self, kind: str, *, job: int | None = None, profile: str | None = None,
              data: dict[str, Any] | None = None) -> None:
        with self._write() as db:
            write_event(db, kind, job, profile, data)

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
