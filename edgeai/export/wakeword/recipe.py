"""A wake word recipe: everything that decides what the trainer builds, in one YAML file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edgeai.export.wakeword.train import DROPOUT, WEIGHT_DECAY

MAX_OTHER_SYNTHESIZERS = 0.75
"""The most of the training voices Pico and Kokoro may take together."""


class WakeWordRecipe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["wakeword"] = "wakeword"
    phrase: str = Field(min_length=2, max_length=60, description="What the user says")
    seed: int = Field(default=1, description="Same seed, same data, same head")
    positives: int = Field(default=3000, ge=50, description="Augmented training clips")
    negative_minutes: float = Field(
        default=150.0, gt=0, description="Training negatives: more means fewer false accepts"
    )
    dev_positives: int = Field(default=300, ge=20)
    dev_negative_minutes: float = Field(
        default=60.0, gt=0, description="Dev negatives; false accepts per hour need an hour"
    )
    after_speech: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of training positives said a moment after other speech, as a "
        "barge-in word (stop) is; the rest follow background only",
    )
    accents: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Share of espeak-ng training positives whose vowels (and h) are changed as "
        "other English accents say them",
    )
    fast: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of training positives said at a fast talker's rate (the phrase in "
        "0.35-0.5 s), beyond the voices' ordinary rates",
    )
    pico: float = Field(
        default=0.0,
        ge=0,
        le=0.5,
        description="Share of training voices that are SVOX Pico's (en-US, en-GB; Debian "
        "libttspico-utils): a third synthesizer, with its own text front end and prosody",
    )
    kokoro: float = Field(
        default=0.0,
        ge=0,
        le=0.5,
        description="Share of training voices that are Kokoro-82M's speakers and blends of two "
        "(catalog model kokoro-82m-int8): a neural synthesizer trained on recorded people",
    )
    new_speakers: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of training clips said by a new speaker: the voice's formants and "
        "pitch changed (Praat's Change gender, through praat-parselmouth)",
    )
    rooms: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of training clips heard through a simulated room (pyroomacoustics "
        "image-source rooms of many sizes, reverberation times and distances) instead of the "
        "synthetic reverb",
    )
    quiet: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of training clips in a quiet room: over digital silence or a -90 "
        "to -60 dBFS noise floor instead of noise",
    )
    talk_over: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of training positives said over other speech 10-40 dB under the "
        "phrase: a reply's echo through a simulated echo path, as the canceller leaves it",
    )
    cancelled_talk_over: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of training positives said while a reply plays, its echo -10 to "
        "+10 dB over the talker through a simulated echo path, heard through the runtime's echo "
        "canceller as the words hear it (half of them in a fresh, unconverged room)",
    )
    echo_residue: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of training negative clips that are the echo canceller's residue of "
        "the device's own replies in simulated rooms (half of them a fresh, unconverged room)",
    )
    epochs: int = Field(default=30, ge=1, le=500)
    dropout: float = Field(
        default=DROPOUT,
        ge=0,
        lt=1,
        description="Share of each hidden layer's units dropped while training: more makes a "
        "head lean less on the training voices' details",
    )
    weight_decay: float = Field(
        default=WEIGHT_DECAY, ge=0, le=1, description="AdamW weight decay of the heads"
    )
    heads: int = Field(
        default=1, ge=1, le=16, description="Heads trained from successive seeds, averaged"
    )
    mining_minutes: float = Field(
        default=0.0, ge=0, description="Ordinary speech to mine hard negatives from; 0: none"
    )
    mining_rounds: int = Field(
        default=2, ge=0, le=10, description="Train, mine, train again: this many times"
    )
    max_false_reject_rate: float = Field(
        default=0.02,
        gt=0,
        lt=1,
        description="On held-out training clips; the threshold is the highest that keeps this",
    )
    max_false_accepts_per_hour: float | None = Field(
        default=None,
        ge=0,
        description="When set, the threshold is instead the lowest at which the trainer's dev "
        "negatives false-accept at most this often",
    )
    second_look_positives: int = Field(
        default=300,
        ge=0,
        description="Phrases per voice family the head never trained on (SVOX Pico, Kokoro) "
        "on which the trainer chooses the head's second look at its near misses; 0: no look",
    )
    out: Path | None = Field(default=None, description="Folder for <name>.onnx and <name>.json")

    @model_validator(mode="after")
    def _espeak_and_piper_stay(self) -> WakeWordRecipe:
        """The other synthesizers join espeak-ng and piper; they cannot replace them."""
        if self.pico + self.kokoro > MAX_OTHER_SYNTHESIZERS:
            raise ValueError(
                f"pico + kokoro is {self.pico + self.kokoro:g}; "
                f"expected at most {MAX_OTHER_SYNTHESIZERS:g} of the training voices"
            )
        return self

    @property
    def name(self) -> str:
        """File-safe name of the phrase: 'hey jarvis' -> hey_jarvis."""
        return re.sub(r"[^a-z0-9]+", "_", self.phrase.lower()).strip("_")
