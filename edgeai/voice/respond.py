"""From a transcript to spoken audio: a local intent, Home Assistant (when configured) or the
LLM, streamed sentence by sentence."""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator

import numpy as np

from edgeai.audio.sinks import AudioSink
from edgeai.intents.grammar import IntentMatch
from edgeai.intents.handlers import IntentContext, IntentReply, handle
from edgeai.voice.first_clause import HeldAnswer
from edgeai.voice.home_assistant import HomeAssistant, Outcome
from edgeai.voice.honesty import HONEST_FALLBACK, claims_unseen
from edgeai.voice.llm import ChatHistory, Flag, LanguageModel
from edgeai.voice.sentences import SentenceSplitter, clean, reply_pieces
from edgeai.voice.timeline import TurnEnd, TurnTimeline
from edgeai.voice.tools import looks_like_tool_call, parse_tool_call
from edgeai.voice.tts import TextToSpeech

log = logging.getLogger(__name__)

NOT_CAUGHT = "Sorry, I didn't catch that."
CANNOT = "Sorry, I can't do that."
CHUNK_MS = 50
"""Audio is written in pieces this long, so a cancel takes effect within one piece."""


class AnyOf:
    """Set when any of its flags is set."""

    def __init__(self, *flags: Flag) -> None:
        self.flags = flags

    def is_set(self) -> bool:
        return any(flag.is_set() for flag in self.flags)


