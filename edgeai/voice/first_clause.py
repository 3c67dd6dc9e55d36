"""The LLM's answer started during the trailing silence, held unheard until the turn is ours.

A pause whose transcript goes to the LLM (no intent matches it) still waits the configured
trailing silence, in case the user goes on. The answer to that transcript is generated
meanwhile into a buffer, and its first sentence synthesized: if the turn ends on that pause,
the answer continues from the buffer; if speech resumes, the generation is cancelled and
dropped. Nothing of it is spoken before the endpoint, and nothing acts on it: a tool call in
it is judged by the turn (Responder) like any other answer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator

import numpy as np

from edgeai.voice.llm import ChatHistory, Flag, LanguageModel
from edgeai.voice.sentences import SentenceSplitter
from edgeai.voice.tools import looks_like_tool_call
from edgeai.voice.tts import TextToSpeech

log = logging.getLogger(__name__)


class HeldAnswer:
    """The LLM's answer to `transcript`, generated on its own thread into a queue nobody hears
    until the turn takes it (`stream`); its first sentence is synthesized with `tts` as soon as
    it is complete (`first_audio`)."""

    def __init__(
        self,
        llm: LanguageModel,
        transcript: str,
        at_s: float,
        history: ChatHistory | None,
        clock: Callable[[], float],
        tts: TextToSpeech | None = None,
    ) -> None:
        self.transcript = transcript
        self.at_s = at_s
        """The end of the speech it answers (the pause's SpeechPaused.at_s)."""
        self.first_token_s: float | None = None
        self._clock = clock
        self._tts = tts
        self._first: str | None = None
        """The first sentence, once its audio is being made."""
        self._first_known = threading.Event()
        """Set once the first sentence's audio is being made, or will not be."""
        self._first_audio: queue.Queue[np.ndarray | None] = queue.Queue()
        """Its audio as it is made, a window at a time; None ends it."""
        self._first_given = False
        self._dropped = threading.Event()
        self._pieces: queue.Queue[str | BaseException | None] = queue.Queue()
        self.taken = False
        """A turn took it (`stream`)."""
        # the conversation as it is now: a turn taken meanwhile does not change this prompt
        context = history.copy() if history is not None else None
        threading.Thread(
            target=self._generate, args=(llm, context), name="held-answer", daemon=True
        ).start()

    def _generate(self, llm: LanguageModel, context: ChatHistory | None) -> None:
        splitter, raw = SentenceSplitter(), ""
        try:
            for piece in llm.stream(self.transcript, self._dropped, context):
                if self.first_token_s is None:
                    self.first_token_s = self._clock()
                self._pieces.put(piece)
                raw += piece
                if not self._first_known.is_set() and not looks_like_tool_call(raw):
                    self._synthesize(splitter.push(piece))
            if not self._first_known.is_set() and not looks_like_tool_call(raw):
                self._synthesize(splitter.flush())  # a one-sentence answer
        except Exception as e:
            log.exception("the held answer failed")
            self._pieces.put(e)  # raised in the turn that takes it, if one does
        finally:
            self._first_known.set()
            self._pieces.put(None)

    def _synthesize(self, sentences: list[str]) -> None:
        """The first sentence's audio, as the turn's Responder would cut and say it, a window
        at a time: a turn that takes it can play the first window while the rest is made."""
        if not sentences or self._tts is None or self._dropped.is_set():
            return
        self._first = sentences[0]
        self._first_known.set()
        try:
            for audio in self._tts.synthesize(sentences[0]):
                if self._dropped.is_set():
                    break  # speech went on, or the turn was cut short: nobody will hear it
                self._first_audio.put(audio)
        finally:
            self._first_audio.put(None)

    def first_audio(self, sentence: str) -> Iterator[np.ndarray] | None:
        """The audio of `sentence` if it is the first one and is being made (or was made)
        since the user went silent, as it comes; None otherwise (waits until that is known)."""
        if self._tts is None:
            return None
        self._first_known.wait()
        if self._first != sentence or self._first_given:
            return None
        self._first_given = True
        return self._made()

    def _made(self) -> Iterator[np.ndarray]:
        while (audio := self._first_audio.get()) is not None:
            yield audio

    def drop(self) -> None:
        """Speech went on (or the turn is not ours): stop generating; nothing is kept."""
        self._dropped.set()

    def stream(
        self, user_text: str, cancel: Flag, history: ChatHistory | None = None
    ) -> Iterator[str]:
        """The held pieces, then the rest as it is generated (LanguageModel.stream for the
        turn that ended on this pause): stops when `cancel` is set. The answer was begun from
        the conversation as it was at the pause (`history` is not read again)."""
        assert user_text == self.transcript, "a held answer is for its own transcript only"
        self.taken = True
        while (piece := self._pieces.get()) is not None:
            if isinstance(piece, BaseException):
                raise piece
            if cancel.is_set():
                break
            yield piece
        self.drop()  # cancelled or complete: either way generation stops here
