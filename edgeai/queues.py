"""The bounded queue every arrow in the pipeline is: a full queue drops its oldest item."""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """Thread-safe; `put` never blocks, so a slow consumer cannot stall a capture thread."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._items: deque[T] = deque(maxlen=maxsize)
        self._ready = threading.Condition()
        self.dropped = 0
        """Items pushed out unread because the queue was full."""

    def put(self, item: T) -> None:
        with self._ready:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)
            self._ready.notify_all()

    def put_when_room(self, item: T, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for room, then add `item` without dropping anything; False
        if there was no room. For sources read as fast as possible, where every item counts."""
        with self._ready:
            if not self._ready.wait_for(
                lambda: len(self._items) < (self._items.maxlen or 0), timeout=timeout_s
            ):
                return False
            self._items.append(item)
            self._ready.notify_all()
            return True

    def get(self, timeout_s: float | None = None) -> T | None:
        """The oldest item, or None if nothing arrived within `timeout_s`."""
        with self._ready:
            if not self._ready.wait_for(lambda: bool(self._items), timeout=timeout_s):
                return None
            item = self._items.popleft()
            self._ready.notify_all()
            return item

    def __len__(self) -> int:
        return len(self._items)
