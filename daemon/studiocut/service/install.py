"""service: the daemon under the platform's service manager.

systemd on Linux (a ``Type=notify`` unit with a watchdog), launchd on macOS (a LaunchAgent),
the service control manager on Windows (``studiocut.service.winservice``). ``install`` renders the
definition with this installation's real paths (this interpreter, the profiles and state
folders), writes it, and enables and starts it with the platform's own tool; ``--dry-run``
prints the files and commands and touches nothing. The files in the repository's ``service/``
folder are these renderings with example paths.

The service manager waits longer for a stop than the daemon's drain (``--shutdown-timeout``,
passed explicitly on the command line so the relation is visible), so photos in progress
finish before anything is killed.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape

from studiocut.errors import EXIT_FAILED, EXIT_OK, ConfigError

NAME = "studiocut"
UNIT = "studiocut.service"
LABEL = "com.studiocut.daemon"
SYSTEM_USER = "studiocut"
SYSTEM_PROFILES = Path("/etc/studiocut/profiles")
SYSTEM_STATE = Path("/var/lib/studiocut")
STOP_MARGIN = 25.0  # seconds a service manager waits beyond the drain before it kills
WATCHDOG_SEC = 60  # a healthy daemon pings every second; this much silence means restart


@dataclass(frozen=True)
class Spec:
    """What a service definition says: which interpreter runs the daemon on which folders,
    for one user or system-wide, and where launchd writes its log."""

    python: Path
    profiles: Path
    state: Path
    system: bool = False
    shutdown_timeout: float = 20.0
    logs: Path | None = None

    @property
    def stop_timeout(self) -> int:
        """Seconds the service manager waits for a stop: the drain plus a margin."""
        return math.ceil(self.shutdown_timeout + STOP_MARGIN)

    def run_arguments(self) -> list[str]:
        """The ``studiocut run`` command line the service manager starts."""
        return [str(self.python), "-m", "studiocut", "run", "--profiles", str(self.profiles),
                "--state", str(self.state), "--shutdown-timeout", f"{self.shutdown_timeout:g}",
                "--plain"]


# --------------------------------------------------------------------------- systemd

_SYSTEMD_HEADER = """\
# studiocut: the hot-folder daemon as a {kind} systemd service.
# Written by `studiocut service install{flag}` with this installation's paths; the studiocut
# repository keeps this file with example paths in service/{example}.
# Logs: journalctl{user} -u studiocut -f    Status: systemctl{user} status studiocut
"""

_SYSTEMD_SERVICE = """\
[Service]
# The daemon sends READY=1 once its profiles are loaded and their folders watched, STATUS=
# lines (queue, photos in progress, photos a minute) and STOPPING=1 when it begins to stop.
Type=notify
ExecStart={exec_start}
# A healthy daemon pings the watchdog every second; a dead worker or observer thread, or a
# photo holding a worker for over 10 minutes, stops the pings and this much silence restarts
# it. Raise it if a rescan of a very large network folder takes longer.
WatchdogSec={watchdog}
# Restart after a crash or a watchdog timeout, not after a configuration error (exit 2): fix
# the profile (`studiocut check`), then restart the service.
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=2
# Loading a model and scanning a large backlog happen before READY=1.
TimeoutStartSec=300
# SIGTERM starts the drain: photos in progress get --shutdown-timeout seconds to finish. The
# manager waits longer than that before it sends SIGKILL.
KillSignal=SIGTERM
TimeoutStopSec={stop_timeout}
"""

_SYSTEMD_SYSTEM = """\
# A dedicated unprivileged user (created by `studiocut service install --system`). Give it
# read access to the watched folders and write access to the output folders, for example by
# adding it to the studio's group.
User={user}
Group={user}
# /var/lib/studiocut, owned by that user: the default state folder (journal, lock).
StateDirectory=studiocut
# /etc/studiocut, read-only to the service: the default profiles folder is in it.
ConfigurationDirectory=studiocut

