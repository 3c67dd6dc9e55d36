"""Barge-in with echo, live: the voice loop's own reply comes back into its microphone through a
simulated echo path, 6 dB louder than the user who interrupts it; how long from the end of
"hey jarvis" or "stop" until the reply falls silent (the barge-in benchmark, in a room)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from itertools import chain

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import StreamConverter, float_to_int16, int16_to_float
from edgeai.audio.sources import ArraySource
from edgeai.bench.barge_in import (
    INTERRUPTIONS,
    BargeInResult,
    InterruptingSource,
    PacedSink,
    Word,
)
from edgeai.ears.echo import RELEARN_S
from edgeai.synthetic.echo import EchoPath, rms, simulate_echo_path
from edgeai.synthetic.speech import Synthesizer, Voice
from edgeai.voice.loop import VoiceLoop
from edgeai.voice.timeline import TurnEnd

log = logging.getLogger(__name__)

ECHO_OVER_TALKER_DB = 6.0
RESPONSE_S = 0.5
"""Of the room's impulse response used live: its tail below is under the noise here."""
CALIBRATION = "Once upon a time, a small dragon lived in a cave above the sea."
EARLIER_REQUEST = "What time is it?"
"""Asked before each interrupted question, a local intent with a short reply, until the device
has played WARM_UP_S in the room."""
WARM_UP_S = RELEARN_S + 1.0
"""Playback heard in the room before the interrupted question: past RELEARN_S a canceller has
learned its room, as a device in use has (one reply of the time is about 1.3 s)."""
WARM_UP_DEADLINE_S = 60.0


class Air:
    """The room between the speaker and the microphone, on the microphone's sample clock: what
    the speaker plays lands at the microphone's current position plus the device delay."""

    def __init__(self, path: EchoPath, gain: float) -> None:
        self.path, self.gain = path, gain
        self._response = path.room.response[: int(RESPONSE_S * SAMPLE_RATE_HZ)]
        self._played = np.zeros(len(self._response), np.float32)
        """Distorted speaker output, indexed by microphone sample (plus the response's length)."""
        self._heard = 0
        self._playing_until = 0
        self.played_samples = 0
        """All the speaker has been sent, at 16 kHz."""
        self._lock = threading.Lock()

    def play(self, audio: np.ndarray) -> None:
        """16 kHz float audio sent to the speaker now (a paced sink: it sounds from now on)."""
        drive = self.path.drive
        distorted = np.tanh(drive * audio) / np.tanh(drive)
        delay = int(self.path.delay_s * SAMPLE_RATE_HZ)
        with self._lock:
            start = max(self._heard + delay, self._playing_until) + len(self._response)
            end = start + len(distorted)
            if end > len(self._played):
                self._played = np.concatenate(
                    [self._played, np.zeros(end - len(self._played), np.float32)]
                )
            self._played[start:end] += distorted
            self._playing_until = end - len(self._response)
            self.played_samples += len(distorted)

    def sounding(self) -> bool:
        """What was played has not all reached the microphone yet."""
        with self._lock:
            return self._heard < self._playing_until

    def echo(self, count: int) -> np.ndarray:
        """The echo in the microphone's next `count` samples."""
        with self._lock:
            start = self._heard
            self._heard += count
            needed = start + len(self._response) + count
            if needed > len(self._played):
                self._played = np.concatenate(
                    [self._played, np.zeros(needed - len(self._played), np.float32)]
                )
            segment = self._played[start + 1 : needed]
        return self.gain * np.convolve(segment, self._response, mode="valid")[:count]


class EchoingSink(PacedSink):
    """A paced speaker whose sound also goes into the air."""

    def __init__(self, rate_hz: int, air: Air) -> None:
        super().__init__(rate_hz)
        self.air = air
        self._converter = StreamConverter(rate_hz)

    def write(self, samples: np.ndarray) -> None:
        self.air.play(int16_to_float(self._converter.convert(samples)))
        super().write(samples)


