"""winservice: the pywin32 service class runs the same daemon (start -> startup and serve,
stop -> the graceful drain), logs to the Event Log, and installs through the SCM. pywin32 is
Windows-only, so its modules are stubbed here through sys.modules."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import studiocut
import studiocut.service
from daemon_harness import shoot
from studiocut import hotfolder, places
from studiocut.service import platforms
from studiocut.service.plan import execute
from studiocut.service.spec import Spec

SERVICE_STOP_PENDING, SERVICE_STOPPED, SERVICE_AUTO_START = 3, 1, 2


class FakePywin32:
    """What the service touches of pywin32, recorded: the registry parameters, SCM calls,
    status reports and Event Log entries."""

    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.events: list[tuple[str, str]] = []
        self.existing = False

        framework_calls = self.calls

        class ServiceFramework:
            def __init__(self, args: list[str]) -> None:
                self.args = args

            def ReportServiceStatus(self, status: int, waitHint: int = 5000,
                                    win32ExitCode: int = 0, svcExitCode: int = 0) -> None:
                framework_calls.append(("ReportServiceStatus", status, waitHint))

        self.win32serviceutil = types.ModuleType("win32serviceutil")
        util: Any = self.win32serviceutil
        util.ServiceFramework = ServiceFramework
        util.GetServiceCustomOption = lambda name, option, default=None: \
            self.parameters.get(option, default)
        util.SetServiceCustomOption = lambda name, option, value: \
            self.parameters.__setitem__(option, value)
        util.InstallService = self._install
        for name in ("ChangeServiceConfig", "RestartService", "StopService",
                     "WaitForServiceStatus", "RemoveService", "HandleCommandLine"):
            setattr(util, name, self._recorder(name))
        self.win32service = types.ModuleType("win32service")
        svc: Any = self.win32service
        svc.SERVICE_STOP_PENDING = SERVICE_STOP_PENDING
        svc.SERVICE_STOPPED = SERVICE_STOPPED
        svc.SERVICE_AUTO_START = SERVICE_AUTO_START
        self.servicemanager = types.ModuleType("servicemanager")
        manager: Any = self.servicemanager
        for kind in ("Info", "Warning", "Error"):
            setattr(manager, f"Log{kind}Msg",
                    lambda message, kind=kind: self.events.append((kind, message)))

    def _recorder(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))
        return record

    def _install(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("InstallService", args, kwargs))
        if self.existing:
            error = RuntimeError("the service exists")
            error.winerror = 1073  # type: ignore[attr-defined]
            raise error

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [call for call in self.calls if call[0] == name]


@pytest.fixture
def pywin32(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePywin32]:
    fake = FakePywin32()
    for name in ("win32serviceutil", "win32service", "servicemanager"):
        monkeypatch.setitem(sys.modules, name, getattr(fake, name))
    forget_winservice()
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield fake
    forget_winservice()
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def forget_winservice() -> None:
    """Drop the module, so that the next import binds it to this test's fake pywin32."""
    for name in ("studiocut.winservice", "studiocut.service.winservice"):
        sys.modules.pop(name, None)
    for package, attribute in ((studiocut, "winservice"), (studiocut.service, "winservice")):
        if hasattr(package, attribute):
            delattr(package, attribute)


def winservice() -> Any:
    return importlib.import_module("studiocut.service.winservice")


def studio(tmp_path: Path, pywin32: FakePywin32, profile: dict[str, Any]) -> Path:
    """Folders and a profile, with the service's registry parameters pointing at them."""
    for folder in ("in", "out", "profiles"):
        (tmp_path / folder).mkdir()
    (tmp_path / "profiles" / "studio.yaml").write_text(yaml.safe_dump({
        "watch": str(tmp_path / "in"), "output": str(tmp_path / "out"),
        "model": "backdrop-key", "format": "png", "backdrop": "transparent", "settle": 0.2,
        **profile}))
    pywin32.parameters.update(profiles=str(tmp_path / "profiles"),
                              state=str(tmp_path / "state"), shutdown_timeout="5")
    return tmp_path


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_start_runs_the_daemon_and_stop_drains_it(
        tmp_path: Path, pywin32: FakePywin32) -> None:
    root = studio(tmp_path, pywin32, {})
    svc = winservice().StudiocutService(["studiocut"])
    runner = threading.Thread(target=svc.SvcDoRun, name="service-main")
    runner.start()
    try:
        wait_until(lambda: svc.daemon.ready)
        shoot(root / "in" / "a.jpg")
        wait_until(lambda: (root / "out" / "a.png").exists())
        assert hotfolder.is_running(root / "state")
    finally:
        svc.SvcStop()
        runner.join(15)

    assert not runner.is_alive()
    assert not hotfolder.is_running(root / "state")  # shut down, lock released
    assert svc.daemon.options.profiles_dir == root / "profiles"
    assert pywin32.named("ReportServiceStatus") == [
        ("ReportServiceStatus", SERVICE_STOP_PENDING, 30_000)]  # drain 5 s + margin
    infos = [message for kind, message in pywin32.events if kind == "Info"]
    assert any(m.startswith("studiocut.hotfolder.daemon: studiocut ready") for m in infos)
    assert any("a.jpg" in m for m in infos)  # one line per photo, as under systemd
    assert any("stopping" in m for kind, m in pywin32.events if kind == "Warning")


