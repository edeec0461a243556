"""roster: the profiles the daemon runs.

Loaded at start (the built-in default when the profiles folder has none) and reloaded when a
file there changes or on SIGHUP; a broken edit is reported and the last good version stays.
Activating a profile opens its model, shared by the workers and the review page. Each active
profile has a folder observer feeding the intake, rebuilt when it dies; a profile whose folders
fail (missing, not writable, disk full) pauses and resumes by itself once a test write
succeeds. The workers take jobs only of the active profiles.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.observers.api import BaseObserver

from studiocut import atomic, places, profiles
from studiocut.errors import ConfigError, ModelError, StudiocutError
from studiocut.hotfolder import watcher
from studiocut.hotfolder.intake import Intake
from studiocut.journal import Journal
from studiocut.models import predict
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile, folders

log = logging.getLogger(__name__)

RELAPSE = 30.0  # seconds after a resume within which a new pause counts as the same fault
MAX_BACKOFF = 300.0  # the longest wait between two probes of a relapsing profile


@dataclass
class Watched:
    """A profile as the daemon runs it."""

    profile: Profile
    version: str
    model: MaskModel
    observer: BaseObserver | None = None
    paused: str | None = None
    done_recent: deque[float] = field(default_factory=lambda: deque(maxlen=200))
    # a fault that comes back right after each resume waits longer each time (see pause)
    resumed_at: float = 0.0
    relapses: int = 0
    next_probe: float = 0.0

    def per_minute(self, now: float | None = None) -> int:
        """Photos finished in the last minute (a copy: workers append meanwhile)."""
        now = time.monotonic() if now is None else now
        return sum(1 for t in list(self.done_recent) if now - t < 60)


@dataclass(frozen=True)
class Loaded:
    """The profiles found at start: {name: (profile, version)}, the snapshot of their files
    (to notice edits) and whether they are the built-in default (never reloaded)."""

    profiles: dict[str, tuple[Profile, str]]
    snapshot: dict[Path, tuple[int, int]] = field(default_factory=dict)
    builtin: bool = False


def load(folder: Path) -> Loaded:
    """Load every profile in ``folder`` and create their folders; raise ConfigError naming
    every problem of every file. No profiles at all: the built-in default, on the default
    inbox and outbox."""
    files = profiles.files(folder)
    if not files:
        inbox, outbox = places.default_inbox(), places.default_outbox()
        for path in (inbox, outbox):
            path.mkdir(parents=True, exist_ok=True)
        default = profiles.builtin_default(watch=inbox, output=outbox)
        print(f"No profiles in {folder}: using the built-in default profile.\n"
              f"  Drop photos into: {inbox}\n  Finished images appear in: {outbox}",
              file=sys.stderr, flush=True)
        return Loaded({"default": (default, "builtin")}, builtin=True)
    taken = snapshot(files)
    loaded: dict[str, tuple[Profile, str]] = {}
    problems: list[str] = []
    for path in files:
        try:
            profile = profiles.load(path)
            folders.check_runnable(profile)
            loaded[profile.name] = (profile, version_of(path))
        except ConfigError as e:
            problems.extend(e.problems)
    problems.extend(folders.problems([p for p, _ in loaded.values()], between=True))
    if problems:
        raise ConfigError(problems)
    for profile, _ in loaded.values():
        prepare_folders(profile)
    return Loaded(loaded, taken)


class Roster:
    """The running profiles by name, their observers and pauses. Reloads, health checks,
    pauses and resumes run on the main thread; workers and the review page read."""

    def __init__(self, found: Loaded, *, folder: Path, journal: Journal, intake: Intake,
                 wake: threading.Event, reviewing: bool, cache_dir: Path) -> None:
        """Activate every profile ``found`` (open its model); raise ConfigError or
        ModelError. Nothing is watched until ``watch_all``."""
        self.watched: dict[str, Watched] = {}
        self._folder = folder
        self._snapshot = found.snapshot
        self._builtin = found.builtin
        self._journal = journal
        self._intake = intake
        self._wake = wake
        self._reviewing = reviewing
        self._cache_dir = cache_dir
        for name, (profile, version) in found.profiles.items():
            self.watched[name] = self._activate(profile, version)
        self.sync_intake()

    # ------------------------------------------------------------------ what others read

    def get(self, name: str) -> Watched | None:
        return self.watched.get(name)

    def active(self) -> list[str]:
        """The names of the profiles whose jobs may run now (a copy: the main thread
        replaces entries when profiles reload)."""
        return [n for n, w in list(self.watched.items()) if w.paused is None]

    def running(self, name: str) -> tuple[Profile, MaskModel] | None:
        item = self.watched.get(name)
        return (item.profile, item.model) if item is not None else None

    def names(self) -> list[str]:
        return sorted(dict(self.watched))

    def profiles(self) -> list[Profile]:
        """Every running profile (a copy: reloads replace entries meanwhile)."""
        return [w.profile for w in list(self.watched.values())]

    def watch_of(self, name: str) -> Path | None:
        item = self.watched.get(name)
        return item.profile.watch if item is not None else None

    def finished(self, name: str) -> None:
        """Count a photo of the profile as done now (its per-minute figure)."""
        item = self.watched.get(name)
        if item is not None:
            item.done_recent.append(time.monotonic())

    # ------------------------------------------------------------------ profiles

    def reload(self) -> None:
        """Re-read the profiles folder. A broken file is reported and its previous good
        version stays active; new profiles start, removed ones stop."""
        if self._builtin:
            return
        files = profiles.files(self._folder)
        self._snapshot = snapshot(files)
        seen: set[str] = set()
        for path in files:
            name = path.stem
            seen.add(name)
            version = version_of(path)
            current = self.watched.get(name)
            if current is not None and current.version == version:
                continue
            try:
                profile = profiles.load(path)
                folders.check_runnable(profile)
                self._check_folders(profile)
                prepare_folders(profile)
                replacement = self._activate(profile, version)
            except (ConfigError, ModelError, OSError) as e:
                lines = e.problems if isinstance(e, ConfigError) else [f"{path}: {e}"]
                for line in lines:
                    log.error("profile not reloaded: %s", line)
                if current is not None:
                    log.error("profile %s: keeping the previous good version", name)
                continue
            if current is not None and current.observer is not None:
                watcher.stop(current.observer)
            self.watched[name] = replacement
            self.sync_intake()
            self.watch(replacement)
            log.info("profile %s %s", name, "reloaded" if current else "added")
        for name in [n for n in self.watched if n not in seen]:
            item = self.watched.pop(name)
            if item.observer is not None:
                watcher.stop(item.observer)
            log.info("profile %s removed; its pending photos wait until it returns", name)
        self.sync_intake()

    def _check_folders(self, profile: Profile) -> None:
        """Raise ConfigError when ``profile`` would write where a running profile watches,
        or share an output tree with one where names can collide (the running ones keep
        going; this one is refused)."""
        others = [w.profile for name, w in self.watched.items() if name != profile.name]
        found = [b for b in folders.breaches([*others, profile])
                 if b.profile is profile or profile.name in b.others]
        if found:
            raise ConfigError(folders.lines(found))

    def changed(self) -> bool:
        """Whether a file in the profiles folder was added, removed or edited."""
        if self._builtin:
            return False
        return snapshot(profiles.files(self._folder)) != self._snapshot

    def _activate(self, profile: Profile, version: str) -> Watched:
        if profile.review is not None and profile.review.hold != "none" and not self._reviewing:
            raise ConfigError([f"{profile.path or profile.name}: At 'review.hold': holding "
                               "results needs the review page, which is turned off "
                               f"(--no-review) (got {profile.review.hold!r}; expected none)"])
        request = profile.model_request(threads=threads_per_model(),
                                        cache_dir=self._cache_dir)
        return Watched(profile, version, predict.open_model(request))

    def sync_intake(self) -> None:
        self._intake.set_profiles(
            {name: (w.profile, w.version) for name, w in self.watched.items()
             if w.paused is None})

    # ------------------------------------------------------------------ watching

    def watch_all(self) -> None:
        for item in self.watched.values():
            self.watch(item)

    def watch(self, item: Watched) -> None:
        """Start the profile's observer, remove temp files an unclean stop left in its
        output folder and scan its watched folder; a missing folder pauses it instead."""
        profile = item.profile
        assert profile.watch is not None
        if not profile.watch.is_dir():
            self.pause(item, f"watched folder {profile.watch} is missing")
            return
        try:
            item.observer = watcher.start(self._intake, profile)
        except OSError as e:
            log.warning("profile %s: native events unavailable (%s); relying on rescans",
                        profile.name, e)
            item.observer = None
        removed = atomic.remove_orphans(profile.output) if profile.output else 0
        if removed:
            log.info("removed %d temp file(s) left by an unclean stop in %s", removed,
                     profile.output)
        seen = self._intake.scan(profile)
        log.info("profile %s watching %s (%d file(s) present)", profile.name, profile.watch,
                 seen)

    def rescan(self) -> None:
        """Notice every file in the active profiles' folders (events are only hints)."""
        for item in self.watched.values():
            if item.paused is None:
                self._intake.scan(item.profile)

    def stop_watching(self) -> None:
        for item in self.watched.values():
            if item.observer is not None:
                watcher.stop(item.observer)

    def dead_observers(self) -> list[str]:
        """The names of the profiles whose folder observer died."""
        return [name for name, w in self.watched.items()
                if w.observer is not None and not watcher.healthy(w.observer)]

    # ------------------------------------------------------------------ health

    def check_all(self) -> None:
        for item in list(self.watched.values()):
            self.check(item)

    def check(self, item: Watched) -> None:
        """Resume a paused profile whose folders work again; pause one whose folders fail;
        rebuild a dead observer and rescan."""
        profile = item.profile
        assert profile.watch is not None
        if item.paused is not None:
            if time.monotonic() < item.next_probe:
                return
            problem = environment_problem(profile, probe=True)
            if problem is None:
                self.resume(item)
            else:
                item.paused = problem
            return
        problem = environment_problem(profile, probe=False)
        if problem is not None:
            self.pause(item, problem)
            return
        if item.observer is not None and not watcher.healthy(item.observer):
            log.error("profile %s: the folder observer died; rebuilding it and rescanning",
                      profile.name)
            watcher.stop(item.observer, timeout=1.0)
            item.observer = None
            self.watch(item)

    def pause(self, item: Watched, reason: str) -> None:
        """Stop taking the profile's photos until its folders work again. A fault that
        returns within RELAPSE seconds of a resume (the probe passes, the next photo fails
        again) backs the probes off: 2, 4, 8 ... up to MAX_BACKOFF seconds apart."""
        if item.paused is None:
            now = time.monotonic()
            item.relapses = item.relapses + 1 if now - item.resumed_at < RELAPSE else 0
            wait = min(MAX_BACKOFF, 2.0 ** item.relapses) if item.relapses else 0.0
            item.next_probe = now + wait
            log.error("profile %s paused: %s (it resumes on its own when this is fixed%s)",
                      item.profile.name, reason,
                      f"; it came back {item.relapses} time(s) right after resuming, next "
                      f"check in {wait:g} s" if wait else "")
            self._journal.event("status", profile=item.profile.name,
                                data={"state": "paused", "reason": reason})
        item.paused = reason
        if item.observer is not None:
            watcher.stop(item.observer, timeout=1.0)
            item.observer = None
        self.sync_intake()

    def resume(self, item: Watched) -> None:
        log.warning("profile %s resumed", item.profile.name)
        item.paused = None
        item.resumed_at = time.monotonic()
        self._journal.event("status", profile=item.profile.name, data={"state": "active"})
        self.sync_intake()
        self.watch(item)
        self._wake.set()


