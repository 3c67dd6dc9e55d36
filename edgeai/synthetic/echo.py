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
from edgeai.synthetic.speech import PiperStyle

REPLIES = (
    "It is twenty past three in the afternoon, and the sun will set at six.",
    "Hey Jarvis is what you call me. I can set timers, tell the time, and answer questions.",
    "Your pasta timer is done. Stop the stove before the water boils over.",
    "Paris is the capital of France. It sits on the river Seine, in the north of the country.",
    "Say stop and I will stop talking. Say hey Jarvis and I will listen to you again.",
    "The sky is blue because air scatters blue light more than red light from the sun.",
    "Jarvis here. I cancelled the timer for the oven, so nothing will ring tonight.",
    "Cats sleep for about fifteen hours a day, and they can jump five times their height.",
)
"""The device's own voice; three of them say the wake word or the stop word."""
REPLY_STYLES = (PiperStyle(1.0, 0.667, 0.8), PiperStyle(1.1, 0.5, 0.6), PiperStyle(0.9, 0.8, 0.9))

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


OWN_LEVELS_DB = (-10.0, 10.0)
"""The device's echo against a talker's usual level, as the issue's rooms have it."""
RESIDUE_TAIL_S = 0.5
"""The room still rings after a reply: its residue is kept this long after the reply ends."""


def echo_residue(
    reply: np.ndarray,
    path: EchoPath,
    echo_to_talker_db: float,
    rng: np.random.Generator,
    warm_up: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """What the wake and stop words hear of the device's own `reply` (int16) played through
    `path` with nobody talking: (the canceller's output, the microphone before it), both int16.

    The runtime's canceller starts fresh, as in a new room, or has first cancelled `warm_up`
    (another reply) through the same path (see `through_canceller`); only the reply's own
    stretch is returned.
    """
    tail = np.zeros(int(RESIDUE_TAIL_S * SAMPLE_RATE_HZ), np.int16)
    played = np.concatenate([reply, tail])
    earlier = None
    if warm_up is not None:  # drawn first, as it plays first
        warm_played = np.concatenate([warm_up, tail])
        earlier = (warm_played, during_playback(warm_played, path, echo_to_talker_db, rng=rng))
    mic = during_playback(played, path, echo_to_talker_db, rng=rng)
    heard = through_canceller(played, mic, earlier)
    return heard, mic[: len(heard)]


def through_canceller(
    played: np.ndarray, mic: np.ndarray, earlier: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """What the runtime's canceller (`edgeai.ears.echo.EchoCanceller`, its linear path as the
    words hear it) hands the wake and stop words of `mic` (int16) while `played` (int16) plays:
    fresh, as in a new room, or after first cancelling the `earlier` (played, mic) pair. As
    long as the whole 80 ms blocks of `mic`."""
    from edgeai.audio.reference import EchoReference  # imported on use: only the trainer
    from edgeai.config import EchoSettings
    from edgeai.ears.echo import EchoCanceller
    from edgeai.ears.wake.frontend import BLOCK_SAMPLES

    canceller = EchoCanceller(EchoReference(), EchoSettings())

    def cancel(sound: np.ndarray, recorded: np.ndarray) -> np.ndarray:
        heard = []
        for start in range(0, len(recorded) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
            canceller.reference.push(sound[start : start + BLOCK_SAMPLES])
            canceller.clean(recorded[start : start + BLOCK_SAMPLES])
            heard.append(canceller.for_words)
        return np.concatenate(heard)

    if earlier is not None:
        cancel(*earlier)  # what it learnt of the room stays; its output does not
    return cancel(played, mic)
