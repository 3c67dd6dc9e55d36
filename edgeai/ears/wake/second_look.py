"""A second look below a head's threshold: the latest audio, lengthened, scored again.

Most wake phrases a head misses in a voice family it never heard are ones it nearly caught:
fast ones above all (a quick "hey jarvis" lasts 0.35-0.5 s, under anything training said) and
quiet or reverberant ones. Where the score rises over `low` but stays under the threshold, the
last seconds are said again more slowly (Praat's overlap-add keeps the pitch, so the voice is
the same voice at a more ordinary pace) and scored by the same head through a fresh stream of
the same front end. A look costs about 0.1 s of CPU; the bundled head took 130 in 6 hours of
ordinary speech and noise (about 20 an hour), none in silence.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import float_to_int16
from edgeai.audio.praat import praat
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, WakeFrontend
from edgeai.ears.wake.heads import SecondLookSpec, WakeHead

BLOCK_S = BLOCK_SAMPLES / SAMPLE_RATE_HZ
LOOK_AFTER_BLOCKS = 3
"""The look comes this many blocks (240 ms) after the score first rose over `low`: the phrase
has ended by then, and a head about to fire on its own has done so. On the tuning sets 3 blocks
missed fewer phrases than 4 or 2 at the same false accepts (benchmarks/session-52), and 4 put
the held-out delay p95 over 300 ms."""
AUDIO_S = 2.9
"""Audio the look hears: the head's window (1.3 s of embeddings, each 0.78 s of sound) and the
blocks waited."""
LOOK_GAP_S = 1.0
"""One look per rise: no new one within this long of the last."""
PITCH_FLOOR_HZ, PITCH_CEILING_HZ = 75.0, 600.0
"""The pitch range overlap-add looks for periods in: any adult or child voice."""


def lengthen(samples: np.ndarray, factor: float) -> np.ndarray:
    """int16 speech said `factor` times as slowly, at the same pitch (Praat's overlap-add)."""
    longer = praat(samples, "Lengthen (overlap-add)", PITCH_FLOOR_HZ, PITCH_CEILING_HZ, factor)
    return samples if longer is None else float_to_int16(longer)  # unanalysable: as it is


class SecondLook:
    """One head's second look on one stream: push each block with the head's score on it."""

    def __init__(self, spec: SecondLookSpec, frontend: WakeFrontend, head: WakeHead) -> None:
        self.spec = spec
        self._frontend = frontend
        self._head = head
        self._audio: deque[np.ndarray] = deque(maxlen=math.ceil(AUDIO_S / BLOCK_S))
        self._due_in: int | None = None
        """Blocks until the look; None while none is asked for."""
        self._next_s = 0.0

    def push(self, block: np.ndarray, score: float, now_s: float, quiet: bool) -> float | None:
        """The head's best score on the latest audio lengthened, when a look is due at this
        block; None otherwise. `quiet`: the word may not fire now (its refractory), so no look
        starts; a score at the head's threshold ends a wait, since the head fired itself."""
        self._audio.append(block)
        if score >= self._head.spec.threshold:
            self._due_in = None
            return None
        if self._due_in is None:
            if score < self.spec.low or quiet or now_s < self._next_s:
                return None
            self._due_in = LOOK_AFTER_BLOCKS
            self._next_s = now_s + LOOK_GAP_S
            return None
        self._due_in -= 1
        if self._due_in > 0:
            return None
        self._due_in = None
        return self._score(lengthen(np.concatenate(self._audio), self.spec.lengthen))

    def _score(self, audio: np.ndarray) -> float:
        stream = self._frontend.stream()
        blocks = len(audio) // BLOCK_SAMPLES
        return max(
            self._head.score(stream.push(audio[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]))
            for i in range(blocks)
        )
