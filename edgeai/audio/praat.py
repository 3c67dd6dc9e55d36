"""Praat (praat-parselmouth) on int16 speech, where its analysis may fail on some clips."""

from __future__ import annotations

import warnings

import numpy as np
import parselmouth
from parselmouth.praat import call, run

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import int16_to_float

SEED = 1
"""Praat's overlap-add fills unvoiced stretches with periods drawn at random: seeded before each
command, the same speech always gives the same audio (unseeded, a second look's score on one
clip varied from 0.87 to 0.95 between runs, and a trainer's seed did not fix its data)."""


def praat(speech: np.ndarray, command: str, *arguments: float) -> np.ndarray | None:
    """The float audio Praat's `command` makes of int16 `speech`; None where Praat cannot
    analyse it (too short for its pitch floor, or a pitch median it finds undefined): a whole
    trainer build once died on one clip of 4000, so callers keep such audio as it is."""
    sound = parselmouth.Sound(int16_to_float(speech).astype(np.float64), SAMPLE_RATE_HZ)
    with warnings.catch_warnings():  # "no voiced segments": the caller's concern, not a user's
        warnings.simplefilter("ignore", parselmouth.PraatWarning)
        try:
            run(f"random_initializeWithSeedUnsafelyButPredictably ({SEED})")
            made = call(sound, command, *arguments)
        except parselmouth.PraatError:
            return None
    return np.asarray(made.values[0], dtype=np.float32)
