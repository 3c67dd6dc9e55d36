"""Every long-lived thread of the service, and what became of it.

A thread started here (or adopted after its owner started it) is either running, stopped on
purpose, ended by itself, or failed. An exception that escapes it is logged with its traceback
and kept; a thread that ends while nobody stopped it is a failure too, unless it was allowed to
end (a file source that ran out). Loops that promise progress must beat at least once every
`stall_s` while they run. /health, STATUS= and the watchdog read `problems()`: a failed or
stalled loop is never shown as healthy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

log = logging.getLogger(__name__)


class LoopState(Enum):
    RUNNING = "running"
    ENDED = "ended"
    """Ended by itself where that is allowed: a file source ran out."""
    STOPPED = "stopped"
    """Stopped on purpose: a reload or the service's stop."""
    FAILED = "failed"


@dataclass
class LoopRecord:
    name: str
    thread: threading.Thread | None
    beats_expected: bool
    """The loop promises progress: silence longer than stall_s is a stall."""
    may_end: bool
    last_beat: float
    beats: int = 0
    state: LoopState = LoopState.RUNNING
    error: str | None = None


@dataclass(frozen=True)
class LoopProblem:
    """A loop that needs the service restarted: it failed, or it makes no progress."""

    loop: str
    reason: str
    stalled_s: float | None = None
    """Seconds without progress, for a stall; None for a failure."""

    def describe(self) -> str:
        return f"{self.loop} loop: {self.reason}"


class Supervisor:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._loops: dict[str, LoopRecord] = {}
        self._lock = threading.Lock()

    def run(
        self,
        name: str,
        target: Callable[[], None],
        *,
        beats: bool = False,
        may_end: bool = False,
    ) -> threading.Thread:
        """Run `target` in a daemon thread named `name`, watched from now on."""
        record = self._record(name, None, beats, may_end)

        def body() -> None:
            try:
                target()
            except Exception as e:
                log.exception("the %s loop failed", name)
                self._fail(record, f"{type(e).__name__}: {e}")
                return
            self._ended(record)

        thread = threading.Thread(target=body, name=name, daemon=True)
        record.thread = thread
        thread.start()
        return thread

    def adopt(self, name: str, thread: threading.Thread | None) -> None:
        """Watch a thread its owner started (a server's): it must stay alive until stopped."""
        if thread is not None:
            self._record(name, thread, beats=False, may_end=False)

    def beat(self, name: str) -> None:
        record = self._loops.get(name)
        if record is not None:
            record.last_beat = self._clock()
            record.beats += 1

    def retire(self, names: list[str] | None = None) -> None:
        """These loops (all when None) are being stopped on purpose: their end is no failure,
        and they are no longer watched."""
        with self._lock:
            for name in list(self._loops) if names is None else names:
                record = self._loops.pop(name, None)
                if record is not None and record.state is LoopState.RUNNING:
                    record.state = LoopState.STOPPED

    def fail(self, name: str, error: str) -> None:
        """Record a failure found by other means (an uncaught exception in a thread that was
        not started here)."""
        with self._lock:
            record = self._loops.get(name)
            if record is None:
                record = LoopRecord(name, None, False, False, self._clock())
                self._loops[name] = record
        self._fail(record, error)

    def problems(self, stall_s: float) -> list[LoopProblem]:
        """Failed loops, threads that died, and loops silent for longer than `stall_s`."""
        now = self._clock()
        found = []
        with self._lock:
            records = list(self._loops.values())
        for record in records:
            if record.state is LoopState.FAILED:
                found.append(LoopProblem(record.name, f"failed: {record.error}"))
            elif record.state is LoopState.RUNNING:
                thread = record.thread
                if thread is not None and not thread.is_alive():
                    found.append(LoopProblem(record.name, "its thread is gone"))
                elif record.beats_expected and now - record.last_beat > stall_s:
                    age = now - record.last_beat
                    found.append(
                        LoopProblem(record.name, f"no progress for {age:.0f} s", stalled_s=age)
                    )
        return found

    def snapshot(self) -> dict[str, dict[str, object]]:
        now = self._clock()
        with self._lock:
            return {
                name: {
                    "state": r.state.value,
                    "seconds_since_progress": round(now - r.last_beat, 3),
                    "iterations": r.beats,
                    "error": r.error,
                }
                for name, r in self._loops.items()
            }

    def install_excepthook(self) -> None:
        """Exceptions escaping threads that were not started here (a worker inside a loop)
        are failures of the service too: logged with the traceback, kept under the thread's
        name."""

        def hook(args: threading.ExceptHookArgs) -> None:
            if args.exc_type is SystemExit:
                return
            name = args.thread.name if args.thread is not None else "unnamed thread"
            error = (args.exc_type, args.exc_value, args.exc_traceback)
            log.error("an exception escaped the %s thread", name, exc_info=error)  # type: ignore[arg-type]
            self.fail(name, f"{args.exc_type.__name__}: {args.exc_value}")

        threading.excepthook = hook

    def _record(
        self, name: str, thread: threading.Thread | None, beats: bool, may_end: bool
    ) -> LoopRecord:
        record = LoopRecord(name, thread, beats, may_end, self._clock())
        with self._lock:
            self._loops[name] = record
        return record

    def _fail(self, record: LoopRecord, error: str) -> None:
        if record.state is LoopState.STOPPED:
            return  # it broke while being stopped: nothing is lost
        record.state, record.error = LoopState.FAILED, error
        log.error("%s loop failed: %s; the service needs a restart", record.name, error)

    def _ended(self, record: LoopRecord) -> None:
        if record.state is not LoopState.RUNNING:
            return
        if record.may_end:
            record.state = LoopState.ENDED
            log.info("the %s loop ended: its source ran out", record.name)
        else:
            self._fail(record, "it ended while nobody stopped it")
