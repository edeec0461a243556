"""Fixtures of the service tests."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from studiocut.service.spec import Spec


@pytest.fixture
def make_spec(tmp_path: Path) -> Callable[..., Spec]:
    """Specs for this interpreter on folders under tmp_path (launchd's logs there too)."""

    def make(*, system: bool = False, timeout: float = 20.0) -> Spec:
        return Spec(python=Path(sys.executable).absolute(), profiles=tmp_path / "profiles",
                    state=tmp_path / "state", system=system, shutdown_timeout=timeout,
                    logs=tmp_path / "Logs" / "studiocut")

    return make
