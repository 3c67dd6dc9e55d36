"""How well, and when, this device heard the wake word: the speech level of the phrase, its
margin over the room's noise floor, and the wall-clock time the audio was captured, all from
the microphone blocks the loop already reads."""

from __future__ import annotations

from collections import deque

import numpy as np

FLOOR_DB = -100.0
"""Below any real microphone's noise (digital silence reads as this)."""
HISTORY_BLOCKS = 75
"""About 6 s of 80 ms blocks: the noise floor is a quiet stretch within them."""
PHRASE_BLOCKS = 12
"""About 1 s: the wake phrase, which ends at the detection."""
NOISE_PERCENTILE = 10
CLOCK_BLOCKS = 125
"""About 10 s of arrivals for the capture clock (see `heard_at`)."""


def block_db(block: np.ndarray) -> float:
    """RMS level of 16-bit audio in dBFS."""
    if block.size == 0:
        return FLOOR_DB
    rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) / 32768.0
    return max(FLOOR_DB, 20.0 * float(np.log10(rms))) if rms > 0 else FLOOR_DB


class HearingMeter:
    """Push every block as it arrives; ask, at a detection, how loud the phrase was, over what
    noise, and when it was heard."""

    def __init__(self) -> None:
        self._levels: deque[float] = deque(maxlen=HISTORY_BLOCKS)
        self._offsets: deque[tuple[int, float]] = deque()
        """(block number, arrival minus stream time), increasing offsets: a sliding minimum."""
        self._blocks = 0

    def push(self, block: np.ndarray, arrived: float, stream_end_s: float) -> None:
        """`block` arrived at wall time `arrived` and ends at `stream_end_s` of the stream."""
        self._levels.append(block_db(block))
        self._blocks += 1
        offset = arrived - stream_end_s
        while self._offsets and self._offsets[-1][1] >= offset:
            self._offsets.pop()
        self._offsets.append((self._blocks, offset))
        while self._offsets[0][0] <= self._blocks - CLOCK_BLOCKS:
            self._offsets.popleft()

    def wake_level(self) -> tuple[float, float]:
        """(speech level, signal-to-noise) in dB of the last second: its loudest block against
        a quiet percentile of the last few seconds."""
        if not self._levels:
            return FLOOR_DB, 0.0
        levels = list(self._levels)
        speech = max(levels[-PHRASE_BLOCKS:])
        noise = float(np.percentile(levels, NOISE_PERCENTILE))
        return speech, speech - noise

    def heard_at(self, stream_s: float) -> float:
        """Wall-clock time at which stream time `stream_s` was captured. A block that waited
        behind a busy loop arrives late, so the least-delayed arrival of the last ~10 s sets
        the clock; the window follows a sound card's drift against the system clock."""
        offset = self._offsets[0][1] if self._offsets else 0.0
        return stream_s + offset
