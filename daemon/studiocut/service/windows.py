"""windows: the daemon as a Windows service, installed through the service control manager.

The service itself is ``studiocut.service.winservice`` (pywin32, Windows only): the plans here
call its register, configure, restart and remove when they are carried out, so this module
imports everywhere and a dry run works on any platform.
"""

from __future__ import annotations

from collections.abc import Callable

from studiocut.errors import ConfigError
from studiocut.service.plan import Call, Plan, Run, kept
from studiocut.service.spec import NAME, Spec


def install_plan(spec: Spec) -> Plan:
    """The steps that register the service, store its parameters, set its restarts and start
    it; raise ConfigError without ``--system`` (Windows services are machine-wide)."""
    if not spec.system:
        raise ConfigError(["Windows services are machine-wide: use --system (the default on "
                           "Windows) from an administrator prompt"])
    parameters = (f"profiles={spec.profiles}, state={spec.state}, "
                  f"shutdown_timeout={spec.shutdown_timeout:g}")
    return Plan((
        Call(f"register the Windows service '{NAME}' (pythonservice.exe hosting "
             "studiocut.service.winservice.StudiocutService, automatic start)",
             _winservice_call("register")),
        Call(f"store its parameters under HKLM\\SYSTEM\\CurrentControlSet\\Services\\{NAME}"
             f"\\Parameters: {parameters}",
             _winservice_call("configure", spec.profiles, spec.state, spec.shutdown_timeout)),
        Run(("sc.exe", "failure", NAME, "reset=", "86400",
             "actions=", "restart/5000/restart/5000/restart/60000")),
        Call(f"start the service '{NAME}' (restart it if it runs)",
             _winservice_call("restart")),
    ), (log_hint(spec), "status: studiocut service status",
        f"it runs as LocalSystem; to run it as a studio account: sc.exe config {NAME} "
        "obj= .\\ACCOUNT password= PASSWORD"))


def uninstall_plan(spec: Spec) -> Plan:
    """The step that stops the service (after its drain) and removes it."""
    return Plan((Call(f"stop the Windows service '{NAME}' (waiting for the drain) and "
                      "remove it", _winservice_call("remove")),), kept(spec))


def status_command(spec: Spec) -> tuple[str, ...]:
    return ("sc.exe", "queryex", NAME)


def log_hint(spec: Spec) -> str:
    return "logs: Event Viewer > Windows Logs > Application, source studiocut"


def _winservice_call(name: str, *args: object) -> Callable[[], None]:
    def call() -> None:
        from studiocut.service import winservice

        getattr(winservice, name)(*args)

    return call
