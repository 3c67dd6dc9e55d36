"""Progress of the service's loops, and the systemd watchdog fed only while they all move.

A loop is "watched" from its start until it ends on purpose (a file source that ran out); while
watched it must beat at least once every `stall_s`. A loop waiting for a lost microphone or
camera still beats (it is waiting on purpose); a loop stuck in a read that never returns does not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from edgeai.service.systemd import SystemdNotifier

log = logging.getLogger(__name__)


@dataclass
class LoopProgress:
    last_beat: float
    beats: int = 0
    finished: bool = False


class LoopHealth:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._loops: dict[str, LoopProgress] = {}
        self._lock = threading.Lock()

    def watch(self, name: str) -> None:
        with self._lock:
            self._loops[name] = LoopProgress(last_beat=self._clock())

    def beat(self, name: str) -> None:
        progress = self._loops.get(name)
        if progress is not None:
            progress.last_beat = self._clock()
            progress.beats += 1

    def finish(self, name: str) -> None:
        """The loop ended on purpose: it no longer has to beat."""
        progress = self._loops.get(name)
        if progress is not None:
            progress.finished = True

    def forget(self) -> None:
        with self._lock:
            self._loops.clear()

    def stalled(self, stall_s: float) -> dict[str, float]:
        """Watched loops silent for longer than `stall_s`, with how long they have been."""
        now = self._clock()
        with self._lock:
            ages = {n: now - p.last_beat for n, p in self._loops.items() if not p.finished}
        return {name: age for name, age in ages.items() if age > stall_s}

    def snapshot(self) -> dict[str, dict[str, object]]:
        now = self._clock()
        with self._lock:
            return {
                name: {
                    "seconds_since_progress": round(now - p.last_beat, 3),
                    "iterations": p.beats,
                    "finished": p.finished,
                }
                for name, p in self._loops.items()
            }


class WatchdogFeeder:
    """Sends WATCHDOG=1 at half systemd's interval while no loop is stalled; stops sending (so
    systemd restarts the service) once one is, and says which in STATUS and the log."""

    def __init__(self, notifier: SystemdNotifier, health: LoopHealth, stall_s: float) -> None:
        self.notifier = notifier
        self.health = health
        self.stall_s = stall_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stalled: dict[str, float] = {}

    def start(self) -> None:
        if self.notifier.watchdog_s is None:
            return
        self._thread = threading.Thread(target=self._feed, name="watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _feed(self) -> None:
        assert self.notifier.watchdog_s is not None
        interval = self.notifier.watchdog_s / 2
        while not self._stop.wait(interval):
            stalled = self.health.stalled(self.stall_s)
            if not stalled:
                self.notifier.notify(WATCHDOG=1)
            elif stalled.keys() != self.stalled.keys():
                which = ", ".join(f"{name} loop for {age:.0f} s" for name, age in stalled.items())
                log.error("no progress in the %s; not feeding the watchdog", which)
                self.notifier.notify(STATUS=f"stalled: {which}")
            self.stalled = stalled
