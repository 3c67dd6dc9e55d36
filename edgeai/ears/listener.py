"""The ears: wake word, then endpointing of the utterance that follows."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import deque
from collections.abc import Iterator
from enum import Enum

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import Rechunker
from edgeai.audio.reference import EchoReference
from edgeai.audio.sources import AudioSource
from edgeai.config import Config, WakeWordSettings
from edgeai.device.profiles import Profile
from edgeai.ears.echo import BLOCK_S, EMBEDDING_CONTEXT_S, EchoCanceller, OwnWords
from edgeai.ears.vad.endpointer import Endpointer
from edgeai.ears.vad.silero import SileroVad
from edgeai.ears.wake.detector import WakeWordDetector
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, WakeFrontend
from edgeai.ears.wake.words import resolve_wake_word
from edgeai.messages import (
    ListenEvent,
    NoSpeech,
    SpeechEnded,
    SpeechStarted,
    StopWordHeard,
    WakeDetected,
)
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStore

log = logging.getLogger(__name__)

LISTEN_BLOCK_SAMPLES = 320
"""What the loop reads from the microphone at a time (20 ms). A pause, or the end of an
utterance, is seen when the block holding it arrives: in the wake front end's 80 ms blocks that
was 0-64 ms after it (32 ms on average), in these 0-16 ms (8 ms). The wake words still hear
80 ms blocks, gathered from these."""
LOOKBACK_SAMPLES = 3 * BLOCK_SAMPLES
"""Audio from just before a detection kept as the utterance's pre-roll: the wake word fires up
to ~240 ms after the phrase ends, and a fluent speaker may already be saying the command."""
WAKE_PHRASE_TAIL_S = 0.5
"""A wake word may fire up to this long before its phrase stops sounding (the wake benchmark
counts such a detection as on time): speech going on from the detection, until the first
pause, is the rest of the phrase, not the start of the request."""


class Phase(str, Enum):
    WAITING = "waiting for the wake word"
    LISTENING = "listening to the utterance"


class WakeBlocks:
    """The loop's short blocks gathered into the wake front end's 80 ms ones: the audio the
    wake and stop words hear (the canceller's linear output, and its suppressed one), and what
    the speaker played meanwhile
    (None for a block during which nothing did, as the canceller reports it)."""

    def __init__(self) -> None:
        self._words = Rechunker(BLOCK_SAMPLES)
        self._suppressed = Rechunker(BLOCK_SAMPLES)
        self._played = Rechunker(BLOCK_SAMPLES)
        self._playing = Rechunker(BLOCK_SAMPLES)
        """1 where a sample had a reference, 0 where nothing played."""

    def push(
        self, words: np.ndarray, suppressed: np.ndarray, played: np.ndarray | None
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        nothing = np.zeros(len(words), np.int16)
        playing = self._playing.push(nothing if played is None else nothing + 1)
        sound = self._played.push(nothing if played is None else played)
        return [
            (block, suppressed_block, played_block if flags.any() else None)
            for block, suppressed_block, played_block, flags in zip(
                self._words.push(words), self._suppressed.push(suppressed), sound, playing,
                strict=True,
            )
        ]  # fmt: skip

    @property
    def missing_samples(self) -> int:
        """Samples still needed to make the words' next 80 ms block whole."""
        return -self._words.pending_samples % BLOCK_SAMPLES


class PlaybackWords:
    """Words heard through a front end of their own while something plays (on the canceller's
    suppressed output), and not at all while nothing does, when the other front end hears the
    same audio: run all the time it cost 1.7% of a core more (`benchmarks/session-48`). On
    the way in, a fresh stream first hears the latest seconds it rested through, so its window
    is as full as the other front end's."""

    def __init__(self, detector: WakeWordDetector) -> None:
        self._detector = detector
        longest_head_s = max(head.window for head in detector.heads) * BLOCK_S
        self._resting: deque[np.ndarray] = deque(
            maxlen=math.ceil((longest_head_s + EMBEDDING_CONTEXT_S) / BLOCK_S)
        )
        self._blocks = 0
        self._started_at_s: float | None = None
        """Stream time of the awake detector's first block; None while resting."""

    def push(self, block: np.ndarray, playing: bool) -> list[WakeDetected]:
        """One 80 ms block; `playing`: something played during it."""
        self._blocks += 1
        if not playing:
            self._resting.append(block)
            self._started_at_s = None
            return []
        if self._started_at_s is None:
            self._detector = self._detector.fresh()
            self._started_at_s = (self._blocks - 1 - len(self._resting)) * BLOCK_S
            for earlier in self._resting:  # context: words in it were heard while resting
                self._detector.push(earlier)
            self._resting.clear()
        return [
            dataclasses.replace(found, at_s=found.at_s + self._started_at_s)
            for found in self._detector.push(block)
        ]


class Listener:
    """Push blocks of whole 10 ms frames (the loop's are LISTEN_BLOCK_SAMPLES); get wake, stop
    word, speech start/end and no-speech events."""

    def __init__(
        self,
        detector: WakeWordDetector,
        endpointer: Endpointer,
        no_speech_timeout_s: float,
        stop_words: frozenset[str] = frozenset(),
        echo: EchoCanceller | None = None,
    ) -> None:
        self.detector = detector
        self.echo = echo
        """Cleans every block of edgeai's own voice before anything below hears it."""
        self.own_words = (
            OwnWords(detector.fresh(), echo.settings.max_delay_ms / 1000) if echo else None
        )
        self.stop_words = stop_words
        """Words of `detector` that are stop words: reported, never a reason to listen."""
        self._playback_detector = PlaybackWords(detector.fresh()) if echo is not None else None
        """While something plays, every word also hears the canceller's suppressed output
        (`for_words_suppressed`) through a front end of its own, and fires on either output (on
        `bench echo`'s cached trials the suppressor heard 66 "stop" of 72 against 51 on the
        linear output, and "hey jarvis" 63 with both outputs against 60 with the linear one
        alone, 47 with the suppressor alone; a fresh suppressor in a room whose microphone
        does not hear the speaker can take a word the linear output keeps). While nothing
        plays the audio is the same, and `detector` alone hears it."""
        self.endpointer = endpointer
        self.no_speech_timeout_s = no_speech_timeout_s
        self.phase = Phase.WAITING
        self._wake_blocks = WakeBlocks()
        self._recent = np.zeros(0, np.int16)
        """The latest LOOKBACK_SAMPLES of audio, since the utterance last began."""
        self._samples = 0
        self._listening_since_s = 0.0
        self._speech_started = False
        self._timeout_s = no_speech_timeout_s
        self._follow_up_s: float | None = None
        self._woken = False

    def follow_up(self, seconds: float) -> None:
        """Listen for an utterance without the wake word for `seconds` (after a reply).

        Safe to call from another thread: the switch happens on the next block.
        """
        self._follow_up_s = seconds

    @property
    def engaged(self) -> bool:
        """Someone is talking to us: after a wake word, or once speech is heard in a follow-up
        window (an idle follow-up window is not engagement)."""
        return self.phase is Phase.LISTENING and (self._woken or self._speech_started)

    @property
    def now_s(self) -> float:
        return self._samples / SAMPLE_RATE_HZ

    @property
    def wake_words(self) -> list[str]:
        return [h.spec.name for h in self.detector.heads if h.spec.name not in self.stop_words]

    def push(self, block: np.ndarray) -> list[ListenEvent]:
        self._samples += len(block)
        played, words, suppressed = None, block, block
        if self.echo is not None:
            block = self.echo.clean(block)
            played, words = self.echo.last_played, self.echo.for_words
            suppressed = self.echo.for_words_suppressed
        # the wake front end sees all the audio, so its context is current when it is needed
        detections = []
        events: list[ListenEvent] = []
        for words_block, suppressed_block, played_block in self._wake_blocks.push(
            words, suppressed, played
        ):
            if self.own_words is not None:
                self.own_words.push(played_block)
            found_words = self.detector.push(words_block)
            if self._playback_detector is not None:
                playing = played_block is not None
                found_there = self._playback_detector.push(suppressed_block, playing)
                names = {f.name for f in found_words}
                found_words += [f for f in found_there if f.name not in names]
            for found in found_words:
                if self.own_words is not None and self.own_words.said(
                    found.name, self.echo.delay_s if self.echo is not None else None
                ):
                    log.info("%s ignored: edgeai said it itself", found.name)
                elif self.echo is not None and self.echo.mostly_echo():
                    log.info("%s ignored: heard in the residue of edgeai's own voice", found.name)
                elif self.echo is not None and self.echo.relearning:
                    log.info("%s ignored: the echo canceller is relearning a new path", found.name)
                elif found.name in self.stop_words:
                    events.append(StopWordHeard(found.name, found.score, found.at_s))
                else:
                    detections.append(found)
        self._recent = np.concatenate([self._recent, block])[-LOOKBACK_SAMPLES:]
        if self._follow_up_s is not None and self.phase is Phase.WAITING:
            self._begin_listening(timeout_s=self._follow_up_s)
            self._follow_up_s = None
        if detections and (self.phase is Phase.WAITING or not self._woken):
            # a wake word starts the request after it, in a follow-up window too: heard there
            # as speech, the phrase alone ended on the pause after it and became an empty
            # request, and the request said over the apology was lost
            events.append(detections[0])
            self._begin_listening()
            return events
        if self.phase is Phase.WAITING:
            return events
        for event in self.endpointer.push(block):
            events.append(event)
            if isinstance(event, SpeechStarted):
                self._speech_started = True
            if isinstance(event, SpeechEnded):
                self.phase = Phase.WAITING
        if (
            self.phase is Phase.LISTENING
            and not self._speech_started
            and self.now_s - self._listening_since_s >= self._timeout_s
        ):
            events.append(NoSpeech(at_s=self.now_s))
            self.phase = Phase.WAITING
        return events

    def finish(self) -> list[ListenEvent]:
        """The source ended: the wake words' last block, short of 80 ms, is made whole with
        silence and heard, as the quiet after the recording would be, instead of never being
        heard at all (a phrase at the very end of a file still counts)."""
        missing = self._wake_blocks.missing_samples
        return self.push(np.zeros(missing, np.int16)) if missing else []

    def end_held_pause(self, paused_at_s: float, now_s: float) -> SpeechEnded | None:
        """The utterance, ended at `now_s` if the verdict on its pause at `paused_at_s` asks
        for no more silence than was heard (Endpointer.end_if_due); None otherwise."""
        if self.phase is not Phase.LISTENING:
            return None
        ended = self.endpointer.end_if_due(paused_at_s, now_s)
        if ended is not None:
            self.phase = Phase.WAITING
        return ended

    def _begin_listening(self, timeout_s: float | None = None) -> None:
        self.phase = Phase.LISTENING
        self._woken = timeout_s is None
        self._timeout_s = self.no_speech_timeout_s if timeout_s is None else timeout_s
        self._speech_started = False
        self._listening_since_s = self.now_s
        lookback = self._recent if len(self._recent) else None
        self._recent = np.zeros(0, np.int16)
        under_way_s = WAKE_PHRASE_TAIL_S if self._woken else 0.0
        self.endpointer.start(at_s=self.now_s, pre_roll=lookback, speech_under_way_s=under_way_s)

    def run(self, source: AudioSource) -> Iterator[ListenEvent]:
        for block in source.blocks(LISTEN_BLOCK_SAMPLES):
            yield from self.push(block)
        yield from self.finish()


def build_listener(
    config: Config, profile: Profile, store: ModelStore, catalog: Catalog
) -> Listener:
    """Load the wake and VAD models the profile names, with the config's words and settings."""
    words = config.wake.words + config.wake.stop_words
    detector = load_wake_detector(words, profile, store, catalog)
    vad_role = profile.roles["vad"]
    vad = SileroVad(store.main_file(catalog.get(vad_role.model)), vad_role.threads)
    return Listener(
        detector,
        Endpointer(vad, config.vad),
        config.vad.no_speech_timeout_s,
        frozenset(word.name for word in config.wake.stop_words),
        EchoCanceller(EchoReference(), config.echo) if config.echo.enabled else None,
    )


def load_wake_detector(
    words: list[WakeWordSettings], profile: Profile, store: ModelStore, catalog: Catalog
) -> WakeWordDetector:
    """The profile's wake front end with these words' heads: one front end for all of them."""
    wake_role = profile.roles["wake"]
    frontend = WakeFrontend(store.require(catalog.get(wake_role.model)), wake_role.threads)
    return WakeWordDetector(frontend, [resolve_wake_word(word) for word in words])
