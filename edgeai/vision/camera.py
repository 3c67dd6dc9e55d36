"""The capture thread: reads a source into a bounded queue, reopens a live source with backoff
when it fails, and treats a live source that stops delivering frames as lost (frame-age watchdog).

A stalled stream can block inside OpenCV's read for minutes; the watchdog does not wait for it:
it abandons that reader (it exits on its own once the read returns) and starts a fresh one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from edgeai.errors import EdgeAIError
from edgeai.queues import DropOldestQueue
from edgeai.vision.sources import Frame, FrameSource

log = logging.getLogger(__name__)


class CameraState(str, Enum):
    STARTING = "starting"
    OPEN = "open"
    REOPENING = "reopening"
    ENDED = "ended"
    """A file or folder has no more frames."""
    FAILED = "failed"
    """A file or folder could not be read: retrying cannot help."""
    STOPPED = "stopped"


@dataclass(frozen=True)
class CameraTiming:
    stall_s: float
    """A live source with no frame for this long is reopened (camera.stall_s)."""
    backoff_s: tuple[float, float] = (1.0, 30.0)
    """First and longest wait between reopen attempts."""
    queue_frames: int = 4
    """Frames buffered for a busy consumer before the oldest is dropped."""


class Camera:
    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        timing: CameraTiming,
        live: bool,
        lossless: bool = False,
    ) -> None:
        """`lossless`: a file read as fast as it goes waits for the consumer instead of
        dropping frames (a live or real-time source never waits)."""
        self._open_source = open_source
        self.live = live
        self.lossless = lossless
        self.timing = timing
        self.queue: DropOldestQueue[Frame | None] = DropOldestQueue(timing.queue_frames)
        self.state = CameraState.STARTING
        self.problem = ""
        """Why the camera is not delivering, in words, while it is not."""
        self.outages = 0
        self.corrupt_frames = 0
        self.last_frame_at = time.monotonic()
        self._stop = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    def start(self) -> None:
        self._supervisor = threading.Thread(target=self._supervise, name="camera", daemon=True)
        self._supervisor.start()

    def stop(self) -> None:
        self._stop.set()
        self.state = CameraState.STOPPED
        self.queue.put(None)

    def get(self, timeout_s: float) -> Frame | None:
        """The next frame; None on timeout or once the source has ended or the camera stopped."""
        return self.queue.get(timeout_s)

    @property
    def dropped_frames(self) -> int:
        return self.queue.dropped

    def _supervise(self) -> None:
        delay = self.timing.backoff_s[0]
        while not self._stop.is_set():
            finished = threading.Event()
            generation = self._next_generation()
            reader = threading.Thread(
                target=self._read, args=(generation, finished), name="camera-read", daemon=True
            )
            self.last_frame_at = time.monotonic()
            reader.start()
            while not finished.wait(0.2) and not self._stop.is_set():
                if self.state is CameraState.OPEN:
                    delay = self.timing.backoff_s[0]
                if self._stalled():
                    self._lost(f"no frame for {self.timing.stall_s:.0f} s (stream stalled)")
                    break
            if self.state in (CameraState.ENDED, CameraState.FAILED) or self._stop.is_set():
                return
            log.warning("camera: %s; reopening in %.0f s", self.problem, delay)
            self._stop.wait(delay)
            delay = min(delay * 2, self.timing.backoff_s[1])

    def _read(self, generation: int, finished: threading.Event) -> None:
        source: FrameSource | None = None
        try:
            source = self._open_source()
            self._set_open(generation, source)
            for frame in source.frames():
                if not self._current(generation):
                    return
                self.last_frame_at = time.monotonic()
                self.corrupt_frames = source.corrupt_frames
                self._deliver(frame, generation)
            if self._current(generation) and not source.live:
                self.state = CameraState.ENDED
                self._deliver(None, generation)
            elif self._current(generation):
                self._lost("the source ended")
        except EdgeAIError as e:
            if self._current(generation) and not self.live:
                self.problem = str(e)
                self.state = CameraState.FAILED
                self.queue.put(None)
            elif self._current(generation):
                self._lost(str(e))
        finally:
            if source is not None:
                source.close()
            finished.set()

    def _deliver(self, frame: Frame | None, generation: int) -> None:
        if not self.lossless:
            self.queue.put(frame)
            return
        while not self.queue.put_when_room(frame, 0.5):
            if not self._current(generation):
                return

    def _set_open(self, generation: int, source: FrameSource) -> None:
        with self._lock:
            if generation == self._generation:
                if self.state is CameraState.REOPENING:
                    log.info("camera: %s is back", source.name)
                self.state = CameraState.OPEN
                self.problem = ""

    def _lost(self, problem: str) -> None:
        with self._lock:
            self._generation += 1  # any reader still blocked is abandoned
            self.outages += 1
            self.problem = problem
            self.state = CameraState.REOPENING

    def _stalled(self) -> bool:
        return (
            self.state is CameraState.OPEN
            and time.monotonic() - self.last_frame_at > self.timing.stall_s
        )

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation and not self._stop.is_set()

    def _next_generation(self) -> int:
        with self._lock:
            self._generation += 1
            return self._generation
