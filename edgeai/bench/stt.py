"""Speech-to-text benchmark on command audio: plain tiny.en, tiny.en prompted with the intents'
words, and prompted tiny.en and Whisper base preferring complete commands among their n-best
hypotheses, taking turns on the same clips in one run. Clips are spoken
in-family (espeak-ng's own voices and the piper voice, which edgeai's wake data and tests use)
and held out by source (MBROLA diphone voices, a different synthesizer, used by no training or
tuning). The requests are the held-out paraphrases: the prompt was not written from them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from edgeai.bench.intents import LLM, Phrase
from edgeai.bench.voice import with_pink_noise
from edgeai.intents.grammar import Grammar
from edgeai.synthetic.speech import EspeakVoice, PiperStyle, Synthesizer, Voice
from edgeai.voice.stt import SpeechToText
from edgeai.voice.word_errors import word_errors

IN_FAMILY: list[Voice] = [
    EspeakVoice("en-us+m3", 160, 50),
    EspeakVoice("en-gb+f2", 150, 60),
    PiperStyle(1.0, 0.667, 0.8),
]
HELD_OUT: list[Voice] = [
    EspeakVoice("mb-us1", 150, 50),
    EspeakVoice("mb-us2", 150, 50),
    EspeakVoice("mb-us3", 150, 50),
    EspeakVoice("mb-en1", 150, 50),
]
"""MBROLA voices (Debian mbrola-us1/us2/us3/en1) spoken through espeak-ng's front end."""
NOISY_SNR_DB = 20.0
"""Every other clip has pink noise at this SNR; the rest are clean."""
LEAD_S, TRAIL_S = 0.3, 0.5
"""Silence around the request, as the endpointer's pre-roll and trailing silence leave it."""


@dataclass(frozen=True)
class Variant:
    name: str
    stt: SpeechToText


@dataclass(frozen=True)
class Heard:
    variant: str
    family: str
    """"in-family" or "held-out"."""
    voice: str
    text: str
    transcript: str
    word_errors: int
    words: int
    expected_route: str
    route: str
    stt_s: float


def bench_stt(
    variants: Sequence[Variant],
    grammar: Grammar,
    synth: Synthesizer,
    phrases: Sequence[Phrase],
    progress: Callable[[], object],
) -> list[Heard]:
    """Every phrase in every voice, transcribed by every variant in turn (same clip)."""
    rng = np.random.default_rng(21)
    heard = []
    for family, voices in (("in-family", IN_FAMILY), ("held-out", HELD_OUT)):
        for voice in voices:
            for i, (text, route, _) in enumerate(phrases):
                speech = synth.speak(text, voice)
                silence = [np.zeros(int(s * 16000), np.int16) for s in (LEAD_S, TRAIL_S)]
                clip = np.concatenate([silence[0], speech, silence[1]])
                clip = with_pink_noise(clip, NOISY_SNR_DB if i % 2 else None, rng)
                for variant in variants:
                    started = time.perf_counter()
                    transcript = variant.stt.transcribe(clip)
                    seconds = time.perf_counter() - started
                    errors, words = word_errors(text, transcript)
                    found = grammar.match(transcript)
                    heard.append(
                        Heard(variant.name, family, voice.label, text, transcript, errors, words,
                              route, LLM if found is None else found.intent, seconds)
                    )  # fmt: skip
                progress()
    return heard


def summary(heard: Sequence[Heard]) -> dict[str, dict[str, dict[str, float]]]:
    """Per variant and family: word error rate, share routed as the text would be, p50 time."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for variant in dict.fromkeys(h.variant for h in heard):
        out[variant] = {}
        for family in ("in-family", "held-out"):
            chosen = [h for h in heard if h.variant == variant and h.family == family]
            out[variant][family] = {
                "clips": len(chosen),
                "word_error_rate": sum(h.word_errors for h in chosen)
                / max(1, sum(h.words for h in chosen)),
                "routed_right": sum(h.route == h.expected_route for h in chosen)
                / max(1, len(chosen)),
                "stt_p50_s": float(np.median([h.stt_s for h in chosen])) if chosen else 0.0,
            }
    return out


def as_rows(heard: Sequence[Heard]) -> list[dict[str, object]]:
    return [asdict(h) for h in heard]


def markdown(totals: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "### Speech-to-text on command audio: in-family and held-out voices",
        "",
        "| variant | WER in-family | WER held-out | held-out WER / the first variant's "
        "| routed right in-family | routed right held-out | STT p50 in-family | STT p50 held-out |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    baseline = next(iter(totals.values()))["held-out"]["word_error_rate"] if totals else 0.0
    for variant, families in totals.items():
        inside, outside = families["in-family"], families["held-out"]
        ratio = outside["word_error_rate"] / baseline if baseline else float("nan")
        lines.append(
            f"| {variant} | {inside['word_error_rate']:.1%} | {outside['word_error_rate']:.1%} "
            f"| {ratio:.2f}× "
            f"| {inside['routed_right']:.1%} | {outside['routed_right']:.1%} "
            f"| {inside['stt_p50_s'] * 1000:.0f} ms | {outside['stt_p50_s'] * 1000:.0f} ms |"
        )
    voices = ", ".join(v.label for v in IN_FAMILY)
    held = ", ".join(v.label for v in HELD_OUT)
    lines += [
        "",
        f"In-family voices: {voices}. Held-out voices: {held}. Every other clip carries pink "
        f'noise at {NOISY_SNR_DB:.0f} dB SNR. "Routed right": the transcript reaches the route '
        "its text was written for (an intent, the LLM or the honest refusal).",
        "",
    ]
    return "\n".join(lines)
