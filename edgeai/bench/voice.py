"""Voice benchmark: end of speech to first reply audio, edgeai's streamed loop against a
sequential pipeline (transcribe, then the complete LLM reply, then the complete synthesis),
on the same spoken clips in the same run."""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np

from edgeai.audio.convert import float_to_int16, int16_to_float
from edgeai.audio.sinks import NullSink
from edgeai.audio.sources import ArraySource
from edgeai.config import Config
from edgeai.synthetic.augment import mix_at_snr, noise
from edgeai.synthetic.speech import EspeakVoice, PiperStyle, Synthesizer, Voice, voiced
from edgeai.voice.build import VoiceModels
from edgeai.voice.loop import VoiceLoop
from edgeai.voice.word_errors import word_errors

# (what is said, "intent" or "llm")
REQUESTS = [
    ("What time is it?", "intent"),
    ("Set a timer for five minutes.", "intent"),
    ("What is the date today?", "intent"),
    ("Cancel the timer.", "intent"),
    ("Why is the sky blue?", "llm"),
    ("Tell me a fun fact about cats.", "llm"),
    ("What is the capital of France?", "llm"),
    ("How do I boil an egg?", "llm"),
]
VOICES: list[tuple[Voice, float | None]] = [
    (PiperStyle(1.0, 0.667, 0.8), None),
    (EspeakVoice("en-us+m3", 160, 50), 20.0),
    (EspeakVoice("en-gb+f2", 150, 60), 10.0),
]
"""(voice, SNR of pink noise in dB or None for clean)."""


@dataclass(frozen=True)
class ClipResult:
    text: str
    kind: str
    voice: str
    snr_db: float | None
    transcript: str
    word_errors: int
    words: int
    route: str
    latency_s: float | None
    """edgeai: end of speech to first reply audio."""
    stages_s: dict[str, float | None]
    sequential_latency_s: float
    sequential_stages_s: dict[str, float]


def make_clip(
    synth: Synthesizer, text: str, voice: Voice, snr_db: float | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """'hey jarvis', a pause, the request, then silence; pink noise at `snr_db` if given.

    Returns the clip and the request alone (what a sequential pipeline transcribes).
    """

    def gap(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * 16000), np.int16)

    lead = [gap(1.0), synth.speak("Hey Jarvis.", voice), gap(0.4)]
    request = synth.speak(text, voice)
    clip = np.concatenate([*lead, request, gap(1.8)])
    clip = with_pink_noise(clip, snr_db, rng)
    start = sum(len(part) for part in lead)
    return clip, clip[start : start + len(request)]


PAUSE = "|"
"""Where a request's text holds a mid-request pause ("Set a timer for | ten minutes.")."""


def spoken_with_pauses(synth: Synthesizer, text: str, voice: Voice, pause_s: float) -> np.ndarray:
    """`text` spoken, with `pause_s` of silence at each PAUSE: the parts are spoken apart and
    joined sound to sound, so the pause is what the listener hears, not the synthesizer's
    padding plus it."""
    parts = [part.strip() for part in text.split(PAUSE)]
    if len(parts) == 1:
        return synth.speak(text, voice)
    gap = np.zeros(int(pause_s * 16000), np.int16)
    spoken = [voiced(synth.speak(part, voice)) for part in parts]
    return np.concatenate([piece for part in spoken for piece in (part, gap)][:-1])


class PlayUntilAnswered:
    """`clip` in real time, then silence until `loop` has taken `turns` turns (at most
    `patience_s`): a pause held open for its transcript on a loaded machine still gets its
    turn, instead of the clip ending first."""

    def __init__(
        self, clip: np.ndarray, loop: VoiceLoop, turns: int = 1, patience_s: float = 30.0
    ) -> None:
        self.clip, self.loop, self.turns, self.patience_s = clip, loop, turns, patience_s

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        yield from ArraySource(self.clip, realtime=True).blocks(block_samples)
        deadline = time.monotonic() + self.patience_s
        while len(self.loop.timelines) < self.turns and time.monotonic() < deadline:
            time.sleep(block_samples / 16000)
            yield np.zeros(block_samples, np.int16)


