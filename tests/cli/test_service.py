"""service: ``studiocut service install | uninstall | status``: planning, printing and doing
the install with the platform's tool (a fake systemctl here: the real one is never run)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from studiocut import cli
from studiocut.cli import service
from studiocut.service import systemd
from studiocut.service.spec import Spec

PYTHON = Path(sys.executable).absolute()


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """User units go under tmp_path; no environment default leaks in."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("STUDIOCUT_PROFILES", "STUDIOCUT_STATE"):
        monkeypatch.delenv(name, raising=False)


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
    monkeypatch.setattr(systemd, "_user_exists", lambda name: False)

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
    assert unit.read_text() == systemd.systemd_unit(Spec(
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


def test_system_install_without_root_says_so_and_does_nothing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        restore_logging: None) -> None:
    monkeypatch.setattr(service, "_needs_root", lambda: True)
    monkeypatch.setattr(systemd, "_user_exists", lambda name: True)

    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("nothing may be done without root")

    monkeypatch.setattr(service, "execute", refuse)
    monkeypatch.setattr(sys, "platform", "linux")

    assert cli.main(["service", "install", "--system"]) == 1
    assert "installed as root" in capsys.readouterr().err
