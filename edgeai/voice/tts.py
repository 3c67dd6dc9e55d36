"""Piper text-to-speech: one sentence at a time, so the first is heard while the rest is made."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from edgeai.engines.onnx import open_session
from edgeai.engines.tensor import OpenVinoSession
from edgeai.errors import ModelLoadError
from edgeai.voice.sentences import clean, speakable_pieces

log = logging.getLogger(__name__)

MAX_WORDS_PER_PIECE = 24
"""onnxruntime keeps the memory of the longest input it has run: long sentences are split."""


class TextToSpeech(Protocol):
    sample_rate_hz: int
    """Rate of the audio `synthesize` yields, in Hertz."""

    def warm_up(self) -> None: ...

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """int16 mono audio of `text`, a piece at a time; text it cannot speak yields nothing."""
        ...


class PiperTTS:
    def __init__(
        self, model: Path, threads: int = 1, engine: str = "onnxruntime", noise_free: bool = False
    ) -> None:
        """A Piper voice: its ONNX model on onnxruntime, or (engine "openvino", or an exported
        .xml) on OpenVINO; the voice's JSON config sits beside the model either way.

        `noise_free` speaks without Piper's sampled noise: the same text, the same audio, on any
        engine (how the export gate compares a voice's variants)."""
        from piper import PiperVoice, SynthesisConfig
        from piper.config import PiperConfig

        config_path = voice_config_path(model)
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text()))
        except (OSError, ValueError, KeyError) as e:
            raise ModelLoadError(f"{config_path}: not a piper voice config: {e}") from None
        session: Any = (
            OpenVinoSession(model, threads)
            if engine == "openvino" or model.suffix == ".xml"
            else open_session(model, threads)
        )
        self._voice = PiperVoice(config=config, session=session)
        self._style = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if noise_free else None
        self.sample_rate_hz = int(config.sample_rate)
        self._lock = threading.Lock()
        """espeak-ng, Piper's phonemizer, keeps global state: one piece at a time (the voice
        loop and the Wyoming server share the voice)."""

    def warm_up(self) -> None:
        """The first synthesis pays for phonemizer and session start-up: pay it at load."""
        for _ in self.synthesize("Ready."):
            pass

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """int16 audio at `sample_rate_hz`; text piper cannot speak yields nothing."""
        for piece in speakable_pieces(clean(text), MAX_WORDS_PER_PIECE):
            try:
                with self._lock:
                    chunks = [
                        chunk.audio_int16_array
                        for chunk in self._voice.synthesize(piece, syn_config=self._style)
                    ]
            except Exception as e:  # piper's phonemizer raises assorted errors on odd text
                log.warning("could not speak %r: %s", piece[:60], e)
                continue
            yield from chunks


def voice_config_path(model: Path) -> Path:
    """Where a Piper voice's config lives: `<model file name>.json` beside the model."""
    return model.with_name(model.name + ".json")
