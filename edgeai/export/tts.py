"""Export a Piper voice recipe: ONNX int8/fp16 and OpenVINO IR, each judged by a round trip
through speech-to-text.

Every artifact speaks the recipe's sentences through the runtime's own PiperTTS; the catalog's
speech-to-text model writes down what it heard; the word error rate against the text is the gate,
compared with the source voice's on the same sentences in the same run. Latency is the time to
synthesize a sentence, taken in turns with the source.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import to_runtime_format
from edgeai.errors import ExportError
from edgeai.export import onnx_convert as convert
from edgeai.export.common import (
    ExportContext,
    Measured,
    Source,
    artifact_manifest,
    build_artifact,
    checked_source,
    chosen_targets,
    latencies_side_by_side,
    run_targets,
    with_weights,
)
from edgeai.export.recipe import TtsRecipe, TtsTarget
from edgeai.models.manifest import EngineName, Manifest
from edgeai.voice.stt import SpeechToText, load_stt
from edgeai.voice.tts import PiperTTS, voice_config_path
from edgeai.voice.word_errors import word_errors

TOOLS = ("onnx", "onnxruntime", "piper-tts")


@dataclass(frozen=True)
class RoundTrip:
    word_error_rate: float
    seconds_of_speech: float
    synthesis_s: float

    @property
    def real_time_factor(self) -> float:
        return self.synthesis_s / max(self.seconds_of_speech, 1e-9)


def export_tts(
    recipe: TtsRecipe, context: ExportContext, profile: str | None = None
) -> list[Manifest]:
    """Build the recipe's targets (only those meant for `profile`, when given)."""
    targets = chosen_targets(recipe.name, recipe.targets, context.profiles, profile)
    source = checked_source(recipe.name, recipe.source, context)
    config = _voice_config(source.path)
    stt_role = context.host.roles["stt"]
    transcriber = load_stt(
        stt_role.engine,
        context.store.main_file(context.catalog.get(recipe.transcriber)),
        stt_role.threads,
    )
    threads = context.host.roles["tts"].threads

    def prepare() -> tuple[PiperTTS, RoundTrip]:
        reference = _open_voice(source.path, threads)
        return reference, _round_trip(reference, transcriber, recipe.sentences)

    return run_targets(
        recipe.name,
        targets,
        "the source, round trip",
        prepare,
        lambda target, ready: _build_target(
            recipe, target, context, source, config, transcriber, *ready
        ),
    )


def _build_target(
    recipe: TtsRecipe,
    target: TtsTarget,
    context: ExportContext,
    source: Source,
    config: Path,
    transcriber: SpeechToText,
    reference: PiperTTS,
    baseline: RoundTrip,
) -> Manifest:
    engine: EngineName = "openvino" if target.format == "openvino" else "onnxruntime"

    def convert(work: Path, _: Path) -> Path:
        model_file = _convert(target, source.path, work)
        shutil.copyfile(config, voice_config_path(model_file))
        return model_file

    def measure(model_file: Path, _: Path) -> Manifest:
        voice = _open_voice(model_file, context.host.roles["tts"].threads, engine)
        trip = _round_trip(voice, transcriber, recipe.sentences)
        sentence = recipe.sentences[0]
        reference_ms, latency_ms = latencies_side_by_side(
            lambda: _speak(reference, sentence), lambda: _speak(voice, sentence), runs=5
        )
        return artifact_manifest(
            recipe,
            source,
            target,
            role="tts",
            engine=engine,
            files=[*with_weights(model_file), voice_config_path(model_file)],
            measured=Measured(
                metric="wer",
                reference=baseline.word_error_rate,
                value=trip.word_error_rate,
                max_drop=recipe.gate.max_wer_increase,
                higher_is_better=False,
                latency_ms=latency_ms,
                reference_latency_ms=reference_ms,
                accuracy={
                    "wer": trip.word_error_rate,
                    "reference_wer": baseline.word_error_rate,
                    "real_time_factor": trip.real_time_factor,
                    "reference_real_time_factor": baseline.real_time_factor,
                },
            ),
            tools=TOOLS,
        )

    return build_artifact(context, recipe, target, convert, measure)


def _convert(target: TtsTarget, source: Path, work: Path) -> Path:
    if target.format == "openvino":
        return convert.openvino_ir(source, work, fp16=target.precision == "fp16")
    if target.precision == "fp16":
        return convert.onnx_fp16(source, work)
    if target.precision == "int8":
        return convert.onnx_int8_dynamic(source, work)
    return convert.onnx_fp32(source, work)


def _voice_config(model: Path) -> Path:
    """Piper's voice config beside the model (phonemes, sample rate), which every variant needs."""
    config = voice_config_path(model)
    if not config.is_file():
        raise ExportError(f"{config}: the voice's config is missing beside its model")
    return config


def _speak(voice: PiperTTS, text: str) -> int:
    return sum(len(chunk) for chunk in voice.synthesize(text))


def _open_voice(model: Path, threads: int, engine: EngineName = "onnxruntime") -> PiperTTS:
    """The voice without its sampled noise: Piper draws random noise while speaking, which
    onnxruntime can seed but OpenVINO cannot, so a variant's words would differ from the
    source's, and from its own last run, by chance alone."""
    return PiperTTS(model, threads, engine, noise_free=True)


def _round_trip(voice: PiperTTS, transcriber: SpeechToText, sentences: list[str]) -> RoundTrip:
    errors = words = samples = 0
    synthesis_s = 0.0
    for sentence in sentences:
        started = time.perf_counter()
        chunks = list(voice.synthesize(sentence))
        synthesis_s += time.perf_counter() - started
        spoken = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        audio = to_runtime_format(spoken, voice.sample_rate_hz)
        samples += len(audio)
        wrong, count = word_errors(sentence, transcriber.transcribe(audio))
        errors += wrong
        words += count
    return RoundTrip(errors / max(words, 1), samples / SAMPLE_RATE_HZ, synthesis_s)
