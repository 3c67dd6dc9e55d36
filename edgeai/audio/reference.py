"""The echo reference: what edgeai sends to the speaker, at 16 kHz, for the echo canceller.

The sink tees each piece it plays into an `EchoReference`; the microphone side takes the same
number of samples as each block it captures. A speaker write blocks while the device's buffer
is full, so the queue holds what is playing or about to: its head moves with the speaker, a
fixed device delay behind or ahead of the microphone, which the canceller measures.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import StreamConverter
from edgeai.audio.sinks import AudioSink

MAX_QUEUED_S = 4.0
"""More than this waiting to be lined up means the sink writes faster than it plays (a file):
the oldest is dropped and counted, so the reference never lags by more than this."""


class EchoReference:
    """A thread-safe queue of played samples (int16, 16 kHz), taken in the microphone's pace."""

    def __init__(self, max_queued_s: float = MAX_QUEUED_S) -> None:
        self._lock = threading.Lock()
        self._pieces: deque[np.ndarray] = deque()
        self._queued = 0
        self._max_queued = int(max_queued_s * SAMPLE_RATE_HZ)
        self.played_samples = 0
        """Every sample ever pushed: zero means edgeai never played anything here."""
        self.dropped_samples = 0
        self.last_push_s: float | None = None
        """time.monotonic() of the latest piece."""

    def push(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        with self._lock:
            self._pieces.append(np.asarray(samples, dtype=np.int16))
            self._queued += len(samples)
            self.played_samples += len(samples)
            self.last_push_s = time.monotonic()
            while self._queued > self._max_queued:
                extra = self._queued - self._max_queued
                head = self._pieces[0]
                if len(head) <= extra:
                    self._pieces.popleft()
                    cut = len(head)
                else:
                    self._pieces[0] = head[extra:]
                    cut = extra
                self._queued -= cut
                self.dropped_samples += cut

    def take(self, count: int) -> np.ndarray | None:
        """The next `count` samples (zero-padded once the queue runs dry); None when nothing
        is queued at all, i.e. nothing is playing."""
        with self._lock:
            if not self._queued:
                return None
            out = np.zeros(count, np.int16)
            filled = 0
            while filled < count and self._pieces:
                head = self._pieces[0]
                used = min(len(head), count - filled)
                out[filled : filled + used] = head[:used]
                filled += used
                if used == len(head):
                    self._pieces.popleft()
                else:
                    self._pieces[0] = head[used:]
            self._queued -= filled
            return out

    def clear(self) -> None:
        """Playback was cut (barge-in): what was queued will never sound."""
        with self._lock:
            self._pieces.clear()
            self._queued = 0


class TeeSink:
    """A sink that also feeds what it plays, resampled to 16 kHz, into an echo reference."""

    def __init__(self, sink: AudioSink, reference: EchoReference, rate_hz: int) -> None:
        self.sink = sink
        self.reference = reference
        self._converter = StreamConverter(rate_hz)

    def write(self, samples: np.ndarray) -> None:
        self.reference.push(self._converter.convert(np.asarray(samples, dtype=np.int16)))
        self.sink.write(samples)

    def close(self) -> None:
        self.reference.push(self._converter.convert(np.zeros(0, np.int16), last=True))
        self.sink.close()

    def interrupt(self) -> None:
        self.reference.clear()
        self.sink.interrupt()


def teeing(
    open_sink: Callable[[int], AudioSink], reference: EchoReference
) -> Callable[[int], AudioSink]:
    """`open_sink` whose sinks feed `reference` with what they play."""

    def open_teeing(rate_hz: int) -> AudioSink:
        return TeeSink(open_sink(rate_hz), reference, rate_hz)

    return open_teeing
