"""watcher: filesystem events become intake notices; the handler does no other work."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
)
from watchdog.observers.polling import PollingObserver

from conftest import make_profile
from studiocut import faults
from studiocut.hotfolder import watcher
from studiocut.hotfolder.watcher import NoticeHandler


class StubIntake:
    """Records what the handler asks of the intake; thread-safe, as observers call it."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.changed = threading.Condition()

    def notice(self, profile: str, path: Path, *, closed: bool = False) -> None:
        with self.changed:
            self.calls.append(("notice", profile, path, closed))
            self.changed.notify_all()

    def notice_folder(self, profile: str, folder: Path) -> None:
        with self.changed:
            self.calls.append(("notice_folder", profile, folder))
            self.changed.notify_all()

    def wait_for(self, path: Path, *, closed: bool = False, timeout: float = 3.0) -> bool:
        """Wait until ``path`` was noticed (with ``closed``: noticed as closed)."""

        def seen() -> bool:
            return any(call[0] == "notice" and call[2] == path and (call[3] or not closed)
                       for call in self.calls)

        with self.changed:
            return self.changed.wait_for(seen, timeout)


def handle(event: FileSystemEvent) -> list[tuple[Any, ...]]:
    stub = StubIntake()
    NoticeHandler(stub, "studio").dispatch(event)  # type: ignore[arg-type]
    return stub.calls


# --------------------------------------------------------------------------- handler


def test_created_and_modified_events_notice_the_file() -> None:
    assert handle(FileCreatedEvent("/in/a.jpg")) == [
        ("notice", "studio", Path("/in/a.jpg"), False)]
    assert handle(FileModifiedEvent("/in/a.jpg")) == [
        ("notice", "studio", Path("/in/a.jpg"), False)]


def test_a_close_after_write_event_notices_the_file_as_closed() -> None:
    assert handle(FileClosedEvent("/in/a.jpg")) == [
        ("notice", "studio", Path("/in/a.jpg"), True)]


def test_a_moved_event_notices_the_destination() -> None:
    assert handle(FileMovedEvent("/in/.a.jpg.Xy12", "/in/a.jpg")) == [
        ("notice", "studio", Path("/in/a.jpg"), False)]


@pytest.mark.parametrize("event", [
    FileDeletedEvent("/in/a.jpg"),
    FileOpenedEvent("/in/a.jpg"),
    FileClosedNoWriteEvent("/in/a.jpg"),
    DirModifiedEvent("/in/sub"),
    DirDeletedEvent("/in/sub"),
])
def test_events_that_cannot_complete_a_file_notice_nothing(event: FileSystemEvent) -> None:
    assert handle(event) == []


def test_a_created_or_moved_in_folder_notices_the_folder() -> None:
    assert handle(DirCreatedEvent("/in/shoot")) == [
        ("notice_folder", "studio", Path("/in/shoot"))]
    assert handle(DirMovedEvent("/in/tmp-shoot", "/in/shoot")) == [
        ("notice_folder", "studio", Path("/in/shoot"))]


def test_a_non_utf8_byte_path_is_noticed_as_the_same_file_name() -> None:
    raw = b"/in/caf\xe9.jpg"

    (call,) = handle(FileCreatedEvent(raw))

    assert os.fsencode(call[2]) == raw


def test_an_observer_event_fault_raises_in_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "_TABLE", faults._parse("observer-event:raise"))

    with pytest.raises(RuntimeError):
        handle(FileCreatedEvent("/in/a.jpg"))


# --------------------------------------------------------------------------- observers


def test_start_notices_a_file_written_in_the_watched_folder(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    stub = StubIntake()
    observer = watcher.start(stub, make_profile(  # type: ignore[arg-type]
        watch=str(inbox), output=str(tmp_path / "out")))
    try:
        assert watcher.healthy(observer)
        assert not isinstance(observer, PollingObserver)
        photo = inbox / "IMG_0001.jpg"
        photo.write_bytes(b"x" * 1000)

        assert stub.wait_for(photo, closed=True), stub.calls  # Linux reports the close
    finally:
        watcher.stop(observer)

    assert not watcher.healthy(observer)
    assert {call[:3] for call in stub.calls} == {("notice", "test", photo)}


def test_polling_mode_uses_a_polling_observer_that_notices_files(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    stub = StubIntake()
    profile = make_profile(watch=str(inbox), output=str(tmp_path / "out"),
                           watch_mode="polling", poll_interval=0.1)
    observer = watcher.start(stub, profile)  # type: ignore[arg-type]
    try:
        assert isinstance(observer, PollingObserver)
        photo = inbox / "IMG_0001.jpg"
        photo.write_bytes(b"x" * 1000)

        assert stub.wait_for(photo), stub.calls
    finally:
        watcher.stop(observer)

    assert not watcher.healthy(observer)


def test_start_on_a_missing_folder_raises_oserror(tmp_path: Path) -> None:
    profile = make_profile(watch=str(tmp_path / "gone"), output=str(tmp_path / "out"))

    with pytest.raises(OSError):
        watcher.start(StubIntake(), profile)  # type: ignore[arg-type]
