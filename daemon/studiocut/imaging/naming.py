"""naming: where a photo's output goes, from the profile's name template."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from studiocut.atomic import NAME_MAX, TEMP_SUFFIX
from studiocut.errors import InputError
from studiocut.profiles import Encoding

# an output name leaves room for its temp name's decoration in one file name
MAX_NAME = NAME_MAX - len(TEMP_SUFFIX) - 10


def output_name(source: Path, enc: Encoding, profile: str) -> str:
    """Render the profile's name template for ``source``; raise InputError if the result could
    leave its folder (templates are checked at load; this guards odd file names)."""
    name = enc.name.format(
        stem=source.stem, ext=enc.ext, source_ext=source.suffix.lstrip(".").lower(),
        profile=profile,
    )
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise InputError("bad-name", f"{source}: output name {name!r} is not a plain file name")
    return fit(name)


def fit(name: str, limit: int = MAX_NAME) -> str:
    """``name`` if it fits in ``limit`` bytes; else its start, a short hash of the whole name
    (so two long names that start alike stay apart) and its extension."""
    if len(os.fsencode(name)) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(os.fsencode(ext)) > 16:
        stem, ext = name, ""
    tail = f"~{hashlib.sha256(os.fsencode(name)).hexdigest()[:10]}" + (f".{ext}" if ext else "")
    room = limit - len(os.fsencode(tail))
    while len(os.fsencode(stem)) > room:  # whole characters only
        stem = stem[:-1]
    return stem + tail


def output_path(root: Path, relative_dir: Path, source: Path, enc: Encoding, profile: str) -> Path:
    """Return where the output of ``source`` goes: ``root``/``relative_dir``/<name>, checked to
    stay inside ``root``."""
    if relative_dir.is_absolute() or ".." in relative_dir.parts:
        raise InputError("bad-name", f"{source}: subfolder {relative_dir} escapes the output")
    dest = root / relative_dir / output_name(source, enc, profile)
    if os.path.commonpath([os.path.abspath(dest), os.path.abspath(root)]) != os.path.abspath(root):
        raise InputError("bad-name", f"{source}: output {dest} would leave {root}")
    return dest
