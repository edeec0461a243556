"""reviewcopy: a flagged result's copy in the review folder, with a sidecar naming why."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from studiocut import atomic
from studiocut.errors import OutputError
from studiocut.imaging.triage import Signals
from studiocut.profiles import Review, folders


def folder_for(rules: Review, output_root: Path) -> Path:
    """Where flagged copies go: the profile's folder, or ``<output>-review`` beside it."""
    return folders.review_folder(rules, output_root)


def file_copy(dest: Path, data: bytes, *, output_root: Path, rules: Review, source: Path,
              signals: Signals, found: tuple[str, ...]) -> Path:
    """Write a flagged result's copy and its ``.review.json`` sidecar; return the copy.
    Raise OutputError when the review folder cannot be made or written."""
    relative = dest.relative_to(output_root)
    folder = folder_for(rules, output_root)
    copy = folder / relative
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError("review-folder", f"cannot create the review folder {folder} for "
                          f"{dest.name}: {e.strerror or e}") from e
    atomic.write_atomic(copy, data, root=folder)
    note = {"source": os.fsdecode(source), "output": os.fsdecode(dest), "reasons": list(found),
            "signals": asdict(signals)}
    sidecar = copy.with_name(copy.name + ".review.json")
    atomic.write_atomic(sidecar, json.dumps(note, indent=1).encode(), root=folder)
    return copy


def withdraw(dest: Path, *, output_root: Path, rules: Review) -> None:
    """Remove an earlier flagged copy of ``dest`` (and its sidecar): the photo was re-shot and
    its new result needs no look."""
    copy = folder_for(rules, output_root) / dest.relative_to(output_root)
    for path in (copy, copy.with_name(copy.name + ".review.json")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
