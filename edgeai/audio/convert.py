"""Bring any sample format, rate and channel count to 16 kHz mono int16."""

from __future__ import annotations

import numpy as np
import soxr

from edgeai.audio import SAMPLE_RATE_HZ


def to_runtime_format(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Mix to mono, resample to 16 kHz and convert to int16.

    `samples` is (frames,) or (frames, channels), int16 or float in [-1, 1].
    """
    audio = _as_float(samples)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if rate_hz != SAMPLE_RATE_HZ:
        audio = soxr.resample(audio, rate_hz, SAMPLE_RATE_HZ, quality="HQ")
    return float_to_int16(audio)


def float_to_int16(audio: np.ndarray) -> np.ndarray:
    return np.asarray(np.clip(np.rint(audio * 32767.0), -32768, 32767), dtype=np.int16)


def int16_to_float(samples: np.ndarray) -> np.ndarray:
    return np.asarray(samples, dtype=np.float32) / 32768.0


def _as_float(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return int16_to_float(samples)
    if samples.dtype == np.int32:
        return np.asarray(samples, dtype=np.float32) / 2147483648.0
    return np.asarray(samples, dtype=np.float32)


class StreamConverter:
    """`to_runtime_format` for a stream of pieces, resampling without seams between them (to
    16 kHz, or to `to_hz`: a remote voice brought to the local voice's rate)."""

    def __init__(self, rate_hz: int, to_hz: int = SAMPLE_RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self._resampler = (
            soxr.ResampleStream(rate_hz, to_hz, 1, dtype="float32", quality="HQ")
            if rate_hz != to_hz
            else None
        )

    def convert(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        audio = _as_float(samples)
        if audio.ndim == 2:
            audio = audio.mean(axis=1)
        if self._resampler is not None:
            audio = self._resampler.resample_chunk(audio.astype(np.float32), last=last)
        return float_to_int16(audio)


class Rechunker:
    """Cuts a stream of int16 pieces of any length into blocks of one fixed length."""

    def __init__(self, block_samples: int) -> None:
        self.block_samples = block_samples
        self._pending = np.zeros(0, np.int16)

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        self._pending = np.concatenate([self._pending, samples])
        count = len(self._pending) // self.block_samples
        blocks = [
            self._pending[i * self.block_samples : (i + 1) * self.block_samples]
            for i in range(count)
        ]
        self._pending = self._pending[count * self.block_samples :]
        return blocks

    @property
    def pending_samples(self) -> int:
        """Samples waiting for the rest of their block."""
        return len(self._pending)

    def flush(self) -> np.ndarray | None:
        """The zero-padded remainder, if any."""
        if not len(self._pending):
            return None
        padding = np.zeros(self.block_samples - len(self._pending), np.int16)
        block, self._pending = np.concatenate([self._pending, padding]), np.zeros(0, np.int16)
        return block
