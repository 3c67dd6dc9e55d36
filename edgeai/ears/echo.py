"""Acoustic echo cancellation: the microphone without edgeai's own voice, so the wake word,
stop word, VAD and speech-to-text stay live while it speaks (full duplex).

Two cancellers share one reference, shifted by the playback-to-capture delay that GCC-PHAT
measures (`edgeai.ears.delay`):
- WebRTC's audio processing module (AEC3: adaptive filter, double-talk handling, residual echo
  suppression; optional noise suppression, gain control, high-pass) through the `livekit`
  package's `rtc.AudioProcessingModule` cleans what the VAD and speech-to-text hear. Chosen
  because it installs as a wheel, is released monthly and brings AEC3's nonlinear residual
  suppressor, which a loudspeaker's distortion needs (ERLE 25-45 dB on the simulated rooms).
- AEC3's suppressor, not tunable through that binding, also takes most of a user talking under
  a louder reply (in `edgeai bench echo`, 25% of wake words heard at +6 dB echo). The wake
  words therefore hear speex's linear canceller (libspeexdsp, `edgeai.ears.speex`): less echo
  removed (10-20 dB), the user's voice kept (75%). While something plays they also hear that
  output through speex's own residual echo suppressor, which turns the residue down and a
  talker under it less, and fire on either (`Listener`): 67 "stop" of 72 heard during
  playback against 51, "hey jarvis" 63 against 60 (alone the suppressor heard only 47 of
  them). Their residue must not wake or stop edgeai: see `OwnWords` and
  `EchoCanceller.mostly_echo`.
Checked and not used: `speexdsp` (2018, an sdist needing SWIG), `webrtc-audio-processing`
(2019, the pre-AEC3 canceller), `webrtc-apm` (no wheel for this machine), `speexdsp-aec`
(binds the canceller only, not its suppressor).
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.reference import EchoReference
from edgeai.config import EchoSettings
from edgeai.ears.delay import DelayTracker
from edgeai.ears.speex import SpeexCanceller, Suppression
from edgeai.ears.wake.detector import WakeWordDetector
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, EMBEDDING_WINDOW_FRAMES
from edgeai.errors import AudioError

log = logging.getLogger(__name__)

FRAME = SAMPLE_RATE_HZ // 100
"""AEC3 takes exactly 10 ms at a time."""
LEAD_SAMPLES = FRAME
"""The reference is shifted to 10 ms before its echo, never after: AEC3's filter is causal."""
LINEAR_TAIL_MS = 200
"""Room reverberation the linear canceller models after the measured delay."""
PLAYBACK_SUPPRESSION = Suppression(echo_db=-40, echo_active_db=-15, noise_db=-3)
"""speex's suppressor on what the words also hear during playback. On `edgeai bench echo`'s
cached word trials (seeds 27 / 25 / 29, echo 6 dB over the talker, the bundled heads), every
word on it alone: "stop" heard 23 / 21 / 22 of 24 against 18 / 16 / 17 with the linear output,
0 self-stops over 50 minutes of own replies either way; -6 dB while someone talks 22 / 21 / 20,
no noise suppression 22 / 21 / 22 (benchmarks/session-48)."""
MOSTLY_ECHO_DB = -13.0
"""Over the latest WORD_SPAN_S of playback, a linear canceller's output this far below the raw
microphone held echo and little else: a word found in it then is the residue of edgeai's own
voice. Users' words under a reply 6 dB louder kept -4.2..-11.5 dB of it (`edgeai bench echo`'s
cached trials, seeds 27 / 25 / 29); the residue of own replies that woke a head in their first
second -14.3 dB ("Say stop", which the own-word check scored 0.03 on the clean playback) and
-13.8 dB ("Jarvis here" heard as "stop", 0.086 there against the check's 0.062), over 120
fresh minutes (benchmarks/session-49). At -11 dB the gate took 4 of 72 users' "stop", at -15
it let the first through, at -20 another (benchmarks/session-47)."""
WORD_SPAN_S = 1.0
"""How far apart two detections of one spoken word can be (a wake phrase lasts under a second)."""
OWN_SCORE = 0.1
"""A word the microphone's detector found is edgeai's own when the same head scored the playback
at this fraction of its threshold or more. The residue of a reply that only sounds a little like
the word ("Say stop and I will..." for hey_jarvis: 0.08-0.24 on the clean playback) wakes the
head in the room; a user's word over an unrelated reply found the playback at 0.000-0.002 for
hey_jarvis, 0.1 once for stop (`edgeai bench echo`'s first 12 trials, 8 minutes of replies)."""
OWN_LAG_S = 0.3
"""How much later than the measured playback-to-capture delay the microphone's detector may fire
on the echo of a played word: 0.19 s at most over 50 minutes of own replies in simulated rooms,
where users' words said 0.3-1.3 s after the reply said the same word were taken for its own
when the check looked back a whole WORD_SPAN_S (benchmarks/session-47)."""
BLOCK_S = BLOCK_SAMPLES / SAMPLE_RATE_HZ
EMBEDDING_CONTEXT_S = EMBEDDING_WINDOW_FRAMES / 100
"""Audio one wake embedding looks at (76 mel frames, 10 ms apart)."""
RELEARN_S = 3.0
"""After the measured delay moves (a new speaker, a moved device, a new room) or is first
measured, the linear canceller's filter does not fit yet and takes almost nothing of the echo:
for this much playback a word found is taken for the residue of edgeai's own voice. (`edgeai
bench echo`'s own replies, seed 29: both self-stops of 30 minutes came 0.6 s into the first
reply after the room changed, the canceller taking 0 dB for 1.5 s; it had taken 17-30 dB.)"""
MISFIT_DB = 1.0
"""A linear canceller whose output is this much louder than the microphone adds a wrong echo
instead of taking the room's: a device that moved before the delay tracker's next window saw it
(`edgeai bench echo --room-minutes 0`: +4.4 and +5.9 dB at 0.55 s into the first reply in a
new room, at both self-stops of 10 minutes). A filter that fits only takes energy away: users'
words during playback left -0.4 dB and less."""
QUIET_ROOM_RMS = 33.0
"""int16 RMS of -60 dBFS: a microphone quieter than this heard no echo worth cancelling."""
DELAY_MOVED_SAMPLES = 32
"""A delay estimate this much off the one before is a new echo path, not two clocks drifting
apart (0.3 ms a second at 300 ppm) or the estimate's own jitter."""
TAIL_S = 1.0
"""After the reference stops, the room still rings: cancelling goes on this long (with a silent
reference), then the microphone passes untouched at no cost."""


