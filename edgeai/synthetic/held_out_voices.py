"""Held-out speech for the wake benchmark: a voice family and listening conditions that no
training or threshold choice ever uses.

A new seed of the training synthesizer is not a held-out test: the dev voices are other
espeak-ng variants, but the same formant synthesizer. The held-out family is MBROLA's diphone
voices (recorded human diphones, concatenated), which espeak-ng drives with its own text front
end: other voice sources, another way of making the sound.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import float_to_int16, int16_to_float
from edgeai.errors import EdgeAIError
from edgeai.synthetic.augment import augment, mix_at_snr, noise_floor
from edgeai.synthetic.speech import EspeakVoice, Synthesizer, Voice, voiced
from edgeai.synthetic.wake_data import (
    POSITIVE_LEAD_S,
    Positive,
    Split,
    any_background,
    any_voice,
    dev_split,
    jitter,
)

MBROLA_DIR = Path("/usr/share/mbrola")
MBROLA_VOICES = ("us1", "us2", "us3", "en1")
"""US female, two US males, a British male (Debian's mbrola-us1 ... mbrola-en1)."""


def mbrola_voices() -> tuple[Voice, ...]:
    """espeak-ng's names for the MBROLA voices; a missing one is an error naming its package."""
    for name in MBROLA_VOICES:
        if not (MBROLA_DIR / name).exists():
            raise EdgeAIError(
                f"held-out voice family: MBROLA voice {MBROLA_DIR / name} is missing; "
                f"run scripts/install-system-deps.sh (Debian mbrola-{name})"
            )
    return tuple(EspeakVoice(f"mb-{name}", 160, 50) for name in MBROLA_VOICES)


def held_out_split(rng: np.random.Generator) -> Split:
    """The dev split's sentences, words and noises, spoken by the held-out voices.

    Draws the dev split first, so the same seed leaves both families' rng in the same state.
    """
    dev = dev_split(rng)
    return Split(
        "held-out", mbrola_voices(), dev.noise_kinds, dev.sentence_parts, dev.snr_db, dev.words
    )


@dataclass(frozen=True)
class Condition:
    """Where the phrase is said: over digital silence, a faint noise floor, or noise."""

    name: str
    floor_dbfs: float | None = None
    """RMS of a pink noise floor, dB below full scale; None with snr_db None: digital silence."""
    snr_db: tuple[float, float] | None = None
    """Speech over the split's noises at an SNR drawn from this range."""


CONDITIONS = (
    Condition("digital silence"),
    Condition("-80 dBFS floor", floor_dbfs=-80.0),
    Condition("-60 dBFS floor", floor_dbfs=-60.0),
    Condition("noise 10-20 dB SNR", snr_db=(10.0, 20.0)),
)
"""A noise-gated microphone or noise suppression hands over digital silence between words; a
quiet room is a faint floor; a kitchen is noise."""


def on_background(
    speech: np.ndarray, condition: Condition, split: Split, rng: np.random.Generator,
    babble: np.ndarray | None, lead_s: float, tail_s: float,
) -> tuple[np.ndarray, int]:  # fmt: skip
    """Speech in a condition's background: (clip, sample index where the speech ends)."""
    voice = int16_to_float(speech)
    lead, tail = int(lead_s * SAMPLE_RATE_HZ), int(tail_s * SAMPLE_RATE_HZ)
    padded = np.concatenate([np.zeros(lead, np.float32), voice, np.zeros(tail, np.float32)])
    if condition.snr_db is not None:
        background = any_background(split, len(padded), rng, babble)
        clip = mix_at_snr(padded, background, rng.uniform(*condition.snr_db))
    elif condition.floor_dbfs is not None:
        clip = padded + noise_floor(len(padded), condition.floor_dbfs, rng)
    else:
        clip = padded
    return float_to_int16(clip), lead + len(voice)


def condition_positives(
    synth: Synthesizer, phrase: str, split: Split, condition: Condition, count: int,
    rng: np.random.Generator, babble: np.ndarray | None,
) -> list[Positive]:  # fmt: skip
    """`count` clips of the phrase in one condition, each said anew by a voice of the split."""
    texts = [phrase, f"{phrase}!", f"{phrase.capitalize()}.", f"{phrase.capitalize()}?"]
    out = []
    bar = tqdm(range(count), desc=f"{split.name}, {condition.name}", unit="clip", disable=None)
    for _ in bar:
        speech = voiced(synth.speak(str(rng.choice(texts)), jitter(any_voice(split, rng), rng)))
        clip, end = on_background(
            augment(speech, rng), condition, split, rng, babble, rng.uniform(*POSITIVE_LEAD_S), 0.6
        )  # fmt: skip
        out.append(Positive(clip, end))
    return out
