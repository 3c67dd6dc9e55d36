"""Audio sources: each yields 16 kHz mono int16 blocks of a fixed length until it ends.

End of stream is the end of the iterator; a live microphone never ends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import Rechunker, StreamConverter
from edgeai.audio.files import read_audio
from edgeai.errors import AudioError


class AudioSource(Protocol):
    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        """Blocks of exactly `block_samples` (the last one zero-padded)."""
        ...


class ArraySource:
    """Audio already in memory; `realtime` paces it like a microphone would."""

    def __init__(self, samples: np.ndarray, realtime: bool = False) -> None:
        self.samples = samples
        self.realtime = realtime

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        rechunker = Rechunker(block_samples)
        blocks = rechunker.push(self.samples)
        if (tail := rechunker.flush()) is not None:
            blocks.append(tail)
        started = time.monotonic()
        for index, block in enumerate(blocks):
            if self.realtime:
                due = started + (index + 1) * block_samples / SAMPLE_RATE_HZ
                time.sleep(max(0.0, due - time.monotonic()))
            yield block


class FileSource(ArraySource):
    """A WAV or FLAC file, converted to the runtime format when it is opened."""

    def __init__(self, path: Path, realtime: bool = False) -> None:
        super().__init__(read_audio(path), realtime)
        self.path = path


class RawPcmSource:
    """Raw signed 16-bit little-endian PCM from a stream (stdin), at any rate and channel count."""

    def __init__(self, stream: BinaryIO, rate_hz: int, channels: int) -> None:
        if rate_hz <= 0 or channels <= 0:
            raise AudioError(
                f"raw PCM needs a positive rate and channel count, got {rate_hz} Hz, "
                f"{channels} channels"
            )
        self.stream = stream
        self.rate_hz = rate_hz
        self.channels = channels

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        frame_bytes = 2 * self.channels
        read_bytes = max(1, block_samples * self.rate_hz // SAMPLE_RATE_HZ) * frame_bytes
        converter = StreamConverter(self.rate_hz)
        rechunker = Rechunker(block_samples)
        leftover = b""
        while data := self.stream.read(read_bytes):
            data = leftover + data
            usable = len(data) - len(data) % frame_bytes
            leftover = data[usable:]
            frames = np.frombuffer(data[:usable], dtype="<i2").reshape(-1, self.channels)
            yield from rechunker.push(converter.convert(frames))
        yield from rechunker.push(converter.convert(np.zeros((0, self.channels), np.int16), True))
        if (tail := rechunker.flush()) is not None:
            yield tail