class EchoState(str, Enum):
    NO_REFERENCE = "no speaker reference yet: the microphone passes through"
    NO_ECHO = "the microphone does not hear the playback: it passes through"
    IDLE = "nothing playing: the microphone passes through"
    CANCELLING = "cancelling the echo of what plays"


@dataclass(frozen=True)
class EchoStatus:
    state: EchoState
    delay_ms: float | None
    """Measured playback-to-capture delay; None until something played loud enough."""
    erle_db: float | None
    """Echo return loss enhancement over the latest playback (microphone power over the cleaned
    power while the reference plays); None before any."""
    seconds_cancelled: float


def load_linear_canceller() -> SpeexCanceller:
    """Speex's linear echo canceller and its residual suppressor (libspeexdsp), for the words'
    path."""
    try:
        return SpeexCanceller(
            SAMPLE_RATE_HZ, FRAME, LINEAR_TAIL_MS * SAMPLE_RATE_HZ // 1000, PLAYBACK_SUPPRESSION
        )
    except AudioError as e:
        raise AudioError(f"echo cancellation needs libspeexdsp1: {e}") from None


def load_audio_processing(settings: EchoSettings) -> Any:
    """WebRTC's audio processing module, configured from the settings."""
    try:
        from livekit import rtc
    except ImportError as e:  # pragma: no cover - a dependency of edgeai
        raise AudioError(f"echo cancellation needs the livekit package: {e}") from None
    return rtc.AudioProcessingModule(
        echo_cancellation=True,
        noise_suppression=settings.noise_suppression,
        high_pass_filter=settings.high_pass,
        auto_gain_control=settings.auto_gain,
    )


