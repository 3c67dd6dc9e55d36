"""The Wyoming server: a TCP listener in its own thread with an asyncio loop, one Session per
connection. A malformed or oversized event closes that connection only; clients that are not
on this machine or the allowlist, or that come when `max_connections` are connected, are refused
before anything is read; a client that goes quiet (`idle_timeout_s` between events,
`read_timeout_s` inside one) is dropped. Each connection holds at most one payload, one header
and `max_audio_s` of audio, so memory is bounded by `max_connections` times that."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
from collections.abc import Awaitable
from dataclasses import dataclass

from edgeai.config import WyomingSettings
from edgeai.errors import ProtocolError, ServiceError
from edgeai.sockets import bound_socket
from edgeai.wyoming.announce import Announcement, announced_address, instance_name
from edgeai.wyoming.framing import Event, Limits, ReadTimeoutError, read_event, write_event
from edgeai.wyoming.session import Session, Stages

log = logging.getLogger(__name__)

WYOMING_THREAD = "wyoming"
"""The server's accept thread; the supervisor knows it by this name."""


@dataclass
class ServerCounts:
    """What the server has seen, for /metrics and tests."""

    connections: int = 0
    refused: int = 0
    busy: int = 0
    """Clients refused because max_connections were connected."""
    timed_out: int = 0
    """Clients dropped for going quiet (idle or read timeout)."""
    closed_for_errors: int = 0
    open: int = 0
    """Clients connected now."""


def allowed(address: str, settings: WyomingSettings) -> bool:
    """This machine always; others only when an allowlist entry contains them."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or any(ip in network for network in settings.allow)


class WyomingServer:
    def __init__(self, settings: WyomingSettings, stages: Stages) -> None:
        self.settings = settings
        self.stages = stages
        self.limits = Limits(
            settings.max_event_bytes,
            settings.max_payload_bytes,
            settings.idle_timeout_s,
            settings.read_timeout_s,
        )
        self.counts = ServerCounts()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._serving = threading.Event()

    def start(self, timeout_s: float = 10.0) -> None:
        """Bind now, so a taken port is a clear error here, then serve in a thread."""
        host, port = self.settings.host, self.settings.port
        sock = bound_socket(host, port, "Wyoming server", "wyoming")
        sock.listen()
        sock.setblocking(False)
        self._socket = sock
        self._thread = threading.Thread(target=self._run, name=WYOMING_THREAD, daemon=True)
        self._thread.start()
        if not self._serving.wait(timeout_s):
            raise ServiceError(f"the Wyoming server did not start within {timeout_s:.0f} s")
        log.info("Wyoming server on tcp://%s:%d", host, self.port)

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one picked for port 0)."""
        if self._socket is None:
            return self.settings.port
        return int(self._socket.getsockname()[1])

    @property
    def thread(self) -> threading.Thread | None:
        """The server's thread, for the supervisor: it must live until `stop`."""
        return self._thread

    def stop(self, timeout_s: float = 3.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._socket is not None:
            self._socket.close()

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(
            self._connection, sock=self._socket, limit=self.limits.max_event_bytes
        )
        self._serving.set()
        announcement = self._announcement()
        if announcement is not None:
            announcing = asyncio.create_task(_quietly(announcement.start()))
        async with server:
            await self._stop.wait()
            server.close()
            if announcement is not None:
                await announcing
                await _quietly(announcement.stop())
            connections = asyncio.all_tasks() - {asyncio.current_task()}
            for task in connections:
                task.cancel()
            if connections:
                await asyncio.wait(connections, timeout=1.0)

    def _announcement(self) -> Announcement | None:
        if not self.settings.zeroconf:
            return None
        address = announced_address(self.settings.host)
        if address is None:
            log.info("Wyoming server not announced: it listens on loopback only")
            return None
        return Announcement(instance_name(self.settings.name), address, self.port)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername")[0])
        if not allowed(peer, self.settings):
            self.counts.refused += 1
            log.warning("Wyoming client %s refused: not on wyoming.allow", peer)
            writer.close()
            return
        if self.counts.open >= self.settings.max_connections:
            self.counts.busy += 1
            log.warning(
                "Wyoming client %s refused: %d clients connected (wyoming.max_connections)",
                peer,
                self.counts.open,
            )
            writer.close()
            return
        self.counts.connections += 1
        self.counts.open += 1
        log.debug("Wyoming client %s connected", peer)

        async def send(event: Event) -> None:
            await write_event(event, writer)

        session = Session(self.stages, self.settings, send, peer)
        try:
            while (event := await read_event(reader, self.limits)) is not None:
                await session.handle(event)
        except ReadTimeoutError as e:
            self.counts.timed_out += 1
            log.info("Wyoming client %s: %s; connection closed", peer, e)
        except ProtocolError as e:
            self.counts.closed_for_errors += 1
            log.warning("Wyoming client %s: %s; connection closed", peer, e)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:
            self.counts.closed_for_errors += 1
            log.exception("Wyoming client %s: the request failed; connection closed", peer)
        finally:
            self.counts.open -= 1
            writer.close()
            log.debug("Wyoming client %s disconnected", peer)


async def _quietly(step: Awaitable[None]) -> None:
    """A zeroconf step that may fail (no multicast route): logged, never fatal."""
    try:
        await step
    except Exception as e:
        log.warning("zeroconf: %s", e)