class Responder:
    def __init__(
        self,
        tts: TextToSpeech,
        llm: LanguageModel | None,
        intents: IntentContext,
        clock: Callable[[], float],
        max_sentences: int = 3,
        history: ChatHistory | None = None,
        home: HomeAssistant | None = None,
    ) -> None:
        self.tts = tts
        self.llm = llm
        self.intents = intents
        self.clock = clock
        self.max_sentences = max_sentences
        self.history = history
        """The conversation `respond` continues (the device's own); None: none kept."""
        self.home = home
        """Home Assistant, asked what no local intent handles; None: not configured."""
        self._home_conversation: str | None = None

    def respond(
        self,
        transcript: str,
        sink: AudioSink,
        timeline: TurnTimeline,
        cancel: Flag,
        held: HeldAnswer | None = None,
    ) -> None:
        """Speak the answer to `transcript` into `sink`, filling in the timeline as it goes;
        an LLM answer continues `held` (started during the trailing silence) when it is the
        answer to this same transcript."""
        sentences = self.reply_sentences(transcript, timeline, cancel, self.history, held)
        self._speak(sentences, sink, timeline, cancel, held)

    def reply_sentences(
        self,
        transcript: str,
        timeline: TurnTimeline,
        cancel: Flag,
        history: ChatHistory | None = None,
        held: HeldAnswer | None = None,
    ) -> Iterator[str]:
        """The answer to `transcript`, a sentence at a time: a local intent's or Home
        Assistant's reply at once, the LLM's as its sentences form, continuing `history`. Sets
        the timeline's transcript and route."""
        timeline.transcript = transcript
        if not understandable(transcript):
            timeline.route = "not understood"
            return iter([NOT_CAUGHT])
        found = self.intents.grammar.match(transcript)
        # a device edgeai does not have ("unsupported") is Home Assistant's when there is one
        device = found is not None and found.intent == "unsupported" and self.home is not None
        if found is not None and not device:
            return self._intent(found, timeline)
        honest = HONEST_FALLBACK
        if self.home is not None:
            answer = self.home.ask(transcript, self._home_conversation)
            self._home_conversation = answer.conversation_id
            unplaced = answer.outcome in (Outcome.NOT_UNDERSTOOD, Outcome.NO_TARGET)
            if not unplaced or (device and answer.outcome is Outcome.NO_TARGET):
                # what Home Assistant did or could not do, in its words; when it cannot be
                # reached the user hears that, and the LLM is not asked to make up the rest
                timeline.route = f"home assistant {answer.outcome.value}"
                return iter(reply_pieces(answer.speech))
            if found is not None:
                return self._intent(found, timeline)  # not Home Assistant's either
            if answer.outcome is Outcome.NO_TARGET:
                honest = answer.speech  # "not aware of any device called a fun fact"
        timeline.route = "llm"
        if self.llm is None:
            return iter([CANNOT])
        return self._llm_sentences(transcript, timeline, cancel, history, honest, held)

    def _intent(self, found: IntentMatch, timeline: TurnTimeline) -> Iterator[str]:
        timeline.route = found.intent
        reply = handle(found, self.intents)
        if reply.stop:
            timeline.end = TurnEnd.STOPPED
        return iter(reply_pieces(reply.text))

    def announce(self, text: str, sink: AudioSink, timeline: TurnTimeline, cancel: Flag) -> None:
        """Say something nobody asked for just now: a timer that rang, a camera event."""
        timeline.route = "announcement"
        self._speak(iter([text]), sink, timeline, cancel)

    def _speak(
        self,
        sentences: Iterator[str],
        sink: AudioSink,
        timeline: TurnTimeline,
        cancel: Flag,
        held: HeldAnswer | None = None,
    ) -> None:
        """Say `sentences`; the first one's audio comes from `held` when it was made there."""
        spoken: list[str] = []
        chunk = self.tts.sample_rate_hz * CHUNK_MS // 1000
        gain = self.intents.volume.gain
        for sentence in sentences:
            made = held.first_audio(sentence) if held and timeline.early_answer else None
            held = None  # only the first sentence can have been made early
            for audio in made or self.tts.synthesize(sentence):
                for start in range(0, len(audio), chunk):
                    if cancel.is_set():
                        timeline.end = TurnEnd.CANCELLED
                        timeline.reply = " ".join(spoken)
                        return
                    piece = (audio[start : start + chunk] * gain).astype(np.int16)
                    sink.write(piece)
                    if timeline.first_audio_s is None:
                        timeline.first_audio_s = self.clock()
            spoken.append(sentence)
        timeline.reply = " ".join(spoken)
        if cancel.is_set():  # before the first sentence, or the generation stopped on it
            timeline.end = TurnEnd.CANCELLED
            return
        timeline.last_audio_s = self.clock()

    def _llm_sentences(
        self,
        transcript: str,
        timeline: TurnTimeline,
        cancel: Flag,
        history: ChatHistory | None,
        honest: str,
        held: HeldAnswer | None = None,
    ) -> Iterator[str]:
        """Sentences of the LLM's answer as they form; generation runs in its own thread. A
        failure there is raised here, so the turn fails out loud instead of going quiet. A
        sentence claiming what no tool did ends the answer with `honest`."""
        assert self.llm is not None
        llm: LanguageModel | HeldAnswer = self.llm
        if held is not None and held.transcript == transcript:
            llm, timeline.early_answer = held, True
        sentences: queue.Queue[str | None] = queue.Queue()
        enough = threading.Event()
        failure: list[Exception] = []

        def produce() -> None:
            splitter, raw, count = SentenceSplitter(), [], 0
            try:
                for piece in llm.stream(transcript, AnyOf(cancel, enough), history):
                    if timeline.first_token_s is None:
                        first = held.first_token_s if timeline.early_answer and held else None
                        timeline.first_token_s = first or self.clock()
                    raw.append(piece)
                    if looks_like_tool_call("".join(raw)):
                        continue  # a tool call is judged whole, never spoken
                    for sentence in splitter.push(piece):
                        sentences.put(sentence)
                        count += 1
                        if count >= self.max_sentences:
                            enough.set()  # answers are capped: stop generating
                if looks_like_tool_call("".join(raw)):
                    sentences.put(self._tool_reply("".join(raw), timeline).text or CANNOT)
                elif count < self.max_sentences:
                    for sentence in splitter.flush():
                        sentences.put(sentence)
            except Exception as e:
                log.exception("the LLM failed mid-answer")
                failure.append(e)
            finally:
                sentences.put(None)

        threading.Thread(target=produce, name="llm", daemon=True).start()
        given: list[str] = []
        try:
            while (sentence := sentences.get()) is not None:
                if sentence in given:  # a rambling model repeats itself: stop there
                    enough.set()
                    break
                if timeline.route == "llm" and claims_unseen(sentence):
                    # no tool ran: a claimed action or camera fact is made up (a tool's own
                    # reply arrives with the route set to "llm tool ...")
                    log.warning("the LLM claimed what no intent did or saw: %.80s", sentence)
                    timeline.replaced_claim = True
                    enough.set()
                    given.append(honest)
                    yield honest
                    break
                given.append(sentence)
                yield sentence
        finally:
            # what was said is what the next turn follows on from: a capped answer, one cut
            # short (its reader stopped), the honest line instead of a made-up claim
            if history is not None and given:
                history.remember(transcript, " ".join(given))
        if failure:
            raise failure[0]

    def _tool_reply(self, text: str, timeline: TurnTimeline) -> IntentReply:
        found = parse_tool_call(text)
        if found is None:
            log.warning("the LLM produced an invalid tool call: %.80s", text)
            return IntentReply(CANNOT)
        timeline.route = f"llm tool {found.intent}"
        return handle(found, self.intents)


def understandable(transcript: str) -> bool:
    """At least one real word: not empty, not just punctuation or a filler sound."""
    words = re.findall(r"[a-z']+", clean(transcript).lower())
    return any(word not in {"uh", "um", "hmm", "mm", "ah", "oh"} for word in words)
