"""console: the live view of ``studiocut run`` on a terminal (profiles, queue, recent results).

Under a service manager there is no terminal and this is never used: plain log lines go to
stderr instead, one INFO line per photo.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from studiocut.hotfolder.status import Status


def render(status: Status) -> Group:
    """One frame of the live view, drawn from the daemon's status at this moment."""
    counts = status.jobs
    profiles = Table("profile", "state", "queue", "done", "failed", "per minute", "watching",
                     title="studiocut", title_justify="left", expand=True,
                     caption=f"review page: {status.review} (`studiocut review url` adds the "
                     "token)" if status.review is not None else None, caption_justify="left")
    for name, item in sorted(status.live.items()):
        c = counts.get(name, {})
        state = Text("paused: " + item.reason, "yellow") if item.reason else Text("active",
                                                                                   "green")
        profiles.add_row(
            name, state, str(c.get("pending", 0) + c.get("processing", 0)),
            str(c.get("done", 0)), str(c.get("failed", 0)),
            str(item.per_minute), item.watch or "",
        )
    recent = Table("last results", "seconds", box=None, expand=True)
    for outcome in status.recent[-8:][::-1]:
        if outcome.ok:
            line = Text(f"{outcome.source.name} -> {outcome.output}", "default")
        else:
            line = Text(f"{outcome.source.name}: {outcome.message} [{outcome.reason}]", "red")
        recent.add_row(line, f"{outcome.seconds:.2f}")
    return Group(profiles, recent)
