"""What the HTTP API refuses before a handler runs, so that neither a web page in a browser on
the device nor a misbehaving client can read, drive or starve it:

- a Host that is not this machine (DNS rebinding) or a request from another origin (a web page's
  fetch, form or <img>): 403, with the token or without;
- a POST that is not JSON (a page's `text/plain` form needs no CORS preflight): 415;
- a body over `api.max_body_bytes`: 413, refused by its Content-Length or, without one, as soon
  as the bytes read pass the cap (the body is never buffered whole);
- a request whose headers and body do not arrive within `api.request_timeout_s` (slow clients
  hold a connection each): the connection is closed (`RequestDeadlineProtocol`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
CROSS_SITE = frozenset({"cross-site", "same-site"})
"""Sec-Fetch-Site values of a request some other site's page started."""


@dataclass
class GuardStats:
    """Requests the guards refused, for /metrics."""

    foreign: int = 0
    """Foreign Host or cross-origin requests (403)."""
    not_json: int = 0
    too_large: int = 0
    timed_out: int = 0
    """Connections closed because a request's headers or body did not arrive in time."""


def host_names(configured: list[str]) -> frozenset[str]:
    """The Host names the API answers to: loopback names, this machine's names, `configured`.
    IP literals are always accepted: a rebinding page's requests carry its own DNS name."""
    here = socket.gethostname().lower()
    return LOOPBACK_NAMES | {here, f"{here}.local"} | {name.lower() for name in configured}


def _host_part(host: str) -> str:
    """`host` without its port: "[::1]:8765" -> "::1", "pi.local:8765" -> "pi.local"."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _refuse(status: int, error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


class OriginGuard:
    """ASGI middleware: this machine's Host names only, and no request another site started."""

    def __init__(self, app: ASGIApp, names: frozenset[str], stats: GuardStats) -> None:
        self.app = app
        self.names = names
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = self._problem(Headers(scope=scope))
            if problem is not None:
                self.stats.foreign += 1
                await _refuse(403, problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _problem(self, headers: Headers) -> str | None:
        host = headers.get("host", "")
        name = _host_part(host).lower()
        if not _is_ip(name) and name not in self.names:
            return (
                f"Host {name[:64]!r} is not this machine: use its address or add the name "
                "to api.allowed_hosts"
            )
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
            return "cross-origin requests are refused: call the API from a script, not a page"
        if headers.get("sec-fetch-site") in CROSS_SITE:
            return "requests started by another site's page are refused"
        return None


class BodyGuard:
    """ASGI middleware: a POST carries JSON of at most `max_bytes`, read here chunk by chunk and
    handed on whole, so a handler never reads an unbounded body."""

    def __init__(self, app: ASGIApp, max_bytes: int, stats: GuardStats) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        kind = headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind != "application/json":
            self.stats.not_json += 1
            refusal = _refuse(
                415, f"Content-Type {kind[:64] or 'none'!r}: expected application/json"
            )
            await refusal(scope, receive, send)
            return
        length = int(headers.get("content-length", "0"))  # h11 has checked it is a number
        try:
            body = await self._read(receive) if length <= self.max_bytes else None
        except _GoneError:
            return
        if body is None:
            self.stats.too_large += 1
            await _refuse(413, f"body over {self.max_bytes} bytes (api.max_body_bytes)")(
                scope, receive, send
            )
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the cap."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                raise _GoneError
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


class _GoneError(Exception):
    """The client went away in the middle of its body."""


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then whatever the connection says next."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def deadline_protocol(timeout_s: float, stats: GuardStats) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline for each request's headers and body: uvicorn
    closes idle keep-alive connections but waits forever for a request that trickles in."""

    class RequestDeadlineProtocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(timeout_s, self._expired)

        def _expired(self) -> None:
            """Close the connection if the request under way has not fully arrived."""
            arriving = self.conn.their_state in (h11.IDLE, h11.SEND_BODY)
            if arriving and not self.transport.is_closing():
                stats.timed_out += 1
                self.transport.close()

    return RequestDeadlineProtocol
