"""Fixtures of the hot-folder tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon_harness import Daemon


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A daemon subprocess over ``tmp_path`` (not started); killed if a test leaves it up."""
    instance = Daemon(tmp_path)
    yield instance
    if instance.proc is not None and instance.proc.poll() is None:
        instance.kill9()
