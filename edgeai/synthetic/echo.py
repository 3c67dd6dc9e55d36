"""Simulated echo paths: what a microphone hears of the device's own loudspeaker.

A small loudspeaker distorts a little (soft clipping), the sound cards delay it (20-200 ms of
buffers), and the room adds its reflections (an image-source room, the loudspeaker a few
centimetres to half a metre from the microphone, as on a smart speaker or a desk).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.synthetic.rooms import Room, simulate_room

SPEAKER_DISTANCE_M = (0.05, 0.5)
DEVICE_DELAY_S = (0.02, 0.2)
DRIVE = (0.5, 2.0)
"""tanh soft clipping: 0.5 barely bends the loudest peaks, 2 squashes them audibly."""


@dataclass(frozen=True)
class EchoPath:
    room: Room
    delay_s: float
    drive: float

    def apply(self, played: np.ndarray) -> np.ndarray:
        """Float echo (peak-normalised later by the caller's level) of float `played` audio, as
        long as `played` plus the delay."""
        distorted = np.tanh(self.drive * played) / np.tanh(self.drive)
        size = len(played) + len(self.room.response) - 1
        wet = np.fft.irfft(
            np.fft.rfft(distorted, size) * np.fft.rfft(self.room.response, size), size
        )
        delay = int(self.delay_s * SAMPLE_RATE_HZ)
        return np.concatenate([np.zeros(delay), wet[: len(played)]]).astype(np.float32)


def simulate_echo_path(rng: np.random.Generator, delay_s: float | None = None) -> EchoPath:
    """A random room, loudspeaker placement, distortion and device delay (or `delay_s`)."""
    room = simulate_room(rng, SPEAKER_DISTANCE_M)
    delay = float(rng.uniform(*DEVICE_DELAY_S)) if delay_s is None else delay_s
    return EchoPath(room, delay, float(rng.uniform(*DRIVE)))


def rms(audio: np.ndarray) -> float:
    """Root mean square over the voiced part (above -40 dB of the peak): silence between
    sentences would make a level comparison depend on pauses."""
    audio = np.asarray(audio, np.float64)
    loud = audio[np.abs(audio) > 0.01 * (np.max(np.abs(audio)) + 1e-12)]
    return float(np.sqrt(np.mean(loud**2))) if len(loud) else 0.0


TALKER_RMS = 0.05
"""A talker a metre or two away at a usual microphone gain (-26 dBFS)."""


def during_playback(
    played: np.ndarray,
    path: EchoPath,
    echo_to_talker_db: float,
    talker: np.ndarray | None = None,
    talker_at_s: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """What the microphone records (int16) while `played` (int16) plays through `path`: its
    echo `echo_to_talker_db` above the talker (or above a talker's usual level when nobody
    talks), the talker's speech from `talker_at_s`, and a little room noise."""
    rng = rng or np.random.default_rng(0)
    echo = path.apply(played.astype(np.float32) / 32768.0)[: len(played)]
    voice = np.zeros(len(echo), np.float32)
    level = TALKER_RMS
    if talker is not None:
        start = int(talker_at_s * SAMPLE_RATE_HZ)
        said = talker.astype(np.float32)[: len(voice) - start]
        said *= TALKER_RMS / (rms(said) + 1e-12)
        voice[start : start + len(said)] = said
        level = rms(said)
    echo *= level * 10 ** (echo_to_talker_db / 20) / (rms(echo) + 1e-12)
    noise = rng.standard_normal(len(echo)).astype(np.float32) * TALKER_RMS * 0.003
    mixed = np.clip(echo + voice + noise, -1.0, 1.0)
    return np.asarray(np.rint(mixed * 32767), np.int16)
