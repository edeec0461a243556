"""outbox: the jobs a station sent to the cluster, recorded before they are sent.

One row per journal job that runs on the cluster: its job key (the Celery task id), queue and
spool input, how often and when it was last sent, the worker that answered and its state:
``recorded`` (written, not yet sent: a station killed here sends it at its next start),
``sent``, ``local`` (run here while the broker was down), ``done`` or ``failed``. The table
(in ``schema``) is created when missing, so a journal written by 0.1 keeps opening.
"""

from __future__ import annotations

from dataclasses import dataclass

from studiocut.journal.store import Store, clock

RECORDED, SENT, LOCAL = "recorded", "sent", "local"
IN_FLIGHT = (RECORDED, SENT, LOCAL)


@dataclass(frozen=True)
class Remote:
    """One job as the cluster runs it."""

    job: int
    key: str
    queue: str
    input: str
    sends: int
    sent_at: float | None
    worker: str | None
    state: str


_COLUMNS = "job, key, queue, input, sends, sent_at, worker, state"


class Outbox(Store):
    """The station's side of the cluster, in the journal."""

    def remote(self, job: int) -> Remote | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM remote WHERE job=?",
                                   (job,)).fetchone()
        return Remote(*row) if row else None

    def record_remote(self, job: int, key: str, queue: str, input: str) -> Remote:
        """Record that ``job`` goes to the cluster as ``key`` (before it is sent); a row of
        another key (the photo or its recipe changed) starts again."""
        now = clock()
        with self._write() as db:
            db.execute(
                "INSERT INTO remote (job, key, queue, input, state, recorded, updated) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT (job) DO UPDATE SET key=excluded.key, "
                "queue=excluded.queue, input=excluded.input, sends=0, sent_at=NULL, "
                "worker=NULL, state=excluded.state, recorded=excluded.recorded, "
                "updated=excluded.updated", (job, key, queue, input, RECORDED, now, now))
        return Remote(job, key, queue, input, 0, None, None, RECORDED)

    def sent_remote(self, job: int) -> Remote:
        """Count a send of ``job``; return its row."""
        now = clock()
        with self._write() as db:
            db.execute("UPDATE remote SET state=?, sends=sends+1, sent_at=?, updated=? "
                       "WHERE job=?", (SENT, now, now, job))
            row = db.execute(f"SELECT {_COLUMNS} FROM remote WHERE job=?", (job,)).fetchone()
        return Remote(*row)

    def end_remote(self, job: int, state: str, worker: str | None = None) -> None:
        """Record what became of ``job``: done, failed, or local (run on this station)."""
        with self._write() as db:
            db.execute("UPDATE remote SET state=?, worker=COALESCE(?, worker), updated=? "
                       "WHERE job=?", (state, worker, clock(), job))

    def sharing_key(self, key: str, job: int) -> bool:
        """Whether another job in flight waits for the same key (the same photo dropped
        twice): its bundle and input must stay."""
        with self._lock:
            row = self._db.execute(
                f"SELECT 1 FROM remote WHERE key=? AND job<>? AND state IN "
                f"({','.join('?' * len(IN_FLIGHT))})", (key, job, *IN_FLIGHT)).fetchone()
        return row is not None

    def remote_workers(self, since: float) -> list[str]:
        """The workers that answered this station's jobs since ``since`` (epoch seconds)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT worker FROM remote WHERE updated>=? AND worker IS NOT NULL "
                "ORDER BY worker", (since,)).fetchall()
        return [row[0] for row in rows]

    def remote_counts(self) -> dict[str, dict[str, int]]:
        """{queue: {state: count}} of the jobs not finished yet."""
        with self._lock:
            rows = self._db.execute(
                "SELECT queue, state, count(*) FROM remote WHERE state IN "
                f"({','.join('?' * len(IN_FLIGHT))}) GROUP BY queue, state",
                IN_FLIGHT).fetchall()
        counts: dict[str, dict[str, int]] = {}
        for queue, state, count in rows:
            counts.setdefault(queue, {})[state] = count
        return counts
