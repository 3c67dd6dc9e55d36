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
from queue import Queue
from typing import ClassVar

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import Rechunker
from edgeai.audio.sinks import AudioSink
from edgeai.audio.sources import AudioSource
from edgeai.ears.listener import LISTEN_BLOCK_SAMPLES, Listener
from edgeai.ears.wake.frontend import BLOCK_SAMPLES
from edgeai.home.arbiter import Arbiter, Outcome, Pending
from edgeai.home.loudness import HearingMeter
from edgeai.intents.timers import Timer
from edgeai.messages import (
    EndpointReason,
    ListenEvent,
    NoSpeech,
    SpeechEnded,
    SpeechPaused,
    StopWordHeard,
    WakeDetected,
)
from edgeai.voice.endpointing import AdaptiveEndpointing, Verdict
from edgeai.voice.first_clause import HeldAnswer
from edgeai.voice.llm import LocalLLM
from edgeai.voice.respond import AnyOf, Responder, understandable
from edgeai.voice.stt import SpeechToText
from edgeai.voice.timeline import TurnEnd, TurnTimeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Turn:
    ended: SpeechEnded
    speculative: Future[str] | None
    """Speech-to-text started during the trailing silence on this same utterance."""
    claim: Pending | None = None
    """This device's wake claim, when the home's devices arbitrate who answers."""
    held: HeldAnswer | None = None
    """The LLM's answer to the speculative transcript, started during the trailing silence."""

    @classmethod
    def of(
        cls,
        ended: SpeechEnded,
        speculative: tuple[float, Future[str]] | None,
        claim: Pending | None,
        held: HeldAnswer | None,
    ) -> _Turn:
        """The turn of `ended`, with the speculative transcript and the held answer if they
        are of the same speech (a held answer of other speech is dropped)."""
        if held is not None and abs(held.at_s - ended.at_s) >= 1e-6:
            held.drop()
            held = None
        if speculative is not None and abs(speculative[0] - ended.at_s) < 1e-6:
            return cls(ended, speculative[1], claim, held)
        return cls(ended, None, claim, held)

    def drop(self) -> None:
        """The turn is not taken (or is over): its held answer stops."""
        if self.held is not None:
            self.held.drop()


@dataclass(frozen=True)
class _Typed:
    """A typed request (the web page, POST /ask): answered in text, not spoken."""

    text: str
    answer: Future[TurnTimeline]
    asked_s: float
    what: ClassVar[str] = "typed request"


@dataclass(frozen=True)
class _Announcement:
    text: str
    spoken: Callable[[], None] | None = None
    """Called once it was said (a timer leaves the store only then)."""
    what: ClassVar[str] = "announcement"


Spawn = Callable[[str, Callable[[], None]], object]
"""Starts a named long-lived thread: the service's supervisor, or a plain thread."""

TURNS_THREAD = "turns"
"""The thread that takes turns off the queue; the supervisor knows it by this name."""
TIMER_CHECK_BLOCKS = SAMPLE_RATE_HZ // LISTEN_BLOCK_SAMPLES
"""Due timers are looked for about once a second."""
KEPT_TIMELINES = 1000
"""A service runs for months: only the latest turns' timelines are kept."""
MAX_WAITING_ANNOUNCEMENTS = 8
"""Announcements (/say, camera rules) waiting for their turn before new ones are refused;
typed requests (/ask) are capped at the same number of their own."""
APOLOGY = "Sorry, something went wrong. Please try again."
WAKE_PHRASE_ONLY = "wake phrase only"
"""The route of a turn whose transcript was nothing but the wake phrase: nothing is said."""
WAIT_BEAT_S = 0.1
"""How often a recording read ahead, waiting for an answer, says it is alive."""
READ_AHEAD_S = 0.5
"""Stream time this far ahead of the wall clock, beyond DEVICE_CLOCK_DRIFT, means a recording
read faster than real time (a microphone cannot deliver sound from the future): its next
question waits for the answer."""
DEVICE_CLOCK_DRIFT = 0.01
"""A sound card's sample clock runs a little fast or slow against the system's (well under 0.1%):
over months of service its stream time drifts ahead by this fraction at most."""


