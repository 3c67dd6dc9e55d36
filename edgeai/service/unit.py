"""The systemd unit, rendered for one config and device profile: which devices the service may
open (sound, video, the profile's accelerators) and which addresses it may talk to (loopback,
the LAN, mDNS, and the addresses the config names) differ from one install to the next."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from edgeai.config import Config
from edgeai.device.profiles import Profile

BASE_DEVICES = ("char-alsa", "char-video4linux")
"""Sound cards and cameras, as device groups of /proc/devices."""
LAN = (
    "localhost",
    "link-local",
    "multicast",  # mDNS (zeroconf announcements)
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)
"""Addresses the service may talk to on any install; anything else only if the config names it."""


def render_unit(template: str, edgeai_bin: str, config: Config, profile: Profile) -> str:
    """`template` with the edgeai command, the device allowlist and the address allowlist."""
    groups = [*BASE_DEVICES]
    for accelerator in profile.hardware.accelerators:
        groups += [g for g in accelerator.device_groups if g not in groups]
    devices = "\n".join(f"DeviceAllow={group} rw" for group in groups)
    addresses = "\n".join(f"IPAddressAllow={address}" for address in [*LAN, *_named(config)])
    return (
        template.replace("@EDGEAI_BIN@", edgeai_bin)
        .replace("@DEVICE_ALLOW@", devices)
        .replace("@IP_ADDRESS_ALLOW@", addresses)
    )


def _named(config: Config) -> list[str]:
    """Addresses outside the LAN the config names literally: Wyoming clients, the MQTT broker,
    remote stages. (A name is resolved only at run time: such a host must be on the LAN.)"""
    named = [str(network) for network in config.wyoming.allow]
    hosts = [config.mqtt.host] if config.mqtt.enabled else []
    hosts += [urlsplit(stage.url).hostname or "" for _, stage in config.remote.stages()]
    for host in hosts:
        try:
            named.append(str(ipaddress.ip_address(host)))
        except ValueError:
            continue
    return named