# Hardening: every line says why, and when to relax it.
# Never gain privileges through setuid programs; the daemon needs none. Keep.
NoNewPrivileges=yes
# No capabilities at all: it only reads and writes files its user may. Keep.
CapabilityBoundingSet=
# /usr, /boot and /etc are read-only. Not "strict", because hot folders can be anywhere; to
# tighten, use strict and list every watch, output, failed and move folder in ReadWritePaths=.
ProtectSystem=full
# Home folders are read-only. Relax to "no" (or list the folders in ReadWritePaths=) when an
# output, failed or move folder of a profile is under /home.
ProtectHome=read-only
# A private /tmp and /var/tmp. Relax only if a hot folder is in /tmp (it should not be).
PrivateTmp=yes
# No device nodes. Relax to "no" to run the models on a GPU (/dev/nvidia*, /dev/dri).
PrivateDevices=yes
# Kernel tunables (/proc/sys, /sys) are read-only. Keep.
ProtectKernelTunables=yes
# No kernel module loading. Keep.
ProtectKernelModules=yes
# No access to the kernel log. Keep.
ProtectKernelLogs=yes
# The control group tree is read-only. Keep.
ProtectControlGroups=yes
# The system clock cannot be changed. Keep.
ProtectClock=yes
# The hostname cannot be changed. Keep.
ProtectHostname=yes
# Other users' processes are invisible in /proc. Keep.
ProtectProc=invisible
# Local sockets only (the notify socket): network shares are mounted by the kernel and nothing
# is downloaded. Add AF_INET AF_INET6 only for a model provider that needs the network.
RestrictAddressFamilies=AF_UNIX
# No new namespaces. Keep.
RestrictNamespaces=yes
# No realtime scheduling, so a busy worker cannot starve the machine. Keep.
RestrictRealtime=yes
# No setuid or setgid files can be created. Keep.
RestrictSUIDSGID=yes
# The execution domain cannot be switched. Keep.
LockPersonality=yes
# Native system calls only, no 32-bit compatibility entry points. Keep.
SystemCallArchitectures=native
# The system calls ordinary services use (inotify and thread affinity included). Remove if a
# new image or model library fails with "Operation not permitted"; the log names the call.
SystemCallFilter=@system-service
# A call outside that filter fails with EPERM instead of killing the daemon. Keep.
SystemCallErrorNumber=EPERM
# Not set: MemoryDenyWriteExecute=yes, which breaks ctypes callbacks and JIT code in model
# runtimes.

[Install]
WantedBy=multi-user.target
"""

_SYSTEMD_USER = """\
# Hardening: most sandboxing options need the system manager (see studiocut.service); the
# one that works for a user service:
# Never gain privileges through setuid programs; the daemon needs none. Keep.
NoNewPrivileges=yes

