"""roster: environment checks and the bookkeeping of the profiles the daemon runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_profile
from studiocut import atomic, profiles
from studiocut.errors import ConfigError, OutputError
from studiocut.hotfolder import roster
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


def test_check_runnable_refuses_a_profile_without_folders_naming_each_key() -> None:
    with pytest.raises(ConfigError) as caught:
        roster.check_runnable(make_profile())

    assert caught.value.problems == [
        "test: At 'watch': required to run as a hot folder (got nothing; expected a folder "
        "path)",
        "test: At 'output': required to run as a hot folder (got nothing; expected a folder "
        "path)",
    ]


def test_check_runnable_names_only_the_missing_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        roster.check_runnable(make_profile(watch=str(tmp_path / "in")))

    assert [p.split(":")[1].strip() for p in caught.value.problems] == ["At 'output'"]
    roster.check_runnable(folders(tmp_path))  # both given: accepted


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
