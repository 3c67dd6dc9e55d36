"""The sd_notify protocol (READY, STATUS, WATCHDOG, RELOADING, STOPPING): one datagram to the
socket systemd names in $NOTIFY_SOCKET. Outside systemd every call does nothing."""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self._address = address or None
        self.watchdog_s = _watchdog_interval_s(env)
        """systemd's WatchdogSec for this process, or None when no watchdog is armed."""

    @property
    def active(self) -> bool:
        return self._address is not None

    def notify(self, **fields: str | int) -> None:
        """e.g. notify(READY=1, STATUS="listening"); failures are logged, never raised."""
        if self._address is None:
            return
        message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self._address)
                sock.sendall(message)
        except OSError as e:
            log.warning("sd_notify to %s failed: %s", self._address, e)


def _watchdog_interval_s(env: dict[str, str] | os._Environ[str]) -> float | None:
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1e6
    except ValueError:
        return None