[Install]
# Starts with your session. To start at boot and keep running after you log out:
# loginctl enable-linger $USER
WantedBy=default.target
"""


def systemd_unit(spec: Spec) -> str:
    """Given a spec, return the systemd unit text (system-wide with a dedicated user, or a
    per-user unit); raise ConfigError for a path systemd cannot hold (a line break)."""
    exec_start = " ".join(systemd_quote(a) for a in spec.run_arguments())
    header = _SYSTEMD_HEADER.format(
        kind="system-wide" if spec.system else "per-user",
        flag=" --system" if spec.system else " --user",
        example="studiocut.service" if spec.system else "studiocut-user.service",
        user="" if spec.system else " --user")
    unit = ("[Unit]\nDescription=studiocut hot-folder background removal\n"
            "# Hot folders on network shares are mounted before the first scan.\n"
            "After=local-fs.target remote-fs.target\n\n")
    service = _SYSTEMD_SERVICE.format(exec_start=exec_start, watchdog=WATCHDOG_SEC,
                                      stop_timeout=spec.stop_timeout)
    tail = _SYSTEMD_SYSTEM.format(user=SYSTEM_USER) if spec.system else _SYSTEMD_USER
    return header + "\n" + unit + service + tail


def systemd_quote(arg: str) -> str:
    """One ExecStart argument: ``%`` and ``$`` escaped (specifiers, variables), quoted when
    it holds a space, quote or backslash."""
    if any(c in arg for c in "\n\r\0"):
        raise ConfigError([f"{arg!r}: a path with a line break cannot go into a systemd unit"])
    text = arg.replace("%", "%%").replace("$", "$$")
    if text and not any(c in text for c in " \t\"'\\;"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_unit_path(spec: Spec) -> Path:
    if spec.system:
        return Path("/etc/systemd/system") / UNIT
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user" / UNIT


# --------------------------------------------------------------------------- launchd

_PLIST = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!--
  studiocut: the hot-folder daemon as a launchd agent of the logged-in user.
  Written by `studiocut service install` into ~/Library/LaunchAgents with this
  installation's paths; the studiocut repository keeps it with example paths in service/.
  Logs: tail -f on the StandardErrorPath below.
  Status: launchctl print gui/$(id -u)/{label}
-->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>{label}</string>
  <!-- The daemon in the foreground, as launchd expects, with its drain time given. -->
  <key>ProgramArguments</key>
  <array>
{arguments}
  </array>
  <!-- Start at login (and when installed). -->
  <key>RunAtLoad</key>
  <true/>
  <!-- Restart after a crash or an error exit; a clean stop (exit 0) stays stopped. -->
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <!-- At most one restart every 10 seconds (a profile error retries at this pace until
       it is fixed; `studiocut check` shows it). -->
  <key>ThrottleInterval</key>
  <integer>10</integer>
  <!-- SIGTERM starts the drain (the shutdown timeout in the arguments above); launchd
       waits longer than that before it sends SIGKILL. -->
  <key>ExitTimeOut</key>
  <integer>{stop_timeout}</integer>
  <!-- Not Background: macOS would throttle its CPU and disk and photos would queue up. -->
  <key>ProcessType</key>
  <string>Standard</string>
  <!-- Plain log lines (there is no terminal). launchd does not rotate this file. -->
  <key>StandardOutPath</key>
  <string>{log}</string>
  <key>StandardErrorPath</key>
  <string>{log}</string>
</dict>
</plist>
"""


def launchd_plist(spec: Spec) -> str:
    """Given a spec (with ``logs``), return the LaunchAgent property list text."""
    assert spec.logs is not None
    for arg in (*spec.run_arguments(), str(spec.logs)):
        if any(ord(c) < 32 for c in arg):
            raise ConfigError([f"{arg!r}: a path with control characters cannot go into a "
                               "property list"])
    arguments = "\n".join(f"    <string>{escape(a)}</string>" for a in spec.run_arguments())
    return _PLIST.format(label=LABEL, arguments=arguments, stop_timeout=spec.stop_timeout,
                         log=escape(str(launchd_log(spec))))


def launchd_log(spec: Spec) -> Path:
    assert spec.logs is not None
    return spec.logs / "studiocut.log"


def launchd_plist_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Write:
    path: Path
    text: str


@dataclass(frozen=True)
class Remove:
    path: Path


@dataclass(frozen=True)
class MakeDir:
    path: Path


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    may_fail: bool = False  # e.g. unloading a service that is not loaded


@dataclass(frozen=True)
class Call:
    """A step done through an API rather than a command (the Windows service manager)."""

    what: str
    action: Callable[[], None]


Step = Write | Remove | MakeDir | Run | Call


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()


def install_plan(platform: str, spec: Spec) -> Plan:
    """The steps that install and start the service on ``platform`` (a ``sys.platform``)."""
    if platform.startswith("linux"):
        return _systemd_install(spec)
    if platform == "darwin":
        return _launchd_install(spec)
    if platform == "win32":
        return _windows_install(spec)
    raise ConfigError([f"no service manager support for {platform}; run `studiocut run` "
                       "under your init system"])


