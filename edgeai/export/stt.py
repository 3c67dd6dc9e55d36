"""Export a Whisper recipe: each artifact transcribes the same spoken sentences as its source.

The source checkpoint is run by transformers; CTranslate2 and ggml artifacts by the runtime's
own faster-whisper and whisper.cpp backends; ONNX and OpenVINO artifacts by optimum. The gate
is the word error rate against the sentences' text, compared with the source's; latency is one
clip's transcription, taken in turns with the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import int16_to_float
from edgeai.export import whisper_convert, whisper_cpp_tools
from edgeai.export.common import (
    ExportContext,
    Measured,
    Source,
    artifact_manifest,
    build_artifact,
    checked_source,
    chosen_targets,
    converted,
    latencies_side_by_side,
    main_file_first,
    run_targets,
)
from edgeai.export.recipe import SttRecipe, SttTarget
from edgeai.models.manifest import EngineName, Manifest
from edgeai.synthetic.speech import EspeakVoice, Synthesizer
from edgeai.voice.stt import Transcriber
from edgeai.voice.stt.faster_whisper import FasterWhisperSTT
from edgeai.voice.stt.whisper_cpp import WhisperCppSTT
from edgeai.voice.word_errors import word_errors

TOOLS = ("ctranslate2", "optimum", "optimum-intel", "transformers", "onnxruntime", "openvino",
         "pywhispercpp")  # fmt: skip
ENGINES: dict[str, EngineName] = {
    "ctranslate2": "ctranslate2",
    "onnx": "onnxruntime",
    "openvino": "openvino",
    "ggml": "whispercpp",
}
MAX_NEW_TOKENS = 96


class Seq2SeqTranscriber:
    """A transformers or optimum Whisper model with its processor: greedy, English, no
    timestamps, as the runtime decodes."""

    def __init__(self, model: Any, folder: Path) -> None:
        from transformers import WhisperProcessor

        self._model = model
        self._processor = WhisperProcessor.from_pretrained(str(folder))

    def warm_up(self) -> None:
        self.transcribe(np.zeros(SAMPLE_RATE_HZ, np.int16))

    def transcribe(self, audio: np.ndarray) -> str:
        features = self._processor(
            int16_to_float(audio), sampling_rate=SAMPLE_RATE_HZ, return_tensors="pt"
        ).input_features
        tokens = self._model.generate(features, max_new_tokens=MAX_NEW_TOKENS)
        texts = self._processor.batch_decode(tokens, skip_special_tokens=True)  # type: ignore[no-untyped-call]
        return str(texts[0]).strip()


@dataclass(frozen=True)
class Clips:
    audio: list[np.ndarray]
    texts: list[str]


def export_stt(
    recipe: SttRecipe, context: ExportContext, profile: str | None = None
) -> list[Manifest]:
    """Build the recipe's targets (only those meant for `profile`, when given)."""
    from transformers.utils import logging as transformers_logging

    # per-call generation advice, not news here
    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    targets = chosen_targets(recipe.name, recipe.targets, context.profiles, profile)
    source = checked_source(recipe.name, recipe.source, context)
    checkpoint = source.path.parent

    def prepare() -> tuple[Clips, Transcriber, float]:
        clips = _clips(recipe)
        reference = _open_source(checkpoint, recipe.name)
        return clips, reference, _word_error_rate(reference, clips)

    return run_targets(
        recipe.name,
        targets,
        "speaking the sentences, the source transcribing them",
        prepare,
        lambda target, ready: _build_target(recipe, target, context, source, *ready),
    )


def _build_target(
    recipe: SttRecipe,
    target: SttTarget,
    context: ExportContext,
    source: Source,
    clips: Clips,
    reference: Transcriber,
    baseline: float,
) -> Manifest:
    checkpoint = source.path.parent

    def convert(work: Path, scratch: Path) -> Path:
        if target.format == "ctranslate2":
            return whisper_convert.ctranslate2(checkpoint, work, target.precision, scratch)
        if target.format == "onnx":
            return whisper_convert.onnx(checkpoint, work, target.precision == "int8", scratch)
        if target.format == "ggml":
            return _ggml(checkpoint, work, target.precision, scratch, context.cache)
        return whisper_convert.openvino_int8(checkpoint, work)

    def measure(main: Path, work: Path) -> Manifest:
        transcriber = _open_artifact(target, main, context.host.roles["stt"].threads)
        wer = _word_error_rate(transcriber, clips)
        clip = clips.audio[0]
        reference_ms, latency_ms = latencies_side_by_side(
            lambda: reference.transcribe(clip), lambda: transcriber.transcribe(clip), runs=3
        )
        return artifact_manifest(
            recipe,
            source,
            target,
            role="stt",
            engine=ENGINES[target.format],
            files=main_file_first(main, work),
            measured=Measured(
                metric="wer",
                reference=baseline,
                value=wer,
                max_drop=recipe.gate.max_wer_increase,
                higher_is_better=False,
                latency_ms=latency_ms,
                reference_latency_ms=reference_ms,
                accuracy={"wer": wer, "reference_wer": baseline},
            ),
            tools=TOOLS,
            replaces=recipe.replaces,
        )

    return build_artifact(context, recipe, target, convert, measure)


def _open_source(checkpoint: Path, recipe: str) -> Transcriber:
    from transformers import WhisperForConditionalGeneration

    model = converted(
        f"{recipe}: loading {checkpoint} as a Whisper checkpoint",
        lambda: WhisperForConditionalGeneration.from_pretrained(str(checkpoint)),
    )
    return Seq2SeqTranscriber(model, checkpoint)


def _ggml(checkpoint: Path, work: Path, precision: str, scratch: Path, cache: Path) -> Path:
    """f16 straight from the converter; quantized types from the f16 file."""
    tools = whisper_cpp_tools.sources(cache)
    if precision == "fp16":
        return whisper_cpp_tools.convert(tools, checkpoint, work / "ggml-model-f16.bin", scratch)
    f16 = whisper_cpp_tools.convert(tools, checkpoint, scratch / "f16.bin", scratch)
    out = work / f"ggml-model-{whisper_cpp_tools.QUANT_TYPES[precision]}.bin"
    return whisper_cpp_tools.quantize(tools, f16, out, precision, cache)


def _open_artifact(target: SttTarget, main: Path, threads: int) -> Transcriber:
    folder = main.parent
    if target.format == "ctranslate2":
        return FasterWhisperSTT(folder, threads)
    if target.format == "ggml":
        return WhisperCppSTT(main, threads)
    if target.format == "onnx":
        from optimum.onnxruntime import ORTModelForSpeechSeq2Seq

        return Seq2SeqTranscriber(ORTModelForSpeechSeq2Seq.from_pretrained(str(folder)), folder)
    from optimum.intel import OVModelForSpeechSeq2Seq

    return Seq2SeqTranscriber(OVModelForSpeechSeq2Seq.from_pretrained(str(folder)), folder)


def _clips(recipe: SttRecipe) -> Clips:
    synthesizer = Synthesizer(None)
    audio, texts = [], []
    for voice in recipe.voices:
        for sentence in recipe.sentences:
            audio.append(synthesizer.speak(sentence, EspeakVoice(voice, 150, 50)))
            texts.append(sentence)
    return Clips(audio, texts)


def _word_error_rate(transcriber: Transcriber, clips: Clips) -> float:
    errors = words = 0
    for audio, text in zip(clips.audio, clips.texts, strict=True):
        wrong, count = word_errors(text, transcriber.transcribe(audio))
        errors += wrong
        words += count
    return errors / max(words, 1)
