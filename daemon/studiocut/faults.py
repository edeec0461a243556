"""faults: named points where tests can make the daemon crash, to prove crash safety.

Set ``STUDIOCUT_FAULTS`` to comma-separated ``point:action[:match]`` entries, for example
``after-inference:kill:IMG_7`` (SIGKILL the daemon when a file whose name contains ``IMG_7``
reaches that point) or ``observer-event:raise`` (raise inside the observer thread). Actions:
``kill`` (the process dies at once, as with kill -9), ``raise`` (RuntimeError), ``exit``,
``sleep=SECONDS`` (hold the job there, so a test can act meanwhile).
Unset (always, in production), every point is a dictionary lookup that finds nothing.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

POINTS = ("after-claim", "after-inference", "after-temp-write", "after-replace", "after-done",
          "observer-event", "after-publish-write",
          # a photo's renditions: every temp written and journalled, before each rename but
          # the first (the group is half published there)
          "between-renames",
          # the cluster: a station's job recorded in its outbox, not yet sent; a worker's job
          # started (its attempt counted); its bundle written, not yet acknowledged
          "cluster-recorded", "worker-start", "worker-written")


def _parse(spec: str) -> dict[str, list[tuple[str, str]]]:
    table: dict[str, list[tuple[str, str]]] = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        point, _, rest = entry.partition(":")
        action, _, match = rest.partition(":")
        table.setdefault(point, []).append((action or "kill", match))
    return table


_TABLE = _parse(os.environ.get("STUDIOCUT_FAULTS", ""))


def point(name: str, path: Path | None = None) -> None:
    """Trigger the fault configured for ``name`` (and a file name containing its match)."""
    if not _TABLE:
        return
    for action, match in _TABLE.get(name, ()):
        if match and (path is None or match not in path.name):
            continue
        if action == "kill":
            os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        elif action == "exit":
            os._exit(3)
        elif action.startswith("sleep="):
            time.sleep(float(action.partition("=")[2]))
        else:
            raise RuntimeError(f"fault injected at {name}")
