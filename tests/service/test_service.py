"""service: the definitions rendered with real paths (systemd unit, launchd plist), the repo's
service/ files kept in sync with them, and `studiocut service` planning, printing and doing
the install with the platform's tool (a fake systemctl here: the real one is never run)."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studiocut.cli import commands as cli
from studiocut.errors import ConfigError
from studiocut.service import install as service
from studiocut.service.install import Spec

REPO = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable).absolute()
HARDENING = ("NoNewPrivileges", "CapabilityBoundingSet", "Protect", "Private", "Restrict",
             "LockPersonality", "SystemCall")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """User units go under tmp_path; no environment default leaks in."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("STUDIOCUT_PROFILES", "STUDIOCUT_STATE"):
        monkeypatch.delenv(name, raising=False)



def spec(tmp_path: Path, *, system: bool = False, timeout: float = 20.0) -> Spec:
    return Spec(python=PYTHON, profiles=tmp_path / "profiles", state=tmp_path / "state",
                system=system, shutdown_timeout=timeout, logs=tmp_path / "Logs" / "studiocut")


def directives(unit: str) -> dict[str, str]:
    result = {}
    for line in unit.splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            result[key] = value
    return result


# --------------------------------------------------------------------------- systemd


@pytest.mark.parametrize("system", [True, False], ids=["system", "user"])
def test_systemd_unit_runs_this_python_on_the_given_folders(tmp_path: Path, system: bool) -> None:
    unit = directives(service.systemd_unit(spec(tmp_path, system=system, timeout=30)))

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


def test_every_hardening_line_of_the_system_unit_has_its_own_comment(tmp_path: Path) -> None:
    lines = service.systemd_unit(spec(tmp_path, system=True)).splitlines()

    hardening = [i for i, line in enumerate(lines) if line.startswith(HARDENING)]
    assert len(hardening) >= 15
    for i in hardening:
        assert lines[i - 1].startswith("#"), f"no comment above {lines[i]}"
    comments = [lines[i - 1] for i in hardening]
    assert len(set(comments)) == len(comments)  # one comment per line, not one per block


def test_exec_start_arguments_with_spaces_percent_and_dollar_are_escaped() -> None:
    assert service.systemd_quote("/srv/plain") == "/srv/plain"
    assert service.systemd_quote("/srv/my photos") == '"/srv/my photos"'
    assert service.systemd_quote("/srv/100%/$HOME") == "/srv/100%%/$$HOME"
    assert service.systemd_quote('/a "b"\\c') == '"/a \\"b\\"\\\\c"'
    with pytest.raises(ConfigError, match="line break"):
        service.systemd_quote("/srv/a\nb")


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
    unit = folder / service.UNIT
    unit.write_text(service.systemd_unit(odd))

    result = verify(tool, unit, user=not system, runtime=runtime)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert service.UNIT not in output, output  # no warning about our unit (unknown keys...)


def test_repo_service_files_are_the_renderings_with_example_paths() -> None:
    system = Spec(python=Path("/opt/studiocut/venv/bin/python"), profiles=service.SYSTEM_PROFILES,
                  state=service.SYSTEM_STATE, system=True)
    assert (REPO / "service" / "studiocut.service").read_text() == service.systemd_unit(system)

    home = Path("/HOME")
    user = Spec(python=home / ".local/share/studiocut/venv/bin/python",
                profiles=home / ".config/studiocut/profiles", state=home / ".local/state/studiocut")
    expected = service.systemd_unit(user).replace("/HOME/", "%h/")  # %h: the user's home
    assert (REPO / "service" / "studiocut-user.service").read_text() == expected

    mac = Path("/Users/you")
    agent = Spec(python=mac / "studiocut/.venv/bin/python",
                 profiles=mac / "Library/Application Support/studiocut/profiles",
                 state=mac / "Library/Application Support/studiocut",
                 logs=mac / "Library/Logs/studiocut")
    assert (REPO / "service" / "com.studiocut.daemon.plist").read_text() == \
        service.launchd_plist(agent)


# --------------------------------------------------------------------------- launchd


def test_launchd_plist_parses_and_has_the_required_keys(tmp_path: Path) -> None:
    odd = Spec(python=PYTHON, profiles=tmp_path / "a & <b>", state=tmp_path / "state",
               shutdown_timeout=30, logs=tmp_path / "Logs" / "studiocut")

    agent = plistlib.loads(service.launchd_plist(odd).encode())

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


def test_launchd_install_bootstraps_the_agent_in_the_gui_domain(tmp_path: Path) -> None:
    plan = service.install_plan("darwin", spec(tmp_path))

    runs = [step.argv for step in plan.steps if isinstance(step, service.Run)]
    writes = [step for step in plan.steps if isinstance(step, service.Write)]
    target = f"gui/{os.getuid()}/com.studiocut.daemon"
    plist = Path.home() / "Library/LaunchAgents/com.studiocut.daemon.plist"
    assert [w.path for w in writes] == [plist]
    assert runs == [("launchctl", "bootout", target), ("launchctl", "enable", target),
                    ("launchctl", "bootstrap", f"gui/{os.getuid()}", str(plist))]
    with pytest.raises(ConfigError, match="--system is not supported"):
        service.install_plan("darwin", spec(tmp_path, system=True))


# --------------------------------------------------------------------------- the CLI


