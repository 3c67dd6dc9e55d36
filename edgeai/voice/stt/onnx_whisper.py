"""Whisper as exported by optimum (encoder, decoder, decoder with past) on onnxruntime.

Greedy, English, no timestamps: the prompt and the suppressed tokens come from the artifact's
generation_config.json, the features are Whisper's log-mel of the clip padded to 30 s (what the
Hugging Face feature extractor computes), the text comes from its tokenizer.json.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from edgeai.audio.convert import int16_to_float
from edgeai.engines.onnx import open_session
from edgeai.errors import ModelLoadError
from edgeai.voice.stt.faster_whisper import is_hallucination

FILES = (
    "encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx",
    "tokenizer.json", "generation_config.json", "preprocessor_config.json",
)  # fmt: skip
MAX_NEW_TOKENS = 96
NEGATIVE = -np.inf


class OnnxWhisperSTT:
    def __init__(self, encoder_file: Path, threads: int) -> None:
        folder = encoder_file.parent
        missing = [name for name in FILES if not (folder / name).is_file()]
        if missing:
            raise ModelLoadError(f"{folder}: not an optimum Whisper export (no {missing[0]})")
        from faster_whisper.feature_extractor import FeatureExtractor
        from tokenizers import Tokenizer

        try:
            generation = json.loads((folder / "generation_config.json").read_text())
            preprocessor = json.loads((folder / "preprocessor_config.json").read_text())
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as e:  # tokenizers raises plain Exceptions on a bad file
            raise ModelLoadError(f"{folder}: unreadable Whisper export files: {e}") from None
        self._encoder = open_session(folder / "encoder_model.onnx", threads)
        self._first = open_session(folder / "decoder_model.onnx", threads)
        self._next = open_session(folder / "decoder_with_past_model.onnx", threads)
        self._features = FeatureExtractor(feature_size=int(preprocessor.get("feature_size", 80)))
        self._samples = int(preprocessor.get("n_samples", 480000))
        self._prompt = _prompt(generation)
        self._eos = int(generation["eos_token_id"])
        self._suppress = [int(t) for t in generation.get("suppress_tokens") or []]
        self._suppress_first = [int(t) for t in generation.get("begin_suppress_tokens") or []]

    def warm_up(self) -> None:
        self.transcribe(np.zeros(16000, np.int16))

    def transcribe(self, audio: np.ndarray) -> str:
        return " ".join(self.segments(audio))

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        """One segment: the clip is at most 30 s (a voice command)."""
        text = self._tokenizer.decode(self.tokens(audio), skip_special_tokens=True).strip()
        if text and not is_hallucination(text):
            yield text

    def tokens(self, audio: np.ndarray) -> list[int]:
        """The token ids decoded after the prompt, end of text excluded."""
        return self._greedy(self._log_mel(audio))

    def _log_mel(self, audio: np.ndarray) -> np.ndarray:
        padded = np.zeros(self._samples, np.float32)
        clip = int16_to_float(audio)[: self._samples]
        padded[: len(clip)] = clip
        features = self._features(padded, padding=0)[:, : self._samples // 160]
        return np.asarray(features[None], np.float32)

    def _greedy(self, features: np.ndarray) -> list[int]:
        hidden = self._encoder.run(None, {"input_features": features})[0]
        outputs = _named(
            self._first,
            self._first.run(
                None,
                {"input_ids": np.array([self._prompt], np.int64), "encoder_hidden_states": hidden},
            ),
        )
        cross = {
            k.replace("present", "past_key_values"): v
            for k, v in outputs.items()
            if ".encoder." in k
        }
        tokens: list[int] = []
        while len(tokens) < MAX_NEW_TOKENS:
            logits = outputs["logits"][0, -1].copy()
            logits[self._suppress] = NEGATIVE
            if not tokens:
                logits[self._suppress_first] = NEGATIVE
            token = int(np.argmax(logits))
            if token == self._eos:
                break
            tokens.append(token)
            past = {
                k.replace("present", "past_key_values"): v
                for k, v in outputs.items()
                if ".decoder." in k
            }
            feed = {"input_ids": np.array([[token]], np.int64), **past, **cross}
            outputs = _named(self._next, self._next.run(None, feed))
        return tokens


def _prompt(generation: dict[str, Any]) -> list[int]:
    """Start of transcript, then the forced tokens (language, task, no timestamps) in order."""
    prompt = [int(generation["decoder_start_token_id"])]
    forced = sorted(generation.get("forced_decoder_ids") or [])
    if forced:
        prompt += [int(token) for _, token in forced]
    else:  # newer configs name the tokens instead of forcing them
        if generation.get("is_multilingual"):
            prompt += [
                int(generation["lang_to_id"]["<|en|>"]),
                int(generation["task_to_id"]["transcribe"]),
            ]
        prompt.append(int(generation["no_timestamps_token_id"]))
    return prompt


def _named(session: Any, values: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {output.name: value for output, value in zip(session.get_outputs(), values, strict=True)}
