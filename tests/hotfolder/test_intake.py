"""intake: a noticed path becomes one pending job, only once the file is complete."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import make_profile
from studiocut import journal
from studiocut.hotfolder import intake
from studiocut.hotfolder.intake import Intake, accepts, walk
from studiocut.journal import Identity, Journal

SETTLE = 2.0


class Setup:
    """A watched folder, a journal and an intake with one profile called ``test``."""

    def __init__(self, root: Path, **keys: object) -> None:
        self.inbox = root / "in"
        self.inbox.mkdir()
        self.journal = Journal(root / "state" / "journal.db")
        self.profile = make_profile(watch=str(self.inbox), output=str(root / "out"),
                                    settle=SETTLE, **keys)
        self.wakes = 0
        self.intake = Intake(self.journal, self._on_job)
        self.intake.set_profiles({"test": (self.profile, "v1")})

    def _on_job(self) -> None:
        self.wakes += 1

    def write(self, name: str, data: bytes = b"x" * 100, *, append: bool = False) -> Path:
        path = self.inbox / name
        with open(path, "ab" if append else "wb") as f:
            f.write(data)
        return path

    def notice(self, path: Path, *, closed: bool = False) -> None:
        self.intake.notice("test", path, closed=closed)

    def states(self) -> dict[str, str]:
        return {job.source.name: job.state for job in self.journal.jobs()}


@pytest.fixture
def hot(tmp_path: Path) -> Iterator[Setup]:
    setup = Setup(tmp_path)
    yield setup
    setup.journal.close()


# --------------------------------------------------------------------------- accepts


@pytest.mark.parametrize("name", [
    ".hidden.jpg",                   # hidden file
    ".IMG_0001.jpg.AbC123",          # rsync's temp name
    "IMG_0001.jpg.tmp",              # copy tool's temp name
    "~IMG_0001.jpg",                 # editor lock / temp
    ".IMG_0001.jpg.1a2b.studiocut.tmp",  # our own temp file
    "IMG_0001.part",                 # partial download
    "IMG_0001.jpg.crdownload",
])
def test_accepts_refuses_hidden_and_temporary_names_even_when_include_matches_all(
    name: str,
) -> None:
    profile = make_profile(include=["*"])

    assert not accepts(profile, name)
    assert accepts(profile, "IMG_0001.jpg")


def test_accepts_refuses_names_matching_the_profile_ignore_patterns() -> None:
    profile = make_profile(ignore=["*_proof.*", "contact*"])

    assert not accepts(profile, "IMG_0001_proof.jpg")
    assert not accepts(profile, "Contact-Sheet.JPG")
    assert accepts(profile, "IMG_0001.jpg")


def test_accepts_only_names_matching_the_include_patterns() -> None:
    profile = make_profile(include=["*.tif"])

    assert accepts(profile, "IMG_0001.tif")
    assert not accepts(profile, "IMG_0001.jpg")
    assert not accepts(profile, "notes.txt")


def test_accepts_ignores_case_in_names_and_patterns() -> None:
    default = make_profile()
    upper = make_profile(include=["*.TIF"], ignore=["*_PROOF.*"])

    assert accepts(default, "IMG_0001.JPG")
    assert accepts(default, "IMG_0001.Cr2")
    assert not accepts(default, "notes.TXT")
    assert accepts(upper, "shot.tif")
    assert not accepts(upper, "shot_proof.tif")


# --------------------------------------------------------------------------- walk


def test_walk_does_not_follow_symlinked_folders_and_skips_hidden_folders(
    tmp_path: Path,
) -> None:
    root, outside = tmp_path / "in", tmp_path / "elsewhere"
    (root / "sub").mkdir(parents=True)
    (root / ".cache").mkdir()
    outside.mkdir()
    for path in (root / "a.jpg", root / "sub" / "b.jpg", root / ".cache" / "c.jpg",
                 outside / "d.jpg"):
        path.write_bytes(b"x")
    (root / "linked").symlink_to(outside, target_is_directory=True)

    found = set(walk(root, recursive=True))

    assert root / "a.jpg" in found
    assert root / "sub" / "b.jpg" in found
    assert root / ".cache" / "c.jpg" not in found
    assert root / "linked" / "d.jpg" not in found
    assert not any(outside in p.parents for p in found)


def test_walk_honours_recursive(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.jpg").write_bytes(b"x")
    (root / "sub" / "b.jpg").write_bytes(b"x")
    (root / "sub" / "deeper" / "c.jpg").write_bytes(b"x")

    assert set(walk(root, recursive=False)) == {root / "a.jpg"}
    assert set(walk(root, recursive=True)) == {
        root / "a.jpg", root / "sub" / "b.jpg", root / "sub" / "deeper" / "c.jpg"}


def test_walk_of_a_missing_folder_yields_nothing(tmp_path: Path) -> None:
    assert list(walk(tmp_path / "gone", recursive=True)) == []


# --------------------------------------------------------------------------- settling


def test_a_file_is_not_claimed_before_its_size_and_mtime_were_stable_for_settle(
    hot: Setup,
) -> None:
    photo = hot.write("IMG_0001.jpg")
    hot.notice(photo)

    assert hot.intake.tick(now=100.0) == 0
    assert hot.intake.tick(now=100.0 + SETTLE - 0.1) == 0
    assert hot.states() == {}
    assert hot.intake.tick(now=100.0 + SETTLE) == 1

    assert hot.states() == {"IMG_0001.jpg": journal.PENDING}
    job = hot.journal.lookup("test", photo)
    assert job is not None and job.identity == Identity.of(os.lstat(photo))
    assert hot.intake.waiting == 0


def test_a_file_that_keeps_growing_is_claimed_only_after_it_stops(hot: Setup) -> None:
    photo = hot.write("IMG_0001.jpg", b"a" * 64)
    hot.notice(photo)
    assert hot.intake.tick(now=100.0) == 0

    now = 100.0
    for _ in range(4):  # a slow writer: a chunk every 1.5 s, each shorter than the settle
        now += 1.5
        hot.write("IMG_0001.jpg", b"b" * 64, append=True)
        assert hot.intake.tick(now=now) == 0

    assert hot.intake.tick(now=now + SETTLE - 0.1) == 0
    assert hot.intake.tick(now=now + SETTLE) == 1
    job = hot.journal.lookup("test", photo)
    assert job is not None and job.identity.size == 64 * 5


def test_a_close_event_shortens_the_wait_to_closed_settle(hot: Setup) -> None:
    photo = hot.write("IMG_0001.jpg")
    hot.notice(photo, closed=True)

    assert hot.intake.tick(now=100.0) == 0  # never claimed on first sight
    assert hot.intake.tick(now=100.0 + intake.CLOSED_SETTLE - 0.05) == 0
    assert hot.intake.tick(now=100.0 + intake.CLOSED_SETTLE) == 1


def test_a_write_after_the_close_event_restarts_the_full_wait(hot: Setup) -> None:
    photo = hot.write("IMG_0001.jpg")
    hot.notice(photo, closed=True)
    assert hot.intake.tick(now=100.0) == 0

    hot.write("IMG_0001.jpg", b"more", append=True)  # opened again and written
    hot.notice(photo)  # the modify event, no close yet
    assert hot.intake.tick(now=100.1) == 0
    assert hot.intake.tick(now=100.1 + intake.CLOSED_SETTLE + 0.1) == 0
    assert hot.intake.tick(now=100.1 + SETTLE - 0.1) == 0
    assert hot.intake.tick(now=100.1 + SETTLE) == 1


def test_a_file_deleted_before_it_settled_is_dropped_with_nothing_recorded(hot: Setup) -> None:
    photo = hot.write("IMG_0001.jpg")
    hot.notice(photo)
    assert hot.intake.tick(now=100.0) == 0
    photo.unlink()  # deleted by the operator, or renamed away, before it settled

    assert hot.intake.tick(now=100.0 + SETTLE) == 0

    assert hot.journal.jobs() == []
    assert hot.intake.waiting == 0
    assert hot.wakes == 0


@pytest.fixture
def opened_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every path opened through open() or os.open() during the test."""
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.fsdecode(file) if isinstance(file, (str, bytes, Path)) else "")
        return real_open(file, *args, **kwargs)

    def spy_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fsdecode(path))
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    return opened


