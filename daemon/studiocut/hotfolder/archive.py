"""archive: what happens to an original after its job ends.

``after: keep`` (the default) leaves it where the tethering software put it; ``delete`` removes
it; ``{move: DIR}`` moves it, mirroring subfolders. Failed originals move to the profile's
``failed`` folder (when set) beside ``<name>.error.txt`` saying why.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from studiocut.profiles import Profile

log = logging.getLogger(__name__)


def after_done(profile: Profile, source: Path, relative_dir: Path) -> Path | None:
    """Apply the profile's ``after`` rule to a processed original; return where it is now
    (None when deleted). Problems are logged; the photo's output already exists, so they
    never fail the job."""
    try:
        if profile.after == "delete":
            source.unlink(missing_ok=True)
            return None
        if profile.after == "move" and profile.move_to is not None:
            return move(source, profile.move_to / relative_dir)
    except OSError as e:
        log.warning("processed %s but could not %s it: %s", source, profile.after, e.strerror)
    return source


def after_failed(profile: Profile, source: Path, relative_dir: Path, message: str) -> None:
    """Move a failed original to the profile's ``failed`` folder with a note of the reason."""
    if profile.failed is None:
        return
    try:
        moved = move(source, profile.failed / relative_dir)
        note = moved.with_name(moved.name + ".error.txt")
        note.write_text(message + "\n", encoding="utf-8", errors="backslashreplace")
    except OSError as e:
        log.warning("could not move failed %s to %s: %s", source, profile.failed, e.strerror)


def move(source: Path, folder: Path) -> Path:
    """Move ``source`` into ``folder`` without overwriting anything; return the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    n = 1
    while target.exists():
        target = folder / f"{source.stem}-{n}{source.suffix}"
        n += 1
    try:
        os.rename(source, target)
    except OSError:
        shutil.move(os.fspath(source), os.fspath(target))
    return target
