"""Wyoming events read with limits.

The wyoming package's reader believes the `data_length` and `payload_length` a peer sends and
turns every parse error into "end of stream"; here every length is capped before anything is
read and a malformed event is a ProtocolError naming what was wrong. Writing is the package's.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event, async_write_event

from edgeai.errors import ProtocolError

__all__ = ["Event", "Limits", "ReadTimeoutError", "read_event", "write_event"]

MAX_TYPE_CHARS = 64


@dataclass(frozen=True)
class Limits:
    max_event_bytes: int
    """Largest header line, and largest data block, in bytes."""
    max_payload_bytes: int
    """Largest binary payload (audio) of one event, in bytes."""
    idle_timeout_s: float | None = None
    """Longest wait for the next event's header line; None: no limit (a client's own calls
    have their deadline)."""
    read_timeout_s: float | None = None
    """Longest wait for an event's data and payload once its header has arrived."""


class ReadTimeoutError(ProtocolError):
    """A client that went quiet: between events, or in the middle of one."""


async def read_event(reader: asyncio.StreamReader, limits: Limits) -> Event | None:
    """The next event; None when the peer closed the connection between events.

    `reader` must be created with `limit=limits.max_event_bytes` so a header line without a
    newline cannot grow without bound.
    """
    try:
        line = await asyncio.wait_for(reader.readuntil(b"\n"), limits.idle_timeout_s)
    except asyncio.TimeoutError:
        raise ReadTimeoutError(
            f"no event for {limits.idle_timeout_s:g} s (wyoming.idle_timeout_s)"
        ) from None
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise ProtocolError("the connection closed in the middle of an event header") from None
    except asyncio.LimitOverrunError:
        raise ProtocolError(
            f"event header longer than {limits.max_event_bytes} bytes (wyoming.max_event_bytes)"
        ) from None
    header = _json_object(line, "event header")
    kind = header.get("type")
    if not isinstance(kind, str) or not 0 < len(kind) <= MAX_TYPE_CHARS:
        raise ProtocolError(f"event type must be a string of 1-{MAX_TYPE_CHARS} characters")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise ProtocolError(f"{kind}: data must be a JSON object")
    data_length = _length(header, "data_length", limits.max_event_bytes, kind)
    payload_length = _length(header, "payload_length", limits.max_payload_bytes, kind)

    async def rest() -> tuple[bytes, bytes | None]:
        block = await _exactly(reader, data_length, kind) if data_length else b""
        payload = await _exactly(reader, payload_length, kind) if payload_length else None
        return block, payload

    try:
        block, payload = await asyncio.wait_for(rest(), limits.read_timeout_s)
    except asyncio.TimeoutError:
        raise ReadTimeoutError(
            f"{kind}: its data and payload did not arrive within {limits.read_timeout_s:g} s "
            "(wyoming.read_timeout_s)"
        ) from None
    if block:
        data = data | _json_object(block, f"{kind} data")
    return Event(type=kind, data=data, payload=payload)


async def write_event(event: Event, writer: asyncio.StreamWriter) -> None:
    await async_write_event(event, writer)


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as e:
        raise ProtocolError(f"{what} is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def _length(header: dict[str, Any], key: str, most: int, kind: str) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{kind}: {key} must be a byte count (got {value!r})")
    if value > most:
        raise ProtocolError(f"{kind}: {key} {value} is over the limit of {most} bytes")
    return value


async def _exactly(reader: asyncio.StreamReader, count: int, kind: str) -> bytes:
    try:
        return await reader.readexactly(count)
    except asyncio.IncompleteReadError as e:
        raise ProtocolError(
            f"{kind}: the connection closed after {len(e.partial)} of {count} bytes"
        ) from None
