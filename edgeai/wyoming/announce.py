"""Zeroconf (mDNS) announcement of the Wyoming server, so Home Assistant discovers it."""

from __future__ import annotations

import ipaddress
import logging
import socket

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from edgeai.config import is_loopback

log = logging.getLogger(__name__)

SERVICE_TYPE = "_wyoming._tcp.local."
MDNS_GROUP = "224.0.0.251"


def announced_address(host: str) -> str | None:
    """The address others should connect to: the bound one, or for a wildcard bind the one
    this machine reaches the LAN from; None on loopback, where nobody else could connect."""
    if is_loopback(host):
        return None
    if ipaddress.ip_address(host).is_unspecified:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.connect((MDNS_GROUP, 1))  # picks the outgoing interface; sends nothing
            return str(probe.getsockname()[0])
        except OSError:
            return None
        finally:
            probe.close()
    return host


def instance_name(name: str | None) -> str:
    hostname = socket.gethostname().split(".")[0] or "device"
    return name or f"edgeai-{hostname}"


class Announcement:
    def __init__(self, name: str, address: str, port: int) -> None:
        self.version = ipaddress.ip_address(address).version
        self.info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{name}.{SERVICE_TYPE}",
            addresses=[ipaddress.ip_address(address).packed],
            port=port,
            server=f"{name.replace(' ', '-')}.local.",
        )
        self._zeroconf: AsyncZeroconf | None = None

    async def start(self) -> None:
        version = IPVersion.V6Only if self.version == 6 else IPVersion.V4Only
        self._zeroconf = AsyncZeroconf(ip_version=version)
        broadcast = await self._zeroconf.async_register_service(self.info, allow_name_change=True)
        await broadcast
        log.info("Wyoming server announced over zeroconf as %s", self.info.name)

    async def stop(self) -> None:
        if self._zeroconf is not None:
            await self._zeroconf.async_unregister_service(self.info)
            await self._zeroconf.async_close()
            self._zeroconf = None
