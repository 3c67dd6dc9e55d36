"""Adaptive endpointing: how long a pause must last before the turn is ours, judged by what
was said before it (vad.adaptive).

The speculative transcript of a pause decides: a complete local command ends the turn after
`complete_silence_ms`; one that could still go on (minutes or hours at its end, a number such
as "twenty" or one that sounds like "to" or "for", a lone verb) after `could_grow_silence_ms`;
a request that stops on a word no request ends on, a number still waiting for its unit, or a
command whose duration or level is no number yet, after `unfinished_silence_ms`; anything else
after the configured trailing silence, unless a rival hypothesis Whisper scored nearly as well
is unfinished by the word lists ("What is the..." behind "What is that?"), or the local LLM
finds what was heard unlikely to end there ("how do I make", `min_ending_probability`): then
after `unfinished_silence_ms`. Where the LLM merely doubts it ends there ("Tell me a joke." ...
"about cats", `doubtful_ending_probability`; a higher bar, `unsure_ending_probability`, where
Whisper is unsure of what it heard, `doubtful_log_probability`: "Can't solve it." for "Cancel
the ..."), after `doubtful_silence_ms`, just longer than a natural pause inside a request: the
early answer is being made meanwhile. Until the transcript is in hand the pause is held open (up
to the unfinished bound): the turn could not start before it anyway, and a fixed silence would
act on the prefix of "set a timer for ... ten minutes".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from threading import RLock

from edgeai.config import VadSettings
from edgeai.ears.listener import Listener
from edgeai.intents.grammar import UNITS_ABOVE_SECONDS_PATTERN, Grammar, normalize
from edgeai.intents.numbers import GROWING_NUMBER
from edgeai.messages import EndpointReason, SpeechEnded
from edgeai.voice.stt import as_heard, rivals_of, score_of

log = logging.getLogger(__name__)

UNFINISHED_LAST_WORDS = frozenset(
    {
        "a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "some", "any",
        "every", "each", "and", "or", "but", "because", "if", "than", "for", "to", "of", "in",
        "on", "at", "by", "with", "about", "from", "into", "onto", "between", "until", "is",
        "are", "was", "were", "can", "could", "would", "will", "should", "do", "does",
    }
)  # fmt: skip
"""Words a request does not end on. "turn the lights on" still ends on "on": a match of the
grammar whose slots are all from its lists wins over this list."""
SOUND_LIKE_TO_OR_FOR = r"(?:two|2|four|4)"
"""At a pause, Whisper writes a last "to" or "for" as a number ("Set the volume 2." of "Set the
volume to ... five"): a command that ends on one of these may be a prefix."""
_GROWS = re.compile(
    rf"\b(?:{GROWING_NUMBER}|{SOUND_LIKE_TO_OR_FOR}|{UNITS_ABOVE_SECONDS_PATTERN}|half)$"
)
"""A command that ends on a number or a unit that can be extended can still grow: "five
minutes" ... "and thirty seconds", "twenty" ... "five", "2" (heard for "to") ... "five". "Set
the volume to five" and "ninety seconds" are whole: they end at once."""
AWAITING_UNIT = " minutes"
"""Appended to a transcript: if that makes it a command, a number is waiting for its unit."""


@dataclass(frozen=True)
class Verdict:
    reason: EndpointReason
    silence_ms: int
    """Silence, counted from the end of speech, that ends the utterance."""


def judge(transcript: str, grammar: Grammar, settings: VadSettings) -> Verdict:
    """How much silence ends an utterance that, so far, says `transcript`."""
    words = normalize(transcript).split()
    if not words:
        return Verdict(EndpointReason.SILENCE, settings.trailing_silence_ms)
    unfinished = Verdict(EndpointReason.UNFINISHED, settings.unfinished_silence_ms)
    found = grammar.match(transcript)
    if words[-1] in UNFINISHED_LAST_WORDS and (found is None or found.free_text):
        return unfinished
    if found is None:
        if grammar.match(transcript.rstrip(" .?!,") + AWAITING_UNIT) is not None:
            return unfinished  # "set a timer for five"
        if grammar.awaits_value(transcript):
            return unfinished  # "set a timer for" ... "ten minutes", heard as "for it"
        return Verdict(EndpointReason.SILENCE, settings.trailing_silence_ms)
    if len(words) == 1 or _GROWS.search(" ".join(words)):
        # "cancel" ... "the pasta timer"; "five minutes" ... "and thirty seconds"
        return Verdict(EndpointReason.COULD_GROW, settings.could_grow_silence_ms)
    return Verdict(EndpointReason.COMPLETE, settings.complete_silence_ms)


def judge_pause(transcript: str, grammar: Grammar, settings: VadSettings) -> Verdict:
    """`judge` on what Whisper heard; where that is no command and ends on nothing unfinished,
    on the n-best command choice instead, if the choice puts other words for the heard ones
    ("Is anyone up to the front door right now?" heard, "Is anyone at the front door right
    now?" chosen) rather than adding words to them ("cancel the" heard, "Cancel the timer."
    chosen: the heard verdict, unfinished, stands)."""
    heard = as_heard(transcript)
    verdict = judge(heard, grammar, settings)
    if verdict.reason is not EndpointReason.SILENCE or heard == transcript:
        return verdict
    if len(normalize(transcript).split()) > len(normalize(heard).split()):
        return verdict
    return judge(transcript, grammar, settings)


class AdaptiveEndpointing:
    """Holds each pause open until its speculative transcript is judged, then sets how much
    silence ends it. The verdict is applied on the thread that made the transcript, the moment
    it is ready (not when the next block of audio comes), under `ears`, the lock the listening
    thread holds while it feeds the listener; an utterance it ends goes to `ended`, a pause
    that stays open after its verdict to `still_paused` (with the transcript)."""

    def __init__(
        self,
        listener: Listener,
        grammar: Grammar,
        clock: Callable[[], float],
        ears: RLock,
        ended: Callable[[SpeechEnded], None],
        still_paused: Callable[[float, str, Verdict], None],
        ending: Callable[[str], float | None] | None = None,
    ) -> None:
        self.listener = listener
        self.grammar = grammar
        self.clock = clock
        self.ears = ears
        self.ended = ended
        self.still_paused = still_paused
        self.ending = ending
        """The local LLM's chance that a request ends where its pause began, or None when it
        is busy; asked about what the grammar and the word lists leave to the trailing silence
        (None here: there is no local LLM to ask)."""

    def paused(self, at_s: float, transcript: Future[str]) -> None:
        """A pause began at `at_s`; `transcript` is being made of the speech before it."""
        with self.ears:
            settings = self.listener.endpointer.settings
            self.listener.endpointer.hold(
                at_s, settings.unfinished_silence_ms, EndpointReason.SILENCE
            )
        transcript.add_done_callback(partial(self._judged, at_s))

    def _judged(self, at_s: float, future: Future[str]) -> None:
        settings = self.listener.endpointer.settings
        transcript = None
        if future.cancelled() or future.exception() is not None:
            # the turn reports a failed transcription; the pause ends the usual way
            verdict = Verdict(EndpointReason.SILENCE, settings.trailing_silence_ms)
        else:
            transcript = future.result()
            verdict = judge_pause(transcript, self.grammar, settings)
            if verdict.reason is EndpointReason.SILENCE:
                verdict = doubted(transcript, verdict, self.grammar, settings, self.ending)
            log.debug("pause at %.2f s: %r -> %s", at_s, transcript, verdict)
        with self.ears:
            self.listener.endpointer.hold(at_s, verdict.silence_ms, verdict.reason)
            if (ended := self.listener.end_held_pause(at_s, self.clock())) is not None:
                self.ended(ended)
            elif transcript is not None and self.listener.endpointer.holding(at_s):
                self.still_paused(at_s, transcript, verdict)


def distinct_rivals(heard: str, rivals: tuple[str, ...]) -> list[str]:
    """`rivals` that say other words than `heard` and than each other, best first ("What is
    that." and "What is that ?" are one)."""
    seen = {normalize(heard)}
    distinct = []
    for rival in rivals:
        words = normalize(rival)
        if words and words not in seen:
            seen.add(words)
            distinct.append(rival)
    return distinct


def doubted(
    transcript: str,
    verdict: Verdict,
    grammar: Grammar,
    settings: VadSettings,
    ending: Callable[[str], float | None] | None,
) -> Verdict:
    """A pause left to the trailing silence waits the unfinished silence instead where one of
    Whisper's close rivals is unfinished by the word lists ("What is that?" with "What is the..."
    right behind it), or where the LLM's `ending` chance for what was heard is under
    `min_ending_probability` ("how do I make"); the doubtful silence where that chance is under
    `doubtful_ending_probability` ("Tell me a joke."), or under `unsure_ending_probability`
    where Whisper's own score for what it heard is under `doubtful_log_probability` ("Can't
    solve it." for "Cancel the ...": a word cut by the pause, misheard; with no chance from the
    LLM, that score alone doubts). Otherwise `verdict`.

    The rivals are not put to the LLM: each question delays the early answer by ~25 ms, and on
    garbled rivals ("How many legs do this when you have?") it finds whole questions unfinished
    (BENCHMARKS.md, issue 26)."""
    heard = as_heard(transcript)
    unfinished = Verdict(EndpointReason.UNFINISHED, settings.unfinished_silence_ms)
    for rival in distinct_rivals(heard, rivals_of(transcript)):
        if judge(rival, grammar, settings).reason is EndpointReason.UNFINISHED:
            log.debug("%r: its rival %r is unfinished", heard, rival)
            return unfinished
    score = score_of(transcript)
    unsure = (
        score is not None
        and settings.doubtful_log_probability is not None
        and score < settings.doubtful_log_probability
    )
    doubt_under = settings.doubtful_ending_probability
    if unsure:
        log.debug("%r: Whisper scored it %.3f a token", heard, score)
        doubt_under = max(doubt_under, settings.unsure_ending_probability)
    chance = ending_chance(heard, max(settings.min_ending_probability, doubt_under), ending)
    if chance is not None and chance < settings.min_ending_probability:
        return unfinished
    doubt = unsure if chance is None else chance < doubt_under  # no chance: the score alone
    if not doubt:
        return verdict
    # a doubted question waits longer than a sure one and less than an unfinished one
    silence_ms = min(
        max(settings.doubtful_silence_ms, settings.trailing_silence_ms),
        settings.unfinished_silence_ms,
    )
    return Verdict(EndpointReason.DOUBTFUL, silence_ms)


def ending_chance(
    heard: str, asked_under: float, ending: Callable[[str], float | None] | None
) -> float | None:
    """The LLM's chance that a request ends on `heard`; None where it is not asked (no LLM, or
    no chance under `asked_under` would change the verdict), is busy, or fails (logged)."""
    if ending is None or asked_under <= 0:
        return None
    try:
        chance = ending(heard)
    except Exception:
        log.exception("the LLM could not judge whether %r ends there", heard[:60])
        return None
    if chance is not None:
        log.debug("%r: the LLM gives it a %.4f chance of ending there", heard, chance)
    return chance