def test_a_symlink_and_a_fifo_named_jpg_are_recorded_as_ignored_and_never_opened(
    hot: Setup, tmp_path: Path, opened_paths: list[str],
) -> None:
    target = tmp_path / "secret.jpg"
    target.write_bytes(b"not yours")
    link = hot.inbox / "link.jpg"
    link.symlink_to(target)
    fifo = hot.inbox / "pipe.jpg"
    os.mkfifo(fifo)
    # hold both ends open, so a buggy open() would not block the test forever
    guard = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    opened_paths.clear()
    try:
        hot.notice(link)
        hot.notice(fifo)
        assert hot.intake.tick(now=100.0) == 0
        assert hot.intake.tick(now=100.0 + SETTLE) == 0
    finally:
        os.close(guard)

    jobs = {job.source.name: job for job in hot.journal.jobs()}
    assert {name: (j.state, j.reason) for name, j in jobs.items()} == {
        "link.jpg": (journal.IGNORED, "not-a-file"),
        "pipe.jpg": (journal.IGNORED, "not-a-file"),
    }
    assert jobs["link.jpg"].identity.inode == os.lstat(link).st_ino  # the link, not its target
    assert jobs["link.jpg"].identity.inode != target.stat().st_ino
    assert not [p for p in opened_paths if p in (str(link), str(fifo), str(target))]
    assert hot.intake.waiting == 0


