"""The assistant loop: ears on one thread, turns on another, barge-in between them."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from queue import Full, Queue

from edgeai.audio.sinks import AudioSink
from edgeai.audio.sources import AudioSource
from edgeai.listen import Listener
from edgeai.messages import SpeechEnded, SpeechPaused, StopWordHeard, WakeDetected
from edgeai.voice.respond import AnyOf, Responder
from edgeai.voice.stt import SpeechToText
from edgeai.voice.timeline import TurnTimeline
from edgeai.wake.frontend import BLOCK_SAMPLES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Turn:
    ended: SpeechEnded
    speculative: Future[str] | None
    """Speech-to-text started during the trailing silence on this same utterance."""


@dataclass(frozen=True)
class _Announcement:
    text: str


TIMER_CHECK_BLOCKS = 12
"""Due timers are looked for about once a second."""
KEPT_TIMELINES = 1000
"""A service runs for months: only the latest turns' timelines are kept."""


class StreamClock:
    """Seconds of stream time, running on between blocks: equal to the wall clock when audio
    arrives in real time, and still consistent when a file is read faster than that."""

    def __init__(self) -> None:
        self._block_s = 0.0
        self._block_wall = time.monotonic()

    def tick(self, stream_s: float) -> None:
        self._block_s, self._block_wall = stream_s, time.monotonic()

    def __call__(self) -> float:
        return self._block_s + time.monotonic() - self._block_wall


class VoiceLoop:
    def __init__(
        self,
        listener: Listener,
        stt: SpeechToText,
        make_responder: Callable[[StreamClock], Responder],
        open_sink: Callable[[int], AudioSink],
        follow_up_s: float,
    ) -> None:
        self.listener = listener
        self.stt = stt
        self.clock = StreamClock()
        self.responder = make_responder(self.clock)
        self.open_sink = open_sink
        self.follow_up_s = follow_up_s
        self.cancel = threading.Event()
        self.speaking = threading.Event()
        self._in_turn = threading.Event()
        self._stopped = threading.Event()
        self.timelines: deque[TurnTimeline] = deque(maxlen=KEPT_TIMELINES)
        self.turn_done: Callable[[TurnTimeline], None] | None = None
        """Called with each finished turn or announcement (the service publishes them)."""
        self._stt_pool = ThreadPoolExecutor(1, thread_name_prefix="stt")
        self._turns: Queue[_Turn | _Announcement | None] = Queue(maxsize=8)

    def run(self, source: AudioSource) -> list[TurnTimeline]:
        """Listen to `source` until it ends; returns the timeline of every turn taken."""
        worker = threading.Thread(target=self._take_turns, name="turns", daemon=True)
        worker.start()
        speculative: tuple[float, Future[str]] | None = None
        for index, block in enumerate(source.blocks(BLOCK_SAMPLES)):
            events = self.listener.push(block)
            self.clock.tick(self.listener.now_s)
            if index % TIMER_CHECK_BLOCKS == 0:
                for timer in self.responder.intents.timers.pop_due():
                    name = f"{timer.name} timer" if timer.name else "timer"
                    self.announce(f"Your {name} is done.")
            for event in events:
                if isinstance(event, WakeDetected | StopWordHeard) and self.speaking.is_set():
                    log.info("barge-in: %s while speaking", event.name)
                    self.cancel.set()
                elif isinstance(event, SpeechPaused):
                    speculative = (
                        event.at_s,
                        self._stt_pool.submit(self.stt.transcribe, event.audio),
                    )
                elif isinstance(event, SpeechEnded):
                    same = speculative is not None and abs(speculative[0] - event.at_s) < 1e-6
                    self._turns.put(_Turn(event, speculative[1] if same and speculative else None))
                    speculative = None
        self._turns.put(None)
        worker.join()
        self._stt_pool.shutdown()
        return list(self.timelines)

    def stop(self) -> None:
        """Cut any speech or generation short and take no more turns; `run` returns once its
        source ends (the service ends the source too)."""
        self._stopped.set()
        self.cancel.set()

    def busy(self) -> bool:
        """True from the wake word until the reply is spoken: other loops (the camera) slow
        down meanwhile, so the turn gets the CPU."""
        return self.listener.engaged or self._in_turn.is_set()

    def announce(self, text: str) -> None:
        """Speak `text` between turns (a camera rule, say); dropped with a log line if too many
        announcements are already waiting."""
        try:
            self._turns.put_nowait(_Announcement(text))
        except Full:
            log.warning("announcement dropped, %d already waiting: %r", self._turns.qsize(), text)

    def _take_turns(self) -> None:
        while (item := self._turns.get()) is not None:
            if self._stopped.is_set():
                continue
            self._in_turn.set()
            try:
                if isinstance(item, _Announcement):
                    timeline = self._announce(item.text)
                else:
                    timeline = self._turn(item)
                self.timelines.append(timeline)
                if self.turn_done is not None:
                    self.turn_done(timeline)
            except Exception:
                log.exception("the turn failed; listening again")
            finally:
                self._in_turn.clear()

    def _announce(self, text: str) -> TurnTimeline:
        timeline = TurnTimeline(reply=text)
        with self._speaking() as sink:
            self.responder.announce(text, sink, timeline, self._cancelled)
        return timeline

    @property
    def _cancelled(self) -> AnyOf:
        """Barge-in or stop: speech and generation end on either."""
        return AnyOf(self.cancel, self._stopped)

    @contextmanager
    def _speaking(self) -> Iterator[AudioSink]:
        """A fresh sink, with barge-in armed while it is open."""
        sink = self.open_sink(self.responder.tts.sample_rate_hz)
        self.cancel.clear()
        self.speaking.set()
        try:
            yield sink
        finally:
            if self._cancelled.is_set():
                sink.interrupt()
            else:
                sink.close()
            self.speaking.clear()

    def _turn(self, turn: _Turn) -> TurnTimeline:
        timeline = TurnTimeline(speech_end_s=turn.ended.at_s, endpoint_s=turn.ended.endpoint_at_s)
        if turn.speculative is not None:
            transcript = turn.speculative.result()
            timeline.speculative_stt = True
        else:
            transcript = self.stt.transcribe(turn.ended.audio)
        transcript = without_wake_phrase(transcript, self.listener.wake_words)
        timeline.stt_done_s = self.clock()
        with self._speaking() as sink:
            self.responder.respond(transcript, sink, timeline, self._cancelled)
        if timeline.route not in ("stop", "not understood") and not self.cancel.is_set():
            self.listener.follow_up(self.follow_up_s)
        log.info("turn: %r -> %r (%s)", timeline.transcript, timeline.reply, timeline.route)
        return timeline


def without_wake_phrase(transcript: str, wake_words: list[str]) -> str:
    """The transcript without a wake phrase (or its last words) at its start: the utterance's
    pre-roll can hold the end of "hey jarvis", and "Jarvis, what time is it?" is not what the
    user asked. The phrase never reaches the intents, the LLM or the reply."""
    for name in wake_words:
        words = [re.escape(word) for word in name.split("_") if word]
        if not words:
            continue
        tail = words[-1]
        for word in reversed(words[:-1]):  # "hey jarvis" -> (?:hey\W+)?jarvis
            tail = rf"(?:{word}\W+)?{tail}"
        stripped = re.sub(rf"^\W*{tail}\b[\s,.!?]*", "", transcript, flags=re.IGNORECASE)
        if stripped != transcript:
            log.debug("wake phrase removed from the transcript: %r", transcript)
            return stripped
    return transcript
