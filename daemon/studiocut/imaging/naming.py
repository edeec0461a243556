"""naming: where a photo's outputs go, from the name template of each rendition, and the
product (SKU and view) a photo shows, for the templates that name it."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from studiocut.atomic import NAME_MAX, TEMP_SUFFIX
from studiocut.errors import InputError
from studiocut.profiles import ONE_RENDITION, Encoding, Profile, Rendition
from studiocut.profiles.renditions import with_suffix

# an output name leaves room for its temp name's decoration in one file name
MAX_NAME = NAME_MAX - len(TEMP_SUFFIX) - 10


@dataclass(frozen=True)
class Product:
    """The product a photo shows, for a profile with an ``sku`` key: its ``sku`` (cleaned for
    a file name by ``imaging.sku``) and the photo's ``view``, its number among that SKU's
    photos (from 1)."""

    sku: str
    view: int


def output_name(source: Path, enc: Encoding, profile: str, *, rendition: str = ONE_RENDITION,
                suffix: str = "", product: Product | None = None) -> str:
    """Render a name template for ``source`` (``suffix`` added to its stem); raise
    InputError if the result could leave its folder (templates are checked at load; this
    guards odd file names), or when it names a SKU and the photo has none."""
    if product is None and ("{sku}" in enc.name or "{view}" in enc.name):
        raise InputError("no-sku", f"{source}: its output name names {{sku}} or {{view}}, "
                         "and this photo has no SKU")
    name = with_suffix(enc.name.format(
        stem=source.stem, ext=enc.ext, source_ext=source.suffix.lstrip(".").lower(),
        profile=profile, rendition=rendition, sku=product.sku if product else "",
        view=product.view if product else 0,
    ), suffix)
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
    return _inside(root, relative_dir, source, output_name(source, enc, profile))


def rendition_path(root: Path, relative_dir: Path, source: Path, profile: Profile,
                   rendition: Rendition, product: Product | None = None) -> Path:
    """Return where ``rendition`` of ``source`` goes: ``root``/<its folder>/``relative_dir``/
    <its name>, checked to stay inside ``root``; raise InputError as ``output_name`` does."""
    name = output_name(source, rendition.encoding, profile.name, rendition=rendition.name,
                       suffix=rendition.suffix, product=product)
    return _inside(root, Path(rendition.folder) / relative_dir, source, name)


def _inside(root: Path, relative_dir: Path, source: Path, name: str) -> Path:
    if relative_dir.is_absolute() or ".." in relative_dir.parts:
        raise InputError("bad-name", f"{source}: subfolder {relative_dir} escapes the output")
    dest = root / relative_dir / name
    if os.path.commonpath([os.path.abspath(dest), os.path.abspath(root)]) != os.path.abspath(root):
        raise InputError("bad-name", f"{source}: output {dest} would leave {root}")
    return dest
