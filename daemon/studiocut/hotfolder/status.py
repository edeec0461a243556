"""status: what the daemon is doing, read from its journal and status file (never written)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from studiocut import journal
from studiocut.hotfolder import app

RECENT_FAILURES = 5


def collect(state_dir: Path, profiles_dir: Path, *, jobs: int = 50) -> dict[str, Any]:
    """Return ``{"running", "state_dir", "profiles": [...], "jobs": [...]}``; ``jobs`` is the
    number of most recent jobs to include (0 for all)."""
    live = _read_json(state_dir / app.STATUS_FILE)
    running = app.is_running(state_dir)
    live_profiles: dict[str, Any] = live.get("profiles", {}) if running else {}
    db_path = state_dir / app.JOURNAL_FILE
    report: dict[str, Any] = {
        "running": running,
        "review": live.get("review") if running else None,  # the page's address, no token
        "state_dir": os.fsdecode(state_dir),
        "profiles_dir": os.fsdecode(profiles_dir),
        "profiles": [],
        "jobs": [],
    }
    if not db_path.exists():
        report["profiles"] = [_profile_row(name, {}, None, [], info)
                              for name, info in sorted(live_profiles.items())]
        return report
    db = journal.Journal(db_path, readonly=True)
    try:
        counts = db.counts()
        flagged = db.flagged()
        oldest = db.oldest_pending()
        names = sorted(set(counts) | set(live_profiles))
        now = time.time()
        for name in names:
            failures = db.jobs(profile=name, states=(journal.FAILED,), limit=RECENT_FAILURES,
                               newest_first=True)
            age = now - oldest[name] if name in oldest else None
            report["profiles"].append(
                _profile_row(name, counts.get(name, {}), age, failures,
                             live_profiles.get(name), flagged.get(name, 0)))
        recent = db.jobs(limit=jobs or None, newest_first=True)
        report["jobs"] = [_job_row(job) for job in recent]
    finally:
        db.close()
    return report


def _profile_row(name: str, counts: dict[str, int], age: float | None,
                 failures: list[journal.Job], info: dict[str, Any] | None,
                 flagged: int = 0) -> dict[str, Any]:
    info = info or {}
    return {
        "name": name,
        "state": info.get("state", "stopped"),
        "reason": info.get("reason"),
        "watch": info.get("watch"),
        "output": info.get("output"),
        "model": info.get("model"),
        "provider": info.get("provider"),
        "per_minute": info.get("per_minute"),
        "pending": counts.get(journal.PENDING, 0) + counts.get(journal.PROCESSING, 0),
        "done": counts.get(journal.DONE, 0),
        "failed": counts.get(journal.FAILED, 0),
        "flagged": flagged,
        "vanished": counts.get(journal.VANISHED, 0),
        "ignored": counts.get(journal.IGNORED, 0),
        "oldest_pending_seconds": round(age, 1) if age is not None else None,
        "last_failures": [
            {"source": os.fsdecode(f.source), "reason": f.reason, "message": f.message}
            for f in failures
        ],
    }


def _job_row(job: journal.Job) -> dict[str, Any]:
    return {
        "profile": job.profile,
        "source": os.fsdecode(job.source),
        "state": job.state,
        "reason": job.reason,
        "output": os.fsdecode(job.output) if job.output else None,
        "attempts": job.attempts,
        "flags": list(job.flags),
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def render(report: dict[str, Any]) -> None:
    """Print the report as tables (rich)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    state = "running" if report["running"] else "not running"
    console.print(f"studiocut daemon: [bold]{state}[/bold] (state in {report['state_dir']})")
    if report.get("review"):
        console.print(f"review page: {report['review']} (`studiocut review url` adds the token)")
    table = Table("profile", "state", "pending", "done", "flagged", "failed", "oldest pending",
                  "per minute", "model", "runs on")
    for row in report["profiles"]:
        age = row["oldest_pending_seconds"]
        table.add_row(
            row["name"], row["state"] + (f": {row['reason']}" if row["reason"] else ""),
            str(row["pending"]), str(row["done"]), str(row["flagged"]), str(row["failed"]),
            "-" if age is None else f"{age:.0f} s",
            "-" if row["per_minute"] is None else str(row["per_minute"]),
            row["model"] or "-", row["provider"] or "-",
        )
    console.print(table)
    for row in report["profiles"]:
        for failure in row["last_failures"]:
            console.print(Text.assemble(("failed ", "red"),
                                        f"{failure['message']} [{failure['reason']}]"))
