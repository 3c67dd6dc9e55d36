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
from edgeai.synthetic.held_out_voices import mbrola_voices
from edgeai.synthetic.speech import EspeakVoice, PiperStyle, Synthesizer, Voice, voiced
from edgeai.voice.build import VoiceModels
from edgeai.voice.honesty import claims_unseen
from edgeai.voice.loop import VoiceLoop
from edgeai.voice.word_errors import word_errors

# (what is said, "intent" or "llm"); PAUSE marks a mid-request pause of 300-600 ms
REQUESTS = [
    ("What time is it?", "intent"),
    ("Set a timer for five minutes.", "intent"),
    ("What is the date today?", "intent"),
    ("Cancel the timer.", "intent"),
    ("Why is the sky blue?", "llm"),
    ("Tell me a fun fact about cats.", "llm"),
    ("What is the capital of France?", "llm"),
    ("How do I boil an egg?", "llm"),
    ("Set a timer for | ten minutes.", "intent"),
    ("Set a timer for five minutes | and thirty seconds.", "intent"),
    ("Cancel the | pasta timer.", "intent"),
    ("Set the volume to | five.", "intent"),
    ("What is the | capital of Italy?", "llm"),
    ("Tell me a fun fact about | dogs.", "llm"),
    ("Why is the | ocean salty?", "llm"),
    ("How do I make | a cup of tea?", "llm"),
]
HELD_OUT_REQUESTS = [
    ("Set a timer for | twenty minutes", "intent"),
    ("Could you start a pasta timer for eleven minutes, please?", "intent"),
    ("Timer for one hour and | fifteen minutes", "intent"),
    ("Set the volume to forty percent", "intent"),
    ("Is anyone at the front door right now?", "intent"),
    ("How many people can you | see in the garden?", "intent"),
    ("What's the capital of | Australia?", "llm"),
    ("How do I get candle wax out of a tablecloth?", "llm"),
    ("Give me a | simple recipe for banana bread", "llm"),
    ("What does the word ubiquitous mean?", "llm"),
    ("How long should I boil an egg so | the yolk stays runny?", "llm"),
    ("Who painted the Mona Lisa?", "llm"),
    ("What's the difference between baking soda and | baking powder?", "llm"),
    ("How do you say thank you in Japanese?", "llm"),
]
"""Requests the endpointing rules were not fitted on: written, with their pauses, by a helper
session told only what the device can do (not the rules, REQUESTS or any result); two that
repeated REQUESTS word for word were left out."""
PAUSES_S = (0.3, 0.6)
"""Mid-request pauses are drawn from this range: people pause that long mid-request."""
VOICES: list[tuple[Voice, float | None]] = [
    (PiperStyle(1.0, 0.667, 0.8), None),
    (EspeakVoice("en-us+m3", 160, 50), 20.0),
    (EspeakVoice("en-gb+f2", 150, 60), 10.0),
]
"""(voice, SNR of pink noise in dB or None for clean)."""
FAMILIES = ("in-family", "held-out")
"""The voices and requests the rules were fitted on, and a voice family and requests they were
not: each reported on its own."""


def held_out_voices() -> list[tuple[Voice, float | None]]:
    """MBROLA voices (no training, tuning or rule ever heard them), clean, 20 dB and 10 dB
    pink noise as VOICES."""
    us1, us2, _, en1 = mbrola_voices()
    return [(us1, None), (us2, 20.0), (en1, 10.0)]


PAUSE = "|"
"""Where a request's text holds a mid-request pause ("Set a timer for | ten minutes.")."""
ACTING_ROUTES_EXCLUDED = ("llm", "not understood")
"""Routes that do nothing in the world: every other route is a local intent that acts."""


@dataclass(frozen=True)
class Clip:
    audio: np.ndarray
    """'hey jarvis', a pause, the request, then silence."""
    request: np.ndarray
    """The request alone (what a sequential pipeline transcribes)."""
    resumes_at_s: float | None
    """Where the request's last part begins, after its mid-request pause (None: no pause)."""


@dataclass(frozen=True)
class Run:
    """One loop's first turn on a clip, with adaptive or with fixed-silence endpointing."""

    transcript: str
    word_errors: int
    route: str
    latency_s: float | None
    """End of speech to first reply audio."""
    stages_s: dict[str, float | None]
    endpoint_reason: str | None
    premature: bool
    """The turn's speech ended at the mid-request pause: it started before the request ended."""
    reply: str = ""
    replaced_claim: bool = False
    """The LLM claimed an action or sighting no tool gave it; the check replaced it."""
    early_answer: bool = False
    """The LLM's answer was started during the trailing silence (vad.early_answer)."""

    @property
    def wrong_action(self) -> bool:
        """A local intent acted on the prefix of a longer request."""
        return self.premature and self.route not in ACTING_ROUTES_EXCLUDED


