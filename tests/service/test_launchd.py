"""launchd: the agent's property list rendered with real paths, installing it in the user's
GUI domain, and the repository's service/ plist kept in sync."""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from studiocut.errors import ConfigError
from studiocut.service import launchd
from studiocut.service.plan import Run, Write
from studiocut.service.spec import Spec

REPO = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable).absolute()


def test_launchd_plist_parses_and_has_the_required_keys(tmp_path: Path) -> None:
    odd = Spec(python=PYTHON, profiles=tmp_path / "a & <b>", state=tmp_path / "state",
               shutdown_timeout=30, logs=tmp_path / "Logs" / "studiocut")

    agent = plistlib.loads(launchd.launchd_plist(odd).encode())

    assert agent["Label"] == "com.studiocut.daemon"
    assert agent["ProgramArguments"] == odd.run_arguments()
    assert agent["ProgramArguments"][5] == str(tmp_path / "a & <b>")
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["ExitTimeOut"] > 30  # longer than the drain
    log = tmp_path / "Logs" / "studiocut" / "studiocut.log"
    assert agent["StandardErrorPath"] == agent["StandardOutPath"] == str(log)
    assert all(Path(agent[k]).is_absolute() for k in ("StandardErrorPath", "StandardOutPath"))
    assert Path(agent["ProgramArguments"][0]).is_absolute()


def test_launchd_install_bootstraps_the_agent_in_the_gui_domain(
        make_spec: Callable[..., Spec]) -> None:
    plan = launchd.install_plan(make_spec())

    runs = [step.argv for step in plan.steps if isinstance(step, Run)]
    writes = [step for step in plan.steps if isinstance(step, Write)]
    target = f"gui/{os.getuid()}/com.studiocut.daemon"
    plist = Path.home() / "Library/LaunchAgents/com.studiocut.daemon.plist"
    assert [w.path for w in writes] == [plist]
    assert runs == [("launchctl", "bootout", target), ("launchctl", "enable", target),
                    ("launchctl", "bootstrap", f"gui/{os.getuid()}", str(plist))]
    with pytest.raises(ConfigError, match="--system is not supported"):
        launchd.install_plan(make_spec(system=True))


def test_repo_plist_is_the_rendering_with_example_paths() -> None:
    mac = Path("/Users/you")
    agent = Spec(python=mac / "studiocut/.venv/bin/python",
                 profiles=mac / "Library/Application Support/studiocut/profiles",
                 state=mac / "Library/Application Support/studiocut",
                 logs=mac / "Library/Logs/studiocut")
    assert (REPO / "service" / "com.studiocut.daemon.plist").read_text() == \
        launchd.launchd_plist(agent)
