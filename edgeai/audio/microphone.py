"""The microphone, through PortAudio (sounddevice): reopened with backoff when it disappears."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import Rechunker, StreamConverter
from edgeai.errors import AudioError
from edgeai.queues import DropOldestQueue

log = logging.getLogger(__name__)

QUEUE_PIECES = 100
"""About 2-6 s of audio at usual PortAudio block sizes before the oldest is dropped."""
SILENT_DEVICE_S = 2.0
"""A stream that delivers nothing for this long is treated as gone."""


@dataclass(frozen=True)
class OpenedInput:
    """A started input stream: close it by leaving the context."""

    stream: AbstractContextManager[Any]
    rate_hz: int
    channels: int


PieceCallback = Callable[[np.ndarray], None]
StreamOpener = Callable[[str | int | None, PieceCallback], OpenedInput]


class MicState(str, Enum):
    STARTING = "starting"
    OPEN = "open"
    REOPENING = "reopening"
    STOPPED = "stopped"


class MicrophoneSource:
    """Live audio from a device (name substring, index, or None for the default)."""

    def __init__(
        self,
        device: str | int | None = None,
        open_stream: StreamOpener | None = None,
        backoff_s: tuple[float, float] = (0.5, 10.0),
    ) -> None:
        self.device = device
        self._open_stream = open_stream or open_portaudio_input
        self._backoff_s = backoff_s
        self._stop = threading.Event()
        self.state = MicState.STARTING
        self.outages = 0
        """How many times the device was lost and reopened."""
        self.problem = ""
        """Why the device is unavailable, while it is."""
        self.dropped_pieces = 0

    def stop(self) -> None:
        self._stop.set()

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        """Live blocks; while the device is gone, silence at the same pace, so the loop reading
        this (timers, the watchdog's progress check) goes on while the device is retried."""
        delay = self._backoff_s[0]
        while not self._stop.is_set():
            try:
                yield from self._blocks_from_one_stream(block_samples)
                delay = self._backoff_s[0]
            except AudioError as e:
                self.outages += 1
                self.state = MicState.REOPENING
                # the first failure is a warning; the same one again while retrying is not news
                level = logging.DEBUG if str(e) == self.problem else logging.WARNING
                self.problem = str(e)
                log.log(
                    level,
                    "microphone %s unavailable (%s); retrying in %.1f s",
                    self.device,
                    e,
                    delay,
                )
                yield from self._silence(delay, block_samples)
                delay = min(delay * 2, self._backoff_s[1])
        self.state = MicState.STOPPED

    def _silence(self, seconds: float, block_samples: int) -> Iterator[np.ndarray]:
        block_s = block_samples / SAMPLE_RATE_HZ
        silence = np.zeros(block_samples, np.int16)
        until = time.monotonic() + seconds
        while not self._stop.wait(block_s):  # at least one block: retries never spin
            yield silence
            if time.monotonic() >= until:
                return

    def _blocks_from_one_stream(self, block_samples: int) -> Iterator[np.ndarray]:
        pieces: DropOldestQueue[np.ndarray] = DropOldestQueue(QUEUE_PIECES)
        opened = self._open_stream(self.device, pieces.put)
        converter = StreamConverter(opened.rate_hz)
        rechunker = Rechunker(block_samples)
        with opened.stream:
            self.state = MicState.OPEN
            log.info(
                "microphone %s open: %d Hz, %d channels",
                self.device,
                opened.rate_hz,
                opened.channels,
            )
            while not self._stop.is_set():
                piece = pieces.get(timeout_s=SILENT_DEVICE_S)
                self.dropped_pieces = pieces.dropped
                if piece is None:
                    raise AudioError(f"no audio for {SILENT_DEVICE_S:.0f} s")
                self.problem = ""
                yield from rechunker.push(converter.convert(piece))


def open_portaudio_input(device: str | int | None, on_piece: PieceCallback) -> OpenedInput:
    """Open the device at its native rate and channel count; conversion happens after."""
    sounddevice = import_sounddevice()
    try:
        info = sounddevice.query_devices(device, kind="input")
        rate = int(info["default_samplerate"])
        channels = max(1, min(2, int(info["max_input_channels"])))

        def callback(data: np.ndarray, frames: int, timing: Any, status: Any) -> None:
            on_piece(data.copy())  # PortAudio reuses its buffer

        stream = sounddevice.InputStream(
            device=device, samplerate=rate, channels=channels, dtype="int16", callback=callback
        )
        stream.start()
    except (sounddevice.PortAudioError, ValueError) as e:
        raise AudioError(f"cannot open input device {device!r}: {e}") from None
    return OpenedInput(stream, rate, channels)


def import_sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as e:  # the module imports, but libportaudio is missing
        raise AudioError(f"PortAudio is missing ({e}): apt-get install libportaudio2") from None
    return sounddevice
