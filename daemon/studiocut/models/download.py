"""download: ``studiocut models pull``: fetch weights once, on the user's command, safely.

A download goes to a ``.part`` file beside the target and resumes with an HTTP Range request
when the connection is cut; the finished file is checked against the registry's checksum and
only then renamed into place. A mismatch deletes the download and installs nothing. ``--from
FILE`` installs from a local copy (air-gapped studios) through the same checks. Running the
daemon never downloads anything.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studiocut.atomic import fsync_dir
from studiocut.errors import ModelError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


@dataclass(frozen=True)
class Artifact:
    """One file to install: its name in the models folder and its checksum."""

    file: str
    md5: str = ""
    sha256: str = ""


def checksum_ok(path: Path, artifact: Artifact) -> tuple[bool, str]:
    """Return (matches, description) for ``path`` against the artifact's checksum."""
    algo, want = ("sha256", artifact.sha256) if artifact.sha256 else ("md5", artifact.md5)
    digest = hashlib.new(algo)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    got = digest.hexdigest()
    if not want:
        return True, f"{algo} {got} (no checksum registered)"
    return got == want, f"{algo} {got}" + ("" if got == want else f", expected {want}")


def install(artifact: Artifact, source: str, folder: Path, *, progress: Progress | None = None,
            attempts: int = 5, timeout: float = 30.0) -> Path:
    """Fetch ``source`` (an http(s) URL or a local file path) into ``folder`` as
    ``artifact.file``, resuming cut downloads, verify it and install it atomically; return
    the installed path; raise ModelError (nothing installed) on any failure."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / artifact.file
    part = folder / f".{artifact.file}.part"
    if source.startswith(("http://", "https://")):
        _fetch(source, part, progress=progress, attempts=attempts, timeout=timeout)
    else:
        local = Path(source).expanduser()
        if not local.is_file():
            raise ModelError(f"{local}: no such file to install {artifact.file} from")
        shutil.copyfile(local, part)
    ok, description = checksum_ok(part, artifact)
    if not ok:
        part.unlink(missing_ok=True)
        raise ModelError(f"{artifact.file}: checksum mismatch ({description}); the download "
                         "was deleted and nothing was installed")
    with part.open("rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, target)
    fsync_dir(folder)
    log.info("installed %s (%s)", target, description)
    return target


def _fetch(url: str, part: Path, *, progress: Progress | None, attempts: int,
           timeout: float) -> None:
    """Download ``url`` into ``part``, resuming from what ``part`` already holds."""
    total: int | None = None
    for attempt in range(1, attempts + 1):
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": "studiocut"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if have and response.status != 206:
                    have = 0  # the server ignored the range: start again
                length = response.headers.get("Content-Length")
                total = have + int(length) if length is not None else None
                with part.open("ab" if have else "wb") as out:
                    done = have
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
            if total is None or part.stat().st_size >= total:
                return
            raise ConnectionError(f"connection closed at {part.stat().st_size} of {total} "
                                  "bytes")
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # range past the end: the part file is complete
                return
            raise ModelError(f"{url}: HTTP {e.code} {e.reason}") from e
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError,
                http.client.HTTPException) as e:  # a garbled reply, a cut chunked body
            if attempt == attempts:
                raise ModelError(f"{url}: download failed after {attempts} attempts: {e}; "
                                 "run the same command again to resume") from e
            log.warning("download interrupted (%s); resuming (attempt %d of %d)", e,
                        attempt + 1, attempts)
            time.sleep(min(2.0 ** attempt * 0.1, 5.0))
