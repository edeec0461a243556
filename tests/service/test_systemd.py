"""systemd: the unit rendered with real paths (system-wide and per-user), its quoting and
hardening, systemd-analyze's verdict on it, and the repository's service/ units kept in sync."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from studiocut.errors import ConfigError
from studiocut.service import systemd
from studiocut.service.spec import Spec

REPO = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable).absolute()
HARDENING = ("NoNewPrivileges", "CapabilityBoundingSet", "Protect", "Private", "Restrict",
             "LockPersonality", "SystemCall")


def directives(unit: str) -> dict[str, str]:
    result = {}
    for line in unit.splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            result[key] = value
    return result


@pytest.mark.parametrize("system", [True, False], ids=["system", "user"])
def test_systemd_unit_runs_this_python_on_the_given_folders(
        tmp_path: Path, make_spec: Callable[..., Spec], system: bool) -> None:
    unit = directives(systemd.systemd_unit(make_spec(system=system, timeout=30)))

    argv = shlex.split(unit["ExecStart"])
    assert argv == [str(PYTHON), "-m", "studiocut", "run",
                    "--profiles", str(tmp_path / "profiles"), "--state", str(tmp_path / "state"),
                    "--shutdown-timeout", "30", "--plain"]
    assert all(Path(argv[i]).is_absolute() for i in (0, 5, 7))
    assert unit["Type"] == "notify" and unit["Restart"] == "on-failure"
    assert int(unit["TimeoutStopSec"]) > 30  # longer than the drain
    assert int(unit["WatchdogSec"]) > 1
    assert unit.get("User") == ("studiocut" if system else None)
    assert unit["WantedBy"] == ("multi-user.target" if system else "default.target")


def test_every_hardening_line_of_the_system_unit_has_its_own_comment(
        make_spec: Callable[..., Spec]) -> None:
    lines = systemd.systemd_unit(make_spec(system=True)).splitlines()

    hardening = [i for i, line in enumerate(lines) if line.startswith(HARDENING)]
    assert len(hardening) >= 15
    for i in hardening:
        assert lines[i - 1].startswith("#"), f"no comment above {lines[i]}"
    comments = [lines[i - 1] for i in hardening]
    assert len(set(comments)) == len(comments)  # one comment per line, not one per block


def test_exec_start_arguments_with_spaces_percent_and_dollar_are_escaped() -> None:
    assert systemd.systemd_quote("/srv/plain") == "/srv/plain"
    assert systemd.systemd_quote("/srv/my photos") == '"/srv/my photos"'
    assert systemd.systemd_quote("/srv/100%/$HOME") == "/srv/100%%/$$HOME"
    assert systemd.systemd_quote('/a "b"\\c') == '"/a \\"b\\"\\\\c"'
    with pytest.raises(ConfigError, match="line break"):
        systemd.systemd_quote("/srv/a\nb")


def systemd_analyze() -> str:
    """The path of systemd-analyze, or skip with the reason it cannot run here."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return tool


def verify(tool: str, unit: Path, *, user: bool, runtime: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), SYSTEMD_LOG_COLOR="0")
    command = [tool, *(["--user"] if user else []), "verify", str(unit)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60,
                          check=False)


@pytest.mark.parametrize("system", [True, False], ids=["system", "user"])
def test_rendered_unit_passes_systemd_analyze_verify(tmp_path: Path, system: bool) -> None:
    tool = systemd_analyze()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    folder = tmp_path / "units"
    folder.mkdir()
    known_good = folder / "known-good.service"
    known_good.write_text(f"[Service]\nType=oneshot\nExecStart={PYTHON} -V\n")
    probe = verify(tool, known_good, user=not system, runtime=runtime)
    if probe.returncode != 0:
        pytest.skip(f"systemd-analyze verify cannot run here: {probe.stderr.strip()[:300]}")
    odd = Spec(python=PYTHON, profiles=tmp_path / "my profiles", state=tmp_path / "100% $state",
               system=system)
    unit = folder / systemd.UNIT
    unit.write_text(systemd.systemd_unit(odd))

    result = verify(tool, unit, user=not system, runtime=runtime)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert systemd.UNIT not in output, output  # no warning about our unit (unknown keys...)


def test_repo_service_units_are_the_renderings_with_example_paths() -> None:
    system = Spec(python=Path("/opt/studiocut/venv/bin/python"), profiles=systemd.SYSTEM_PROFILES,
                  state=systemd.SYSTEM_STATE, system=True)
    assert (REPO / "service" / "studiocut.service").read_text() == systemd.systemd_unit(system)

    home = Path("/HOME")
    user = Spec(python=home / ".local/share/studiocut/venv/bin/python",
                profiles=home / ".config/studiocut/profiles", state=home / ".local/state/studiocut")
    expected = systemd.systemd_unit(user).replace("/HOME/", "%h/")  # %h: the user's home
    assert (REPO / "service" / "studiocut-user.service").read_text() == expected