def uninstall_plan(platform: str, spec: Spec) -> Plan:
    """The steps that stop and remove the service; its folders and journal stay."""
    if platform.startswith("linux"):
        path = systemd_unit_path(spec)
        if not path.exists():
            return Plan((), (f"studiocut is not installed as a service (no {path})",))
        ctl = _systemctl(spec)
        return Plan((Run((*ctl, "disable", "--now", UNIT)), Remove(path),
                     Run((*ctl, "daemon-reload"))), _kept(spec))
    if platform == "darwin":
        path = launchd_plist_path()
        if not path.exists():
            return Plan((), (f"studiocut is not installed as a service (no {path})",))
        return Plan((Run(("launchctl", "bootout", _launchd_target()), may_fail=True),
                     Remove(path)), _kept(spec))
    if platform == "win32":
        return Plan((Call(f"stop the Windows service '{NAME}' (waiting for the drain) and "
                          "remove it", _winservice_call("remove")),), _kept(spec))
    raise ConfigError([f"no service manager support for {platform}"])


def status_command(platform: str, spec: Spec) -> tuple[str, ...]:
    if platform.startswith("linux"):
        return (*_systemctl(spec), "status", UNIT, "--no-pager")
    if platform == "darwin":
        return ("launchctl", "print", _launchd_target())
    if platform == "win32":
        return ("sc.exe", "queryex", NAME)
    raise ConfigError([f"no service manager support for {platform}"])


def log_hint(platform: str, spec: Spec) -> str:
    if platform.startswith("linux"):
        return f"logs: journalctl{'' if spec.system else ' --user'} -u studiocut -f"
    if platform == "darwin":
        return f"logs: tail -f {shlex.quote(str(launchd_log(spec)))}"
    return "logs: Event Viewer > Windows Logs > Application, source studiocut"


def _systemctl(spec: Spec) -> tuple[str, ...]:
    return ("systemctl",) if spec.system else ("systemctl", "--user")


def _systemd_install(spec: Spec) -> Plan:
    ctl = _systemctl(spec)
    steps: list[Step] = []
    notes = [log_hint("linux", spec),
             f"status: studiocut service status{' --system' if spec.system else ''}"]
    if spec.system:
        if not _user_exists(SYSTEM_USER):
            steps.append(Run(("useradd", "--system", "--user-group", "--home-dir",
                              str(SYSTEM_STATE), "--no-create-home", "--shell",
                              "/usr/sbin/nologin", SYSTEM_USER)))
        steps.append(MakeDir(spec.profiles))
        notes.append(f"profiles: put them in {spec.profiles}; the user {SYSTEM_USER} needs "
                     "to read the watched folders and write the output folders")
        if spec.state != SYSTEM_STATE:
            notes.append(f"the user {SYSTEM_USER} must own {spec.state}")
        if any(part in ("home", "root") for part in spec.python.parts[1:2]):
            notes.append(f"warning: {spec.python} is in a home folder, which the user "
                         f"{SYSTEM_USER} may not be able to read; install studiocut in a "
                         "shared place such as /opt/studiocut/venv")
    else:
        notes.append("it runs while you are logged in; to start it at boot and keep it "
                     f"running after you log out: loginctl enable-linger {_login()}")
    steps += [Write(systemd_unit_path(spec), systemd_unit(spec)),
              Run((*ctl, "daemon-reload")),
              Run((*ctl, "enable", UNIT)),
              Run((*ctl, "restart", UNIT))]
    return Plan(tuple(steps), tuple(notes))


def _launchd_install(spec: Spec) -> Plan:
    if spec.system:
        raise ConfigError(["on macOS studiocut runs as a launchd agent of the logged-in user; "
                           "--system is not supported"])
    target = _launchd_target()
    path = launchd_plist_path()
    assert spec.logs is not None
    return Plan((MakeDir(spec.logs),
                 Write(path, launchd_plist(spec)),
                 Run(("launchctl", "bootout", target), may_fail=True),
                 Run(("launchctl", "enable", target)),
                 Run(("launchctl", "bootstrap", _launchd_domain(), str(path)))),
                (log_hint("darwin", spec), "status: studiocut service status"))


def _windows_install(spec: Spec) -> Plan:
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
    ), (log_hint("win32", spec), "status: studiocut service status",
        f"it runs as LocalSystem; to run it as a studio account: sc.exe config {NAME} "
        "obj= .\\ACCOUNT password= PASSWORD"))


def _winservice_call(name: str, *args: object) -> Callable[[], None]:
    def call() -> None:
        from studiocut.service import winservice

        getattr(winservice, name)(*args)

    return call


