"""faster-whisper (CTranslate2): Whisper with int8 weights on the CPU."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edgeai.audio.convert import int16_to_float
from edgeai.errors import ModelLoadError

# Whisper's well-known hallucinations on silence and noise
_HALLUCINATIONS = re.compile(
    r"^\s*(?:\[.*\]|\(.*\)|thanks? (?:you )?(?:for watching|so much)[.!]?"
    r"|you[.!]?|\.+|bye[.!]?)\s*$",
    re.IGNORECASE,
)


class FasterWhisperSTT:
    def __init__(self, model_dir: Path, threads: int) -> None:
        _check_ctranslate2_dir(model_dir)
        try:
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise ModelLoadError(f"speech-to-text needs faster-whisper: {e}") from None
        self._model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1
        )

    def warm_up(self) -> None:
        self.transcribe(np.zeros(16000, np.int16))

    def transcribe(self, audio: np.ndarray) -> str:
        return " ".join(self.segments(audio))

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        """Whisper's segments as it decodes them; known hallucinations are left out."""
        segments, _ = self._model.transcribe(
            int16_to_float(audio),
            language="en",
            beam_size=1,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        for segment in segments:
            text = segment.text.strip()
            if text and not is_hallucination(text):
                yield text


def is_hallucination(text: str) -> bool:
    """Whisper's stock output for silence and noise, from any backend."""
    return bool(_HALLUCINATIONS.match(text))


def _check_ctranslate2_dir(model_dir: Path) -> None:
    """CTranslate2 aborts the process on some malformed files: check before it reads them."""
    for name in ("model.bin", "config.json", "tokenizer.json"):
        if not (model_dir / name).is_file():
            raise ModelLoadError(f"{model_dir}: not a CTranslate2 Whisper model (no {name})")
    try:
        json.loads((model_dir / "config.json").read_text())
    except ValueError as e:
        raise ModelLoadError(f"{model_dir / 'config.json'}: not valid JSON: {e}") from None
    with (model_dir / "model.bin").open("rb") as f:
        header = f.read(4)
    # model.bin starts with a little-endian uint32 binary version (CTranslate2 writes 5 or 6)
    if len(header) < 4 or not 1 <= int.from_bytes(header, "little") <= 16:
        raise ModelLoadError(f"{model_dir / 'model.bin'}: not a CTranslate2 model file")