class EchoCanceller:
    """Cleans 16 kHz int16 microphone blocks of the echo of `reference` (what the sink played)."""

    def __init__(self, reference: EchoReference, settings: EchoSettings) -> None:
        from livekit.rtc import AudioFrame

        self.reference = reference
        self.settings = settings
        self._frame = AudioFrame
        self._apm = load_audio_processing(settings)
        self._linear = load_linear_canceller()
        self._always = settings.noise_suppression or settings.auto_gain
        """Noise suppression and gain control work whether or not anything plays."""
        self._tracker = DelayTracker(settings.max_delay_ms / 1000)
        self._history = np.zeros(self._tracker.max_lag + FRAME, np.int16)
        """The latest reference, for the delay line: the longest delay and a frame, then the
        block being cleaned."""
        self._quiet_samples = int(TAIL_S * SAMPLE_RATE_HZ)
        self._since_reference = self._quiet_samples
        self._echo_power = 0.0
        self._clean_power = 0.0
        self._cancelled = 0
        self.busy_s = 0.0
        """CPU time spent cancelling (the benchmark's share of a core)."""
        self.last_played: np.ndarray | None = None
        """The reference taken for the latest block; None while nothing plays."""
        self.for_words: np.ndarray = np.zeros(0, np.int16)
        """The latest block as the wake words hear it: the linear canceller's output while
        something plays (AEC3 would take the user's word with the echo)."""
        self.for_words_suppressed: np.ndarray = np.zeros(0, np.int16)
        """The latest block through speex's residual echo suppressor while something plays
        (PLAYBACK_SUPPRESSION), which the wake and stop words hear beside `for_words`."""
        self._recent: deque[tuple[float, float, int]] = deque()
        """(microphone energy, cleaned energy, samples) of the blocks of the latest WORD_SPAN_S,
        (0, 0, samples) for silent playback."""
        self._recent_samples = 0
        self._relearn_samples = 0
        """Playback left before a word found is trusted again after the echo path changed."""

    def status(self) -> EchoStatus:
        if not self.reference.played_samples:
            state = EchoState.NO_REFERENCE
        elif self._quiet:
            state = EchoState.IDLE
        elif self._tracker.echo_missing:
            state = EchoState.NO_ECHO
        else:
            state = EchoState.CANCELLING
        estimate = self._tracker.estimate
        erle = (
            10 * np.log10((self._echo_power + 1e-9) / (self._clean_power + 1e-9))
            if self._echo_power
            else None
        )
        return EchoStatus(
            state,
            estimate.ms if estimate is not None else None,
            None if erle is None else float(erle),
            self._cancelled / SAMPLE_RATE_HZ,
        )

    @property
    def _quiet(self) -> bool:
        """Nothing has played for TAIL_S: the microphone holds no echo."""
        return self._since_reference >= self._quiet_samples

    @property
    def delay_s(self) -> float | None:
        """The measured playback-to-capture delay; None until something played loud enough."""
        estimate = self._tracker.estimate
        return estimate.samples / SAMPLE_RATE_HZ if estimate is not None else None

    def clean(self, block: np.ndarray) -> np.ndarray:
        """The block without the echo; the block itself while nothing has played for TAIL_S."""
        if len(block) % FRAME:
            raise AudioError(f"echo canceller: blocks of whole 10 ms frames, got {len(block)}")
        played = self.last_played = self.reference.take(len(block))
        if played is None:
            self._since_reference += len(block)
            if self._quiet and not self._always:
                self._remember(0.0, 0.0, len(block))
                self.for_words = self.for_words_suppressed = block
                return block
            played = np.zeros(len(block), np.int16)
        else:
            if self._quiet:  # a new reply: a new ERLE
                self._echo_power = self._clean_power = 0.0
            self._since_reference = 0
        started = time.thread_time()
        out = self._process(block, played)
        self.busy_s += time.thread_time() - started
        return out

    def _process(self, block: np.ndarray, played: np.ndarray) -> np.ndarray:
        before = self._tracker.estimate
        estimate = self._tracker.push(played, block)
        if estimate is not None and (
            before is None or abs(estimate.samples - before.samples) > DELAY_MOVED_SAMPLES
        ):
            change = "found" if before is None else f"moved from {before.ms:.1f} ms"
            log.info(
                "echo path %s: delay %.1f ms, words not trusted for %.0f s of playback",
                change,
                estimate.ms,
                RELEARN_S,
            )
            self._relearn_samples = int(RELEARN_S * SAMPLE_RATE_HZ)
        elif np.any(played):
            self._relearn_samples = max(0, self._relearn_samples - len(block))
        kept = self._tracker.max_lag + FRAME + len(block)
        self._history = np.concatenate([self._history, played])[-kept:]
        shift = max(0, estimate.samples - LEAD_SAMPLES) if estimate is not None else 0
        end = len(self._history) - shift
        aligned = self._history[end - len(block) : end]
        out = np.empty_like(block)
        for start in range(0, len(block) - FRAME + 1, FRAME):
            far = self._frame(aligned[start : start + FRAME].tobytes(), SAMPLE_RATE_HZ, 1, FRAME)
            near = self._frame(block[start : start + FRAME].tobytes(), SAMPLE_RATE_HZ, 1, FRAME)
            self._apm.process_reverse_stream(far)
            self._apm.set_stream_delay_ms(0)  # the delay line above did the coarse alignment
            self._apm.process_stream(near)
            out[start : start + FRAME] = np.frombuffer(near.data, np.int16)
        linear, suppressed = self._linear.process(block, aligned)
        if self._tracker.echo_missing:
            self.for_words = self.for_words_suppressed = block
            return block  # the cancellers keep learning, but no echo was found to take out
        self.for_words, self.for_words_suppressed = linear, suppressed
        energies = (0.0, 0.0)
        if np.any(played):
            energies = (
                float(np.sum(block.astype(np.float64) ** 2)),
                float(np.sum(linear.astype(np.float64) ** 2)),
            )
            self._cancelled += len(block)
            self._echo_power += energies[0] / len(block)
            self._clean_power += float(np.mean(out.astype(np.float64) ** 2))
        self._remember(*energies, len(block))
        return out

    def _remember(self, raw: float, cleaned: float, samples: int) -> None:
        self._recent.append((raw, cleaned, samples))
        self._recent_samples += samples
        while self._recent_samples - self._recent[0][2] >= WORD_SPAN_S * SAMPLE_RATE_HZ:
            self._recent_samples -= self._recent.popleft()[2]

    @property
    def relearning(self) -> bool:
        """The linear canceller's filter does not fit the room: the echo path changed under
        RELEARN_S of playback ago, or over the latest second its output was MISFIT_DB louder
        than a microphone that heard more than a quiet room. What it passes is mostly echo.
        Never while nothing has played for TAIL_S: the microphone passes untouched then, with
        no echo in it to mistake for a word (a first reply shorter than RELEARN_S left the
        device deaf to its wake word until another reply had played)."""
        if self._quiet:
            return False
        if self._relearn_samples > 0:
            return True
        raw, cleaned, playing = self._latest_second()
        heard_echo = playing > 0 and raw / playing >= QUIET_ROOM_RMS**2
        return heard_echo and cleaned > raw * 10 ** (MISFIT_DB / 10)

    def mostly_echo(self) -> bool:
        """The latest second was playback the canceller took almost all of (MOSTLY_ECHO_DB)."""
        raw, cleaned, _ = self._latest_second()
        return raw > 0 and cleaned < raw * 10 ** (MOSTLY_ECHO_DB / 10)

    def _latest_second(self) -> tuple[float, float, int]:
        """Over the latest WORD_SPAN_S: the microphone's energy, the linear canceller's output
        energy, and the samples during which something played."""
        raw = sum(r for r, _, _ in self._recent)
        cleaned = sum(c for _, c, _ in self._recent)
        playing = sum(n for r, c, n in self._recent if r > 0 or c > 0)
        return raw, cleaned, playing


