"""intake: from "something happened to this path" to a pending job, once the file is complete.

Events and scans only *notice* paths. A noticed file is claimed when its size and mtime have
been stable for the profile's ``settle`` time (a close-after-write event shortens the wait,
never skips it), and it is not a temp name, a hidden file, a link or a special file. Claiming
means one row in the journal; workers take jobs from there.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from studiocut.atomic import TEMP_SUFFIX
from studiocut.journal import IGNORED, Identity, Journal
from studiocut.profiles import Profile

log = logging.getLogger(__name__)

# Names that tethering software, copy tools and we ourselves use while a file is incomplete.
TEMP_PATTERNS = (
    "*.tmp", "*.temp", "*.part", "*.partial", "*.crdownload", "*.download", "~*", "*~",
    f"*{TEMP_SUFFIX}", "*.swp", "thumbs.db", "desktop.ini",
)  # fmt: skip
CLOSED_SETTLE = 0.25  # seconds a closed-after-write file must still stay unchanged
MAX_CANDIDATES = 20_000  # files watched at once; further notices wait their turn


def accepts(profile: Profile, name: str) -> bool:
    """True when a file called ``name`` is one this profile processes."""
    lower = name.lower()
    if lower.startswith("."):  # hidden files, rsync's .name.XXXXXX, our own temp files
        return False
    if any(fnmatch.fnmatchcase(lower, p) for p in TEMP_PATTERNS):
        return False
    return _chosen(profile, lower)


def _chosen(profile: Profile, lower: str) -> bool:
    """Whether the profile's include patterns take the name and its ignore patterns do not."""
    if any(fnmatch.fnmatchcase(lower, p.lower()) for p in profile.ignore):
        return False
    return any(fnmatch.fnmatchcase(lower, p.lower()) for p in profile.include)


def hidden_photo(profile: Profile, name: str) -> bool:
    """True for a hidden name that otherwise looks like one of the profile's photos (``..jpg``,
    macOS's ``._IMG_0001.JPG``): never processed, but recorded as ignored with the reason, so
    no photo-like file disappears unexplained. Copy tools' temp names (rsync's
    ``.name.XXXXXX``) do not look like photos and stay unrecorded."""
    lower = name.lower()
    if not lower.startswith(".") or any(fnmatch.fnmatchcase(lower, p) for p in TEMP_PATTERNS):
        return False
    return _chosen(profile, lower)