@dataclass(frozen=True)
class ClipResult:
    text: str
    kind: str
    family: str
    """One of FAMILIES."""
    voice: str
    snr_db: float | None
    pause_s: float | None
    words: int
    adaptive: Run
    fixed: Run
    """The same clip with vad.adaptive off: the configured trailing silence ends every turn."""
    sequential_latency_s: float
    sequential_stages_s: dict[str, float]

    @property
    def route(self) -> str:
        return self.adaptive.route

    @property
    def latency_s(self) -> float | None:
        return self.adaptive.latency_s

    @property
    def stages_s(self) -> dict[str, float | None]:
        return self.adaptive.stages_s


def spoken_with_pauses(
    synth: Synthesizer, text: str, voice: Voice, pause_s: float
) -> tuple[np.ndarray, int]:
    """`text` spoken with `pause_s` of silence at each PAUSE, and the sample where its last
    part begins (0 without a pause). The parts are spoken apart and joined sound to sound, so
    the pause is what a listener hears, not the synthesizer's padding plus it."""
    parts = [part.strip() for part in text.split(PAUSE)]
    if len(parts) == 1:
        return synth.speak(text, voice), 0
    gap = np.zeros(int(pause_s * 16000), np.int16)
    spoken = [voiced(synth.speak(part, voice)) for part in parts]
    joined = [piece for part in spoken for piece in (part, gap)][:-1]
    return np.concatenate(joined), sum(len(piece) for piece in joined[:-1])


def make_clip(
    synth: Synthesizer,
    text: str,
    voice: Voice,
    snr_db: float | None,
    rng: np.random.Generator,
    pause_s: float = 0.0,
) -> Clip:
    """'hey jarvis', a pause, the request (with `pause_s` at its PAUSE), then silence; pink
    noise at `snr_db` if given."""

    def gap(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * 16000), np.int16)

    lead = [gap(1.0), synth.speak("Hey Jarvis.", voice), gap(0.4)]
    request, last_part = spoken_with_pauses(synth, text, voice, pause_s)
    audio = with_pink_noise(np.concatenate([*lead, request, gap(1.8)]), snr_db, rng)
    start = sum(len(part) for part in lead)
    resumes_at_s = (start + last_part) / 16000 if last_part else None
    return Clip(audio, audio[start : start + len(request)], resumes_at_s)


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
    make_fixed_loop: Callable[[], VoiceLoop],
    config: Config,
    synth: Synthesizer,
    progress: Callable[[str], object],
    requests: list[tuple[str, str]] = REQUESTS,
    voices: list[tuple[Voice, float | None]] = VOICES,
    family: str = FAMILIES[0],
) -> list[ClipResult]:
    """Every request in every voice (a smoke run passes fewer), each through the adaptive
    loop, the fixed-silence loop and the sequential pipeline, one after the other."""
    rng = np.random.default_rng(7)
    results = []
    for voice, snr in voices:
        for text, kind in requests:
            progress(f"{voice.label} {snr} {text}")
            pause_s = float(rng.uniform(*PAUSES_S)) if PAUSE in text else None
            clip = make_clip(synth, text, voice, snr, rng, pause_s or 0.0)
            said = text.replace(PAUSE, " ")
            adaptive, fixed = _run(make_loop(), clip, said), _run(make_fixed_loop(), clip, said)
            if adaptive is None or fixed is None:
                continue  # the wake word was missed: counted by the wake benchmark
            trailing_s = config.vad.trailing_silence_ms / 1000
            sequential, stages = _sequential(models, clip.request, trailing_s)
            results.append(
                ClipResult(
                    text=said,
                    kind=kind,
                    family=family,
                    voice=voice.label,
                    snr_db=snr,
                    pause_s=pause_s,
                    words=word_errors(said, "")[1],
                    adaptive=adaptive,
                    fixed=fixed,
                    sequential_latency_s=sequential,
                    sequential_stages_s=stages,
                )
            )
    return results