class OwnWords:
    """The wake and stop words edgeai itself says: the wake detector run on what it played.

    The canceller leaves some echo (less right after a reply starts, in a room ringing long);
    a word found in the microphone one playback-to-capture delay (and at most OWN_LAG_S more)
    after the same word was found in the playback is edgeai's own, never a reason to wake or
    stop; the same word said by the user a moment later is the user's. The playback of the
    latest seconds is kept and goes through a fresh stream of the wake front end only when the
    microphone's detector fires while something plays: run on every played block it cost as
    much as both cancellers (4.9% of a core), on demand it costs nothing until a word is heard,
    then one pass over `keep_s` of audio (its time is `busy_s`, and what the word waits)."""

    def __init__(self, detector: WakeWordDetector, max_delay_s: float) -> None:
        self.detector = detector
        self.max_delay_s = max_delay_s
        """The look-back while no delay has been measured."""
        longest_head_s = max(head.window for head in detector.heads) * BLOCK_S
        self.keep_s = max_delay_s + OWN_LAG_S + longest_head_s + EMBEDDING_CONTEXT_S
        """A played word this long ago still gets its head's whole window of embeddings."""
        self._played: deque[np.ndarray] = deque(maxlen=math.ceil(self.keep_s / BLOCK_S))
        self._playing = False
        self.ignored = 0
        self.checks = 0
        self.last_score = 0.0
        """The playback's highest score for the latest word checked."""
        self.busy_s = 0.0

    def push(self, played: np.ndarray | None) -> None:
        """What the speaker played for the latest microphone block (None: nothing)."""
        if played is None:
            if self._playing:
                self._played.append(np.zeros(BLOCK_SAMPLES, np.int16))
                self._playing = any(np.any(block) for block in self._played)
            return
        self._playing = True
        for start in range(0, len(played) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
            self._played.append(played[start : start + BLOCK_SAMPLES])

    def said(self, name: str, delay_s: float | None) -> bool:
        """Whether the word `name` the microphone's detector found just now is edgeai's own:
        its head scored the playback of the latest `delay_s` (the measured playback-to-capture
        delay; None: not measured yet, the longest) and OWN_LAG_S at OWN_SCORE of its threshold
        or more. The playback is ahead of its echo, so the word is never found after it."""
        if not self._playing:
            return False
        look_back_s = (self.max_delay_s if delay_s is None else delay_s) + OWN_LAG_S
        started = time.thread_time()
        head = next(head for head in self.detector.heads if head.spec.name == name)
        stream = self.detector.frontend.stream()
        blocks = list(self._played)
        scores = [0.0]
        for index, block in enumerate(blocks):
            embeddings = stream.push(block)
            if (len(blocks) - index - 1) * BLOCK_S <= look_back_s:
                scores.append(head.score(embeddings))
        self.busy_s += time.thread_time() - started
        self.checks += 1
        self.last_score = max(scores)
        own = self.last_score >= OWN_SCORE * head.spec.threshold
        self.ignored += own
        return own


def clean_recording(
    recorded: np.ndarray, played: np.ndarray, canceller: EchoCanceller, block_samples: int
) -> np.ndarray:
    """A whole recording through `canceller`, block by block, with `played` (on the same
    timeline; shorter when playback stopped) fed to its reference just before each block, as a
    live sink and microphone do: the benchmarks' and tests' way to run it on simulated rooms."""
    out = []
    for start in range(0, len(recorded) - block_samples + 1, block_samples):
        canceller.reference.push(played[start : start + block_samples])
        out.append(canceller.clean(recorded[start : start + block_samples]))
    return np.concatenate(out) if out else np.zeros(0, np.int16)