# --------------------------------------------------------------------------- helpers


def threads_per_model() -> int:
    """Every core: a model runs one inference at a time (see providers.Session)."""
    return os.cpu_count() or 1


def snapshot(files: list[Path]) -> dict[Path, tuple[int, int]]:
    result = {}
    for path in files:
        try:
            st = path.stat()
            result[path] = (st.st_mtime_ns, st.st_size)
        except OSError:
            continue
    return result


def version_of(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return secrets.token_hex(8)


def prepare_folders(profile: Profile) -> None:
    """Create a profile's watch and output folders at load (not at run time: a folder that
    disappears later pauses the profile instead)."""
    for folder in (profile.watch, profile.output):
        if folder is None:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            log.warning("cannot create %s: %s", folder, e.strerror)


def environment_problem(profile: Profile, *, probe: bool) -> str | None:
    """Why the profile cannot work right now (watched or output folder missing, output not
    writable, disk full), or None. With ``probe`` the output folder is tested by writing,
    syncing and deleting a small file, which is how a paused profile knows it can resume."""
    assert profile.watch is not None and profile.output is not None
    if not profile.watch.is_dir():
        return f"watched folder {profile.watch} is missing"
    if not profile.output.is_dir():
        return f"output folder {profile.output} is missing"
    if not probe:
        return None
    probe_file = profile.output / f".probe-{secrets.token_hex(4)}{atomic.TEMP_SUFFIX}"
    try:
        atomic.write_atomic(probe_file, b"\0" * 65536)
    except StudiocutError as e:
        return str(e)
    finally:
        with contextlib.suppress(OSError):
            probe_file.unlink()
    return None