def _run(loop: VoiceLoop, clip: Clip, said: str) -> Run | None:
    """The loop's first turn on `clip`; None when it took none."""
    # timers set by earlier clips would ring mid-clip, and their announcement is no turn; the
    # clip's own timer is cancelled too, so a bench leaves no timer in the store it was given
    timers = loop.responder.intents.timers
    timers.cancel_all()
    try:
        timelines = loop.run(PlayUntilAnswered(clip.audio, loop))
    finally:
        timers.cancel_all()
    if not timelines:
        return None
    timeline = timelines[0]
    origin = timeline.speech_end_s or 0.0
    premature = clip.resumes_at_s is not None and origin < clip.resumes_at_s
    reason = timeline.endpoint_reason
    return Run(
        transcript=timeline.transcript,
        word_errors=word_errors(said, timeline.transcript)[0],
        route=timeline.route,
        latency_s=timeline.latency_s,
        stages_s={
            "endpoint": _since(timeline.endpoint_s, origin),
            "stt_done": _since(timeline.stt_done_s, origin),
            "first_token": _since(timeline.first_token_s, origin),
            "first_audio": _since(timeline.first_audio_s, origin),
        },
        endpoint_reason=None if reason is None else reason.value,
        premature=premature,
        reply=timeline.reply,
        replaced_claim=timeline.replaced_claim,
        early_answer=timeline.early_answer,
    )


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


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _latencies(runs: list[Run]) -> list[float]:
    return [r.latency_s for r in runs if r.latency_s is not None]


def _endpoints(runs: list[Run]) -> list[float]:
    return [e for r in runs if (e := r.stages_s["endpoint"]) is not None]


STAGES = ("endpoint", "stt_done", "first_token", "first_audio")
"""A turn's stages, each timed from the end of speech."""


def _stages_p50(runs: list[Run]) -> dict[str, float]:
    """Each stage's p50 over the turns that reached it."""
    return {
        stage: _p([t for r in runs if (t := r.stages_s[stage]) is not None], 50) for stage in STAGES
    }


def summary(results: list[ClipResult]) -> dict[str, object]:
    out: dict[str, object] = {"clips": len(results), "peak_rss_mb": peak_rss_mb()}
    for kind in ("intent", "llm"):
        chosen = [r for r in results if r.kind == kind and r.latency_s is not None]
        ours = _latencies([r.adaptive for r in chosen])
        fixed = _latencies([r.fixed for r in chosen])
        theirs = [r.sequential_latency_s for r in chosen]
        out[kind] = {
            "clips": len(chosen),
            "latency_p50_s": _p(ours, 50),
            "latency_p95_s": _p(ours, 95),
            "fixed_p50_s": _p(fixed, 50),
            "fixed_p95_s": _p(fixed, 95),
            "sequential_p50_s": _p(theirs, 50),
            "sequential_p95_s": _p(theirs, 95),
            "endpoint_p50_s": _p(_endpoints([r.adaptive for r in chosen]), 50),
            "fixed_endpoint_p50_s": _p(_endpoints([r.fixed for r in chosen]), 50),
            "speedup_p50": _p(theirs, 50) / _p(ours, 50) if ours else float("nan"),
            "fixed_speedup_p50": _p(theirs, 50) / _p(fixed, 50) if fixed else float("nan"),
            "stages_p50_s": _stages_p50([r.adaptive for r in chosen]),
            "fixed_stages_p50_s": _stages_p50([r.fixed for r in chosen]),
            "early_answers": sum(r.adaptive.early_answer for r in chosen),
        }
    paused = [r for r in results if r.pause_s is not None]
    for mode in ("adaptive", "fixed"):
        runs: list[Run] = [getattr(r, mode) for r in results]
        paused_runs: list[Run] = [getattr(r, mode) for r in paused]
        out[mode] = {
            "word_error_rate": sum(r.word_errors for r in runs)
            / max(1, sum(x.words for x in results)),
            "premature": sum(r.premature for r in paused_runs),
            "wrong_actions": sum(r.wrong_action for r in paused_runs),
        }
    out["paused_clips"] = len(paused)
    reasons: dict[str, dict[str, float]] = {}
    for reason in sorted({r.adaptive.endpoint_reason or "" for r in results}):
        runs = [r.adaptive for r in results if r.adaptive.endpoint_reason == reason]
        reasons[reason] = {
            "clips": len(runs),
            "endpoint_p50_s": _p(_endpoints(runs), 50),
            "latency_p50_s": _p(_latencies(runs), 50),
        }
    out["by_endpoint_reason"] = reasons
    out["word_error_rate"] = out["adaptive"]["word_error_rate"]  # type: ignore[index]
    llm = [run for r in results for run in (r.adaptive, r.fixed) if run.route == "llm"]
    out["llm_claims"] = {
        "replies": len(llm),
        "replaced": sum(r.replaced_claim for r in llm),
        "spoken": sum(claims_unseen(r.reply) for r in llm),  # the target: 0
    }
    out["routed_as_expected"] = sum((r.route == "llm") == (r.kind == "llm") for r in results) / max(
        1, len(results)
    )
    return out


