"""Endpointing: find where an utterance starts and ends from per-frame speech probabilities."""

from __future__ import annotations

import math
from collections import deque
from enum import Enum

import numpy as np

from edgeai.config import VadSettings
from edgeai.ears.vad.silero import FRAME_SAMPLES, SileroVad
from edgeai.messages import EndpointReason, SpeechEnded, SpeechPaused, SpeechStarted

FRAME_S = FRAME_SAMPLES / 16000


class State(str, Enum):
    SILENCE = "silence"
    SPEECH = "speech"


RESET_DEAF_FRAMES = 2
"""Silero, just reset, may read speech that is already going on as silence for this many frames."""


class Endpointer:
    """Feed audio of any length; get SpeechStarted / SpeechEnded events in stream time.

    A pause of `vad.speculative_pause_ms` gives SpeechPaused with the speech so far; whoever
    transcribes it may `hold` the pause to a longer or shorter silence than the configured
    trailing silence (adaptive endpointing). Without a hold, the trailing silence ends it."""

    def __init__(self, vad: SileroVad, settings: VadSettings) -> None:
        self.vad = vad
        self.settings = settings
        self._pre_roll_frames = max(1, settings.pre_roll_ms // 32)
        self._pause_frames = max(1, math.ceil(settings.speculative_pause_ms / 1000 / FRAME_S))
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
        self._end_pause()

    def _end_pause(self) -> None:
        self._pause_at_s: float | None = None
        """End of the speech before the current pause, once SpeechPaused was given for it."""
        self._needed_ms = self.settings.trailing_silence_ms
        self._reason = EndpointReason.SILENCE

    def hold(self, paused_at_s: float, silence_ms: int, reason: EndpointReason) -> None:
        """End the pause that began at `paused_at_s` after `silence_ms` of silence in all, for
        `reason`: a verdict on its transcript. Ignored once speech has gone on past it."""
        if self.holding(paused_at_s):
            self._needed_ms, self._reason = silence_ms, reason

    def holding(self, paused_at_s: float) -> bool:
        """The pause that began at `paused_at_s` is still going on: no speech since."""
        return self._pause_at_s is not None and abs(self._pause_at_s - paused_at_s) < 1e-6

    def end_if_due(self, paused_at_s: float, now_s: float) -> SpeechEnded | None:
        """End the pause that began at `paused_at_s` now if the silence already heard covers
        what its hold asks: a verdict that comes between two blocks of audio ends the
        utterance then (`now_s`), not when the next block arrives."""
        if not self.holding(paused_at_s):
            return None
        if self._silence_frames * FRAME_S * 1000 < self._needed_ms:
            return None
        return self._end(truncated=False, reason=self._reason, endpoint_at_s=now_s)

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
        if probability >= s.end_threshold:
            if self._silence_frames:
                self._end_pause()  # speech went on: a verdict on the pause no longer holds
            self._silence_frames = 0
        else:
            self._silence_frames += 1
        if self._silence_frames == self._pause_frames:
            # the same expression as SpeechEnded.at_s, so the two compare equal
            at_s = self._base_s + (self._frames_seen - self._silence_frames) * FRAME_S
            self._pause_at_s = at_s
            speech = self._utterance[: -self._silence_frames]
            return SpeechPaused(at_s=at_s, audio=np.concatenate(speech))
        if self._silence_frames and self._silence_frames * FRAME_S * 1000 >= self._needed_ms:
            return self._end(truncated=False, reason=self._reason)
        if len(self._utterance) * FRAME_S >= s.max_utterance_s:
            return self._end(truncated=True, reason=EndpointReason.MAX_LENGTH)
        return None

    def finish(self) -> SpeechEnded | None:
        """The source ended: a pause that was held open (adaptive endpointing) ends here, as
        nothing more will be said."""
        if self.state is not State.SPEECH or self._pause_at_s is None:
            return None
        return self._end(truncated=False, reason=EndpointReason.END_OF_AUDIO)

    def _start(self) -> SpeechStarted:
        self.state = State.SPEECH
        self._speech_start_frame = self._frames_seen - len(self._speech_run)
        self._utterance = [*self._pre_roll, *self._speech_run]
        self._speech_run = []
        self._silence_frames = 0
        return SpeechStarted(at_s=self._base_s + self._speech_start_frame * FRAME_S)

    def _end(
        self, truncated: bool, reason: EndpointReason, endpoint_at_s: float | None = None
    ) -> SpeechEnded | None:
        speech_end_s = self._base_s + (self._frames_seen - self._silence_frames) * FRAME_S
        audio = np.concatenate(self._utterance)
        speech_s = speech_end_s - self._base_s - self._speech_start_frame * FRAME_S
        self._reset_utterance()
        if speech_s * 1000 < self.settings.min_utterance_ms:
            return None
        return SpeechEnded(
            at_s=speech_end_s,
            endpoint_at_s=self.now_s if endpoint_at_s is None else endpoint_at_s,
            audio=audio,
            truncated=truncated,
            reason=reason,
        )
