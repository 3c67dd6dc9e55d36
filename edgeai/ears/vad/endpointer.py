"""Endpointing: find where an utterance starts and ends from per-frame speech probabilities."""

from __future__ import annotations

from collections import deque
from enum import Enum

import numpy as np

from edgeai.config import VadSettings
from edgeai.ears.vad.silero import FRAME_SAMPLES, SileroVad
from edgeai.messages import SpeechEnded, SpeechPaused, SpeechStarted

FRAME_S = FRAME_SAMPLES / 16000


class State(str, Enum):
    SILENCE = "silence"
    SPEECH = "speech"


RESET_DEAF_FRAMES = 2
"""Silero, just reset, may read speech that is already going on as silence for this many frames."""


class Endpointer:
    """Feed audio of any length; get SpeechStarted / SpeechEnded events in stream time."""

    def __init__(self, vad: SileroVad, settings: VadSettings) -> None:
        self.vad = vad
        self.settings = settings
        self._pre_roll_frames = max(1, settings.pre_roll_ms // 32)
        self.start(at_s=0.0)

    def start(
        self, at_s: float, pre_roll: np.ndarray | None = None, speech_under_way_s: float = 0.0
    ) -> None:
        """Listen afresh from stream time `at_s`, forgetting any utterance in progress.

        `pre_roll` is audio from just before `at_s`, kept (not analysed) in front of the
        utterance in case speech was already under way. Speech that goes on from `at_s`
        without a pause, for up to `speech_under_way_s`, is pre-roll too, not a start: after
        a wake word that fired before its phrase ended, the phrase's last sounds are not what
        the user asked.
        """
        self._base_s = at_s
        self._frames_seen = 0
        self._pending = np.zeros(0, np.int16)
        self._under_way_frames = round(speech_under_way_s / FRAME_S)
        # room for what is under way too: if it runs on into the request, none of it is lost
        self._pre_roll: deque[np.ndarray] = deque(
            maxlen=self._pre_roll_frames + self._under_way_frames
        )
        self._reset_utterance()
        if pre_roll is not None:
            usable = len(pre_roll) - len(pre_roll) % FRAME_SAMPLES
            self._pre_roll.extend(pre_roll[len(pre_roll) - usable :].reshape(-1, FRAME_SAMPLES))

    def _reset_utterance(self) -> None:
        self.vad.reset()
        self.state = State.SILENCE
        self._speech_run: list[np.ndarray] = []
        self._utterance: list[np.ndarray] = []
        self._silence_frames = 0
        self._speech_start_frame = 0
        self._pre_roll.clear()

    @property
    def now_s(self) -> float:
        return self._base_s + self._frames_seen * FRAME_S

    def push(self, samples: np.ndarray) -> list[SpeechStarted | SpeechPaused | SpeechEnded]:
        self._pending = np.concatenate([self._pending, samples])
        events: list[SpeechStarted | SpeechPaused | SpeechEnded] = []
        while len(self._pending) >= FRAME_SAMPLES:
            frame, self._pending = self._pending[:FRAME_SAMPLES], self._pending[FRAME_SAMPLES:]
            probability = self.vad.probability(frame)
            self._frames_seen += 1
            event = self._step(frame, probability)
            if event is not None:
                events.append(event)
        return events

    def _step(
        self, frame: np.ndarray, probability: float
    ) -> SpeechStarted | SpeechPaused | SpeechEnded | None:
        s = self.settings
        if self._under_way_frames:
            if probability >= s.end_threshold or self._frames_seen <= RESET_DEAF_FRAMES:
                self._under_way_frames -= 1
                self._pre_roll.append(frame)
                return None
            self._under_way_frames = 0  # the first pause: what was under way is over
        if self.state is State.SILENCE:
            if probability >= s.start_threshold:
                self._speech_run.append(frame)
                if len(self._speech_run) * FRAME_S * 1000 >= s.min_speech_ms:
                    return self._start()
            else:
                self._pre_roll.extend(self._speech_run)
                self._speech_run = []
                self._pre_roll.append(frame)
            return None
        self._utterance.append(frame)
        self._silence_frames = self._silence_frames + 1 if probability < s.end_threshold else 0
        if self._silence_frames == 1:
            # the same expression as SpeechEnded.at_s, so the two compare equal
            at_s = self._base_s + (self._frames_seen - self._silence_frames) * FRAME_S
            return SpeechPaused(at_s=at_s, audio=np.concatenate(self._utterance[:-1]))
        if self._silence_frames * FRAME_S * 1000 >= s.trailing_silence_ms:
            return self._end(truncated=False)
        if len(self._utterance) * FRAME_S >= s.max_utterance_s:
            return self._end(truncated=True)
        return None

    def _start(self) -> SpeechStarted:
        self.state = State.SPEECH
        self._speech_start_frame = self._frames_seen - len(self._speech_run)
        self._utterance = [*self._pre_roll, *self._speech_run]
        self._speech_run = []
        self._silence_frames = 0
        return SpeechStarted(at_s=self._base_s + self._speech_start_frame * FRAME_S)

    def _end(self, truncated: bool) -> SpeechEnded | None:
        speech_end_s = self._base_s + (self._frames_seen - self._silence_frames) * FRAME_S
        audio = np.concatenate(self._utterance)
        speech_s = speech_end_s - self._base_s - self._speech_start_frame * FRAME_S
        self._reset_utterance()
        if speech_s * 1000 < self.settings.min_utterance_ms:
            return None
        return SpeechEnded(
            at_s=speech_end_s, endpoint_at_s=self.now_s, audio=audio, truncated=truncated
        )