def walk(root: Path, recursive: bool) -> Iterator[Path]:
    """Yield every entry under ``root`` that could be a photo, never following links and never
    descending into hidden folders."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name.startswith("."):
                                continue
                            if recursive:
                                stack.append(Path(entry.path))
                            continue
                    except OSError:
                        continue
                    yield Path(entry.path)
        except OSError as e:
            log.debug("cannot list %s: %s", folder, e)


@dataclass
class _Candidate:
    identity: Identity | None
    stable_since: float
    closed: bool = False


class Intake:
    """Tracks noticed files until they settle, then records them as jobs."""

    def __init__(self, journal: Journal, on_job: Callable[[], None]) -> None:
        self._journal = journal
        self._on_job = on_job
        self._lock = threading.Lock()
        self._noticed: dict[tuple[str, Path], bool] = {}  # (profile, path) -> closed event
        self._candidates: dict[tuple[str, Path], _Candidate] = {}
        self._profiles: dict[str, tuple[Profile, str]] = {}
        self.stopped = threading.Event()

    def set_profiles(self, profiles: dict[str, tuple[Profile, str]]) -> None:
        """Replace the active profiles: {name: (profile, version)}."""
        with self._lock:
            self._profiles = dict(profiles)
            for key in [k for k in self._candidates if k[0] not in profiles]:
                del self._candidates[key]

    def notice(self, profile: str, path: Path, *, closed: bool = False) -> None:
        """Something happened at ``path``: look at it soon. Called from observer threads; it
        only records the path."""
        with self._lock:
            self._noticed[(profile, path)] = closed or self._noticed.get((profile, path), False)

    def notice_folder(self, profile: str, folder: Path) -> None:
        """A folder appeared or was moved in: notice everything inside it."""
        entry = self._profiles.get(profile)
        if entry is None or (not entry[0].recursive and folder != entry[0].watch):
            return  # a non-recursive profile takes nothing from subfolders
        for path in walk(folder, entry[0].recursive):
            self.notice(profile, path)

    def scan(self, profile: Profile) -> int:
        """Notice every file in the profile's watched folder; return how many were seen."""
        if profile.watch is None:
            return 0
        count = 0
        for path in walk(profile.watch, profile.recursive):
            self.notice(profile.name, path)
            count += 1
        return count

    @property
    def waiting(self) -> int:
        """Files noticed but not yet claimed."""
        with self._lock:
            return len(self._candidates) + len(self._noticed)

    def run(self, interval: float = 0.1) -> None:
        """The intake thread's loop, until ``stopped`` is set."""
        while not self.stopped.wait(interval):
            try:
                self.tick()
            except Exception:  # the intake must outlive any one bad path; the log says why
                log.exception("intake error; continuing")

    def tick(self, now: float | None = None) -> int:
        """Look at every noticed file once; return how many became jobs."""
        now = time.monotonic() if now is None else now
        with self._lock:
            noticed, self._noticed = self._noticed, {}
            profiles = self._profiles
            deferred: dict[tuple[str, Path], bool] = {}
            for key, closed in noticed.items():
                if key[0] not in profiles:
                    continue
                candidate = self._candidates.get(key)
                if candidate is None:
                    if len(self._candidates) >= MAX_CANDIDATES:
                        # kept for a later tick, not dropped: a rescan notices known files
                        # first each time, and dropping the rest would starve files past them
                        deferred[key] = closed
                        continue
                    candidate = self._candidates[key] = _Candidate(None, now)
                candidate.closed = candidate.closed or closed
            self._noticed = deferred
            items = list(self._candidates.items())
        queued = 0
        for key, candidate in items:
            name, path = key
            profile, version = profiles[name]
            closed_now = noticed.get(key, False)
            verdict = self._look(profile, version, path, candidate, now, closed_now)
            if verdict is not None:
                with self._lock:
                    self._candidates.pop(key, None)
                queued += verdict
        if queued:
            self._on_job()
        return queued

    def _look(self, profile: Profile, version: str, path: Path, candidate: _Candidate,
              now: float, closed_now: bool) -> int | None:
        """Return None to keep watching the file, 0 to drop it, 1 when it became a job."""
        hidden = hidden_photo(profile, path.name)
        if not hidden and not accepts(profile, path.name):
            return 0
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return 0  # gone before it settled: a temp name, or deleted; nothing to record
        except OSError as e:
            log.debug("cannot stat %s: %s", path, e)
            return None
        identity = Identity.of(st)
        if not stat.S_ISREG(st.st_mode):
            if stat.S_ISDIR(st.st_mode):
                return 0
            kind = "symbolic link" if stat.S_ISLNK(st.st_mode) else "special file"
            if not self._journal.is_known(profile.name, path, identity):
                log.warning("ignoring %s: a %s is never followed or opened", path, kind)
                self._journal.record(profile.name, path, identity, IGNORED, "not-a-file",
                                     f"{path}: {kind}, never followed or opened")
            return 0
        if candidate.identity is None and self._journal.is_known(profile.name, path, identity):
            return 0  # seen before, unchanged: rescans and touches cost one lookup
        if identity != candidate.identity:
            if candidate.identity is not None:  # written again since: an older close is stale
                candidate.closed = closed_now
            candidate.identity = identity
            candidate.stable_since = now
            if profile.settle > 0:
                return None
        settle = min(profile.settle, CLOSED_SETTLE) if candidate.closed else profile.settle
        if now - candidate.stable_since < settle:
            return None
        if hidden:
            if not self._journal.is_known(profile.name, path, identity):
                log.warning("ignoring %s: a hidden name (starting with '.') is never processed",
                            path)
                self._journal.record(profile.name, path, identity, IGNORED, "hidden-name",
                                     f"{path}: hidden name (starting with '.'), never "
                                     "processed; rename it to process it")
            return 0
        job = self._journal.enqueue(profile.name, path, identity, version)
        return 1 if job is not None else 0
