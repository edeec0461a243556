"""launchd: the daemon as a launchd agent of the logged-in user on macOS.

The repository's ``service/com.studiocut.daemon.plist`` is this rendering with example paths.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from studiocut.errors import ConfigError
from studiocut.service.plan import MakeDir, Plan, Remove, Run, Write, kept
from studiocut.service.spec import Spec

LABEL = "com.studiocut.daemon"

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


def install_plan(spec: Spec) -> Plan:
    """The steps that write the agent's property list and (re)load it in the user's GUI
    domain; raise ConfigError for ``--system``."""
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
                (log_hint(spec), "status: studiocut service status"))


def uninstall_plan(spec: Spec) -> Plan:
    """The steps that unload the agent and remove its property list; nothing when it is not
    installed."""
    path = launchd_plist_path()
    if not path.exists():
        return Plan((), (f"studiocut is not installed as a service (no {path})",))
    return Plan((Run(("launchctl", "bootout", _launchd_target()), may_fail=True),
                 Remove(path)), kept(spec))


def status_command(spec: Spec) -> tuple[str, ...]:
    return ("launchctl", "print", _launchd_target())


def log_hint(spec: Spec) -> str:
    return f"logs: tail -f {shlex.quote(str(launchd_log(spec)))}"


def _launchd_domain() -> str:
    if sys.platform == "win32":
        return "gui/0"  # never used there; keeps the module importable and typed
    return f"gui/{os.getuid()}"


def _launchd_target() -> str:
    return f"{_launchd_domain()}/{LABEL}"
