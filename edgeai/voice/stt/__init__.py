"""Speech-to-text backends behind one interface, chosen by the profile's stt engine."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class Transcript(str):
    """A transcript with what Whisper itself heard behind it.

    `heard` is Whisper's best hypothesis. The text differs from it where the device's grammar
    chose a command from the n-best list, and that choice may complete a prefix ("cancel the"
    becomes "Cancel the timer."): whether a request is over is judged on `heard`, acting uses
    the text. `rivals` are the other hypotheses Whisper scored nearly as well as its best: at a
    pause, "What is the..." can sit right behind "What is that?". `score` is the log-probability
    per token Whisper gave `heard` (None: the backend gives none): a low one at a pause is often a
    cut word misheard ("Can solve it." for "Cancel the ...")."""

    heard: str
    rivals: tuple[str, ...]
    score: float | None

    def __new__(
        cls,
        text: str,
        heard: str | None = None,
        rivals: Sequence[str] = (),
        score: float | None = None,
    ) -> Transcript:
        transcript = super().__new__(cls, text)
        transcript.heard = text if heard is None else heard
        transcript.rivals = tuple(rivals)
        transcript.score = score
        return transcript

    def __getnewargs__(self) -> tuple[str, str, tuple[str, ...], float | None]:  # type: ignore[override]
        """Copies and pickles (a timeline's asdict deep-copies its transcript) keep all four."""
        return str(self), self.heard, self.rivals, self.score


def as_heard(transcript: str) -> str:
    """What Whisper itself heard: `transcript` with a command choice undone."""
    return transcript.heard if isinstance(transcript, Transcript) else transcript


def rivals_of(transcript: str) -> tuple[str, ...]:
    """The hypotheses Whisper scored nearly as well as what it heard (none: a plain string)."""
    return transcript.rivals if isinstance(transcript, Transcript) else ()


def score_of(transcript: str) -> float | None:
    """Whisper's log-probability per token for what it heard (None: a plain string)."""
    return transcript.score if isinstance(transcript, Transcript) else None


class Transcriber(Protocol):
    def transcribe(self, audio: np.ndarray) -> str:
        """Text of 16 kHz mono int16 speech; empty when nothing intelligible was said."""
        ...


class SpeechToText(Transcriber, Protocol):
    """A transcriber the runtime serves: warmed up at load, and able to stream its text."""

    def warm_up(self) -> None:
        """Run once at load, so the first real utterance is not the slow one."""
        ...

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        """The same text in pieces, each as soon as it is decoded (streamed transcripts)."""
        ...


def load_stt(
    engine: str,
    model_file: Path,
    threads: int,
    window_s: float | None = None,
    prompt: str | None = None,
    hypotheses: int = 1,
    is_command: Callable[[str], bool] | None = None,
) -> SpeechToText:
    """The backend for `engine`, on the model's main file (CTranslate2 reads its folder).

    `window_s`, a Whisper encoder window shorter than 30 s, is CTranslate2's alone: the ONNX and
    OpenVINO exports have a fixed 30 s input. So are `prompt`, the text decoding starts from,
    and `hypotheses`, the n-best list from which a complete local command (`is_command`) is
    preferred."""
    if engine == "ctranslate2":
        from edgeai.voice.stt.faster_whisper import FasterWhisperSTT

        return FasterWhisperSTT(
            model_file.parent, threads, window_s, prompt, hypotheses, is_command
        )
    if window_s is not None:
        log.warning("voice.stt_window_s applies to the ctranslate2 engine; %s encodes 30 s", engine)
    if prompt is not None:
        log.info(
            "voice.stt_prompt applies to the ctranslate2 engine; %s decodes unprompted", engine
        )
    if hypotheses > 1:
        log.info(
            "voice.stt_hypotheses applies to the ctranslate2 engine; %s decodes greedily", engine
        )
    if engine in ("onnxruntime", "openvino"):
        from edgeai.voice.stt.optimum_whisper import OptimumWhisperSTT

        return OptimumWhisperSTT(model_file, threads, engine)
    if engine == "whispercpp":
        from edgeai.voice.stt.whisper_cpp import WhisperCppSTT

        return WhisperCppSTT(model_file, threads)
    raise ValueError(
        f"no speech-to-text backend for engine {engine!r}; "
        "available: ctranslate2, whispercpp, onnxruntime, openvino"
    )