def as_rows(results: list[ClipResult]) -> list[dict[str, object]]:
    return [asdict(r) for r in results]


def _ms(seconds: object) -> str:
    assert isinstance(seconds, float)
    return f"{seconds * 1000:.0f} ms"


def markdown(results: list[ClipResult], totals: dict[str, object], family: str) -> str:
    claims = totals["llm_claims"]
    assert isinstance(claims, dict)
    voices = sorted({(r.voice, r.snr_db) for r in results}, key=lambda v: (v[1] or 99, v[0]))
    heard = ", ".join(f"{v} {'clean' if snr is None else f'{snr:.0f} dB pink noise'}"
                      for v, snr in voices)  # fmt: skip
    lines = [
        f"### Voice turn: end of speech to first reply audio ({family})",
        "",
        "Adaptive endpointing and the fixed trailing silence on the same clips, one after the "
        "other, beside a sequential pipeline.",
        "",
        "| requests | clips | endpoint p50 (fixed) | edgeai p50 | edgeai p95 | fixed p50 "
        "| fixed/adaptive | sequential p50 | speed-up (p50) | fixed speed-up |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in ("intent", "llm"):
        row = totals[kind]
        assert isinstance(row, dict)
        lines.append(
            f"| {'local intents' if kind == 'intent' else 'LLM answers'} | {row['clips']} "
            f"| {_ms(row['endpoint_p50_s'])} ({_ms(row['fixed_endpoint_p50_s'])}) "
            f"| {_ms(row['latency_p50_s'])} | {_ms(row['latency_p95_s'])} "
            f"| {_ms(row['fixed_p50_s'])} | {row['fixed_p50_s'] / row['latency_p50_s']:.2f}x "
            f"| {_ms(row['sequential_p50_s'])} | {row['speedup_p50']:.1f}x "
            f"| {row['fixed_speedup_p50']:.1f}x |"
        )
    lines += ["", "| stage after the end of speech, p50 (adaptive / fixed) | "
              + " | ".join(STAGES) + " |", "| --- |" + " --- |" * len(STAGES)]  # fmt: skip
    for kind in ("intent", "llm"):
        row = totals[kind]
        assert isinstance(row, dict)
        ours, fixed = row["stages_p50_s"], row["fixed_stages_p50_s"]
        cells = [f"{_ms(ours[stage])} / {_ms(fixed[stage])}" for stage in STAGES]
        lines.append(f"| {'local intents' if kind == 'intent' else 'LLM answers'} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    lines += ["", "| endpoint reason (adaptive) | clips | endpoint p50 | first audio p50 |",
              "| --- | --- | --- | --- |"]  # fmt: skip
    reasons = totals["by_endpoint_reason"]
    assert isinstance(reasons, dict)
    for reason, row in reasons.items():
        lines.append(
            f"| {reason} | {row['clips']} | {_ms(row['endpoint_p50_s'])} "
            f"| {_ms(row['latency_p50_s'])} |"
        )
    adaptive, fixed = totals["adaptive"], totals["fixed"]
    assert isinstance(adaptive, dict) and isinstance(fixed, dict)
    paused = totals["paused_clips"]
    lines += [
        "",
        f"Requests with a mid-request pause ({PAUSES_S[0]:.1f}-{PAUSES_S[1]:.1f} s): {paused}; "
        f"premature endpoints adaptive {adaptive['premature']} / fixed {fixed['premature']}, "
        f"wrong actions on a prefix adaptive {adaptive['wrong_actions']} / fixed "
        f"{fixed['wrong_actions']}. Word error rate adaptive {adaptive['word_error_rate']:.1%}, "
        f"fixed {fixed['word_error_rate']:.1%} over {totals['clips']} clips ({heard}); "
        f"routed as expected {totals['routed_as_expected']:.0%}; peak resident memory "
        f"{totals['peak_rss_mb']:.0f} MB.",
        "",
        f"LLM replies claiming an action no tool performed: {claims['spoken']} spoken of "
        f"{claims['replies']} ({claims['replaced']} caught and replaced).",
        "",
    ]
    return "\n".join(lines)
