"""service: ``studiocut service install | uninstall | status``: the daemon under this platform's
service manager (``studiocut.service``), with this interpreter and the folders ``run`` would use.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from studiocut.cli import options
from studiocut.errors import EXIT_FAILED, EXIT_OK, ConfigError
from studiocut.service.plan import execute
from studiocut.service.platforms import install_plan, log_hint, status_command, uninstall_plan
from studiocut.service.spec import NAME, STOP_MARGIN, Spec
from studiocut.service.systemd import SYSTEM_PROFILES, SYSTEM_STATE, SYSTEM_USER


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``studiocut service install|uninstall|status`` to the CLI."""
    service = sub.add_parser(
        "service", help="run the daemon as a service (systemd, launchd, Windows)",
        description="Install, remove or inspect studiocut as a service of this platform's "
        "service manager: systemd on Linux, launchd on macOS, the service control manager "
        "on Windows.")
    actions = service.add_subparsers(dest="service_command", metavar="ACTION", required=True)

    def scoped(name: str, help_text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, parents=[common], help=help_text, description=help_text)
        scope = p.add_mutually_exclusive_group()
        scope.add_argument("--user", dest="system", action="store_false", default=None,
                           help="a service of the logged-in user (default on Linux, macOS)")
        scope.add_argument("--system", dest="system", action="store_true", default=None,
                           help="system-wide: on Linux as the unprivileged user "
                           f"'{SYSTEM_USER}', with profiles in {SYSTEM_PROFILES} and state "
                           f"in {SYSTEM_STATE} unless given (default on Windows)")
        return p

    i = scoped("install", "write the service definition for this platform, enable and "
               "start it")
    i.add_argument("--shutdown-timeout", type=float, default=20.0, metavar="SECONDS",
                   help="the daemon's drain on stop; the service manager waits "
                   f"{STOP_MARGIN:g} s longer (default: 20)")
    i.add_argument("--dry-run", action="store_true",
                   help="print the files and commands; change nothing")
    i.set_defaults(handler=cmd_install)

    u = scoped("uninstall", "stop and remove the service (profiles and journal stay)")
    u.add_argument("--dry-run", action="store_true",
                   help="print the commands; change nothing")
    u.set_defaults(handler=cmd_uninstall)

    s = scoped("status", "what the service manager says about the service")
    s.set_defaults(handler=cmd_status)


def spec_from_args(args: argparse.Namespace, platform: str | None = None) -> Spec:
    """The spec for this interpreter and the folders ``run`` would use (for ``--system`` on
    Linux: /etc/studiocut/profiles and /var/lib/studiocut unless given)."""
    from platformdirs import user_log_path

    platform = platform or sys.platform
    system = args.system if args.system is not None else platform == "win32"
    if not sys.executable:
        raise ConfigError(["cannot tell which Python runs studiocut (sys.executable is empty)"])
    python = Path(sys.executable).absolute()  # not resolved: a venv's python is a symlink
    if system and platform.startswith("linux"):
        profiles = Path(args.profiles).expanduser() if args.profiles else SYSTEM_PROFILES
        state = Path(args.state).expanduser() if args.state else SYSTEM_STATE
    else:
        profiles, state = options.profiles_dir(args), options.state_dir(args)
    timeout = float(getattr(args, "shutdown_timeout", 20.0))
    if not timeout >= 0:
        raise ConfigError([f"--shutdown-timeout: must be 0 or more seconds (got {timeout:g})"])
    return Spec(python=python, profiles=profiles.absolute(), state=state.absolute(),
                system=system, shutdown_timeout=timeout,
                logs=user_log_path(NAME, False) if platform == "darwin" else None)


def cmd_install(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    plan = install_plan(sys.platform, spec)
    if not args.dry_run and spec.system and _needs_root():
        print("error: the system-wide service is installed as root: run this command with "
              "sudo (or --dry-run to see what it does)", file=sys.stderr)
        return EXIT_FAILED
    return execute(plan, dry_run=args.dry_run)


def cmd_uninstall(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    plan = uninstall_plan(sys.platform, spec)
    if plan.steps and not args.dry_run and spec.system and _needs_root():
        print("error: the system-wide service is removed as root (sudo)", file=sys.stderr)
        return EXIT_FAILED
    return execute(plan, dry_run=args.dry_run)


def cmd_status(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    command = status_command(sys.platform, spec)
    if shutil.which(command[0]) is None:
        print(f"error: {command[0]} not found: this system does not run the service manager "
              "studiocut's service needs", file=sys.stderr)
        return EXIT_FAILED
    code = subprocess.run(command, check=False).returncode
    print(log_hint(sys.platform, spec))
    return EXIT_OK if code == 0 else EXIT_FAILED


def _needs_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() != 0 and sys.platform != "win32"

