"""spool: the shared folder stations and workers exchange photos through.

::

    in/<first two hex>/<sha256>.<ext>   inputs, content-addressed: copied once by a station
    results/<job key>/                  one bundle per job: result.json, output (the first
                                        rendition), rendition-1... (the others), layers
    tmp/                                bundles and inputs being written (renamed when whole)

A bundle is written into ``tmp/`` and renamed to ``results/<job key>/``: it appears whole or
not at all, and it is never an empty folder (result.json is always in it), because renaming
onto an empty folder would succeed. The first writer wins: a second copy of the same job is
discarded. Only the station that owns a job removes its input and bundle.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studiocut import atomic
from studiocut.imaging import frame

RESULT_FILE = "result.json"
OUTPUT_FILE = "output"
LAYERS = ("before.npy", "alpha.npy")


def rendition_file(index: int) -> str:
    """The bundle's file of a photo's rendition number ``index`` (0: the first)."""
    return OUTPUT_FILE if index == 0 else f"rendition-{index}"


def job_key(data: bytes, recipe: dict[str, Any]) -> str:
    """sha256 of the input bytes and the canonical recipe: the Celery task id, so a job sent
    again is recognisably the same job."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def input_path(data: bytes, suffix: str) -> str:
    """The spool-relative path of an input: ``in/<first two hex>/<sha256>.<ext>``."""
    sha = hashlib.sha256(data).hexdigest()
    return f"in/{sha[:2]}/{sha}{suffix.lower()}"


def _temp(root: Path, name: str) -> Path:
    """A temp path in ``tmp/`` that names its writer (host and pid), for ``sweep``."""
    folder = root / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"


def copy_in(root: Path, relative: str, data: bytes) -> None:
    """Put an input into the spool unless it is there (same name, same bytes: idempotent)."""
    dest = root / relative
    if dest.is_file():
        return
    temp = _temp(root, dest.stem)
    try:
        _write_file(temp, data)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Bundle:
    """A job's result as the station reads it: ``meta`` (result.json), the encoded
    ``output`` when it succeeded, and the framed layers when the station asked for them."""

    folder: Path
    meta: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.meta.get("status") == "ok"

    def output(self, index: int = 0) -> bytes:
        """The encoded bytes of rendition number ``index`` (0: the first)."""
        return (self.folder / rendition_file(index)).read_bytes()

    def layers(self) -> tuple[np.ndarray, np.ndarray] | None:
        paths = [self.folder / name for name in LAYERS]
        if not all(p.is_file() for p in paths):
            return None
        before, alpha = (np.load(p, allow_pickle=False) for p in paths)
        return before, alpha

    def blob(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None


def written_layout(layout: frame.Layout) -> dict[str, Any]:
    """Where a rendition's subject went on its canvas, as its bundle writes it: with the
    scale and floor line a station records as its SKU's lineup, the lineup it followed and
    the sides the photo's edge cut."""
    lineup = layout.lineup
    return {"crop": list(layout.crop), "placed": list(layout.placed),
            "canvas": list(layout.canvas), "offset": list(layout.offset),
            "scale": layout.scale, "cut": sorted(layout.cut),
            "lineup": None if lineup is None else [lineup.scale, lineup.floor]}


def read_layout(written: dict[str, Any]) -> frame.Layout:
    """The Layout ``written_layout`` wrote."""
    lineup = written.get("lineup")
    x0, y0, x1, y1 = written["crop"]
    (pw, ph), (cw, ch), (ox, oy) = written["placed"], written["canvas"], written["offset"]
    return frame.Layout(crop=(x0, y0, x1, y1), placed=(pw, ph), canvas=(cw, ch),
                        offset=(ox, oy), scale=float(written["scale"]),
                        lineup=None if lineup is None else frame.Lineup(*lineup),
                        cut=frozenset(written["cut"]))


def result_folder(root: Path, key: str) -> Path:
    return root / "results" / key


def read_bundle(root: Path, key: str) -> Bundle | None:
    """The job's bundle, or None while there is none."""
    folder = result_folder(root, key)
    try:
        meta = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Bundle(folder, meta)


def write_bundle(root: Path, key: str, meta: dict[str, Any], *, output: bytes | None = None,
                 more: Sequence[bytes] = (), files: dict[str, bytes] | None = None,
                 layers: tuple[np.ndarray, np.ndarray] | None = None) -> bool:
    """Write the job's bundle (temp folder, then rename to ``results/<key>/``): ``output``
    (the first rendition), ``more`` (the others, in order), ``files`` and ``layers``; return
    True when this copy won, False when a bundle of the job was already there."""
    temp = _temp(root, key)
    temp.mkdir()
    try:
        if output is not None:
            _write_file(temp / OUTPUT_FILE, output)
            meta["output_sha256"] = hashlib.sha256(output).hexdigest()
        for index, data in enumerate(more, start=1):
            _write_file(temp / rendition_file(index), data)
        for name, blob in (files or {}).items():
            _write_file(temp / name, blob)
        if layers is not None:
            for name, array in zip(LAYERS, layers, strict=True):
                with open(temp / name, "wb") as f:
                    np.save(f, np.ascontiguousarray(array), allow_pickle=False)
        # last and always: the bundle is never an empty folder
        _write_file(temp / RESULT_FILE, json.dumps(meta).encode())
        atomic.fsync_dir(temp)
        final = result_folder(root, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(temp, final)
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False  # the first writer won; the finally below discards ours
            raise
        atomic.fsync_dir(final.parent)
        return True
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


def remove(root: Path, key: str, relative: str | None) -> None:
    """Remove a finished job's input (when given), then its bundle: in that order, a
    worker that finds the input still there knows its bundle is still wanted."""
    if relative is not None:
        (root / relative).unlink(missing_ok=True)
    shutil.rmtree(result_folder(root, key), ignore_errors=True)


def sweep(root: Path, *, max_age: float) -> int:
    """Remove temp files of dead processes of this machine, and any older than ``max_age``
    seconds (a machine that died); return how many."""
    folder = root / "tmp"
    if not folder.is_dir():
        return 0
    host, now, removed = socket.gethostname(), time.time(), 0
    for path in folder.iterdir():
        _, _, rest = path.name.partition(".")  # <name>.<host>.<pid>.<random>
        parts = rest.rsplit(".", 2)
        dead = len(parts) == 3 and parts[0] == host and not _alive(parts[1])
        try:
            old = now - path.stat().st_mtime > max_age
        except FileNotFoundError:
            continue
        if dead or old:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OSError):
        return True
    return True


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
