"""status: what the daemon is doing, counted in one place.

A ``Status`` is the daemon's state at one moment: the journal's jobs, each running profile as
the daemon runs it (``Live``) and the photos in progress. Every view is derived from it: the
review page's monitor rows, the status file (daemon.json), the line the service manager shows
and the live view on a terminal. ``collect`` (``studiocut status``, another process) derives
its report from a Status as well, made of the journal read only and the status file's
profiles. Journal figures are read once, when a view first needs them.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from studiocut import atomic, journal
from studiocut.errors import StudiocutError
from studiocut.hotfolder import lock
from studiocut.hotfolder.roster import Watched
from studiocut.imaging.pipeline import Outcome
from studiocut.journal import Journal
from studiocut.profiles import ONE_RENDITION

log = logging.getLogger(__name__)

STATUS_FILE = "daemon.json"
JOURNAL_FILE = "journal.db"
RECENT_FAILURES = 5
STANDBY = "no profile file loaded by this name"


@dataclass(frozen=True)
class Live:
    """A profile as the running daemon runs it: what only the daemon knows. The status file
    carries it (all but ``hold``) to ``studiocut status``."""

    state: str  # active or paused; "stopped" when no daemon runs it
    reason: str | None = None  # why it is paused
    watch: str | None = None
    output: str | None = None
    model: str | None = None
    provider: str | None = None
    per_minute: int | None = None
    hold: str = "none"  # which results wait for approval on the review page
    queue: str | None = None  # the cluster queue its photos go to (executor: cluster)

    @classmethod
    def of(cls, item: Watched, now: float) -> Live:
        profile = item.profile
        return cls("paused" if item.paused else "active", item.paused,
                   os.fsdecode(profile.watch or ""), os.fsdecode(profile.output or ""),
                   profile.model, getattr(item.model, "provider", "unknown"),
                   item.per_minute(now), profile.review.hold if profile.review else "none",
                   profile.dispatch.queue if profile.dispatch.remote else None)

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason, "watch": self.watch,
                "output": self.output, "model": self.model, "provider": self.provider,
                "per_minute": self.per_minute, **({"queue": self.queue} if self.queue else {})}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Live:
        return cls(data.get("state", "stopped"), data.get("reason"), data.get("watch"),
                   data.get("output"), data.get("model"), data.get("provider"),
                   data.get("per_minute"), queue=data.get("queue"))


def live(watched: Mapping[str, Watched]) -> dict[str, Live]:
    """Each running profile as the daemon runs it now."""
    now = time.monotonic()
    return {name: Live.of(item, now) for name, item in dict(watched).items()}


@dataclass(frozen=True)
class Figures:
    """One profile's figures: ``live`` (None when no daemon runs it) and its jobs: ``jobs``
    per state, ``today`` (done, failed, flagged since midnight), ``flagged`` (finished
    results flagged, all time), the oldest waiting job's age, the last failure's message
    and the names of its photos in progress."""

    name: str
    live: Live | None
    jobs: dict[str, int]
    today: dict[str, int]
    flagged: int
    oldest_pending_s: float | None
    last_error: str | None
    processing: list[str]

    @property
    def pending(self) -> int:
        """Jobs not finished yet: waiting or in progress."""
        return self.jobs.get(journal.PENDING, 0) + self.jobs.get(journal.PROCESSING, 0)


class Status:
    """The daemon's status at one moment, from ``journal`` (None: no journal yet), the
    ``live`` profiles, the ids of the jobs ``in_flight``, when it ``started``, its review
    page's address, its ``recent`` results and, when some profile runs on the cluster, the
    ``cluster`` as the executor reports it (broker state, queues, jobs in flight there)."""

    def __init__(self, db: Journal | None, profiles: Mapping[str, Live], *,
                 in_flight: Sequence[int] = (), started: float = 0.0,
                 review: str | None = None, recent: Sequence[Outcome] = (),
                 cluster: Mapping[str, Any] | None = None) -> None:
        self._db = db
        self.live = dict(profiles)
        self.in_flight = list(in_flight)
        self.started = started
        self.review = review
        self.recent = list(recent)
        self.cluster = dict(cluster) if cluster is not None else None
        self.wall = time.time()

    @cached_property
    def jobs(self) -> dict[str, dict[str, int]]:
        """{profile: {state: jobs}}."""
        return self._db.counts() if self._db is not None else {}

    def figures(self) -> list[Figures]:
        """Every profile's figures, by name: the running ones and those with jobs."""
        db = self._db
        if db is None:
            return [Figures(name, self.live[name], {}, {}, 0, None, None, [])
                    for name in sorted(self.live)]
        midnight = time.mktime((*time.localtime(self.wall)[:3], 0, 0, 0, 0, 0, -1))
        today, flagged = db.counts_since(midnight), db.flagged()
        oldest, errors = db.oldest_pending(), db.last_error()
        processing: dict[str, list[str]] = {}
        for job_id in self.in_flight:
            found = db.job(job_id)
            if found is not None:
                processing.setdefault(found.profile, []).append(found.source.name)
        return [
            Figures(name, self.live.get(name), self.jobs.get(name, {}), today.get(name, {}),
                    flagged.get(name, 0),
                    round(self.wall - oldest[name], 1) if name in oldest else None,
                    errors.get(name), processing.get(name, []))
            for name in sorted(set(self.live) | set(self.jobs))
        ]

    def line(self) -> str:
        """One line for the service manager: queue depth, photos in progress, throughput."""
        queued = sum(c.get(journal.PENDING, 0) for c in self.jobs.values())
        done = sum(p.per_minute or 0 for p in self.live.values())
        line = f"{queued} queued, {len(self.in_flight)} in progress, {done}/min"
        paused = [f"{name}: {p.reason}" for name, p in sorted(self.live.items())
                  if p.state == "paused"]
        return line + (f", {len(paused)} profile(s) paused ({'; '.join(paused)})"
                       if paused else "")

    def file(self, *, stopping: bool = False) -> dict[str, Any]:
        """The status file's content: what only the running daemon knows (pauses,
        throughput), for ``studiocut status``."""
        return {
            "pid": os.getpid(),
            "started": self.started,
            "updated": self.wall,
            "state": "stopping" if stopping else "running",
            "review": self.review if not stopping else None,
            "profiles": {name: p.to_json() for name, p in self.live.items()},
            **({"cluster": self.cluster} if self.cluster is not None else {}),
        }

    def monitor(self) -> list[dict[str, Any]]:
        """One row per profile for the review page's monitor."""
        rows = []
        for f in self.figures():
            p = f.live
            rows.append({
                "name": f.name, "state": p.state if p else "standby",
                "reason": p.reason if p else STANDBY,
                "watch": p.watch if p else None, "output": p.output if p else None,
                "model": p.model if p else None, "provider": p.provider if p else None,
                "hold": p.hold if p else "none",
                "queued": f.jobs.get(journal.PENDING, 0),
                "processing": f.processing,
                "done_today": f.today.get("done", 0), "failed_today": f.today.get("failed", 0),
                "flagged_today": f.today.get("flagged", 0),
                "per_minute": p.per_minute if p else 0,
                "oldest_pending_s": f.oldest_pending_s,
                "last_error": f.last_error,
                **({"cluster": self._remote(p.queue)} if p and p.queue else {}),
            })
        return rows

    def _remote(self, queue: str) -> dict[str, Any]:
        """A cluster profile's queue, its jobs out on the cluster and the broker's state."""
        cluster = self.cluster or {}
        broker = cluster.get("broker", {})
        found = cluster.get("queues", {}).get(queue, {})
        return {"queue": queue, "in_flight": found.get("in_flight", 0),
                "queued": found.get("queued"), "broker": broker.get("state", "unknown"),
                "broker_since": broker.get("since")}


