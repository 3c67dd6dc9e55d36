"""Timers that survive a restart: kept in a JSON file, written durably and atomically on every
change."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from edgeai.atomic import write_atomically

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timer:
    id: str
    name: str | None
    duration_s: int
    due_epoch_s: float
    """Wall-clock time it rings: a restart does not stretch it."""

    def remaining_s(self, now_epoch_s: float) -> float:
        return max(0.0, self.due_epoch_s - now_epoch_s)


class TimerStore:
    """The timers, shared by the voice loop and Wyoming clients (one lock), saved on every
    change with a durable atomic write. A save that fails is logged and counted, and the
    change stands in memory: the timer is still set, still rings, still cancelled."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self.failed_saves = 0
        self.save_problem: str | None = None
        """Why the last save failed; None once a save succeeds again."""
        self._lock = threading.Lock()
        """Guards the timers in memory; never held while writing, so the audio thread that
        looks for due timers never waits on the disk."""
        self._write_lock = threading.Lock()
        self._version = 0
        self._saved_version = 0
        self._timers = self._load()

    def add(self, seconds: int, name: str | None = None) -> Timer:
        timer = Timer(uuid.uuid4().hex[:8], name, seconds, self.clock() + seconds)
        with self._lock:
            self._timers.append(timer)
            change = self._changed()
        self._save(*change)
        return timer

    def cancel(self, name: str | None = None) -> list[Timer]:
        """Cancel the named timer, or the one due soonest when no name is given."""
        with self._lock:
            if name is None:
                cancelled = sorted(self._timers, key=lambda t: t.due_epoch_s)[:1]
            else:
                cancelled = [t for t in self._timers if t.name == name]
        return self._remove(cancelled)

    def cancel_all(self) -> list[Timer]:
        with self._lock:
            everything = list(self._timers)
        return self._remove(everything)

    def active(self) -> list[Timer]:
        with self._lock:
            return sorted(self._timers, key=lambda t: t.due_epoch_s)

    def due(self) -> list[Timer]:
        """Timers that have rung (also while edgeai was not running). They stay in the store
        until `rang` says they were announced, so a ring is never lost on the way."""
        now = self.clock()
        with self._lock:
            return [t for t in self._timers if t.due_epoch_s <= now]

    def rang(self, timer: Timer) -> None:
        """`timer` was announced: it leaves the store."""
        self._remove([timer])

    def _remove(self, timers: list[Timer]) -> list[Timer]:
        if timers:
            ids = {t.id for t in timers}
            with self._lock:
                self._timers = [t for t in self._timers if t.id not in ids]
                change = self._changed()
            self._save(*change)
        return timers

    def _changed(self) -> tuple[int, bytes]:
        """A new version of the timers, as the file holds it (called under the lock)."""
        self._version += 1
        data = json.dumps([asdict(t) for t in self._timers], indent=2) + "\n"
        return self._version, data.encode()

    def _load(self) -> list[Timer]:
        if not self.path.exists():
            return []
        try:
            return [_timer(item) for item in json.loads(self.path.read_text())]
        except (ValueError, TypeError, OSError) as e:
            # keep the damaged file for a person to look at; start with no timers
            kept = self.path.with_name(f"{self.path.name}.corrupt-{int(self.clock())}")
            try:
                self.path.rename(kept)
            except OSError as moved:
                log.error(
                    "%s is not a timer list (%s) and cannot be moved aside: %s", self.path, e, moved
                )
                return []
            log.error("%s is not a timer list (%s); kept as %s", self.path, e, kept)
            return []

    def _save(self, version: int, data: bytes) -> None:
        """Write one version; a slower writer of an older version never overwrites a newer."""
        with self._write_lock:
            if version <= self._saved_version:
                return
            try:
                write_atomically(self.path, data, durable=True)
            except OSError as e:
                self.failed_saves += 1
                self.save_problem = f"timers not saved to {self.path}: {e.strerror or e}"
                log.error("%s; they are kept in memory and ring as set", self.save_problem)
                return
            self._saved_version = version
            self.save_problem = None


def _timer(item: object) -> Timer:
    """One stored timer, its fields checked: a list of something else is a corrupt file."""
    if not isinstance(item, dict):
        raise TypeError(f"a timer is an object, got {type(item).__name__}")
    timer = Timer(**item)
    if not isinstance(timer.id, str) or not isinstance(timer.name, str | None):
        raise TypeError(f"timer {item!r}: id and name must be text")
    if not isinstance(timer.duration_s, int) or isinstance(timer.duration_s, bool):
        raise TypeError(f"timer {item!r}: duration_s must be a whole number of seconds")
    if not isinstance(timer.due_epoch_s, int | float) or isinstance(timer.due_epoch_s, bool):
        raise TypeError(f"timer {item!r}: due_epoch_s must be a number")
    return timer
