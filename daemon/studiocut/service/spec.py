"""spec: what a service definition says, for every platform's service manager.

The service manager waits longer for a stop than the daemon's drain (``--shutdown-timeout``,
passed explicitly on the command line so the relation is visible), so photos in progress
finish before anything is killed: STOP_MARGIN is that difference, here and in the Windows
service (``studiocut.service.winservice``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

NAME = "studiocut"
STOP_MARGIN = 25.0  # seconds a service manager waits beyond the drain before it kills


@dataclass(frozen=True)
class Spec:
    """What a service definition says: which interpreter runs the daemon on which folders,
    for one user or system-wide, and where launchd writes its log."""

    python: Path
    profiles: Path
    state: Path
    system: bool = False
    shutdown_timeout: float = 20.0
    logs: Path | None = None

    @property
    def stop_timeout(self) -> int:
        """Seconds the service manager waits for a stop: the drain plus a margin."""
        return math.ceil(self.shutdown_timeout + STOP_MARGIN)

    def run_arguments(self) -> list[str]:
        """The ``studiocut run`` command line the service manager starts."""
        return [str(self.python), "-m", "studiocut", "run", "--profiles", str(self.profiles),
                "--state", str(self.state), "--shutdown-timeout", f"{self.shutdown_timeout:g}",
                "--plain"]