def _kept(spec: Spec) -> tuple[str, ...]:
    return (f"kept: profiles in {spec.profiles} and the journal in {spec.state}",)


def _launchd_domain() -> str:
    if sys.platform == "win32":
        return "gui/0"  # never used there; keeps the module importable and typed
    return f"gui/{os.getuid()}"


def _launchd_target() -> str:
    return f"{_launchd_domain()}/{LABEL}"


def _user_exists(name: str) -> bool:
    if sys.platform == "win32":
        return False
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _login() -> str:
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "$USER"


# --------------------------------------------------------------------------- doing it


def execute(plan: Plan, *, dry_run: bool, out: TextIO | None = None) -> int:
    """Carry out (or with ``dry_run`` only print) each step, saying what was done; stop at
    the first failure. Return an exit code."""
    out = out or sys.stdout
    for step in plan.steps:
        if dry_run:
            print(_describe(step, dry_run=True), file=out)
            continue
        try:
            _apply(step)
        except (OSError, subprocess.CalledProcessError, ImportError) as e:
            print(f"error: {_describe(step, dry_run=False)}: {_reason(e)}", file=sys.stderr)
            return EXIT_FAILED
        except Exception as e:  # the pywin32 API raises pywintypes.error, not OSError
            if not isinstance(step, Call):
                raise
            print(f"error: {step.what}: {e}", file=sys.stderr)
            return EXIT_FAILED
        print(_describe(step, dry_run=False), file=out)
    for note in plan.notes:
        print(note, file=out)
    return EXIT_OK


def _describe(step: Step, *, dry_run: bool) -> str:
    if isinstance(step, Write):
        if dry_run:
            return f"# would write {step.path}:\n{step.text}# end of {step.path.name}"
        return f"wrote {step.path}"
    if isinstance(step, Remove):
        return f"{'would remove' if dry_run else 'removed'} {step.path}"
    if isinstance(step, MakeDir):
        return f"{'would create' if dry_run else 'created'} {step.path}"
    if isinstance(step, Run):
        return f"{'would run' if dry_run else 'ran'}: {_command_line(step.argv)}"
    return f"{'would ' if dry_run else 'done: '}{step.what}"


def _apply(step: Step) -> None:
    if isinstance(step, Write):
        step.path.parent.mkdir(parents=True, exist_ok=True)
        step.path.write_text(step.text, encoding="utf-8")
    elif isinstance(step, Remove):
        step.path.unlink(missing_ok=True)
    elif isinstance(step, MakeDir):
        step.path.mkdir(parents=True, exist_ok=True)
    elif isinstance(step, Run):
        if shutil.which(step.argv[0]) is None:
            raise OSError(f"{step.argv[0]} not found: this system does not run the service "
                          "manager it needs")
        result = subprocess.run(step.argv, check=False)
        if result.returncode != 0 and not step.may_fail:
            raise subprocess.CalledProcessError(result.returncode, step.argv)
    else:
        step.action()


def _reason(error: BaseException) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        return f"exit status {error.returncode}"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}" + (f" ({error.filename})" if error.filename else "")
    return str(error)


def _command_line(argv: Sequence[str]) -> str:
    if sys.platform == "win32":
        return subprocess.list2cmdline(list(argv))
    return shlex.join(argv)


# --------------------------------------------------------------------------- the CLI


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``studiocut service install|uninstall|status`` to the CLI."""
    service = subparsers.add_parser(
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

    from studiocut.cli import commands as cli

    platform = platform or sys.platform
    system = args.system if args.system is not None else platform == "win32"
    if not sys.executable:
        raise ConfigError(["cannot tell which Python runs studiocut (sys.executable is empty)"])
    python = Path(sys.executable).absolute()  # not resolved: a venv's python is a symlink
    if system and platform.startswith("linux"):
        profiles = Path(args.profiles).expanduser() if args.profiles else SYSTEM_PROFILES
        state = Path(args.state).expanduser() if args.state else SYSTEM_STATE
    else:
        profiles, state = cli.profiles_dir(args), cli.state_dir(args)
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