def write(state_dir: Path, status: Status, *, stopping: bool = False) -> None:
    """Replace the state folder's status file (a failure is logged: it is only a view)."""
    path = state_dir / STATUS_FILE
    try:
        atomic.write_atomic(path, json.dumps(status.file(stopping=stopping), indent=1).encode())
    except StudiocutError as e:
        log.debug("cannot write %s: %s", path, e)


# --------------------------------------------------------------------------- studiocut status


def collect(state_dir: Path, profiles_dir: Path, *, jobs: int = 50) -> dict[str, Any]:
    """Return ``{"running", "state_dir", "profiles": [...], "jobs": [...]}``; ``jobs`` is the
    number of most recent jobs to include (0 for all)."""
    published = _read_json(state_dir / STATUS_FILE)
    running = lock.is_running(state_dir)
    found: dict[str, Any] = published.get("profiles", {}) if running else {}
    profiles = {name: Live.from_json(info or {}) for name, info in found.items()}
    db_path = state_dir / JOURNAL_FILE
    report: dict[str, Any] = {
        "running": running,
        "review": published.get("review") if running else None,  # the address, no token
        "state_dir": os.fsdecode(state_dir),
        "profiles_dir": os.fsdecode(profiles_dir),
        "profiles": [],
        "jobs": [],
    }
    if running and published.get("cluster"):
        report["cluster"] = published["cluster"]
    if not db_path.exists():
        report["profiles"] = [_profile_row(f, []) for f in Status(None, profiles).figures()]
        return report
    db = journal.Journal(db_path, readonly=True)
    try:
        for f in Status(db, profiles).figures():
            failures = db.jobs(profile=f.name, states=(journal.FAILED,),
                               limit=RECENT_FAILURES, newest_first=True)
            report["profiles"].append(_profile_row(f, failures))
        recent = db.jobs(limit=jobs or None, newest_first=True)
        outputs = db.outputs_by_job([job.id for job in recent])
        report["jobs"] = [_job_row(job, outputs.get(job.id, [])) for job in recent]
    finally:
        db.close()
    return report