class EchoingSource(InterruptingSource):
    """Requests answered in full, then the user's question and interruption, with the replies'
    echo mixed in. The earlier replies make the device one that has spoken in this room before,
    as a running one has: a fresh canceller trusts no word until it has measured the delay and
    learned the path for RELEARN_S of playback (`EchoCanceller.relearning`), so an interruption
    1 s into a fresh device's first reply is never heard (0 of 16 with the canceller on, 7 of 16
    without, benchmarks/session-49)."""

    def __init__(
        self, earlier: np.ndarray, question: np.ndarray, word: Word, loop: VoiceLoop, air: Air
    ) -> None:
        super().__init__(question, word, loop.speaking)
        self.earlier, self.air = earlier, air
        self.answered = 0
        """Earlier requests answered: the interrupted turn's index."""

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        for block in chain(self._answered(block_samples), super().blocks(block_samples)):
            mixed = int16_to_float(block) + self.air.echo(len(block))
            yield float_to_int16(np.clip(mixed, -1.0, 1.0))

    def _answered(self, block_samples: int) -> Iterator[np.ndarray]:
        """The earlier request, then silence until its reply has played and reached the
        microphone, again until WARM_UP_S has played. Read from the air, not from the loop's
        speaking flag: a short reply can start and end before the request's trailing silence
        has been fed."""
        deadline = time.monotonic() + WARM_UP_DEADLINE_S
        while self.air.played_samples < WARM_UP_S * SAMPLE_RATE_HZ:
            played = self.air.played_samples
            yield from ArraySource(self.earlier, realtime=True).blocks(block_samples)
            while self.air.played_samples == played or self.air.sounding() or self.playing.is_set():
                if time.monotonic() > deadline:
                    log.warning(
                        "barge-in with echo: %.1f s played in %.0f s, not the %.1f s wanted; "
                        "the interruption may fall while the canceller relearns",
                        self.air.played_samples / SAMPLE_RATE_HZ,
                        WARM_UP_DEADLINE_S,
                        WARM_UP_S,
                    )
                    return
                yield from self._silence(block_samples, block_samples / SAMPLE_RATE_HZ)
            self.answered += 1


def bench_barge_in_echo(
    make_loop: Callable[[bool, Callable[[int], PacedSink]], VoiceLoop],
    synth: Synthesizer,
    voice: Voice,
    earlier: np.ndarray,
    questions: list[np.ndarray],
    progress: Callable[[str], object],
    seed: int = 26,
    rounds: int = 1,
) -> dict[bool, list[BargeInResult]]:
    """Each interruption after each question, `rounds` times (each in a new room, the word said
    anew), with the canceller on and off (`make_loop(echo, open_sink)`) through the same room;
    each time the `earlier` request is answered first, in the same room."""
    rng = np.random.default_rng(seed)
    calibration = int16_to_float(synth.speak(CALIBRATION, voice))
    results: dict[bool, list[BargeInResult]] = {True: [], False: []}
    for label, text in INTERRUPTIONS:
        for index, question in [q for _ in range(rounds) for q in enumerate(questions)]:
            word = Word.spoken(synth, text, voice, None, rng)
            path = simulate_echo_path(rng)
            reply_rms = rms(path.apply(calibration))
            gain = rms(int16_to_float(word.audio)) * 10 ** (ECHO_OVER_TALKER_DB / 20) / reply_rms
            for echo in (True, False):
                progress(f"{label} {index} echo {'on' if echo else 'off'}")
                cut_short, silent_after_s = _interrupt(
                    make_loop, echo, earlier, question, word, path, gain
                )
                results[echo].append(
                    BargeInResult(label, voice.label, str(index), cut_short, silent_after_s)
                )
    return results


def _interrupt(
    make_loop: Callable[[bool, Callable[[int], PacedSink]], VoiceLoop],
    echo: bool,
    earlier: np.ndarray,
    question: np.ndarray,
    word: Word,
    path: EchoPath,
    gain: float,
) -> tuple[bool, float | None]:
    air = Air(path, gain)
    sinks: list[PacedSink] = []

    def open_sink(rate_hz: int) -> PacedSink:
        sinks.append(EchoingSink(rate_hz, air))
        return sinks[-1]

    loop = make_loop(echo, open_sink)
    source = EchoingSource(earlier, question[: -int(1.2 * SAMPLE_RATE_HZ)], word, loop, air)
    timelines = loop.run(source)
    interrupted = source.answered
    cut_short = len(timelines) > interrupted and timelines[interrupted].end is TurnEnd.CANCELLED
    ended = sinks[interrupted].audio_ended if len(sinks) > interrupted else None
    if ended is None or source.word_ended is None:
        return cut_short, None
    return cut_short, ended - source.word_ended


def markdown(results: dict[str, dict[bool, list[BargeInResult]]]) -> str:
    """One row per talker family (`results`' keys), interruption and canceller setting."""
    from edgeai.bench.barge_in import summary

    def ms(value: float | int | None) -> str:
        return "-" if value is None else f"{value * 1000:.0f} ms"

    lines = [
        f"### Barge-in with echo +{ECHO_OVER_TALKER_DB:g} dB: end of the word to the end of the "
        "reply's audio (live voice loop)",
        "",
        "| talker | interruption | canceller | replies cut short | p50 | max |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for family, by_echo in results.items():
        for echo, trials in by_echo.items():
            talkers = ", ".join(sorted({t.voice for t in trials}))
            for label, row in summary(trials).items():
                lines.append(
                    f"| {family} ({talkers}) | {label} | {'on' if echo else 'off'} | "
                    f"{row['cut_short']}/{row['trials']} | {ms(row['p50_s'])} | "
                    f"{ms(row['max_s'])} |"
                )
    return "\n".join(lines) + "\n"
