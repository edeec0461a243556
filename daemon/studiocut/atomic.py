"""atomic: write a file so that it appears under its final name only when complete.

It is written to a temp file in the same folder, fsynced, renamed over the final name with
os.replace, and the folder is fsynced. Disk full, a missing output folder and permission
problems raise OutputError (the daemon pauses on those); they never leave a partial file behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from studiocut import faults
from studiocut.errors import OutputError

TEMP_SUFFIX = ".studiocut.tmp"

_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
# faults of one name, not of the folder: too long, a folder or file in the way, a character the
# file system refuses
_BAD_NAME = {errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.EINVAL,
             errno.ENOTEMPTY}
NAME_MAX = 255  # bytes of one name on ext4, APFS, NTFS (UTF-16 units there), SMB shares


def write_atomic(dest: Path, data: bytes, *, root: Path | None = None) -> None:
    """Write ``data`` to ``dest`` atomically. Subfolders below ``root`` are created; ``root``
    itself must exist (a missing output folder is an environment fault, not ours to create).
    Raise OutputError on environment faults."""
    temp = stage(dest, data, root=root)
    faults.point("after-temp-write", dest)
    try:
        commit(temp, dest)
    except OutputError:
        _remove_quietly(temp)
        raise


def stage(dest: Path, data: bytes, *, root: Path | None = None) -> Path:
    """Write ``data`` complete and fsynced to a temp file beside ``dest``, to be renamed
    over it by ``commit``; return the temp's path. Subfolders below ``root`` are created.
    Raise OutputError, leaving no temp behind."""
    folder = dest.parent
    if root is not None and not root.is_dir():
        raise OutputError("output-missing", f"output folder {root} does not exist")
    temp = folder / temp_name(dest.name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        _remove_quietly(temp)
        raise _output_error(dest, e) from e
    return temp


def commit(temp: Path, dest: Path) -> None:
    """Rename a ``stage``-d temp over ``dest`` and make the rename durable; raise
    OutputError (the temp is left for the caller)."""
    try:
        os.replace(temp, dest)
        fsync_dir(dest.parent)
    except OSError as e:
        raise _output_error(dest, e) from e


def temp_name(name: str) -> str:
    """A hidden, unique temp name beside ``name`` that fits in one file name: as much of
    ``name`` as fits, a random part, and the suffix orphan removal looks for."""
    tail = f".{secrets.token_hex(4)}{TEMP_SUFFIX}"
    room = NAME_MAX - 1 - len(tail)
    while len(os.fsencode(name)) > room:  # whole characters only
        name = name[:-1]
    return f".{name}{tail}"


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where directories cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_orphans(folder: Path) -> int:
    """Delete temp files a crash left in ``folder`` (recursively); return how many."""
    count = 0
    for temp in folder.rglob(f"*{TEMP_SUFFIX}"):
        if temp.is_file() and not temp.is_symlink():
            _remove_quietly(temp)
            count += 1
    return count


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _output_error(dest: Path, e: OSError) -> OutputError:
    if e.errno in _DISK_FULL:
        return OutputError("disk-full", f"cannot write {dest}: no space left on the device")
    if e.errno in _NOT_WRITABLE:
        return OutputError("not-writable", f"cannot write {dest}: output folder "
                           f"{dest.parent} is not writable ({e.strerror})")
    if e.errno in _BAD_NAME:
        return OutputError("bad-output-name", f"cannot write {dest}: {e.strerror or e}",
                           environment=False)
    if e.errno == errno.ENOENT:
        return OutputError("output-missing", f"cannot write {dest}: folder {dest.parent} "
                           "is gone")
    return OutputError("write-failed", f"cannot write {dest}: {e.strerror or e}")