def _profile_row(f: Figures, failures: list[journal.Job]) -> dict[str, Any]:
    p = f.live or Live("stopped")
    return {
        "name": f.name,
        "state": p.state,
        "reason": p.reason,
        "watch": p.watch,
        "output": p.output,
        "model": p.model,
        "provider": p.provider,
        "per_minute": p.per_minute,
        "queue": p.queue,
        "pending": f.pending,
        "done": f.jobs.get(journal.DONE, 0),
        "failed": f.jobs.get(journal.FAILED, 0),
        "flagged": f.flagged,
        "vanished": f.jobs.get(journal.VANISHED, 0),
        "ignored": f.jobs.get(journal.IGNORED, 0),
        "oldest_pending_seconds": f.oldest_pending_s,
        "last_failures": [
            {"source": os.fsdecode(j.source), "reason": j.reason, "message": j.message}
            for j in failures
        ],
    }


def _job_row(job: journal.Job, renditions: list[tuple[str, Path]]) -> dict[str, Any]:
    """A job as ``status --json`` lists it: ``output`` is its first rendition's, ``outputs``
    every rendition's (name and path; one, named ``default``, for a profile without
    ``renditions:``), as reserved or written."""
    if not renditions and job.output is not None:
        renditions = [(ONE_RENDITION, job.output)]
    return {
        "profile": job.profile,
        "source": os.fsdecode(job.source),
        "state": job.state,
        "reason": job.reason,
        "output": os.fsdecode(job.output) if job.output else None,
        "outputs": [{"name": name, "path": os.fsdecode(path)} for name, path in renditions],
        "attempts": job.attempts,
        "flags": list(job.flags),
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


WIDE = 120  # columns a terminal needs for the table; narrower ones and pipes get blocks


def render(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the report: a table on a terminal wide enough for it, otherwise one block of
    whole lines per profile (an 80-column terminal or a pipe would cut table cells to
    stubs)."""
    console = console or Console()
    state = "running" if report["running"] else "not running"
    console.print(f"studiocut daemon: [bold]{state}[/bold] (state in {report['state_dir']})",
                  soft_wrap=True)
    if report.get("review"):
        console.print(f"review page: {report['review']} (`studiocut review url` adds the token)",
                      soft_wrap=True)
    if console.is_terminal and console.width >= WIDE:
        _table(console, report["profiles"])
    else:
        for row in report["profiles"]:
            _block(console, row)
    _cluster(console, report.get("cluster"))
    _outputs(console, report["jobs"])
    for row in report["profiles"]:
        for failure in row["last_failures"]:
            console.print(Text.assemble(("failed ", "red"),
                                        f"{failure['message']} [{failure['reason']}]"),
                          soft_wrap=True)


def _outputs(console: Console, jobs: list[dict[str, Any]]) -> None:
    """Each recent done job's source and every rendition's output (its name and path)."""
    done = [job for job in jobs if job["state"] == journal.DONE and job["outputs"]]
    if done:
        console.print("recent outputs, newest first:")
    for job in done:
        console.print(f"  {job['profile']}: {job['source']}", soft_wrap=True, markup=False,
                      highlight=False)
        for output in job["outputs"]:
            console.print(f"    {output['name']}: {output['path']}", soft_wrap=True,
                          markup=False, highlight=False)


def _cluster(console: Console, cluster: dict[str, Any] | None) -> None:
    """The cluster's broker, the workers that answered and the queues, when profiles use it."""
    if not cluster:
        return
    broker = cluster.get("broker", {})
    since = broker.get("since")
    console.print(f"cluster broker {broker.get('url')}: [bold]{broker.get('state')}[/bold]"
                  + (f" since {time.strftime('%H:%M:%S', time.localtime(since))}"
                     if since else ""), soft_wrap=True)
    if cluster.get("workers"):
        console.print("  workers that answered in the last hour: "
                      + ", ".join(cluster["workers"]), soft_wrap=True, markup=False)
    for queue, info in sorted(cluster.get("queues", {}).items()):
        waiting = info.get("queued")
        console.print(f"  queue {queue}: {info.get('in_flight', 0)} photo(s) of this station in "
                      "flight" + ("" if waiting is None else f", {waiting} waiting in the broker"),
                      soft_wrap=True, markup=False)


def _table(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("profile", "state", "pending", "done", "flagged", "failed", "oldest pending",
                  "per minute", "model", "runs on")
    for row in rows:
        figures = _figures(row)
        table.add_row(
            row["name"], figures["state"], figures["pending"], figures["done"],
            figures["flagged"], figures["failed"], figures["oldest pending"],
            figures["per minute"], figures["model"], figures["runs on"])
    console.print(table)


def _block(console: Console, row: dict[str, Any]) -> None:
    figures = _figures(row)
    console.print(Text.assemble((row["name"], "bold"), f": {figures['state']}"), soft_wrap=True)
    counts = ", ".join(f"{key} {figures[key]}" for key in (
        "pending", "done", "flagged", "failed", "oldest pending", "per minute"))
    console.print(f"  {counts}", soft_wrap=True, markup=False)
    if row["model"]:  # known while a daemon runs the profile
        console.print(f"  model {figures['model']} on {figures['runs on']}", soft_wrap=True,
                      markup=False)


def _figures(row: dict[str, Any]) -> dict[str, str]:
    age = row["oldest_pending_seconds"]
    return {
        "state": row["state"] + (f": {row['reason']}" if row["reason"] else ""),
        "pending": str(row["pending"]), "done": str(row["done"]),
        "flagged": str(row["flagged"]), "failed": str(row["failed"]),
        "oldest pending": "-" if age is None else f"{age:.0f} s",
        "per minute": "-" if row["per_minute"] is None else str(row["per_minute"]),
        "model": row["model"] or "-", "runs on": row["provider"] or "-",
    }
