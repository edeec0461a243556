"""lock: one daemon per state folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from studiocut.hotfolder import lock


def test_a_second_lock_on_the_state_folder_says_already_running(tmp_path: Path) -> None:
    path = tmp_path / lock.LOCK_FILE
    first = lock.take_lock(path)
    try:
        with pytest.raises(lock.AlreadyRunning, match="already running"):
            lock.take_lock(path)
    finally:
        lock.release_lock(first)

    again = lock.take_lock(path)  # released: the next daemon may start
    lock.release_lock(again)
    assert path.read_text().strip() == str(os.getpid())


def test_is_running_is_true_only_while_the_lock_is_held(tmp_path: Path) -> None:
    assert not lock.is_running(tmp_path)  # no lock file at all

    handle = lock.take_lock(tmp_path / lock.LOCK_FILE)
    try:
        assert lock.is_running(tmp_path)
    finally:
        lock.release_lock(handle)

    assert not lock.is_running(tmp_path)
