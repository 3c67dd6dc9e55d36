"""Augmentation: noise at a chosen SNR, synthetic reverberation, gain and speed changes."""

from __future__ import annotations

import numpy as np
import soxr

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import float_to_int16, int16_to_float
from edgeai.synthetic.rooms import Room, in_room

NOISE_KINDS = ("white", "pink", "brown", "hum", "fan")


def noise(kind: str, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS float noise of a named colour or source."""
    if kind == "white":
        out = rng.standard_normal(samples)
    elif kind in ("pink", "brown", "fan"):
        spectrum = np.fft.rfft(rng.standard_normal(samples))
        freqs = np.fft.rfftfreq(samples, 1 / SAMPLE_RATE_HZ)
        freqs[0] = freqs[1]
        if kind == "pink":
            spectrum /= np.sqrt(freqs)
        elif kind == "brown":
            spectrum /= freqs
        else:  # a fan: broadband with a low-frequency hump
            spectrum *= np.exp(-(((freqs - 250.0) / 300.0) ** 2)) + 0.05
        out = np.fft.irfft(spectrum, n=samples)
    elif kind == "hum":
        t = np.arange(samples) / SAMPLE_RATE_HZ
        base = rng.choice([50.0, 60.0])
        out = sum(np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 6))
        out = out + 0.05 * rng.standard_normal(samples)
    else:
        raise ValueError(f"unknown noise kind {kind!r}; known: {', '.join(NOISE_KINDS)}")
    return np.asarray(out / (np.sqrt(np.mean(np.square(out))) + 1e-9), dtype=np.float32)


def mix_at_snr(speech: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """Float speech plus background scaled to `snr_db` below the speech's RMS."""
    speech_rms = np.sqrt(np.mean(np.square(speech))) + 1e-9
    background_rms = np.sqrt(np.mean(np.square(background))) + 1e-9
    scale = speech_rms / background_rms / (10 ** (snr_db / 20))
    return np.asarray(speech + background[: len(speech)] * scale, dtype=np.float32)


def reverberate(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room response (exponentially decaying noise, RT60 0.2-0.8 s)."""
    rt60 = rng.uniform(0.2, 0.8)
    length = int(rt60 * SAMPLE_RATE_HZ)
    t = np.arange(length) / SAMPLE_RATE_HZ
    response = rng.standard_normal(length) * np.exp(-6.9 * t / rt60) * 0.3
    response[0] = 1.0
    size = len(audio) + length - 1
    wet = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(response, size), size)[: len(audio)]
    peak_ratio = (np.max(np.abs(audio)) + 1e-9) / (np.max(np.abs(wet)) + 1e-9)
    return np.asarray(wet * peak_ratio, dtype=np.float32)


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Faster (factor > 1) or slower speech, pitch moving with it like a tape."""
    return np.asarray(
        soxr.resample(audio, SAMPLE_RATE_HZ * factor, SAMPLE_RATE_HZ), dtype=np.float32
    )


def noise_floor(samples: int, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """Faint pink noise of `dbfs` RMS: a quiet room's floor (float, full scale 1)."""
    return np.asarray(noise("pink", samples, rng) * 10 ** (dbfs / 20), dtype=np.float32)


def augment(speech: np.ndarray, rng: np.random.Generator, room: Room | None = None) -> np.ndarray:
    """One random variant of int16 speech: speed, reverb (the room's, when one is given) and
    level (noise comes with placing)."""
    audio = int16_to_float(speech)
    if rng.random() < 0.5:
        audio = change_speed(audio, rng.uniform(0.85, 1.15))
    if room is not None:  # no draw without a room, so sets without rooms stay as they were
        audio = in_room(audio, room)
    elif rng.random() < 0.5:
        audio = reverberate(audio, rng)
    audio = audio * 10 ** (rng.uniform(-18, 3) / 20) / (np.max(np.abs(audio)) + 1e-9) * 0.7
    return float_to_int16(audio)