def plain_thread(name: str, target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


@dataclass
class VoiceFaults:
    """What went wrong in turns the loop survived, for /health and /metrics."""

    failed_turns: int = 0
    refused_announcements: int = 0
    refused_typed: int = 0
    """Typed requests (/ask) refused because MAX_WAITING_ANNOUNCEMENTS already waited."""
    last_failure: str | None = None
    """The latest failed turn's reason; None once a turn goes through again."""


class StreamClock:
    """Seconds of stream time, running on between blocks: equal to the wall clock when audio
    arrives in real time, and still consistent when a file is read faster than that. Never
    runs back: a block that arrives a little late would otherwise take the time back to its
    own, and a turn's stages, stamped from several threads, would come out of order (the
    endpoint 0.15 ms after the transcript it waited for, in a test on a busy machine)."""

    def __init__(self) -> None:
        self._block_s = 0.0
        self._block_wall = time.monotonic()
        self._latest_s = 0.0
        self._lock = threading.Lock()

    def tick(self, stream_s: float) -> None:
        with self._lock:
            self._block_s, self._block_wall = stream_s, time.monotonic()

    def __call__(self) -> float:
        with self._lock:
            self._latest_s = max(
                self._latest_s, self._block_s + time.monotonic() - self._block_wall
            )
            return self._latest_s


class VoiceLoop:
    def __init__(
        self,
        listener: Listener,
        stt: SpeechToText,
        make_responder: Callable[[StreamClock], Responder],
        open_sink: Callable[[int], AudioSink],
        follow_up_s: float,
        spawn: Spawn = plain_thread,
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
        self.waiting: Callable[[], None] | None = None
        """Called every WAIT_BEAT_S while a recording read ahead waits for an answer: the
        loop reads no audio then, but is not stuck (the service's watchdog listens)."""
        self._stt_pool = ThreadPoolExecutor(1, thread_name_prefix="stt")
        self._spawn = spawn
        self._turns: Queue[_Turn | _Announcement | _Typed | None] = Queue()
        """Unbounded, so capture never waits: what the user said always gets its turn, and
        announcements are capped on their own (MAX_WAITING_ANNOUNCEMENTS)."""
        self._waiting: dict[type[_Announcement | _Typed], int] = {_Announcement: 0, _Typed: 0}
        """How many announcements and typed requests wait in `_turns`, each capped on its own."""
        self._ringing: set[str] = set()
        """Timers announced or waiting to be: not queued again while they are."""
        self._lock = threading.Lock()
        self.faults = VoiceFaults()
        self.arbiter: Arbiter | None = None
        """Set (by the service) when the devices of a home agree which one answers a wake."""
        self.meter = HearingMeter()
        self._ears = threading.RLock()
        """Held while the listener is fed and its events handled: a verdict on a pause's
        transcript (another thread) may end the utterance between two blocks."""
        self._speculative: tuple[float, Future[str]] | None = None
        self._open_turns = 0
        """Utterances queued or being answered: a recording read ahead waits for them."""
        self._turns_over = threading.Condition()
        self._wake_claim: Pending | None = None
        self._held: HeldAnswer | None = None
        self._endpointing = (
            AdaptiveEndpointing(
                listener,
                self.responder.intents.grammar,
                self.clock,
                self._ears,
                self._ended,
                self._still_paused,
                self._ending if isinstance(self.responder.llm, LocalLLM) else None,
            )
            if listener.endpointer.settings.adaptive
            else None
        )

    def run(self, source: AudioSource) -> list[TurnTimeline]:
        """Listen to `source` until it ends; returns the timeline of every turn taken."""
        worker_done = threading.Event()

        def take_turns() -> None:
            try:
                self._take_turns()
            finally:
                worker_done.set()

        self._spawn(TURNS_THREAD, take_turns)
        with self._ears:
            self._speculative, self._wake_claim = None, None
        started = time.monotonic()
        metered = Rechunker(BLOCK_SAMPLES)  # the meter counts the wake words' 80 ms blocks
        for index, block in enumerate(source.blocks(LISTEN_BLOCK_SAMPLES)):
            arrived = time.time()
            with self._ears:
                events = self.listener.push(block)
                for whole in metered.push(block):
                    self.meter.push(whole, arrived, self.listener.now_s)
                self.clock.tick(self.listener.now_s)
                for event in events:
                    self._heard(event)
                if self._held is not None and not self.listener.endpointer.holding(self._held.at_s):
                    self._drop_held()  # speech went on: that answer is not wanted
            if index % TIMER_CHECK_BLOCKS == 0:
                self._ring_due_timers()
            if _read_ahead(self.listener.now_s, time.monotonic() - started):
                self._wait_for_answers(worker_done)
        with self._ears:
            for event in self.listener.finish():
                self._heard(event)
            if self._endpointing is not None and (ended := self.listener.endpointer.finish()):
                self._ended(ended)
            self._drop_held()
            self._turns.put(None)
        worker_done.wait()
        self._stt_pool.shutdown()
        return list(self.timelines)

    def _wait_for_answers(self, worker_done: threading.Event) -> None:
        """A recording read faster than real time waits at each utterance's end until it is
        answered, as the person in it would: read on, its next wake word would barge in on
        a reply not yet spoken (`edgeai demo --fast` lost its first answer that way)."""
        with self._turns_over:
            while self._open_turns and not worker_done.is_set():
                self._turns_over.wait(WAIT_BEAT_S)
                if self.waiting is not None:
                    self.waiting()

    def _heard(self, event: ListenEvent) -> None:
        """Act on one event of the ears (under `_ears`)."""
        if isinstance(event, WakeDetected | StopWordHeard) and self.speaking.is_set():
            log.info("barge-in: %s while speaking", event.name)
            self.cancel.set()
        if isinstance(event, WakeDetected):
            self._wake_claim = self._claim(event)
        elif isinstance(event, NoSpeech):
            self._wake_claim = None
        elif isinstance(event, SpeechPaused) and _lost(self._wake_claim):
            pass  # another device answers: no speech-to-text here
        elif isinstance(event, SpeechPaused):
            if self._speculative is not None:
                self._speculative[1].cancel()  # speech went on: not worth a transcript
            transcript = self._stt_pool.submit(self.stt.transcribe, event.audio)
            self._speculative = (event.at_s, transcript)
            if self._endpointing is not None:
                self._endpointing.paused(event.at_s, transcript)
        elif isinstance(event, SpeechEnded):
            self._ended(event)

    def _ended(self, event: SpeechEnded) -> None:
        """The utterance is over: its turn is queued (under `_ears`)."""
        with self._turns_over:
            self._open_turns += 1
        self._turns.put(_Turn.of(event, self._speculative, self._wake_claim, self._held))
        self._speculative, self._wake_claim, self._held = None, None, None

    def _still_paused(self, at_s: float, transcript: str, verdict: Verdict) -> None:
        """A pause judged to end on the trailing or the doubtful silence, with a question for
        the LLM: its answer starts now, held unheard (vad.early_answer; under `_ears`)."""
        responder = self.responder
        if (
            verdict.reason not in (EndpointReason.SILENCE, EndpointReason.DOUBTFUL)
            or not self.listener.endpointer.settings.early_answer
            or responder.llm is None
            or responder.home is not None  # Home Assistant is asked first, at the turn
            or _lost(self._wake_claim)
        ):
            return
        request = without_wake_phrase(transcript, self.listener.wake_words)
        if not understandable(request) or responder.intents.grammar.match(request) is not None:
            return
        self._drop_held()
        self._held = HeldAnswer(
            responder.llm, request, at_s, responder.history, self.clock, responder.tts
        )

    def _ending(self, transcript: str) -> float | None:
        """The local LLM's chance that the request in `transcript` ends where it stops."""
        llm = self.responder.llm
        assert isinstance(llm, LocalLLM)
        request = without_wake_phrase(transcript, self.listener.wake_words)
        return llm.ending_probability(request, self.responder.history)

    def _drop_held(self) -> None:
        if self._held is not None:
            self._held.drop()
            self._held = None

    def stop(self) -> None:
        """Cut any speech or generation short and take no more turns; `run` returns once its
        source ends (the service ends the source too)."""
        self._stopped.set()
        self.cancel.set()

    def _claim(self, wake: WakeDetected) -> Pending | None:
        """Claim the wake word on the broker (when arbitrating): the verdict is due while the
        request is still being spoken."""
        if self.arbiter is None:
            return None
        level_db, snr_db = self.meter.wake_level()
        return self.arbiter.claim(wake.score, level_db, snr_db, self.meter.heard_at(wake.at_s))

    def busy(self) -> bool:
        """True from the wake word until the reply is spoken: other loops (the camera) slow
        down meanwhile, so the turn gets the CPU."""
        return self.listener.engaged or self._in_turn.is_set()

    def announce(self, text: str, spoken: Callable[[], None] | None = None) -> bool:
        """Speak `text` between turns (a camera rule, /say). False, with a log line, when
        MAX_WAITING_ANNOUNCEMENTS are already waiting: the caller tells whoever asked."""
        return self._queue_between_turns(_Announcement(text, spoken))

    def ask(self, text: str) -> Future[TurnTimeline] | None:
        """Answer a typed request between turns, in text only (the timeline's `reply`); None
        when MAX_WAITING_ANNOUNCEMENTS typed requests are already waiting."""
        answer: Future[TurnTimeline] = Future()
        return answer if self._queue_between_turns(_Typed(text, answer, self.clock())) else None

    def _queue_between_turns(self, item: _Announcement | _Typed) -> bool:
        """Queue `item` unless MAX_WAITING_ANNOUNCEMENTS of its kind already wait; a refusal
        is logged and counted in `faults`."""
        kind = type(item)
        with self._lock:
            waiting = self._waiting[kind]
            if waiting >= MAX_WAITING_ANNOUNCEMENTS:
                if isinstance(item, _Announcement):
                    self.faults.refused_announcements += 1
                else:
                    self.faults.refused_typed += 1
                log.warning("%s refused, %d already waiting: %r", kind.what, waiting, item.text)
                return False
            self._waiting[kind] = waiting + 1
        self._turns.put(item)
        return True

    def _ring_due_timers(self) -> None:
        """Queue an announcement for each timer that rang; it leaves the store once said."""
        timers = self.responder.intents.timers
        for timer in timers.due():
            if timer.id in self._ringing:
                continue
            name = f"{timer.name} timer" if timer.name else "timer"

            def spoken(timer: Timer = timer) -> None:
                timers.rang(timer)
                self._ringing.discard(timer.id)

            if self.announce(f"Your {name} is done.", spoken):
                self._ringing.add(timer.id)

    def _take_turns(self) -> None:
        while (item := self._turns.get()) is not None:
            try:
                self._take_next(item)
            finally:
                if isinstance(item, _Turn):
                    with self._turns_over:
                        self._open_turns -= 1
                        self._turns_over.notify_all()

    def _take_next(self, item: _Turn | _Announcement | _Typed) -> None:
        if isinstance(item, _Announcement | _Typed):
            with self._lock:
                self._waiting[type(item)] -= 1
        if self._stopped.is_set():
            if isinstance(item, _Typed):
                item.answer.cancel()
            if isinstance(item, _Turn):
                item.drop()
            return
        if isinstance(item, _Turn) and _lost(item.claim, wait=True):
            log.info("another device heard the wake word better and answers")
            item.drop()
            return
        self._in_turn.set()
        try:
            timeline = self._take(item)
            self.timelines.append(timeline)
            if isinstance(item, _Typed):
                item.answer.set_result(timeline)
            if self.turn_done is not None:
                self.turn_done(timeline)
        finally:
            self._in_turn.clear()

    def _take(self, item: _Turn | _Announcement | _Typed) -> TurnTimeline:
        """One turn, announcement or typed request. A stage that raises is survived: the user
        hears an apology (a typed request gets the reason), the reason is logged and kept for
        /health, and the loop listens again."""
        if isinstance(item, _Announcement):
            timeline = TurnTimeline(reply=item.text)
        elif isinstance(item, _Typed):
            timeline = TurnTimeline(speech_end_s=item.asked_s, typed=True)
        else:
            timeline = TurnTimeline(
                speech_end_s=item.ended.at_s,
                endpoint_s=item.ended.endpoint_at_s,
                endpoint_reason=item.ended.reason,
            )
            if item.claim is not None:
                timeline.arbitration_wait_s = item.claim.waited_s
        try:
            if isinstance(item, _Announcement):
                self._announce(item, timeline)
            elif isinstance(item, _Typed):
                self._answer_typed(item, timeline)
            else:
                self._turn(item, timeline)
        except Exception as e:
            log.exception("the turn failed; apologising and listening again")
            if isinstance(item, _Typed):
                self._failed(timeline, f"{type(e).__name__}: {e}")
            else:
                self._apologise(timeline, f"{type(e).__name__}: {e}")
        else:
            self.faults.last_failure = None
        return timeline

    def _announce(self, item: _Announcement, timeline: TurnTimeline) -> None:
        with self._speaking() as sink:
            self.responder.announce(item.text, sink, timeline, self._cancelled)
        if item.spoken is not None:
            item.spoken()

    def _answer_typed(self, item: _Typed, timeline: TurnTimeline) -> None:
        """The reply in text: the same intents, LLM and conversation as a spoken turn, no
        speech (the page shows it; /say is there to have something said). Only the
        service's stop cuts it short: a barge-in belongs to spoken replies."""
        sentences = self.responder.reply_sentences(
            item.text, timeline, self._stopped, self.responder.history
        )
        timeline.reply = " ".join(sentences)
        log.info("typed: %r -> %r (%s)", timeline.transcript, timeline.reply, timeline.route)

    def _failed(self, timeline: TurnTimeline, reason: str) -> None:
        self.faults.failed_turns += 1
        self.faults.last_failure = reason
        timeline.end, timeline.failure = TurnEnd.FAILED, reason

    def _apologise(self, timeline: TurnTimeline, reason: str) -> None:
        self._failed(timeline, reason)
        route = timeline.route
        try:
            with self._speaking() as sink:
                self.responder.announce(APOLOGY, sink, timeline, self._cancelled)
        except Exception:
            log.exception("the apology could not be spoken either")
        timeline.route, timeline.end, timeline.failure = route, TurnEnd.FAILED, reason

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

    def _turn(self, turn: _Turn, timeline: TurnTimeline) -> None:
        if turn.speculative is not None:
            transcript = turn.speculative.result()
            timeline.speculative_stt = True
        else:
            transcript = self.stt.transcribe(turn.ended.audio)
        heard, transcript = transcript, without_wake_phrase(transcript, self.listener.wake_words)
        timeline.stt_done_s = self.clock()
        if understandable(heard) and not understandable(transcript):
            self._wake_phrase_only(heard, turn, timeline)
            return
        try:
            with self._speaking() as sink:
                self.responder.respond(transcript, sink, timeline, self._cancelled, turn.held)
        finally:
            turn.drop()
        if timeline.end is TurnEnd.ANSWERED and timeline.route != "not understood":
            self.listener.follow_up(self.follow_up_s)
        log.info("turn: %r -> %r (%s)", timeline.transcript, timeline.reply, timeline.route)

    def _wake_phrase_only(self, heard: str, turn: _Turn, timeline: TurnTimeline) -> None:
        """The utterance was the wake phrase alone (said again in a follow-up window and
        ended on the pause after it, before the wake word fired): the request is still to
        come, so listen for it without the wake word instead of saying "Sorry, I didn't catch
        that." over it. Unless the wake word has since started one."""
        turn.drop()
        timeline.transcript, timeline.route = heard, WAKE_PHRASE_ONLY
        if not self.listener.engaged:
            self.listener.follow_up(self.follow_up_s)
        log.info("turn: %r is the wake phrase alone: listening for the request", heard)


def _read_ahead(stream_s: float, wall_s: float) -> bool:
    """Whether `stream_s` of audio in `wall_s` is a recording read faster than real time."""
    return stream_s - wall_s > READ_AHEAD_S + DEVICE_CLOCK_DRIFT * wall_s


def _lost(claim: Pending | None, wait: bool = False) -> bool:
    """Another device of the home answers this wake word (`wait`: for the verdict)."""
    if claim is None:
        return False
    return (claim.outcome() if wait else claim.settled()) is Outcome.LOST


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
