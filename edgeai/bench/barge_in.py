"""Barge-in benchmark: while edgeai speaks a long answer, the user says the wake word or a stop
word; how long from the end of that word until the reply falls silent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np

from edgeai.audio.sources import ArraySource
from edgeai.bench.voice import make_clip, with_pink_noise
from edgeai.synthetic.speech import Synthesizer, Voice, voiced_span
from edgeai.voice.loop import VoiceLoop
from edgeai.voice.timeline import TurnEnd

QUESTIONS = ("Tell me a long story about a dragon.", "Tell me about the Roman Empire.")
INTERRUPTIONS = (("wake word", "Hey Jarvis."), ("stop word", "Stop."))
SPEAKING_BEFORE_S = 1.0
"""How long the reply plays before the user interrupts it."""


@dataclass(frozen=True)
class Word:
    audio: np.ndarray
    voiced_s: float
    """Where the voice ends in `audio` (the synthesizers add some silence after it)."""

    @classmethod
    def spoken(
        cls,
        synth: Synthesizer,
        text: str,
        voice: Voice,
        snr_db: float | None,
        rng: np.random.Generator,
    ) -> Word:
        clean = synth.speak(text, voice)
        _, voice_end = voiced_span(clean)
        return cls(with_pink_noise(clean, snr_db, rng), voice_end / 16000)


@dataclass(frozen=True)
class BargeInResult:
    interruption: str
    voice: str
    question: str
    cut_short: bool
    """The reply ended before it was all spoken."""
    silent_after_s: float | None
    """End of the interrupting word to the end of the last reply audio (below 0: the reply fell
    silent before the word was over); None if edgeai never spoke or was never interrupted."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class PacedSink:
    """A speaker stand-in: each write takes as long as its audio plays, as a blocking speaker
    write does; `playing` is set by the first write, and the moment the last piece finished
    playing is kept."""

    def __init__(self, rate_hz: int, playing: threading.Event | None = None) -> None:
        self.rate_hz = rate_hz
        self.playing = playing or threading.Event()
        self.audio_ended: float | None = None

    def write(self, samples: np.ndarray) -> None:
        self.playing.set()
        time.sleep(len(samples) / self.rate_hz)
        self.audio_ended = time.monotonic()

    def close(self) -> None:
        pass

    def interrupt(self) -> None:
        pass


class InterruptingSource:
    """Plays the question, waits (feeding silence, paced) until `playing` has been set for
    `SPEAKING_BEFORE_S` (the reply's audio has started), then says the interruption: driven by
    the loop, not by guessed timings, so a slow first sentence on a busy machine does not put
    the word before the reply. Keeps the wall-clock moment the interruption ended."""

    def __init__(self, question: np.ndarray, word: Word, playing: threading.Event) -> None:
        self.question, self.word, self.playing = question, word, playing
        self.word_ended: float | None = None

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        yield from ArraySource(self.question, realtime=True).blocks(block_samples)
        deadline = time.monotonic() + 60
        while not self.playing.is_set() and time.monotonic() < deadline:
            yield from self._silence(block_samples, block_samples / 16000)
        yield from self._silence(block_samples, SPEAKING_BEFORE_S)
        self.word_ended = time.monotonic() + self.word.voiced_s
        tail = np.zeros(2 * 16000, np.int16)
        yield from ArraySource(np.concatenate([self.word.audio, tail]), realtime=True).blocks(
            block_samples
        )

    @staticmethod
    def _silence(block_samples: int, seconds: float) -> Iterator[np.ndarray]:
        yield from ArraySource(np.zeros(int(seconds * 16000), np.int16), True).blocks(block_samples)


def bench_barge_in(
    make_loop: Callable[[Callable[[int], PacedSink]], VoiceLoop],
    synth: Synthesizer,
    voices: list[tuple[Voice, float | None]],
    progress: Callable[[str], object],
    questions: tuple[str, ...] = QUESTIONS,
) -> list[BargeInResult]:
    """Every interruption, in every voice, over every question (a smoke run passes fewer)."""
    rng = np.random.default_rng(11)
    results = []
    for voice, snr in voices:
        for label, text in INTERRUPTIONS:
            for question_text in questions:
                progress(f"{label} {voice.label}")
                question = make_clip(synth, question_text, voice, snr, rng).audio
                word = Word.spoken(synth, text, voice, snr, rng)
                cut_short, silent_after_s = _interrupt(make_loop, question, word)
                results.append(
                    BargeInResult(label, voice.label, question_text, cut_short, silent_after_s)
                )
    return results


def _interrupt(
    make_loop: Callable[[Callable[[int], PacedSink]], VoiceLoop],
    question: np.ndarray,
    word: Word,
) -> tuple[bool, float | None]:
    """One trial: (the reply was cut short, end of the word to the end of the reply's audio)."""
    sinks: list[PacedSink] = []
    playing = threading.Event()

    def open_sink(rate_hz: int) -> PacedSink:
        sinks.append(PacedSink(rate_hz, playing))
        return sinks[-1]

    loop = make_loop(open_sink)
    # the clip ends in 1.8 s of silence: the source's own silence replaces most of it
    source = InterruptingSource(question[: -int(1.2 * 16000)], word, playing)
    timelines = loop.run(source)
    cut_short = bool(timelines) and timelines[0].end is TurnEnd.CANCELLED
    ended = sinks[0].audio_ended if sinks else None
    if ended is None or source.word_ended is None:
        return cut_short, None
    return cut_short, ended - source.word_ended


def summary(results: list[BargeInResult]) -> dict[str, dict[str, float | int | None]]:
    out: dict[str, dict[str, float | int | None]] = {}
    for label, _ in INTERRUPTIONS:
        mine = [r for r in results if r.interruption == label]
        delays = [r.silent_after_s for r in mine if r.cut_short and r.silent_after_s is not None]
        out[label] = {
            "trials": len(mine),
            "cut_short": sum(r.cut_short for r in mine),
            "p50_s": float(np.percentile(delays, 50)) if delays else None,
            "max_s": max(delays) if delays else None,
        }
    return out


def markdown(totals: dict[str, dict[str, float | int | None]]) -> str:
    def ms(value: float | int | None) -> str:
        return "-" if value is None else f"{value * 1000:.0f} ms"

    lines = [
        "### Barge-in: end of the interrupting word to the end of the reply's audio",
        "",
        "| interruption | replies cut short | p50 | max |",
        "| --- | --- | --- | --- |",
    ]
    for label, row in totals.items():
        lines.append(
            f"| {label} | {row['cut_short']}/{row['trials']} | {ms(row['p50_s'])} | "
            f"{ms(row['max_s'])} |"
        )
    return "\n".join(lines) + "\n"
