"""New speakers from existing voices: vocal-tract length (formant) and pitch changes with
Praat's "Change gender" (praat-parselmouth), which resynthesizes with PSOLA.

Formants scale with the length of the vocal tract (a child's are about 1.3 times an adult
man's); the pitch median and range are the rest of what makes a voice someone's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeai.audio.convert import float_to_int16, int16_to_float
from edgeai.audio.praat import praat

FORMANT_RATIO = (0.82, 1.22)
"""Vocal tract 22% longer (a large man) to 18% shorter (a woman or a teenager) than the voice's."""
PITCH_MEDIAN_HZ = (85.0, 260.0)
PITCH_RANGE_FACTOR = (0.6, 1.6)
"""Flatter or livelier intonation than the voice's."""
PITCH_FLOOR_HZ, PITCH_CEILING_HZ = 60.0, 500.0
"""Where Praat looks for the voice's pitch."""


@dataclass(frozen=True)
class Speaker:
    formant_ratio: float
    pitch_median_hz: float
    pitch_range_factor: float


def any_speaker(rng: np.random.Generator) -> Speaker:
    return Speaker(
        float(rng.uniform(*FORMANT_RATIO)),
        float(rng.uniform(*PITCH_MEDIAN_HZ)),
        float(rng.uniform(*PITCH_RANGE_FACTOR)),
    )


def as_speaker(speech: np.ndarray, speaker: Speaker) -> np.ndarray:
    """int16 speech said by `speaker`: same words and timing, another vocal tract and pitch."""
    out = praat(
        speech, "Change gender", PITCH_FLOOR_HZ, PITCH_CEILING_HZ, speaker.formant_ratio,
        speaker.pitch_median_hz, speaker.pitch_range_factor, 1.0,
    )  # fmt: skip
    if out is None or not np.all(np.isfinite(out)) or not out.any():
        return speech  # Praat could not analyse it, or found no voiced frames: the voice stays
    peak = np.max(np.abs(int16_to_float(speech))) / (np.max(np.abs(out)) + 1e-9)
    return float_to_int16(out * peak)