def test_install_dry_run_prints_the_unit_and_the_systemctl_commands_and_touches_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux plan")

    code = cli.main(["service", "install", "--dry-run", "--profiles", str(tmp_path / "p"),
                     "--state", str(tmp_path / "s")])

    out = capsys.readouterr().out
    unit_path = tmp_path / "config" / "systemd" / "user" / "studiocut.service"
    assert code == 0
    assert f"# would write {unit_path}:" in out
    assert (f"ExecStart={PYTHON} -m studiocut run --profiles {tmp_path / 'p'} "
            f"--state {tmp_path / 's'} --shutdown-timeout 20 --plain") in out
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("would run:")] == [
        "would run: systemctl --user daemon-reload",
        "would run: systemctl --user enable studiocut.service",
        "would run: systemctl --user restart studiocut.service",
    ]
    assert "logs: journalctl --user -u studiocut -f" in lines
    assert not (tmp_path / "config").exists()


def test_system_dry_run_creates_the_user_and_defaults_to_etc_and_var_lib(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        restore_logging: None) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux plan")
    monkeypatch.setattr(service, "_user_exists", lambda name: False)

    code = cli.main(["service", "install", "--system", "--dry-run"])

    out = capsys.readouterr().out
    assert code == 0
    assert "# would write /etc/systemd/system/studiocut.service:" in out
    assert "--profiles /etc/studiocut/profiles --state /var/lib/studiocut" in out
    assert [line for line in out.splitlines() if line.startswith("would run:")] == [
        "would run: useradd --system --user-group --home-dir /var/lib/studiocut "
        "--no-create-home --shell /usr/sbin/nologin studiocut",
        "would run: systemctl daemon-reload",
        "would run: systemctl enable studiocut.service",
        "would run: systemctl restart studiocut.service",
    ]
    assert "would create /etc/studiocut/profiles" in out


@pytest.fixture
def fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A systemctl first on PATH that records its arguments (and fails when told to)."""
    if os.name != "posix":
        pytest.skip("a shell-script stand-in")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "systemctl.calls"
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\n'
                      f'[ -e "{tmp_path}/fail" ] && exit 1\nexit 0\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(sys, "platform", "linux")
    return calls


def test_install_status_uninstall_run_systemctl_for_the_user_unit(
        tmp_path: Path, fake_systemctl: Path, capsys: pytest.CaptureFixture[str],
        restore_logging: None) -> None:
    folders = ["--profiles", str(tmp_path / "p"), "--state", str(tmp_path / "s")]
    unit = tmp_path / "config" / "systemd" / "user" / "studiocut.service"

    assert cli.main(["service", "install", *folders]) == 0
    assert unit.read_text() == service.systemd_unit(Spec(
        python=PYTHON, profiles=tmp_path / "p", state=tmp_path / "s"))
    assert cli.main(["service", "status"]) == 0
    assert cli.main(["service", "uninstall"]) == 0
    assert not unit.exists()
    assert cli.main(["service", "uninstall"]) == 0  # nothing left: says so, runs nothing

    assert fake_systemctl.read_text().splitlines() == [
        "--user daemon-reload", "--user enable studiocut.service",
        "--user restart studiocut.service",
        "--user status studiocut.service --no-pager",
        "--user disable --now studiocut.service", "--user daemon-reload",
    ]
    out = capsys.readouterr().out
    assert f"wrote {unit}" in out and "ran: systemctl --user restart studiocut.service" in out
    assert "studiocut is not installed as a service" in out


def test_a_failing_systemctl_stops_the_install_with_exit_1(
        tmp_path: Path, fake_systemctl: Path, capsys: pytest.CaptureFixture[str],
        restore_logging: None) -> None:
    (tmp_path / "fail").touch()

    code = cli.main(["service", "install"])

    assert code == 1
    assert fake_systemctl.read_text().splitlines() == ["--user daemon-reload"]
    assert "error: ran: systemctl --user daemon-reload: exit status 1" in capsys.readouterr().err
    assert cli.main(["service", "status"]) == 1


def test_service_without_an_action_is_a_usage_error(restore_logging: None) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["service"])
    assert exit_info.value.code == 2


def test_an_unsupported_platform_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no service manager support for sunos5"):
        service.install_plan("sunos5", spec(tmp_path))


def test_windows_plan_registers_configures_and_starts_the_service(tmp_path: Path) -> None:
    plan = service.install_plan("win32", spec(tmp_path, system=True))

    lines = [service._describe(step, dry_run=True) for step in plan.steps]
    assert lines[0].startswith("would register the Windows service 'studiocut'")
    assert f"profiles={tmp_path / 'profiles'}, state={tmp_path / 'state'}" in lines[1]
    assert "sc.exe failure studiocut" in lines[2]
    assert lines[3].startswith("would start the service")
    with pytest.raises(ConfigError, match="machine-wide"):
        service.install_plan("win32", spec(tmp_path, system=False))


def test_system_install_without_root_says_so_and_does_nothing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        restore_logging: None) -> None:
    monkeypatch.setattr(service, "_needs_root", lambda: True)
    monkeypatch.setattr(service, "_user_exists", lambda name: True)

    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("nothing may be done without root")

    monkeypatch.setattr(service, "execute", refuse)
    monkeypatch.setattr(sys, "platform", "linux")

    assert cli.main(["service", "install", "--system"]) == 1
    assert "installed as root" in capsys.readouterr().err
