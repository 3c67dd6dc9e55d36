"""Timers that survive a restart: kept in a JSON file, written atomically on every change."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

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
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._timers = self._load()

    def add(self, seconds: int, name: str | None = None) -> Timer:
        timer = Timer(uuid.uuid4().hex[:8], name, seconds, self.clock() + seconds)
        self._timers.append(timer)
        self._save()
        return timer

    def cancel(self, name: str | None = None) -> list[Timer]:
        """Cancel the named timer, or the one due soonest when no name is given."""
        if name is None:
            cancelled = sorted(self._timers, key=lambda t: t.due_epoch_s)[:1]
        else:
            cancelled = [t for t in self._timers if t.name == name]
        return self._remove(cancelled)

    def cancel_all(self) -> list[Timer]:
        return self._remove(list(self._timers))

    def active(self) -> list[Timer]:
        return sorted(self._timers, key=lambda t: t.due_epoch_s)

    def pop_due(self) -> list[Timer]:
        """Timers that have rung (also while edgeai was not running), removed from the store."""
        now = self.clock()
        return self._remove([t for t in self._timers if t.due_epoch_s <= now])

    def _remove(self, timers: list[Timer]) -> list[Timer]:
        if timers:
            ids = {t.id for t in timers}
            self._timers = [t for t in self._timers if t.id not in ids]
            self._save()
        return timers

    def _load(self) -> list[Timer]:
        if not self.path.exists():
            return []
        try:
            return [Timer(**item) for item in json.loads(self.path.read_text())]
        except (ValueError, TypeError) as e:
            # keep the damaged file for a person to look at; start with no timers
            kept = self.path.with_name(f"{self.path.name}.corrupt-{int(self.clock())}")
            self.path.rename(kept)
            log.error("%s is not a timer list (%s); kept as %s", self.path, e, kept)
            return []

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.partial")
        partial.write_text(json.dumps([asdict(t) for t in self._timers], indent=2) + "\n")
        partial.replace(self.path)