def test_a_profile_error_goes_to_the_event_log_and_the_service_stops(
        tmp_path: Path, pywin32: FakePywin32) -> None:
    studio(tmp_path, pywin32, {"backdrop": "mauve"})
    svc = winservice().StudiocutService(["studiocut"])

    svc.SvcDoRun()  # returns: a restart would not fix the profile

    errors = [message for kind, message in pywin32.events if kind == "Error"]
    assert any("not started" in m and "backdrop" in m for m in errors), errors
    assert not hotfolder.is_running(tmp_path / "state")


def test_missing_parameters_take_the_run_defaults(
        pywin32: FakePywin32, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STUDIOCUT_PROFILES", str(tmp_path / "p"))
    monkeypatch.setenv("STUDIOCUT_STATE", str(tmp_path / "s"))

    options = winservice().read_options()

    assert (options.profiles_dir, options.state_dir) == (places.profiles_dir(),
                                                         places.state_dir())
    assert options.shutdown_timeout == 20
    pywin32.parameters["shutdown_timeout"] = "soon"
    with pytest.raises(Exception, match="shutdown_timeout: not a number"):
        winservice().read_options()


def test_install_plan_registers_the_class_stores_parameters_and_starts(
        tmp_path: Path, pywin32: FakePywin32, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.name != "posix":
        pytest.skip("a shell-script stand-in for sc.exe")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sc = bin_dir / "sc.exe"
    sc.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path / "sc.calls"}"\n')
    sc.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    pywin32.existing = True  # installing again updates the registration
    spec = Spec(python=Path(sys.executable), profiles=tmp_path / "p", state=tmp_path / "s",
                system=True, shutdown_timeout=10)

    assert execute(platforms.install_plan("win32", spec), dry_run=False) == 0

    (install,) = pywin32.named("InstallService")
    assert install[1][:2] == ("studiocut.service.winservice.StudiocutService", "studiocut")
    assert install[2]["startType"] == SERVICE_AUTO_START
    (change,) = pywin32.named("ChangeServiceConfig")
    assert change[1] == ("studiocut.service.winservice.StudiocutService", "studiocut")
    assert pywin32.parameters == {"profiles": str(tmp_path / "p"), "state": str(tmp_path / "s"),
                                  "shutdown_timeout": "10"}
    assert (tmp_path / "sc.calls").read_text().startswith("failure studiocut reset= 86400")
    (restart,) = pywin32.named("RestartService")
    assert restart[2]["waitSeconds"] == 35  # longer than the drain


def test_uninstall_stops_waits_for_the_drain_and_removes(pywin32: FakePywin32) -> None:
    winservice().remove()

    assert [call[0] for call in pywin32.calls] == [
        "StopService", "WaitForServiceStatus", "RemoveService"]
    assert pywin32.named("WaitForServiceStatus")[0][1] == ("studiocut", SERVICE_STOPPED, 45)


def test_pywin32_command_line_installs_the_importable_class_string(
        pywin32: FakePywin32) -> None:
    module = winservice()

    module.main(["winservice", "--startup", "auto", "install"])

    ((_, args, kwargs),) = pywin32.named("HandleCommandLine")
    assert args == (module.StudiocutService,)
    assert kwargs["serviceClassString"] == "studiocut.service.winservice.StudiocutService"
    kwargs["customOptionHandler"]([])  # pywin32 calls it after installing
    assert pywin32.parameters["profiles"] == str(places.profiles_dir())
    assert pywin32.parameters["state"] == str(places.state_dir())


def test_services_installed_by_0_1_still_find_their_class(pywin32: FakePywin32) -> None:
    """pythonservice.exe imports the class string stored in the registry at install time."""
    old = importlib.import_module("studiocut.winservice")
    assert old.StudiocutService is winservice().StudiocutService
