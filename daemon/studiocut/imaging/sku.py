"""sku: a photo's SKU from its subfolder or from a sidecar file, made safe for a file name.

The SKU names a product's listing images (``{sku}`` in a name template). Besides the
barcode card (``imaging.barcode``) it comes from:

- the subfolder: the first folder level under the watched folder (``A1234/front.jpg`` and
  ``A1234/detail/back.jpg`` are both ``A1234``);
- a sidecar beside the photo: ``<stem>.json`` holding an object with an ``"sku"`` string
  (or integer), other keys ignored so the file can be shared with other tools; else
  ``sku.txt`` in the photo's folder, whose first non-blank line is the SKU of every photo
  there. A RAW and a JPEG of one shot share ``<stem>.json``. Sidecars are small UTF-8 files
  (a byte-order mark is allowed), never followed through a symbolic link; write one before
  its photo, or the photo may be taken without it.

Whatever the source, ``clean`` turns the text into a name part that cannot leave its folder
or trouble a file system: no path separators, none of Windows' reserved characters, no
control or invisible formatting characters (a right-to-left override could disguise a
name), no whitespace but the plain space, no leading dot, no trailing dot or space, not a
Windows device name, NFC-normalised (macOS writes folder names decomposed), and at most
``MAX_SKU`` bytes (a longer SKU keeps its start and a hash of the whole, as ``naming.fit``
shortens names).
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import unicodedata
from pathlib import Path

from studiocut.errors import InputError
from studiocut.imaging import naming

log = logging.getLogger(__name__)

MAX_SKU = 100  # bytes, leaving room in a file name for a view number and an extension
SIDECAR_SUFFIX = ".json"  # <stem>.json beside the photo
FOLDER_FILE = "sku.txt"  # one SKU for every photo of its folder
MAX_SIDECAR_BYTES = 64 * 1024

_UNSAFE = set('/\\:*?"<>|')  # separators, and what Windows refuses in a name
_DEVICES = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)


def clean(raw: str) -> str | None:
    """Return ``raw`` (a SKU as read) as a safe part of a file name (see the module), or
    None when nothing usable is left."""
    text = unicodedata.normalize("NFC", raw).strip()
    text = "".join("_" if _unsafe(c) else c for c in text)
    text = text.lstrip(". ").rstrip(". ")
    if not text:
        return None
    if _DEVICES.fullmatch(text):
        text += "_"
    return naming.fit(text, MAX_SKU)


def _unsafe(c: str) -> bool:
    """A separator, a character Windows refuses, a control or formatting character, or
    whitespace other than the plain space (tabs, line breaks, no-break spaces)."""
    return c in _UNSAFE or unicodedata.category(c)[0] == "C" or (c.isspace() and c != " ")


def from_subfolder(subfolder: Path) -> str | None:
    """Return the SKU named by the first level of ``subfolder`` (a photo's folder relative
    to the watched folder), cleaned; None for a photo in the watched folder itself or a
    folder name with nothing usable. Raise ValueError if ``subfolder`` is absolute or
    climbs out with ``..``."""
    if subfolder.is_absolute() or ".." in subfolder.parts:
        raise ValueError(f"{subfolder}: not a folder inside the watched folder")
    parts = [part for part in subfolder.parts if part != "."]
    return clean(parts[0]) if parts else None


def from_sidecar(source: Path) -> str | None:
    """Return the SKU a sidecar gives the photo ``source``: its ``<stem>.json`` if that holds
    an ``"sku"``, else its folder's ``sku.txt``, cleaned; None when there is neither. Raise
    InputError when a sidecar is there but unreadable, not a small regular UTF-8 file, not
    JSON (``<stem>.json``), or gives no usable SKU."""
    beside = source.with_name(source.stem + SIDECAR_SUFFIX)
    data = _read(beside)
    if data is not None:
        raw = _from_json(beside, data)
        if raw is not None:
            return _usable(beside, raw)
    folder_file = source.with_name(FOLDER_FILE)
    data = _read(folder_file)
    if data is None:
        return None
    lines = [line.strip() for line in _text(folder_file, data).splitlines()]
    first = next((line for line in lines if line), None)
    if first is None:
        raise InputError("bad-sidecar", f"{folder_file}: holds no SKU (the file is blank)")
    return _usable(folder_file, first)


def _from_json(path: Path, data: bytes) -> str | None:
    """The ``"sku"`` of a JSON sidecar, as text; None when it has none (another tool's)."""
    try:
        document = json.loads(_text(path, data))
    except json.JSONDecodeError as e:
        raise InputError("bad-sidecar", f"{path}: not JSON ({e})") from e
    if not isinstance(document, dict) or "sku" not in document:
        log.debug("%s: no \"sku\" in it; the folder's %s is looked for", path, FOLDER_FILE)
        return None
    value = document["sku"]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError("bad-sidecar", f"{path}: \"sku\" must be a string (got "
                         f"{type(value).__name__})")
    return str(value)


def _usable(path: Path, raw: str) -> str:
    sku = clean(raw)
    if sku is None:
        raise InputError("bad-sidecar", f"{path}: SKU {raw!r} has nothing usable in a file name")
    return sku


def _text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError("bad-sidecar", f"{path}: not UTF-8 text ({e.reason} at byte "
                         f"{e.start})") from e


def _read(path: Path) -> bytes | None:
    """The bytes of the sidecar at ``path``, or None when there is none; raise InputError
    for a link, something other than a regular file, one over MAX_SIDECAR_BYTES, or a read
    that fails (retryable: it may be being written)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InputError("bad-sidecar", f"{path}: cannot be read ({e.strerror})",
                         retryable=True) from e
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise InputError("bad-sidecar", f"{path}: not a regular file (links are not followed)")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # swapped after lstat
                raise InputError("bad-sidecar", f"{path}: not a regular file")
            data = f.read(MAX_SIDECAR_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InputError("bad-sidecar", f"{path}: cannot be read ({e.strerror or e})",
                         retryable=True) from e
    if len(data) > MAX_SIDECAR_BYTES:
        raise InputError("bad-sidecar", f"{path}: over {MAX_SIDECAR_BYTES // 1024} KB: not a "
                         "sidecar")
    return data
