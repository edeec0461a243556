"""archive: what happens to an original once its job ended."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from conftest import make_profile
from studiocut.hotfolder import archive
from studiocut.profiles import Profile


def original(tmp_path: Path, relative: str = "sub/IMG_0001.jpg", data: bytes = b"take 1") -> Path:
    path = tmp_path / "in" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def profile_for(tmp_path: Path, **keys: object) -> Profile:
    return make_profile(watch=str(tmp_path / "in"), output=str(tmp_path / "out"), **keys)


def test_after_done_keep_leaves_the_original_where_it_is(tmp_path: Path) -> None:
    source = original(tmp_path)

    archive.after_done(profile_for(tmp_path), source, Path("sub"))

    assert source.read_bytes() == b"take 1"


def test_after_done_delete_removes_the_original(tmp_path: Path) -> None:
    source = original(tmp_path)

    archive.after_done(profile_for(tmp_path, after="delete"), source, Path("sub"))

    assert not source.exists()


def test_after_done_move_mirrors_the_subfolder_and_never_overwrites(tmp_path: Path) -> None:
    done = tmp_path / "done"
    profile = profile_for(tmp_path, after={"move": str(done)})
    first = original(tmp_path, data=b"take 1")
    archive.after_done(profile, first, Path("sub"))
    second = original(tmp_path, data=b"take 2")  # a wrapped camera counter: same name again

    archive.after_done(profile, second, Path("sub"))

    assert not first.exists()
    assert (done / "sub" / "IMG_0001.jpg").read_bytes() == b"take 1"
    assert (done / "sub" / "IMG_0001-1.jpg").read_bytes() == b"take 2"


def test_after_failed_moves_the_original_beside_a_note_of_the_reason(tmp_path: Path) -> None:
    failed = tmp_path / "failed"
    profile = profile_for(tmp_path, failed=str(failed))
    source = original(tmp_path)

    archive.after_failed(profile, source, Path("sub"), "IMG_0001.jpg: truncated JPEG")
    again = original(tmp_path, data=b"take 2")
    archive.after_failed(profile, again, Path("sub"), "IMG_0001.jpg: not an image")

    assert not source.exists()
    assert (failed / "sub" / "IMG_0001.jpg").read_bytes() == b"take 1"
    assert (failed / "sub" / "IMG_0001.jpg.error.txt").read_text() == (
        "IMG_0001.jpg: truncated JPEG\n")
    assert (failed / "sub" / "IMG_0001-1.jpg").read_bytes() == b"take 2"
    assert (failed / "sub" / "IMG_0001-1.jpg.error.txt").read_text() == (
        "IMG_0001.jpg: not an image\n")


def test_after_failed_without_a_failed_folder_leaves_the_original(tmp_path: Path) -> None:
    source = original(tmp_path)

    archive.after_failed(profile_for(tmp_path), source, Path("sub"), "truncated")

    assert source.read_bytes() == b"take 1"


def test_a_failing_move_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "failed"
    blocker.write_bytes(b"a file where the failed folder should be")
    source = original(tmp_path)
    caplog.set_level(logging.WARNING, logger="studiocut.hotfolder.archive")

    archive.after_failed(profile_for(tmp_path, failed=str(blocker)), source, Path("sub"),
                         "truncated")
    archive.after_done(profile_for(tmp_path, after={"move": str(blocker)}), source,
                       Path("sub"))

    assert source.read_bytes() == b"take 1"
    failed_line, done_line = (r.getMessage() for r in caplog.records)
    assert "could not move failed" in failed_line and str(source) in failed_line
    assert "could not move it" in done_line and str(source) in done_line


def test_a_vanished_original_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    profile = profile_for(tmp_path, after={"move": str(tmp_path / "done")})
    caplog.set_level(logging.WARNING, logger="studiocut.hotfolder.archive")

    archive.after_done(profile, tmp_path / "in" / "gone.jpg", Path("."))

    assert any("gone.jpg" in r.getMessage() for r in caplog.records)
