"""Fixtures of the journal's tests: a fresh journal, and a clock that needs no sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from journals import Clock
from studiocut.journal import Journal, store


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "state" / "journal.db")
    yield j
    j.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(1_000_000.0)
    monkeypatch.setattr(store, "time", fake)
    return fake
