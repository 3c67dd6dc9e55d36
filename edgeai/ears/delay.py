"""Playback-to-capture delay: where the speaker's audio turns up in the microphone.

Sound cards buffer differently (a USB speaker 20 ms, a Bluetooth one 200 ms), so the delay is
measured, not configured: GCC-PHAT cross-correlation of the reference and the microphone over
a window, re-estimated while something plays, which also follows two clocks drifting apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ

WINDOW_S = 1.5
"""Audio correlated at once: a few words of a reply."""
EVERY_S = 0.5
MIN_CONFIDENCE = 20.0
"""Correlation peak over the spread of the other lags: below this the peak is chance (a quiet
reply, double talk drowning the echo) and the previous estimate stands. A user talking into a
microphone that does not hear the speaker reaches 10 by chance; a reply's echo 10 dB under a
user talking over it 25 and more, alone 120-350 (simulated rooms, benchmarks/session-47)."""
MIN_REFERENCE_RMS = 100.0
"""int16 RMS of the window's reference below which nothing audible played."""
NO_ECHO_WINDOWS = 4
"""Windows in a row with audible playback and no echo in the microphone (headphones, a file,
a muted speaker) after which the canceller stops touching the microphone: with no echo to
learn from, its suppressor would take the user's voice for echo."""
BAND_HZ = (200.0, 6000.0)
"""Where a small loudspeaker actually reproduces speech."""


@dataclass(frozen=True)
class DelayEstimate:
    samples: int
    confidence: float

    @property
    def ms(self) -> float:
        return 1000.0 * self.samples / SAMPLE_RATE_HZ


def gcc_phat(reference: np.ndarray, captured: np.ndarray, max_lag: int) -> DelayEstimate:
    """The lag in [0, max_lag] by which `captured` trails `reference` (same length, same rate)."""
    size = 1 << int(np.ceil(np.log2(2 * len(captured))))
    spectrum = np.fft.rfft(captured.astype(np.float64), size) * np.conj(
        np.fft.rfft(reference.astype(np.float64), size)
    )
    freqs = np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE_HZ)
    spectrum[(freqs < BAND_HZ[0]) | (freqs > BAND_HZ[1])] = 0
    spectrum /= np.abs(spectrum) + 1e-9
    correlation = np.fft.irfft(spectrum, size)[: max_lag + 1]
    lag = int(np.argmax(correlation))
    others = np.delete(correlation, slice(max(0, lag - 8), lag + 9))
    spread = float(np.std(others)) + 1e-12
    return DelayEstimate(lag, float((correlation[lag] - np.mean(others)) / spread))


class DelayTracker:
    """Keeps the latest confident delay, re-estimated every EVERY_S from the recent window."""

    def __init__(self, max_delay_s: float) -> None:
        self.max_lag = int(max_delay_s * SAMPLE_RATE_HZ)
        self._keep = int(WINDOW_S * SAMPLE_RATE_HZ) + self.max_lag
        self._reference = np.zeros(self._keep, np.int16)
        self._captured = np.zeros(self._keep, np.int16)
        self._since = 0
        self.estimate: DelayEstimate | None = None
        """None until a confident one."""
        self._misses = 0

    def push(self, reference: np.ndarray, captured: np.ndarray) -> DelayEstimate | None:
        """Add one block of each; returns the estimate (new or standing)."""
        self._reference = np.concatenate([self._reference, reference])[-self._keep :]
        self._captured = np.concatenate([self._captured, captured])[-self._keep :]
        self._since += len(captured)
        if self._since >= EVERY_S * SAMPLE_RATE_HZ:
            self._since = 0
            window = self._reference[self.max_lag :].astype(np.float64)
            if np.sqrt(np.mean(window**2)) >= MIN_REFERENCE_RMS:
                found = gcc_phat(self._reference, self._captured, self.max_lag)
                if found.confidence >= MIN_CONFIDENCE:
                    self.estimate, self._misses = found, 0
                else:
                    self._misses += 1
        return self.estimate

    @property
    def echo_missing(self) -> bool:
        """The latest windows played audibly and found no echo of it in the microphone."""
        return self._misses >= NO_ECHO_WINDOWS


PROBE_S = 1.0
PROBE_LEVEL = 0.05
"""-26 dBFS of noise: audible, not loud."""

PlayRecord = Callable[[np.ndarray], np.ndarray]
"""Plays 16 kHz float audio on the speaker and returns what the microphone recorded meanwhile
(16 kHz float, at least as long)."""


def measure_echo_delay(play_record: PlayRecord, max_delay_s: float) -> DelayEstimate | None:
    """The speaker-to-microphone delay of a short burst of noise; None when the microphone did
    not hear it (headphones, a muted speaker, another room)."""
    rng = np.random.default_rng(0)
    burst = np.zeros(int((PROBE_S + max_delay_s) * SAMPLE_RATE_HZ), np.float32)
    burst[: int(PROBE_S * SAMPLE_RATE_HZ)] = PROBE_LEVEL * rng.standard_normal(
        int(PROBE_S * SAMPLE_RATE_HZ)
    )
    recorded = np.asarray(play_record(burst), np.float32)[: len(burst)]
    if len(recorded) < len(burst):
        return None
    found = gcc_phat(burst, recorded, int(max_delay_s * SAMPLE_RATE_HZ))
    return found if found.confidence >= MIN_CONFIDENCE else None
