"""Listening sockets bound before a server starts, so a taken port is one clear error."""

from __future__ import annotations

import socket

from edgeai.errors import ServiceError


def bound_socket(host: str, port: int, server: str, section: str) -> socket.socket:
    """A TCP socket bound to `host`:`port` (0 picks a free port); `server` and the config
    `section` name what failed and where to change it."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServiceError(
            f"the {server} cannot listen on {host}:{port}: {e.strerror} "
            f"(set {section}.host / {section}.port)"
        ) from None
    return sock
