"""The Wyoming server against the native path, stage by stage, taking turns on the same
requests in one run: how much the protocol adds (issue target: at most 50 ms).

The client is the wyoming package's, one connection per request as Home Assistant makes them;
each figure runs from the request's first byte to the answer the stage is judged by.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.tts import Synthesize
from wyoming.wake import Detect

from edgeai.ears.wake.frontend import BLOCK_SAMPLES
from edgeai.voice.timeline import TurnTimeline
from edgeai.wyoming.client import audio_stream
from edgeai.wyoming.session import Stages

FINAL_EVENTS = {
    "transcript",
    "audio-stop",
    "handled",
    "not-handled",
    "detection",
    "not-detected",
    "error",
}
"""Events that end a reply: the connection is read up to one of them."""
OVERHEAD_TARGET_MS = 50.0
STAGES = 5
"""Stages timed: stt, tts, an intent, the LLM's first sentence, wake."""


@dataclass(frozen=True)
class StageTiming:
    stage: str
    measures: str
    native_ms: list[float]
    wyoming_ms: list[float]

    @property
    def overhead_ms(self) -> float:
        """Median of the paired differences: each request timed both ways back to back."""
        return statistics.median(
            w - n for w, n in zip(self.wyoming_ms, self.native_ms, strict=True)
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {
            "native_p50_ms": statistics.median(self.native_ms),
            "wyoming_p50_ms": statistics.median(self.wyoming_ms),
            "overhead_ms": self.overhead_ms,
        }


@dataclass(frozen=True)
class WyomingBench:
    timings: list[StageTiming]

    def as_dict(self) -> dict[str, object]:
        return {
            "target_overhead_ms": OVERHEAD_TARGET_MS,
            "stages": [t.as_dict() for t in self.timings],
        }

    def markdown(self) -> str:
        rows = [
            "### wyoming",
            "",
            "Native call against the same request through the Wyoming server (loopback TCP, the "
            "wyoming package's client), taking turns; overhead is the median paired difference.",
            "",
            "| stage | measured to | native p50 ms | Wyoming p50 ms | overhead ms | ≤ 50 ms |",
            "| --- | --- | ---: | ---: | ---: | --- |",
        ]
        for t in self.timings:
            ok = "yes" if t.overhead_ms <= OVERHEAD_TARGET_MS else "NO"
            rows.append(
                f"| {t.stage} | {t.measures} | {statistics.median(t.native_ms):.0f} | "
                f"{statistics.median(t.wyoming_ms):.0f} | {t.overhead_ms:+.1f} | {ok} |"
            )
        return "\n".join(rows) + "\n"


def bench_wyoming(
    stages: Stages,
    port: int,
    speech: list[np.ndarray],
    wake_clip: np.ndarray,
    rounds: int,
    progress: Callable[[], object],
) -> WyomingBench:
    """`speech`: 16 kHz requests to transcribe; `wake_clip`: 16 kHz audio holding the wake word."""

    def spoken(i: int) -> np.ndarray:
        return speech[i % len(speech)]

    def sentence(i: int) -> str:
        return SENTENCES[i % len(SENTENCES)]

    def question(i: int) -> str:
        return QUESTIONS[i % len(QUESTIONS)]

    intent = "what time is it"
    cases: list[tuple[str, str, Callable[[int], float], Callable[[int], float]]] = [
        ("stt", "transcript",
         lambda i: _native_stt(stages, spoken(i)),
         lambda i: _remote(port, _transcribe_request(spoken(i)), "transcript")),
        ("tts", "first audio",
         lambda i: _native_first_audio(stages, sentence(i)),
         lambda i: _remote(port, [Synthesize(sentence(i)).event()], "audio-chunk")),
        ("handle (intent)", "answer",
         lambda i: _native_answer(stages, intent),
         lambda i: _remote(port, [Transcript(intent).event()], "handled")),
        ("handle (LLM)", "first sentence",
         lambda i: _native_answer(stages, question(i), first=True),
         lambda i: _remote(port, [Transcript(question(i)).event()], "handled-chunk")),
        ("wake", "detection",
         lambda i: _native_wake(stages, wake_clip),
         lambda i: _remote(port, [Detect().event(), *audio_stream(wake_clip)], "detection")),
    ]  # fmt: skip
    timings = []
    for stage, measures, native, remote in cases:
        native_ms, wyoming_ms = [], []
        for i in range(rounds):
            # taking turns, the order flipped each round, so drift hits both alike
            if i % 2:
                wyoming_ms.append(remote(i))
                native_ms.append(native(i))
            else:
                native_ms.append(native(i))
                wyoming_ms.append(remote(i))
            progress()
        timings.append(StageTiming(stage, measures, native_ms, wyoming_ms))
    return WyomingBench(timings)


SENTENCES = ["The front door is open.", "Your timer is done.", "Someone is at the door."]
QUESTIONS = ["Why is the sky blue?", "What is a good name for a cat?", "Tell me about the moon."]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _native_stt(stages: Stages, audio: np.ndarray) -> float:
    started = time.perf_counter()
    stages.stt.transcribe(audio)
    return _ms(started)


def _native_first_audio(stages: Stages, text: str) -> float:
    started = time.perf_counter()
    next(iter(stages.tts.synthesize(text)))
    return _ms(started)


def _native_answer(stages: Stages, text: str, first: bool = False) -> float:
    started = time.perf_counter()
    sentences = stages.responder.reply_sentences(text, TurnTimeline(), threading.Event())
    if first:
        next(iter(sentences))
        elapsed = _ms(started)
        for _ in sentences:  # let the answer finish, as the server's does, before the next
            pass
        return elapsed
    list(sentences)
    return _ms(started)


def _native_wake(stages: Stages, audio: np.ndarray) -> float:
    detector = stages.wake(None)
    started = time.perf_counter()
    for start in range(0, len(audio) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
        if detector.push(audio[start : start + BLOCK_SAMPLES]):
            return _ms(started)
    raise RuntimeError("the wake word was not detected in the benchmark clip")


def _transcribe_request(audio: np.ndarray) -> list[Event]:
    return [Transcribe(language="en").event(), *audio_stream(audio)]


def _remote(port: int, request: list[Event], answer: str) -> float:
    """Milliseconds from the first byte of `request` to the first event of type `answer`; the
    connection is then read to the end of the reply, so the next request finds the server idle."""

    async def exchange() -> float:
        async with AsyncTcpClient("127.0.0.1", port) as client:
            started = time.perf_counter()
            for event in request:
                await client.write_event(event)
            elapsed: float | None = None
            while (event := await client.read_event()) is not None:
                if elapsed is None and event.type == answer:
                    elapsed = _ms(started)
                if event.type in FINAL_EVENTS:
                    break
            if elapsed is None:
                raise RuntimeError(f"the server never sent {answer}")
            return elapsed

    return asyncio.run(exchange())
