"""Remote stages with the local model behind them.

A remote stage is tried first; when it fails (refused, timed out, an error answer, a
malformed reply of any kind: a transcript without text, audio at rate 0) the local model
answers that request, one warning line says why, and the
remote is left alone for `retry_after_s` so a dead machine does not cost a timeout per turn.
An answer that fails after its first pieces were delivered ends there: the pieces cannot be
taken back, and the next request goes to the local model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import numpy as np

from edgeai.voice.llm import ChatHistory, Flag, LanguageModel
from edgeai.voice.stt import SpeechToText
from edgeai.voice.tts import TextToSpeech

log = logging.getLogger(__name__)

T = TypeVar("T")


class Remote(Protocol):
    """A service on another machine: a remote stage, Home Assistant."""

    @property
    def url(self) -> str: ...

    @property
    def timeout_s(self) -> float: ...

    @property
    def retry_after_s(self) -> float: ...


class Circuit:
    """Whether to try the remote now, and what to say when it fails. Thread-safe: a turn and
    a background check (Home Assistant's) may report on the same remote at once."""

    def __init__(self, role: str, stage: Remote, instead: str = "the local model answers") -> None:
        self.role = role
        self.stage = stage
        self.instead = instead
        """What happens while the remote is left alone, for the log."""
        self.failures = 0
        self.remote_answers = 0
        self.last_failure: str | None = None
        """Why the latest request failed; None once the remote answers again."""
        self._down_until = 0.0
        self._lock = threading.Lock()

    def open(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._down_until

    def answered(self) -> None:
        with self._lock:
            self.remote_answers += 1
            self.last_failure = None

    def failed(self, error: BaseException) -> None:
        reason = str(error) or f"no answer within {self.stage.timeout_s:g} s"
        failure = f"{type(error).__name__}: {reason}"
        with self._lock:
            self.failures += 1
            self._down_until = time.monotonic() + self.stage.retry_after_s
            self.last_failure = failure
        log.warning(
            "remote %s at %s failed (%s); %s, the remote is tried again in %g s",
            self.role,
            self.stage.url,
            failure,
            self.instead,
            self.stage.retry_after_s,
        )

    def run(
        self, remote: Callable[[], Iterator[T]], local: Callable[[], Iterator[T]]
    ) -> Iterator[T]:
        if self.open():
            delivered = False
            try:
                for item in remote():
                    delivered = True
                    yield item
                self.answered()
                return
            except Exception as e:  # whatever the remote sent, it is the remote's failure
                self.failed(e)
                if delivered:
                    return
        yield from local()


class FallbackSpeechToText:
    def __init__(self, remote: SpeechToText, local: SpeechToText, circuit: Circuit) -> None:
        self.remote, self.local, self.circuit = remote, local, circuit

    def warm_up(self) -> None:
        self.local.warm_up()

    def transcribe(self, audio: np.ndarray) -> str:
        return " ".join(self.segments(audio))

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        # the whole remote transcript is awaited, so a failure midway loses nothing
        yield from self.circuit.run(
            lambda: iter(list(self.remote.segments(audio))), lambda: self.local.segments(audio)
        )


class FallbackTextToSpeech:
    def __init__(self, remote: TextToSpeech, local: TextToSpeech, circuit: Circuit) -> None:
        self.remote, self.local, self.circuit = remote, local, circuit
        self.sample_rate_hz = local.sample_rate_hz

    def warm_up(self) -> None:
        self.local.warm_up()

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        yield from self.circuit.run(
            lambda: self.remote.synthesize(text), lambda: self.local.synthesize(text)
        )


class FallbackLanguageModel:
    def __init__(self, remote: LanguageModel, local: LanguageModel, circuit: Circuit) -> None:
        self.remote, self.local, self.circuit = remote, local, circuit

    def warm_up(self) -> None:
        self.local.warm_up()

    def stream(
        self, user_text: str, cancel: Flag, history: ChatHistory | None = None
    ) -> Iterator[str]:
        yield from self.circuit.run(
            lambda: self.remote.stream(user_text, cancel, history),
            lambda: self.local.stream(user_text, cancel, history),
        )
