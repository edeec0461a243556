"""winservice: the daemon as a Windows service (pywin32), the same Daemon ``studiocut run`` runs.

The service control manager starts pywin32's ``pythonservice.exe``, which imports this module
and runs StudiocutService: SvcDoRun runs ``startup() -> serve() -> shutdown()``; SvcStop (and
SvcShutdown when Windows shuts down) sets the daemon's stop flag, the same graceful drain as
SIGTERM. Log records go to the Windows Event Log (Application, source ``studiocut``) through
servicemanager. The folders and the drain time are the service's registry parameters, written
by ``studiocut service install``.

Install with ``studiocut service install`` or, with pywin32's own command line,
``python -m studiocut.service.winservice --startup auto install`` (also: update, remove,
start, stop, restart, debug). Windows only: pywin32 is a dependency only there.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import servicemanager
import win32service
import win32serviceutil

from studiocut import hotfolder, places
from studiocut.errors import ConfigError, StudiocutError
from studiocut.service.spec import NAME, STOP_MARGIN

log = logging.getLogger(__name__)

SERVICE_NAME = NAME
DISPLAY_NAME = "studiocut hot folders"
DESCRIPTION = ("Background removal for product photo studios: watches the profiles' folders "
               "and writes finished listing images.")
CLASS_STRING = "studiocut.service.winservice.StudiocutService"
ERROR_SERVICE_NOT_ACTIVE = 1062
ERROR_SERVICE_EXISTS = 1073


class EventLogHandler(logging.Handler):
    """Log records as Event Log entries: errors, warnings and information."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if record.levelno >= logging.ERROR:
                servicemanager.LogErrorMsg(message)
            elif record.levelno >= logging.WARNING:
                servicemanager.LogWarningMsg(message)
            else:
                servicemanager.LogInfoMsg(message)
        except Exception:  # logging must never take the service down
            self.handleError(record)


class StudiocutService(win32serviceutil.ServiceFramework):  # type: ignore[misc]
    _svc_name_ = SERVICE_NAME
    _svc_display_name_ = DISPLAY_NAME
    _svc_description_ = DESCRIPTION

    def __init__(self, args: Sequence[str]) -> None:
        super().__init__(args)
        self.daemon = hotfolder.Daemon(read_options())

    def SvcDoRun(self) -> None:
        """Run the daemon until SvcStop; a configuration error is logged and stops the
        service (restarting would not fix it)."""
        handler = attach_event_log()
        try:
            self.daemon.run()  # startup() -> serve() -> shutdown(), no signal handlers
        except StudiocutError as e:
            for line in e.problems if isinstance(e, ConfigError) else [str(e)]:
                log.error("not started: %s", line)
        finally:
            logging.getLogger().removeHandler(handler)

    def SvcStop(self) -> None:
        """Stop intake and drain: the photos in progress get ``shutdown_timeout`` seconds."""
        wait = math.ceil(self.daemon.options.shutdown_timeout + STOP_MARGIN) * 1000
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=wait)
        log.warning("stopping (service stop): finishing the photos in progress")
        self.daemon.stop.set()
        self.daemon.wake.set()

    def SvcShutdown(self) -> None:
        """Windows is shutting down: the same drain as a stop."""
        self.SvcStop()


def attach_event_log() -> logging.Handler:
    """Send INFO and above to the Event Log (one line per photo, as under systemd)."""
    handler = EventLogHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def read_options() -> hotfolder.Options:
    """The daemon's options from the service's registry parameters; a missing one takes
    ``studiocut run``'s default. Raise ConfigError for a drain time that is not a number."""
    profiles = _option("profiles") or str(places.profiles_dir())
    state = _option("state") or str(places.state_dir())
    timeout = _option("shutdown_timeout") or "20"
    try:
        seconds = float(timeout)
    except ValueError:
        raise ConfigError([f"service parameter shutdown_timeout: not a number of seconds "
                           f"(got {timeout!r})"]) from None
    return hotfolder.Options(profiles_dir=Path(profiles), state_dir=Path(state),
                             shutdown_timeout=seconds)


def _option(name: str) -> str:
    value = win32serviceutil.GetServiceCustomOption(SERVICE_NAME, name, None)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- installing


def register() -> None:
    """Register the service (or update its registration) with the service control manager:
    ``pythonservice.exe`` hosting StudiocutService, started automatically at boot."""
    try:
        win32serviceutil.InstallService(
            CLASS_STRING, SERVICE_NAME, DISPLAY_NAME,
            startType=win32service.SERVICE_AUTO_START, description=DESCRIPTION)
    except Exception as e:
        if getattr(e, "winerror", None) != ERROR_SERVICE_EXISTS:
            raise
        win32serviceutil.ChangeServiceConfig(
            CLASS_STRING, SERVICE_NAME, startType=win32service.SERVICE_AUTO_START,
            displayName=DISPLAY_NAME, description=DESCRIPTION)


def configure(profiles: Path, state: Path, shutdown_timeout: float) -> None:
    """Store the folders and the drain time as the service's registry parameters."""
    for name, value in (("profiles", str(profiles)), ("state", str(state)),
                        ("shutdown_timeout", f"{shutdown_timeout:g}")):
        win32serviceutil.SetServiceCustomOption(SERVICE_NAME, name, value)


def restart() -> None:
    """Start the service, or restart it (after its drain) when it runs."""
    seconds = math.ceil(read_options().shutdown_timeout + STOP_MARGIN)
    win32serviceutil.RestartService(SERVICE_NAME, waitSeconds=seconds)


def remove() -> None:
    """Stop the service, wait for its drain, and remove it."""
    seconds = math.ceil(read_options().shutdown_timeout + STOP_MARGIN)
    try:
        win32serviceutil.StopService(SERVICE_NAME)
        win32serviceutil.WaitForServiceStatus(SERVICE_NAME, win32service.SERVICE_STOPPED,
                                              seconds)
    except Exception as e:
        if getattr(e, "winerror", None) != ERROR_SERVICE_NOT_ACTIVE:
            raise
    win32serviceutil.RemoveService(SERVICE_NAME)


def _store_defaults(options: object) -> None:
    """After pywin32's ``install``: record ``studiocut run``'s default folders for the
    parameters not set yet (the service runs as LocalSystem, whose own defaults differ)."""
    configure(Path(_option("profiles") or places.profiles_dir()),
              Path(_option("state") or places.state_dir()), read_options().shutdown_timeout)


def main(argv: Sequence[str] | None = None) -> None:
    """pywin32's service command line for this service (install, remove, start, stop...)."""
    win32serviceutil.HandleCommandLine(StudiocutService, serviceClassString=CLASS_STRING,
                                       argv=list(argv) if argv is not None else None,
                                       customOptionHandler=_store_defaults)


if __name__ == "__main__":
    main()