def with_pink_noise(clip: np.ndarray, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
    """`clip` with pink noise at `snr_db` (None: as it is)."""
    if snr_db is None:
        return clip
    audio = int16_to_float(clip)
    return float_to_int16(mix_at_snr(audio, noise("pink", len(audio), rng), snr_db))


def bench_voice(
    models: VoiceModels,
    make_loop: Callable[[], VoiceLoop],
    config: Config,
    synth: Synthesizer,
    progress: Callable[[str], object],
    requests: list[tuple[str, str]] = REQUESTS,
    voices: list[tuple[Voice, float | None]] = VOICES,
) -> list[ClipResult]:
    """Every request in every voice (a smoke run passes fewer)."""
    rng = np.random.default_rng(7)
    results = []
    for voice, snr in voices:
        for text, kind in requests:
            progress(f"{voice.label} {snr} {text}")
            clip, request = make_clip(synth, text, voice, snr, rng)
            timelines = make_loop().run(ArraySource(clip, realtime=True))
            if not timelines:
                continue  # the wake word was missed: counted by the wake benchmark
            timeline = timelines[0]
            trailing_s = config.vad.trailing_silence_ms / 1000
            sequential, stages = _sequential(models, request, trailing_s)
            errors, words = word_errors(text, timeline.transcript)
            origin = timeline.speech_end_s or 0.0
            results.append(
                ClipResult(
                    text=text,
                    kind=kind,
                    voice=voice.label,
                    snr_db=snr,
                    transcript=timeline.transcript,
                    word_errors=errors,
                    words=words,
                    route=timeline.route,
                    latency_s=timeline.latency_s,
                    stages_s={
                        "endpoint": _since(timeline.endpoint_s, origin),
                        "stt_done": _since(timeline.stt_done_s, origin),
                        "first_token": _since(timeline.first_token_s, origin),
                        "first_audio": _since(timeline.first_audio_s, origin),
                    },
                    sequential_latency_s=sequential,
                    sequential_stages_s=stages,
                )
            )
    return results


def _sequential(
    models: VoiceModels, request: np.ndarray, trailing_s: float
) -> tuple[float, dict[str, float]]:
    """The same request the usual way: each stage waits for the previous one to finish."""
    started = time.monotonic()
    transcript = models.stt.transcribe(request)
    stt_s = time.monotonic() - started
    reply = "".join(models.llm.stream(transcript, threading.Event()))
    llm_s = time.monotonic() - started - stt_s
    sink = NullSink()
    for audio in models.tts.synthesize(reply or "Sorry."):
        sink.write(audio)
    tts_s = time.monotonic() - started - stt_s - llm_s
    stages = {"endpoint": trailing_s, "stt": stt_s, "llm": llm_s, "tts": tts_s}
    return trailing_s + stt_s + llm_s + tts_s, stages


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _since(value: float | None, origin: float) -> float | None:
    return None if value is None else value - origin


def summary(results: list[ClipResult]) -> dict[str, object]:
    def p(values: list[float], q: float) -> float:
        return float(np.percentile(values, q)) if values else float("nan")

    out: dict[str, object] = {"clips": len(results), "peak_rss_mb": peak_rss_mb()}
    for kind in ("intent", "llm"):
        chosen = [r for r in results if r.kind == kind and r.latency_s is not None]
        ours = [r.latency_s for r in chosen if r.latency_s is not None]
        theirs = [r.sequential_latency_s for r in chosen]
        out[kind] = {
            "clips": len(chosen),
            "latency_p50_s": p(ours, 50),
            "latency_p95_s": p(ours, 95),
            "sequential_p50_s": p(theirs, 50),
            "sequential_p95_s": p(theirs, 95),
            "speedup_p50": p(theirs, 50) / p(ours, 50) if ours else float("nan"),
        }
    errors = sum(r.word_errors for r in results)
    words = sum(r.words for r in results)
    out["word_error_rate"] = errors / max(1, words)
    out["routed_as_expected"] = sum((r.route == "llm") == (r.kind == "llm") for r in results) / max(
        1, len(results)
    )
    return out


def as_rows(results: list[ClipResult]) -> list[dict[str, object]]:
    return [asdict(r) for r in results]


def markdown(results: list[ClipResult], totals: dict[str, object]) -> str:
    lines = [
        "### Voice turn: end of speech to first reply audio",
        "",
        "| requests | clips | edgeai p50 | edgeai p95 | sequential p50 | sequential p95 "
        "| speed-up (p50) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in ("intent", "llm"):
        row = totals[kind]
        assert isinstance(row, dict)
        lines.append(
            f"| {'local intents' if kind == 'intent' else 'LLM answers'} | {row['clips']} "
            f"| {row['latency_p50_s'] * 1000:.0f} ms | {row['latency_p95_s'] * 1000:.0f} ms "
            f"| {row['sequential_p50_s'] * 1000:.0f} ms | {row['sequential_p95_s'] * 1000:.0f} ms "
            f"| {row['speedup_p50']:.1f}x |"
        )
    lines += [
        "",
        f"Word error rate {totals['word_error_rate']:.1%} over {totals['clips']} clips "
        f"(3 voices: piper joe clean, espeak en-us 20 dB, espeak en-gb 10 dB pink noise); "
        f"peak resident memory {totals['peak_rss_mb']:.0f} MB.",
        "",
    ]
    return "\n".join(lines)
