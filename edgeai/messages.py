"""The typed messages stages pass to each other. Times are seconds of stream time."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

import numpy as np

EventKind = Literal["person_entered", "person_left", "fall_detected", "still_down"]
"""What the camera loop reports (and what `camera.rules` can act on)."""


@dataclass(frozen=True)
class WakeDetected:
    name: str
    score: float
    """Head output, 0..1."""
    at_s: float
    """End of the audio block on which the word fired."""
    second_look: bool = False
    """Heard on a second look (the head's near miss, said more slowly): `score` is that look's."""


@dataclass(frozen=True)
class StopWordHeard:
    """A stop word ("stop"): it cuts a reply short, and means nothing while edgeai is quiet."""

    name: str
    score: float
    at_s: float


@dataclass(frozen=True)
class SpeechStarted:
    at_s: float
    """Start of the first speech frame (pre-roll is kept before this)."""


@dataclass(frozen=True)
class SpeechPaused:
    """Speech stopped; if the silence lasts, this audio is the utterance (speculative STT)."""

    at_s: float
    """End of the last speech frame."""
    audio: np.ndarray = field(repr=False)


class EndpointReason(str, Enum):
    """Why the utterance was judged over (adaptive endpointing, vad.adaptive)."""

    SILENCE = "silence"
    """The configured trailing silence passed (the transcript said neither way)."""
    COMPLETE = "complete-command"
    """The transcript at the pause is a local command with every slot it needs."""
    COULD_GROW = "complete-could-grow"
    """A complete command that could still go on ("five minutes" ... "and thirty seconds")."""
    UNFINISHED = "unfinished"
    """The transcript stopped mid-request ("set a timer for"), and the longer wait passed."""
    DOUBTFUL = "doubtful"
    """A question the local LLM doubted ends there ("Tell me a joke." ... "about cats"), or
    whose words Whisper was unsure of ("Can solve it." for "Cancel the ..."), and the wait for a
    natural mid-request pause passed."""
    MAX_LENGTH = "max-length"
    """The utterance hit vad.max_utterance_s."""
    END_OF_AUDIO = "end-of-audio"
    """The source ended (a file) during a pause held open for its transcript."""


@dataclass(frozen=True)
class SpeechEnded:
    at_s: float
    """End of the last speech frame: the end of what was said."""
    endpoint_at_s: float
    """When the trailing silence was long enough to decide the utterance was over."""
    audio: np.ndarray = field(repr=False)
    """16 kHz mono int16: pre-roll, the speech, and the trailing silence."""
    truncated: bool = False
    """The utterance hit the maximum length and was cut."""
    reason: EndpointReason = EndpointReason.SILENCE

    @property
    def duration_s(self) -> float:
        return len(self.audio) / 16000


@dataclass(frozen=True)
class NoSpeech:
    at_s: float
    """After a wake word, nothing was said within the timeout."""


ListenEvent = WakeDetected | StopWordHeard | SpeechStarted | SpeechPaused | SpeechEnded | NoSpeech
