"""delivery: a made photo's renditions written into the output folder, all or none.

Every rendition's temp file is written first, complete and fsynced; then the renames. The
daemon journals the staged group between the two (``staged``), so a crash between two renames
is finished at the next start: a photo is never half published.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

from studiocut import atomic, faults
from studiocut.imaging import reviewcopy, triage
from studiocut.profiles import Profile


def write_all(files: Sequence[tuple[Path, bytes]], profile: Profile, *, output_root: Path,
              source: Path, flags: tuple[str, ...], signals: triage.Signals | None,
              held: bool = False,
              staged: Callable[[list[tuple[Path, Path]]], None] | None = None) -> None:
    """Write a photo's renditions (``files``: destination and bytes, inside ``output_root``)
    together unless ``held``: every temp file first, then ``staged`` is told the (temp,
    destination) pairs (the daemon journals them, so that a crash between two renames is
    finished at the next start), then the renames. One file alone is written as
    ``atomic.write_atomic`` writes it. Each gets its copy in the review folder when the
    photo is ``flagged`` (else an earlier copy is withdrawn: the photo was re-shot and needs
    no look now). Raise OutputError, leaving no temp behind."""
    if not held and len(files) == 1 and staged is None:
        atomic.write_atomic(files[0][0], files[0][1], root=output_root)
    elif not held:
        temps: list[tuple[Path, Path]] = []
        try:
            for dest, data in files:
                temps.append((atomic.stage(dest, data, root=output_root), dest))
            if staged is not None:
                staged(temps)
            for index, (temp, dest) in enumerate(temps):
                if index:
                    faults.point("between-renames", dest)
                atomic.commit(temp, dest)
        finally:
            for temp, _ in temps:
                with contextlib.suppress(OSError):
                    temp.unlink(missing_ok=True)
    for dest, data in files:
        if flags and profile.review is not None and signals is not None:
            reviewcopy.file_copy(dest, data, output_root=output_root, rules=profile.review,
                                 source=source, signals=signals, found=flags)
        elif profile.review is not None:
            reviewcopy.withdraw(dest, output_root=output_root, rules=profile.review)
