"""reports: read-only views of the journal for status, notices and the review page's counts:
jobs by profile and state, counts, flags, the oldest waiting job, the last error."""

from __future__ import annotations

from studiocut.journal.records import DONE, FAILED, PENDING, PROCESSING, Job, job_of
from studiocut.journal.store import Store


class Reports(Store):
    """What the journal says about the jobs as a whole."""

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
        return [job_of(r) for r in rows]

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
