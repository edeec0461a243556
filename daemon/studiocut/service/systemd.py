"""systemd: the daemon as a systemd service on Linux.

A ``Type=notify`` unit with a watchdog, either system-wide (a dedicated unprivileged user,
hardened, profiles in /etc/studiocut, state in /var/lib/studiocut) or per-user. The
repository's ``service/studiocut.service`` and ``service/studiocut-user.service`` are these
renderings with example paths.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from studiocut.errors import ConfigError
from studiocut.service.plan import MakeDir, Plan, Remove, Run, Step, Write, kept
from studiocut.service.spec import Spec

UNIT = "studiocut.service"
SYSTEM_USER = "studiocut"
SYSTEM_PROFILES = Path("/etc/studiocut/profiles")
SYSTEM_STATE = Path("/var/lib/studiocut")
WATCHDOG_SEC = 60  # a healthy daemon pings every second; this much silence means restart

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


def install_plan(spec: Spec) -> Plan:
    """The steps that write the unit, then enable and start it (for ``--system``: first the
    dedicated user, and the profiles folder)."""
    ctl = _systemctl(spec)
    steps: list[Step] = []
    notes = [log_hint(spec),
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


def uninstall_plan(spec: Spec) -> Plan:
    """The steps that stop, disable and remove the unit; nothing when it is not installed."""
    path = systemd_unit_path(spec)
    if not path.exists():
        return Plan((), (f"studiocut is not installed as a service (no {path})",))
    ctl = _systemctl(spec)
    return Plan((Run((*ctl, "disable", "--now", UNIT)), Remove(path),
                 Run((*ctl, "daemon-reload"))), kept(spec))


def status_command(spec: Spec) -> tuple[str, ...]:
    return (*_systemctl(spec), "status", UNIT, "--no-pager")


def log_hint(spec: Spec) -> str:
    return f"logs: journalctl{'' if spec.system else ' --user'} -u studiocut -f"


def _systemctl(spec: Spec) -> tuple[str, ...]:
    return ("systemctl",) if spec.system else ("systemctl", "--user")


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
