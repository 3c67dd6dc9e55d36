"""`edgeai bench home`: several devices hear the same wake words, each at its own level, and
agree over a real MQTT broker which one answers.

Three `edgeai` service processes (real models, real listener, real arbitration) share one
mosquitto broker started here; each plays its own recording of the same scripted events, the
wake phrase and a request at a level of its own, starting at the same wall-clock instant (a
room's devices hear one voice at once). Each answered turn arrives on the broker's turn topic;
the figures are how many events got exactly one answer, how many were answered by the device
that heard them loudest, and what the arbitration added to the turn."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.sources import ArraySource

DEVICES = ("dev_a", "dev_b", "dev_c")
EVENT_S = 5.0
"""One event: the phrase (about 3 s), the reply, and a quiet gap before the next."""
LEAD_S = 2.0
"""Quiet before the first event: the noise floor to measure SNR against."""
NOISE_DBFS = -60.0
"""Each device's own room noise (a quiet room through a real microphone)."""
LOUDEST_DBFS = (-4.0, 0.0)
"""The event's loudest device hears the phrase this much below its recording's level."""
STEPS_DB = (2.0, 8.0)
"""Each further device is this much quieter than the one before (uniform in this range)."""


class ScheduledSource:
    """An in-memory recording played at the pace of a microphone from an agreed wall-clock
    instant: devices in other processes then hear it at the same moments."""

    def __init__(self, samples: np.ndarray, start_at: float) -> None:
        self.samples = samples
        self.start_at = start_at

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        time.sleep(max(0.0, self.start_at - time.time()))
        yield from ArraySource(self.samples, realtime=True).blocks(block_samples)


def gain(audio: np.ndarray, db: float) -> np.ndarray:
    scaled: np.ndarray = audio.astype(np.float32) * np.float32(10 ** (db / 20))
    return scaled


def device_recordings(
    phrase: np.ndarray, events: int, seed: int
) -> tuple[list[np.ndarray], list[list[float]]]:
    """Each device's recording of `events` events, and the level (dB against the phrase as
    recorded) each device heard each event at: the loudest device changes at random."""
    rng = np.random.default_rng(seed)
    event_n = int(EVENT_S * SAMPLE_RATE_HZ)
    lead_n = int(LEAD_S * SAMPLE_RATE_HZ)
    total = lead_n + events * event_n
    levels: list[list[float]] = []
    tracks = [np.zeros(total, np.float32) for _ in DEVICES]
    for k in range(events):
        order = rng.permutation(len(DEVICES))
        level = float(rng.uniform(*LOUDEST_DBFS))
        heard = [0.0] * len(DEVICES)
        for device in order:
            heard[device] = level
            level -= float(rng.uniform(*STEPS_DB))
        levels.append(heard)
        start = lead_n + k * event_n
        for device, track in enumerate(tracks):
            track[start : start + len(phrase)] += gain(phrase, heard[device])
    noise_rms = 32768 * 10 ** (NOISE_DBFS / 20)
    recordings = [
        np.clip(track + rng.normal(0, noise_rms, total), -32768, 32767).astype(np.int16)
        for track in tracks
    ]
    return recordings, levels
