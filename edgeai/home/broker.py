"""What the home's parts need of the broker (edgeai.service.mqtt.MqttLink has it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class BrokerLink(Protocol):
    @property
    def connected(self) -> bool: ...

    def send_now(self, topic: str, payload: str, qos: int = 0) -> bool: ...

    def listen(self, topic: str, handler: Callable[[bytes, str], None], qos: int = 0) -> None: ...

    def unlisten(self, topic: str) -> None: ...

    def keep(self, topic: str, payload: str | None) -> None: ...
