"""console: the live view of ``studiocut run`` on a terminal (profiles, queue, recent results).

Under a service manager there is no terminal and this is never used: plain log lines go to
stderr instead, one INFO line per photo.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from studiocut.hotfolder.app import Daemon


def render(daemon: Daemon) -> Group:
    """One frame of the live view."""
    counts = daemon.journal.counts() if daemon.ready else {}
    page = daemon.page
    profiles = Table("profile", "state", "queue", "done", "failed", "per minute", "watching",
                     title="studiocut", title_justify="left", expand=True,
                     caption=f"review page: {page.url} (`studiocut review url` adds the token)"
                     if page is not None else None, caption_justify="left")
    now = time.monotonic()
    for name, item in sorted(daemon.watched.items()):
        c = counts.get(name, {})
        state = Text("paused: " + item.paused, "yellow") if item.paused else Text("active",
                                                                                   "green")
        profiles.add_row(
            name, state, str(c.get("pending", 0) + c.get("processing", 0)),
            str(c.get("done", 0)), str(c.get("failed", 0)),
            str(item.per_minute(now)),
            os.fsdecode(item.profile.watch or ""),
        )
    recent = Table("last results", "seconds", box=None, expand=True)
    for outcome in list(daemon.last_results)[-8:][::-1]:
        if outcome.ok:
            line = Text(f"{outcome.source.name} -> {outcome.output}", "default")
        else:
            line = Text(f"{outcome.source.name}: {outcome.message} [{outcome.reason}]", "red")
        recent.add_row(line, f"{outcome.seconds:.2f}")
    return Group(profiles, recent)
