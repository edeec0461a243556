"""platforms: the service manager of each platform, chosen by ``sys.platform``.

systemd on Linux (a ``Type=notify`` unit with a watchdog), launchd on macOS (a LaunchAgent),
the service control manager on Windows (``studiocut.service.winservice``). ``install`` renders the
definition with this installation's real paths (this interpreter, the profiles and state
folders), writes it, and enables and starts it with the platform's own tool; ``--dry-run``
prints the files and commands and touches nothing. The files in the repository's ``service/``
folder are these renderings with example paths.
"""

from __future__ import annotations

from studiocut.errors import ConfigError
from studiocut.service import launchd, systemd, windows
from studiocut.service.plan import Plan
from studiocut.service.spec import Spec


def install_plan(platform: str, spec: Spec) -> Plan:
    """The steps that install and start the service on ``platform`` (a ``sys.platform``)."""
    if platform.startswith("linux"):
        return systemd.install_plan(spec)
    if platform == "darwin":
        return launchd.install_plan(spec)
    if platform == "win32":
        return windows.install_plan(spec)
    raise ConfigError([f"no service manager support for {platform}; run `studiocut run` "
                       "under your init system"])


def uninstall_plan(platform: str, spec: Spec) -> Plan:
    """The steps that stop and remove the service; its folders and journal stay."""
    if platform.startswith("linux"):
        return systemd.uninstall_plan(spec)
    if platform == "darwin":
        return launchd.uninstall_plan(spec)
    if platform == "win32":
        return windows.uninstall_plan(spec)
    raise ConfigError([f"no service manager support for {platform}"])


def status_command(platform: str, spec: Spec) -> tuple[str, ...]:
    if platform.startswith("linux"):
        return systemd.status_command(spec)
    if platform == "darwin":
        return launchd.status_command(spec)
    if platform == "win32":
        return windows.status_command(spec)
    raise ConfigError([f"no service manager support for {platform}"])


def log_hint(platform: str, spec: Spec) -> str:
    if platform.startswith("linux"):
        return systemd.log_hint(spec)
    if platform == "darwin":
        return launchd.log_hint(spec)
    return windows.log_hint(spec)
