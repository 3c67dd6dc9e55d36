"""The systemd watchdog, fed only while the service is healthy.

The supervisor (edgeai.runtime.supervisor) knows every loop: one that failed, whose thread is
gone, or that made no progress for `stall_s` (a loop stuck in a read that never returns) is a
problem. A loop waiting for a lost microphone or camera still beats (it waits on purpose).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from edgeai.runtime.supervisor import LoopProblem
from edgeai.service.systemd import SystemdNotifier

log = logging.getLogger(__name__)


def failure_status(problems: list[LoopProblem]) -> str:
    """The STATUS= line for a service that needs a restart."""
    return "failed: " + "; ".join(problem.describe() for problem in problems)


class WatchdogFeeder:
    """Sends WATCHDOG=1 at half systemd's interval while there is no problem; stops sending
    (so systemd restarts the service) once there is, and says which in STATUS and the log."""

    def __init__(
        self,
        notifier: SystemdNotifier,
        problems: Callable[[], list[LoopProblem]],
        stall_s: float,
    ) -> None:
        self.notifier = notifier
        self.problems = problems
        self.stall_s = stall_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._starving: list[LoopProblem] = []
        """The problems the watchdog is starved for; empty while it is fed."""

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
            problems = self.problems()
            if not problems:
                self.notifier.notify(WATCHDOG=1)
            elif {p.loop for p in problems} != {p.loop for p in self._starving}:
                status = failure_status(problems)
                log.error("%s; not feeding the watchdog", status)
                self.notifier.notify(STATUS=status)
            self._starving = problems
