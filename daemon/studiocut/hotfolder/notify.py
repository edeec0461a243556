"""notify: the systemd notify protocol (sd_notify), spoken directly, without libsystemd.

systemd passes ``NOTIFY_SOCKET`` (a filesystem path, or an abstract socket name starting with
``@``) to a ``Type=notify`` service; the service sends datagrams of ``KEY=value`` lines to it:
``READY=1`` once it serves, ``WATCHDOG=1`` while it is healthy (when ``WATCHDOG_USEC`` asks for
it), ``STATUS=...`` for ``systemctl status``, ``STOPPING=1`` when it begins to stop.
Without ``NOTIFY_SOCKET`` (a terminal, launchd, Windows) every call does nothing.

A notification that cannot be delivered never stops the daemon: it is logged and dropped.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends notifications to the service manager at ``address`` (None: to nobody)."""

    def __init__(self, address: str | None, *, watchdog_usec: int = 0) -> None:
        self.address = address or None
        self.watchdog_usec = watchdog_usec if self.address else 0
        self._warned = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """Given the process environment, return a notifier for the service manager that
        started this process; the watchdog counts only when ``WATCHDOG_PID`` is unset or is
        this process (as ``sd_watchdog_enabled`` does)."""
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        usec = 0
        pid = env.get("WATCHDOG_PID", "")
        if not pid or pid == str(os.getpid()):
            try:
                usec = max(0, int(env.get("WATCHDOG_USEC", "0")))
            except ValueError:
                usec = 0
        return cls(address, watchdog_usec=usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_enabled(self) -> bool:
        return self.watchdog_usec > 0

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *_status(status))

    def watchdog(self, status: str | None = None) -> bool:
        """A keep-alive ping (sent only when the manager asked for pings)."""
        if not self.watchdog_enabled:
            return self.status(status) if status is not None else False
        return self.send("WATCHDOG=1", *_status(status))

    def status(self, text: str) -> bool:
        return self.send(*_status(text))

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *_status(status))

    def send(self, *fields: str) -> bool:
        """Send ``fields`` (``KEY=value`` strings) as one datagram; return True if it was
        delivered, False when disabled or undeliverable."""
        if self.address is None or not fields:
            return False
        target = socket_address(self.address)
        family = getattr(socket, "AF_UNIX", None)
        if target is None or family is None:
            self._drop(f"unsupported NOTIFY_SOCKET {self.address!r}")
            return False
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(fields).encode("utf-8", "replace"), target)
        except OSError as e:
            self._drop(f"cannot notify {self.address}: {e}")
            return False
        return True

    def _drop(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s (service manager notifications are skipped)", why)
        else:
            log.debug("%s", why)


def socket_address(address: str) -> str | bytes | None:
    """Given ``NOTIFY_SOCKET``, return the address for ``sendto``: a path as is, ``@name`` as
    the abstract name ``\\0name``; None for kinds this client does not speak (``vsock:``)."""
    if address.startswith("@"):
        return b"\0" + address[1:].encode()
    if address.startswith("/"):
        return address
    return None


def _status(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return ("STATUS=" + " ".join(text.split()),)
