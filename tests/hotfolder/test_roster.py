"""roster: environment checks and the bookkeeping of the profiles the daemon runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import make_profile
from studiocut import atomic, profiles
from studiocut.errors import ConfigError, OutputError
from studiocut.hotfolder import roster
from studiocut.hotfolder.intake import Intake
from studiocut.journal import Journal
from studiocut.profiles import Profile

# --------------------------------------------------------------------------- environment


def folders(tmp_path: Path) -> Profile:
    return make_profile(watch=str(tmp_path / "in"), output=str(tmp_path / "out"))


def test_environment_problem_names_a_missing_watched_folder(tmp_path: Path) -> None:
    problem = roster.environment_problem(folders(tmp_path), probe=False)

    assert problem == f"watched folder {tmp_path / 'in'} is missing"


def test_environment_problem_names_a_missing_output_folder(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()

    problem = roster.environment_problem(folders(tmp_path), probe=True)

    assert problem == f"output folder {tmp_path / 'out'} is missing"


def test_environment_problem_is_none_when_the_output_takes_a_probe_write(
    tmp_path: Path,
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()

    assert roster.environment_problem(folders(tmp_path), probe=False) is None
    assert roster.environment_problem(folders(tmp_path), probe=True) is None
    assert list((tmp_path / "out").iterdir()) == []  # the probe file is gone again


def test_environment_problem_reports_a_failed_probe_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()

    def disk_full(dest: Path, data: bytes, *, root: Path | None = None) -> None:
        raise OutputError("disk-full", f"cannot write {dest}: no space left on the device")

    monkeypatch.setattr(atomic, "write_atomic", disk_full)

    assert roster.environment_problem(folders(tmp_path), probe=False) is None  # no write tried
    problem = roster.environment_problem(folders(tmp_path), probe=True)
    assert problem is not None
    assert "no space left on the device" in problem
    assert str(tmp_path / "out") in problem


# --------------------------------------------------------------------------- profiles


def test_profile_files_lists_visible_yaml_files_in_order(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yaml", ".hidden.yaml", "notes.txt", "c.yaml~"):
        (tmp_path / name).write_text("{}\n")

    assert profiles.files(tmp_path) == [tmp_path / "a.yaml", tmp_path / "b.yml"]
    assert profiles.files(tmp_path / "missing") == []


def test_snapshot_changes_when_a_profile_file_is_edited(tmp_path: Path) -> None:
    path = tmp_path / "studio.yaml"
    path.write_text("settle: 1\n")
    before = roster.snapshot([path, tmp_path / "gone.yaml"])

    path.write_text("settle: 2.5\n")

    assert list(before) == [path]  # a file that cannot be read is left out
    assert roster.snapshot([path]) != before


# --------------------------------------------------------------------------- the roster


@pytest.fixture
def journal_db(tmp_path: Path) -> Iterator[Journal]:
    db = Journal(tmp_path / "journal.db")
    yield db
    db.close()


def write(folder: Path, name: str, keys: dict[str, object]) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(keys))


def studio_keys(tmp_path: Path, **more: object) -> dict[str, object]:
    return {"watch": str(tmp_path / "in"), "output": str(tmp_path / "out"),
            "model": "backdrop-key", "key": {"assist": "none"}, **more}


def start(tmp_path: Path, db: Journal) -> roster.Roster:
    folder = tmp_path / "profiles"
    return roster.Roster(roster.load(folder), folder=folder, journal=db,
                         intake=Intake(db, lambda: None), wake=threading.Event(),
                         reviewing=False, cache_dir=tmp_path / "cache")


def test_load_reports_every_broken_file_and_creates_the_folders(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    write(folder, "a", {"backdrop": "mauve"})
    write(folder, "b", {"model": "no-such-model"})
    with pytest.raises(ConfigError) as caught:
        roster.load(folder)
    assert {p.split(":")[0] for p in caught.value.problems} == {
        str(folder / "a.yaml"), str(folder / "b.yaml")}  # every file's problems at once

    write(folder, "a", studio_keys(tmp_path))
    (folder / "b.yaml").unlink()
    found = roster.load(folder)
    assert list(found.profiles) == ["a"] and not found.builtin
    assert (tmp_path / "in").is_dir() and (tmp_path / "out").is_dir()


def test_a_broken_edit_keeps_the_last_good_version(
        tmp_path: Path, journal_db: Journal) -> None:
    write(tmp_path / "profiles", "studio", studio_keys(tmp_path))
    running = start(tmp_path, journal_db)
    good = running.watched["studio"]
    try:
        write(tmp_path / "profiles", "studio", studio_keys(tmp_path, backdrop="mauve"))
        assert running.changed()
        running.reload()
        assert running.watched["studio"] is good and not running.changed()

        write(tmp_path / "profiles", "studio", studio_keys(tmp_path, settle=2.5))
        running.reload()
        assert running.watched["studio"].profile.settle == 2.5
        assert running.watched["studio"].observer is not None  # watching again
    finally:
        running.stop_watching()


def test_a_paused_profile_takes_no_jobs_until_its_folders_work_again(
        tmp_path: Path, journal_db: Journal) -> None:
    write(tmp_path / "profiles", "studio", studio_keys(tmp_path))
    running = start(tmp_path, journal_db)
    item = running.watched["studio"]
    try:
        running.pause(item, "output folder is missing")
        assert running.active() == [] and item.observer is None

        running.check(item)  # the probe write succeeds: it resumes by itself

        assert running.active() == ["studio"] and item.paused is None
    finally:
        running.stop_watching()
    events = [e.data for e in journal_db.events(0) if e.kind == "status"]
    assert events == [{"state": "paused", "reason": "output folder is missing"},
                      {"state": "active"}]


def test_a_fault_back_right_after_each_resume_waits_longer_before_the_next_probe(
        tmp_path: Path, journal_db: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "profiles", "studio", studio_keys(tmp_path))
    running = start(tmp_path, journal_db)
    item = running.watched["studio"]
    clock = [1000.0]
    monkeypatch.setattr(roster.time, "monotonic", lambda: clock[0])
    try:
        running.pause(item, "cannot write: quota")
        running.check(item)  # the first pause: probed at once, and it resumes
        assert item.paused is None
        waits = []
        for _ in range(4):  # the next photo fails the same way, right after each resume
            clock[0] += 1.0
            running.pause(item, "cannot write: quota")
            waits.append(item.next_probe - clock[0])
            running.check(item)
            assert item.paused is not None  # not probed before its time
            clock[0] = item.next_probe
            running.check(item)
            assert item.paused is None
        assert waits == [2.0, 4.0, 8.0, 16.0]

        clock[0] += roster.RELAPSE + 1  # a fault long after the last resume starts afresh
        running.pause(item, "output folder is missing")
        assert item.next_probe == clock[0]
    finally:
        running.stop_watching()
