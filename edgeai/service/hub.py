"""The service's event stream: camera events, voice turns and state changes, numbered, handed to
every subscriber (server-sent events, MQTT, the log). A failing subscriber never stops the rest."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

RECENT_EVENTS = 100


@dataclass(frozen=True)
class ServiceEvent:
    seq: int
    kind: str
    """person_entered, person_left, fall_detected, turn, camera, microphone, ..."""
    at: float
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "at": self.at} | self.data


Subscriber = Callable[[ServiceEvent], None]


class EventHub:
    def __init__(self) -> None:
        self._numbers = itertools.count(1)
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self.recent: deque[ServiceEvent] = deque(maxlen=RECENT_EVENTS)
        self.published: dict[str, int] = {}

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Adds `subscriber`; returns the call that removes it again."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, kind: str, data: dict[str, Any]) -> ServiceEvent:
        with self._lock:
            event = ServiceEvent(next(self._numbers), kind, time.time(), data)
            self.recent.append(event)
            self.published[kind] = self.published.get(kind, 0) + 1
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber %r failed on %s #%d", subscriber, kind, event.seq)
        return event
