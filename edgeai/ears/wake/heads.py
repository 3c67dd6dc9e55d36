"""Wake word heads: small openWakeWord classifiers over a window of speech embeddings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeai.ears.wake.frontend import EMBEDDING_DIM, MAX_WINDOW
from edgeai.engines.onnx import input_shape, open_session
from edgeai.errors import ModelLoadError


@dataclass(frozen=True)
class SecondLookSpec:
    """Where a head nearly fires, the latest audio said more slowly and scored again
    (edgeai/ears/wake/second_look.py); chosen with the head, so set in its manifest."""

    low: float
    """A score this high (under the head's threshold) asks for a second look."""
    threshold: float
    """The score the lengthened audio must reach for the word to count as spoken."""
    lengthen: float
    """How much longer the audio is said (1.25: a quarter slower)."""


@dataclass(frozen=True)
class WakeWordSpec:
    name: str
    model: Path
    threshold: float
    """Score (0..1) at or above which the word counts as spoken."""
    refractory_s: float
    """After a detection, the same word is not reported again for this long."""
    second_look: SecondLookSpec | None = None


class WakeHead:
    """One head: input (1, window, 96) embeddings, output a score in 0..1."""

    def __init__(self, spec: WakeWordSpec) -> None:
        self.spec = spec
        self._session = open_session(spec.model, threads=1)
        shape = input_shape(self._session)
        if len(shape) != 3 or shape[2] != EMBEDDING_DIM or not isinstance(shape[1], int):
            raise ModelLoadError(
                f"{spec.model}: not an openWakeWord head: input shape {shape}, expected "
                f"[1, window, {EMBEDDING_DIM}] speech embeddings"
            )
        self.window = int(shape[1])
        if not 1 <= self.window <= MAX_WINDOW:
            raise ModelLoadError(
                f"{spec.model}: a window of {self.window} embeddings; heads may use 1-{MAX_WINDOW}"
            )
        self._input = self._session.get_inputs()[0].name

    def score(self, embeddings: np.ndarray) -> float:
        """Score of the newest `window` embeddings (newest last)."""
        window = embeddings[-self.window :][None].astype(np.float32)
        return float(np.asarray(self._session.run(None, {self._input: window})[0]).reshape(-1)[0])