def test_a_hidden_file_that_looks_like_a_photo_is_recorded_as_ignored_once_settled(
    hot: Setup, caplog: pytest.LogCaptureFixture,
) -> None:
    hidden = hot.write("..jpg")
    apple = hot.write("._IMG_0001.JPG")
    rsync = hot.write(".IMG_0002.jpg.AbC123")  # a copy tool's temp: nothing to record
    found = set(walk(hot.inbox, recursive=True))
    assert {hidden, apple, rsync} <= found  # the scan sees them; the intake decides
    for path in found:
        hot.notice(path)

    assert hot.intake.tick(now=100.0) == 0
    assert hot.states() == {}  # not settled yet: a temp name may still be renamed
    with caplog.at_level("WARNING"):
        assert hot.intake.tick(now=100.0 + SETTLE) == 0

    jobs = {job.source.name: (job.state, job.reason) for job in hot.journal.jobs()}
    assert jobs == {"..jpg": (journal.IGNORED, "hidden-name"),
                    "._IMG_0001.JPG": (journal.IGNORED, "hidden-name")}
    assert sum("hidden name" in r.getMessage() for r in caplog.records) == 2
    assert hot.intake.waiting == 0


def test_an_already_known_file_is_dropped_at_once_with_one_journal_lookup(
    hot: Setup, monkeypatch: pytest.MonkeyPatch,
) -> None:
    photo = hot.write("IMG_0001.jpg")
    assert hot.journal.enqueue("test", photo, Identity.of(os.lstat(photo)), "v1") is not None
    lookups: list[Path] = []
    real_lookup = hot.journal.lookup

    def counting_lookup(profile: str, source: Path) -> journal.Job | None:
        lookups.append(source)
        return real_lookup(profile, source)

    monkeypatch.setattr(hot.journal, "lookup", counting_lookup)
    hot.notice(photo)  # a rescan, or a touch event without a change

    assert hot.intake.tick(now=100.0) == 0

    assert lookups == [photo]
    assert hot.intake.waiting == 0
    assert len(hot.journal.jobs()) == 1


def test_a_reshot_file_with_a_known_name_is_queued_again_after_it_settles(hot: Setup) -> None:
    photo = hot.write("IMG_0001.jpg", b"first take")
    first = hot.journal.enqueue("test", photo, Identity.of(os.lstat(photo)), "v1")
    assert first is not None
    assert hot.journal.claim_next(["test"]) is not None
    hot.journal.finish(first.id, journal.DONE)

    hot.write("IMG_0001.jpg", b"second take, longer")
    hot.notice(photo)
    assert hot.intake.tick(now=100.0) == 0
    assert hot.intake.tick(now=100.0 + SETTLE) == 1

    job = hot.journal.lookup("test", photo)
    assert job is not None
    assert (job.id, job.state, job.identity.size) == (first.id, journal.PENDING, 19)


# --------------------------------------------------------------------------- bounds and profiles


def test_no_more_than_max_candidates_are_watched_and_the_rest_wait_their_turn(
    hot: Setup, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "MAX_CANDIDATES", 5)
    photos = [hot.write(f"IMG_{i:04d}.jpg") for i in range(10)]
    for photo in photos:
        hot.notice(photo)

    assert hot.intake.tick(now=100.0) == 0
    assert hot.intake.tick(now=100.0 + SETTLE) == 5  # only five were being watched
    assert len(hot.journal.jobs()) == 5

    hot.intake.tick(now=110.0)  # slots are free again: the other five are looked at now
    assert hot.intake.tick(now=110.0 + SETTLE) == 5
    assert hot.states() == {p.name: journal.PENDING for p in photos}
    assert hot.intake.waiting == 0


