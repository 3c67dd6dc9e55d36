"""Simulated rooms: image-source impulse responses (pyroomacoustics) of shoebox rooms of many
sizes, wall absorptions, reverberation times and talker-microphone distances.

A synthetic decaying-noise reverb has no early reflections, no distance and no room modes; a
user's kitchen has all three.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ

ROOM_M = ((2.5, 9.0), (2.5, 7.0), (2.3, 3.5))
"""Length, width and height ranges: a small bathroom to a large living room."""
RT60_S = (0.15, 0.9)
DISTANCE_M = (0.3, 4.5)
MAX_ORDER = 40
"""Reflections per path: enough for the decay of the rooms above at a fifth of a second each."""
WALL_GAP_M = 0.3
"""Neither talker nor microphone closer to a wall than this."""


@dataclass(frozen=True)
class Room:
    size_m: tuple[float, float, float]
    rt60_s: float
    distance_m: float
    response: np.ndarray
    """Impulse response from the talker to the microphone, peak 1."""


def simulate_room(rng: np.random.Generator, distance_m: tuple[float, float] = DISTANCE_M) -> Room:
    """One room with a talker (or a loudspeaker, nearer) and a microphone placed at random,
    and its impulse response."""
    import pyroomacoustics as pra  # imported on use: only the trainer and benchmarks need it

    length, width, height = (float(rng.uniform(*edge)) for edge in ROOM_M)
    size = (length, width, height)
    rt60 = float(rng.uniform(*RT60_S))
    absorption, order = pra.inverse_sabine(rt60, list(size))
    room = pra.ShoeBox(
        list(size),
        fs=SAMPLE_RATE_HZ,
        materials=pra.Material(absorption),
        max_order=min(int(order), MAX_ORDER),
    )
    microphone = _inside(size, rng)
    talker = _talker_near(microphone, size, rng, distance_m)
    room.add_source(talker)
    room.add_microphone(microphone)
    room.compute_rir()
    response = np.asarray(room.rir[0][0], dtype=np.float32)
    distance = float(np.linalg.norm(np.subtract(talker, microphone)))
    return Room(size, rt60, distance, response / (np.max(np.abs(response)) + 1e-12))


def _inside(size: tuple[float, ...], rng: np.random.Generator) -> list[float]:
    return [float(rng.uniform(WALL_GAP_M, edge - WALL_GAP_M)) for edge in size]


def _talker_near(
    microphone: list[float],
    size: tuple[float, ...],
    rng: np.random.Generator,
    distance_m: tuple[float, float],
) -> list[float]:
    """A talker at a distance drawn from `distance_m`, inside the room (nearer if it must be)."""
    wanted = rng.uniform(*distance_m)
    direction = rng.standard_normal(3)
    direction[2] *= 0.2  # talkers' mouths are at about the height of a microphone on a shelf
    direction /= np.linalg.norm(direction)
    low, high = np.full(3, WALL_GAP_M), np.asarray(size) - WALL_GAP_M
    for scale in np.linspace(1.0, 0.05, 20):
        talker = np.asarray(microphone) + direction * wanted * scale
        if np.all(talker >= low) and np.all(talker <= high):
            return [float(v) for v in talker]
    return _inside(size, rng)


def in_room(audio: np.ndarray, room: Room) -> np.ndarray:
    """Float speech as the room's microphone hears it, at the speech's peak level."""
    size = len(audio) + len(room.response) - 1
    wet = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(room.response, size), size)
    wet = wet[: len(audio)]
    peak_ratio = (np.max(np.abs(audio)) + 1e-9) / (np.max(np.abs(wet)) + 1e-9)
    return np.asarray(wet * peak_ratio, dtype=np.float32)
