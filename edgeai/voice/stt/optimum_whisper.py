"""Whisper as optimum exports it: ONNX (encoder, decoder, decoder with past) on onnxruntime, or
OpenVINO IR (encoder, stateful decoder; optimum-intel) on OpenVINO.

Greedy, English, no timestamps: the prompt and the suppressed tokens come from the artifact's
generation_config.json, the features are Whisper's log-mel of the clip padded to 30 s (what the
Hugging Face feature extractor computes), the text comes from its tokenizer.json.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from edgeai.audio.convert import int16_to_float
from edgeai.engines.onnx import open_session
from edgeai.errors import ModelLoadError
from edgeai.voice.stt.faster_whisper import is_hallucination

COMMON_FILES = ("tokenizer.json", "generation_config.json", "preprocessor_config.json")
ONNX_FILES = ("encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx")
OPENVINO_FILES = ("openvino_encoder_model.xml", "openvino_decoder_model.xml")
MAX_NEW_TOKENS = 96


class Decoder(Protocol):
    """One clip's decoding: the prompt's logits first, then one token's at a time."""

    def start(self, prompt: list[int], hidden: np.ndarray) -> np.ndarray: ...

    def step(self, token: int) -> np.ndarray: ...


class OptimumWhisperSTT:
    def __init__(self, encoder_file: Path, threads: int, engine: str = "onnxruntime") -> None:
        folder = encoder_file.parent
        files = ONNX_FILES if engine == "onnxruntime" else OPENVINO_FILES
        missing = [name for name in (*files, *COMMON_FILES) if not (folder / name).is_file()]
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
        self._encode, self._decoder = (
            _onnx(folder, threads) if engine == "onnxruntime" else _openvino(folder, threads)
        )
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
        hidden = self._encode(self._log_mel(audio))
        logits = self._decoder.start(self._prompt, hidden)
        tokens: list[int] = []
        while len(tokens) < MAX_NEW_TOKENS:
            scores = logits.copy()
            scores[self._suppress] = -np.inf
            if not tokens:
                scores[self._suppress_first] = -np.inf
            token = int(np.argmax(scores))
            if token == self._eos:
                break
            tokens.append(token)
            logits = self._decoder.step(token)
        return tokens

    def _log_mel(self, audio: np.ndarray) -> np.ndarray:
        padded = np.zeros(self._samples, np.float32)
        clip = int16_to_float(audio)[: self._samples]
        padded[: len(clip)] = clip
        features = self._features(padded, padding=0)[:, : self._samples // 160]
        return np.asarray(features[None], np.float32)


class _OnnxDecoder:
    """decoder_model for the prompt, then decoder_with_past with the kept key/values."""

    def __init__(self, first: Any, following: Any) -> None:
        self._first, self._following = first, following
        self._cross: dict[str, np.ndarray] = {}
        self._past: dict[str, np.ndarray] = {}

    def start(self, prompt: list[int], hidden: np.ndarray) -> np.ndarray:
        feed = {"input_ids": np.array([prompt], np.int64), "encoder_hidden_states": hidden}
        outputs = _named(self._first, self._first.run(None, feed))
        self._cross = _as_past(outputs, ".encoder.")
        return self._keep(outputs)

    def step(self, token: int) -> np.ndarray:
        feed = {"input_ids": np.array([[token]], np.int64), **self._past, **self._cross}
        return self._keep(_named(self._following, self._following.run(None, feed)))

    def _keep(self, outputs: dict[str, np.ndarray]) -> np.ndarray:
        self._past = _as_past(outputs, ".decoder.")
        return np.asarray(outputs["logits"][0, -1])


class _OpenVinoDecoder:
    """optimum-intel's stateful decoder: the key/values live in the request's state."""

    def __init__(self, compiled: Any) -> None:
        self._request = compiled.create_infer_request()
        self._hidden = np.zeros(0, np.float32)

    def start(self, prompt: list[int], hidden: np.ndarray) -> np.ndarray:
        self._request.reset_state()
        self._hidden = hidden
        return self._run(prompt)

    def step(self, token: int) -> np.ndarray:
        return self._run([token])

    def _run(self, ids: list[int]) -> np.ndarray:
        self._request.infer(
            {
                "input_ids": np.array([ids], np.int64),
                "encoder_hidden_states": self._hidden,
                "beam_idx": np.array([0], np.int32),
            }
        )
        return np.asarray(self._request.get_tensor("logits").data[0, -1])


def _onnx(folder: Path, threads: int) -> tuple[Any, Decoder]:
    encoder = open_session(folder / "encoder_model.onnx", threads)
    decoder = _OnnxDecoder(
        open_session(folder / "decoder_model.onnx", threads),
        open_session(folder / "decoder_with_past_model.onnx", threads),
    )
    return (lambda features: encoder.run(None, {"input_features": features})[0]), decoder


def _openvino(folder: Path, threads: int) -> tuple[Any, Decoder]:
    import openvino

    core = openvino.Core()
    config = {"INFERENCE_NUM_THREADS": threads}
    try:
        encoder = core.compile_model(str(folder / "openvino_encoder_model.xml"), "CPU", config)
        decoder = core.compile_model(str(folder / "openvino_decoder_model.xml"), "CPU", config)
    except RuntimeError as e:
        raise ModelLoadError(f"{folder}: not a loadable OpenVINO Whisper: {e}") from None
    if "beam_idx" not in {i.get_any_name() for i in decoder.inputs}:
        raise ModelLoadError(f"{folder}: the OpenVINO decoder is not stateful (re-export it)")
    return (lambda features: encoder(features)[0]), _OpenVinoDecoder(decoder)


def _prompt(generation: dict[str, Any]) -> list[int]:
    """Start of transcript, then the forced tokens (language, task, no timestamps) in order."""
    prompt = [int(generation["decoder_start_token_id"])]
    forced = sorted(generation.get("forced_decoder_ids") or [])
    if forced:
        return prompt + [int(token) for _, token in forced]
    if generation.get("is_multilingual"):  # newer configs name the tokens instead
        prompt += [int(generation["lang_to_id"]["<|en|>"])]
        prompt += [int(generation["task_to_id"]["transcribe"])]
    return [*prompt, int(generation["no_timestamps_token_id"])]


def _named(session: Any, values: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {output.name: value for output, value in zip(session.get_outputs(), values, strict=True)}


def _as_past(outputs: dict[str, np.ndarray], kind: str) -> dict[str, np.ndarray]:
    """The `present.*` outputs of one kind (decoder or encoder) as the next `past_key_values.*`."""
    return {
        name.replace("present", "past_key_values"): value
        for name, value in outputs.items()
        if kind in name
    }
