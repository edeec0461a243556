"""windows: the install plan (register, store the parameters, restarts, start) as a dry run
prints it; carried out against a stand-in pywin32 in test_winservice.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from studiocut.errors import ConfigError
from studiocut.service import plan, windows
from studiocut.service.spec import Spec


def test_windows_plan_registers_configures_and_starts_the_service(
        tmp_path: Path, make_spec: Callable[..., Spec]) -> None:
    install = windows.install_plan(make_spec(system=True))

    lines = [plan._describe(step, dry_run=True) for step in install.steps]
    assert lines[0].startswith("would register the Windows service 'studiocut'")
    assert f"profiles={tmp_path / 'profiles'}, state={tmp_path / 'state'}" in lines[1]
    assert "sc.exe failure studiocut" in lines[2]
    assert lines[3].startswith("would start the service")
    with pytest.raises(ConfigError, match="machine-wide"):
        windows.install_plan(make_spec(system=False))
