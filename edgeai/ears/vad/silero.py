"""Silero VAD (v5/v6 ONNX): speech probability of each 32 ms frame of 16 kHz audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeai.engines.onnx import open_session
from edgeai.errors import ModelLoadError

FRAME_SAMPLES = 512
"""32 ms: the frame the model is trained on at 16 kHz."""
CONTEXT_SAMPLES = 64
"""The tail of the previous frame that v5+ models expect in front of each frame."""


class SileroVad:
    def __init__(self, model: Path, threads: int = 1) -> None:
        self._session = open_session(model, threads)
        names = [i.name for i in self._session.get_inputs()]
        if names != ["input", "state", "sr"]:
            raise ModelLoadError(
                f"{model}: not a Silero VAD v5/v6 model: inputs {names}, "
                "expected ['input', 'state', 'sr']"
            )
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, np.float32)

    def probability(self, frame: np.ndarray) -> float:
        """Speech probability of one frame of FRAME_SAMPLES int16 samples."""
        audio = np.concatenate([self._context, frame.astype(np.float32) / 32768.0])
        self._context = audio[-CONTEXT_SAMPLES:]
        out, self._state = self._session.run(
            None, {"input": audio[None], "state": self._state, "sr": np.array(16000, np.int64)}
        )
        return float(out.reshape(-1)[0])