def test_known_files_noticed_first_by_a_rescan_do_not_starve_new_ones_past_the_bound(
    hot: Setup, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "MAX_CANDIDATES", 5)
    old = [hot.write(f"OLD_{i:04d}.jpg") for i in range(5)]
    for photo in old:
        hot.journal.enqueue("test", photo, Identity.of(os.lstat(photo)), "v1")
    new = [hot.write(f"NEW_{i:04d}.jpg") for i in range(5)]

    for step in range(4):  # rescans, each noticing the folder in the same order
        for photo in old + new:
            hot.notice(photo)
        hot.intake.tick(now=100.0 + step * SETTLE)

    assert {p.name for p in new} <= set(hot.states())


def test_removing_a_profile_drops_its_candidates(hot: Setup, tmp_path: Path) -> None:
    other_inbox = tmp_path / "other-in"
    other_inbox.mkdir()
    other = make_profile(watch=str(other_inbox), output=str(tmp_path / "other-out"),
                         settle=SETTLE)
    hot.intake.set_profiles({"test": (hot.profile, "v1"), "other": (other, "v1")})
    mine = hot.write("IMG_0001.jpg")
    theirs = other_inbox / "IMG_0002.jpg"
    theirs.write_bytes(b"x" * 10)
    hot.notice(mine)
    hot.intake.notice("other", theirs)
    assert hot.intake.tick(now=100.0) == 0
    assert hot.intake.waiting == 2

    hot.intake.set_profiles({"test": (hot.profile, "v1")})

    assert hot.intake.waiting == 1
    assert hot.intake.tick(now=100.0 + SETTLE) == 1
    assert [(j.profile, j.source) for j in hot.journal.jobs()] == [("test", mine)]


def test_a_notice_for_an_unknown_profile_is_ignored(hot: Setup) -> None:
    hot.intake.notice("nobody", hot.write("IMG_0001.jpg"))

    assert hot.intake.tick(now=100.0) == 0
    assert hot.intake.tick(now=100.0 + SETTLE) == 0
    assert hot.journal.jobs() == []


def test_on_job_fires_once_per_tick_that_queued_jobs(hot: Setup) -> None:
    for name in ("IMG_0001.jpg", "IMG_0002.jpg"):
        hot.notice(hot.write(name))

    hot.intake.tick(now=100.0)
    assert hot.wakes == 0
    assert hot.intake.tick(now=100.0 + SETTLE) == 2
    assert hot.wakes == 1
    hot.intake.tick(now=200.0)
    assert hot.wakes == 1


def test_scan_notices_every_file_of_the_watched_folder(hot: Setup) -> None:
    hot.write("IMG_0001.jpg")
    (hot.inbox / "sub").mkdir()
    (hot.inbox / "sub" / "IMG_0002.jpg").write_bytes(b"x")

    assert hot.intake.scan(hot.profile) == 2
    hot.intake.tick(now=100.0)
    assert hot.intake.tick(now=100.0 + SETTLE) == 2


def test_a_folder_moved_into_a_non_recursive_profile_is_not_processed(
    tmp_path: Path,
) -> None:
    setup = Setup(tmp_path, recursive=False)
    try:
        shoot = setup.inbox / "shoot"
        shoot.mkdir()
        (shoot / "IMG_0001.jpg").write_bytes(b"x")

        setup.intake.notice_folder("test", shoot)  # what a folder-created event does
        setup.intake.tick(now=100.0)
        setup.intake.tick(now=100.0 + SETTLE)

        assert setup.journal.jobs() == []
    finally:
        setup.journal.close()


def test_a_folder_moved_into_a_recursive_profile_is_noticed(hot: Setup) -> None:
    shoot = hot.inbox / "shoot"
    shoot.mkdir()
    (shoot / "IMG_0001.jpg").write_bytes(b"x")

    hot.intake.notice_folder("test", shoot)
    hot.intake.tick(now=100.0)

    assert hot.intake.tick(now=100.0 + SETTLE) == 1
    assert hot.states() == {"IMG_0001.jpg": journal.PENDING}
