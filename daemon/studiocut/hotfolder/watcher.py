"""watcher: filesystem events as hints. The handler only notices paths; it does no work.

Native observers (inotify, FSEvents, ReadDirectoryChangesW) by default; a polling observer for
network shares where native events do not arrive. Events can be lost (inotify overflow, a dead
observer thread): the daemon's startup scan and periodic rescans are the source of truth.
"""

from __future__ import annotations

import logging
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from studiocut import faults
from studiocut.hotfolder.intake import Intake
from studiocut.profiles import Profile

log = logging.getLogger(__name__)


class NoticeHandler(FileSystemEventHandler):
    """Turns every event into ``intake.notice`` calls for the paths involved."""

    def __init__(self, intake: Intake, profile: str) -> None:
        self._intake = intake
        self._profile = profile

    def on_any_event(self, event: FileSystemEvent) -> None:
        faults.point("observer-event", Path(_text(event.src_path)))
        if isinstance(event, (DirCreatedEvent, DirMovedEvent)):
            folder = Path(_text(event.dest_path or event.src_path))
            self._intake.notice_folder(self._profile, folder)
            return
        if event.is_directory:
            return
        closed = isinstance(event, FileClosedEvent)
        if event.event_type == "moved" and event.dest_path:
            self._intake.notice(self._profile, Path(_text(event.dest_path)))
        elif event.event_type not in ("deleted", "opened", "closed_no_write"):
            self._intake.notice(self._profile, Path(_text(event.src_path)), closed=closed)


def _text(path: str | bytes) -> str:
    return path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path


def start(intake: Intake, profile: Profile) -> BaseObserver:
    """Start and return an observer for the profile's watched folder; raise OSError if the
    folder cannot be watched."""
    assert profile.watch is not None
    observer: BaseObserver
    if profile.watch_mode == "polling":
        observer = PollingObserver(timeout=profile.poll_interval)
    else:
        observer = Observer()
    observer.name = f"observer-{profile.name}"
    observer.daemon = True
    try:
        observer.schedule(NoticeHandler(intake, profile.name), str(profile.watch),
                          recursive=profile.recursive)
        observer.start()
    except BaseException:
        stop(observer)  # the inotify observer starts a reader thread when it is created
        raise
    return observer


def healthy(observer: BaseObserver) -> bool:
    """True while the observer and each of its emitter threads are alive."""
    return observer.is_alive() and all(e.is_alive() for e in observer.emitters)


def stop(observer: BaseObserver, timeout: float = 5.0) -> None:
    """Stop an observer and join its threads."""
    try:
        observer.stop()
        observer.join(timeout)
    except Exception:  # a broken observer must not block shutdown or a rebuild
        log.debug("error stopping observer", exc_info=True)
