"""One Wyoming connection: the events a client sends, answered with edgeai's stages.

Wake detection on streamed audio (detect → audio-start/chunk/stop → detection | not-detected),
speech-to-text (transcribe → audio → transcript-start/chunk/stop, then the legacy transcript),
text-to-speech (synthesize → audio; synthesize-start/chunk/stop → audio per sentence, then
synthesize-stopped) and handling (transcript → handled-start/chunk/stop, then handled or
not-handled: local intents first, then the LLM).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import numpy as np
from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.handle import Handled, HandledChunk, HandledStart, HandledStop, NotHandled
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)
from wyoming.wake import Detect, Detection, NotDetected

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import Rechunker, StreamConverter
from edgeai.config import WyomingSettings
from edgeai.ears.wake.detector import WakeWordDetector
from edgeai.ears.wake.frontend import BLOCK_SAMPLES
from edgeai.voice.llm import Conversations
from edgeai.voice.respond import Responder
from edgeai.voice.sentences import SentenceSplitter
from edgeai.voice.stt import SpeechToText
from edgeai.voice.timeline import TurnTimeline
from edgeai.voice.tts import TextToSpeech
from edgeai.wyoming.bridge import in_thread
from edgeai.wyoming.framing import Event

log = logging.getLogger(__name__)

AUDIO_OUT_SAMPLES = 2048
"""Synthesized audio goes out in chunks of this many samples (about 90 ms at 22 kHz)."""


class BadRequestError(Exception):
    """A well-formed event asking for something this server cannot do: answered with an error
    event, and the connection stays open."""


@dataclass
class Stages:
    """What the server offers."""

    stt: SpeechToText
    tts: TextToSpeech
    responder: Responder
    conversations: Conversations
    """Each client's own LLM history, apart from the device's and the other clients'."""
    wake: Callable[[list[str] | None], WakeWordDetector]
    """A fresh detector for one audio stream, for the named words (None: all of them)."""
    info: Info


class AudioIntake:
    """One client audio stream (audio-start … audio-stop) brought to 16 kHz mono int16."""

    def __init__(self, start: AudioStart, max_audio_s: float) -> None:
        if start.width != 2:
            raise BadRequestError(f"audio width {start.width} bytes: expected 2 (16-bit samples)")
        if not 1 <= start.channels <= 8:
            raise BadRequestError(f"audio with {start.channels} channels: expected 1 to 8")
        if not 8000 <= start.rate <= 192000:
            raise BadRequestError(f"audio rate {start.rate} Hz: expected 8000 to 192000")
        self.channels = start.channels
        self.max_samples = int(max_audio_s * SAMPLE_RATE_HZ)
        self.samples = 0
        self._converter = StreamConverter(start.rate)

    def push(self, payload: bytes | None) -> np.ndarray:
        data = payload or b""
        frame_bytes = 2 * self.channels
        if len(data) % frame_bytes:
            raise BadRequestError(
                f"audio chunk of {len(data)} bytes is not whole frames of {frame_bytes} bytes"
            )
        frames = np.frombuffer(data, np.int16).reshape(-1, self.channels)
        audio = self._converter.convert(frames if self.channels > 1 else frames[:, 0])
        self.samples += len(audio)
        return audio


class Session:
    def __init__(
        self,
        stages: Stages,
        settings: WyomingSettings,
        send: Callable[[Event], Awaitable[None]],
        peer: str,
    ) -> None:
        self.stages = stages
        self.settings = settings
        self.send = send
        self.peer = peer
        self._wanted: Detect | Transcribe | None = None
        self._intake: AudioIntake | None = None
        self._utterance: list[np.ndarray] = []
        self._wake: _WakeStream | None = None
        self._speech: SentenceSplitter | None = None
        self._speech_chars = 0

    async def handle(self, event: Event) -> None:
        """Answer one event; a BadRequestError becomes an error event and the request is dropped."""
        try:
            await self._dispatch(event)
        except BadRequestError as e:
            log.warning("Wyoming client %s: %s", self.peer, e)
            self._intake, self._wake, self._speech = None, None, None
            await self.send(Error(text=str(e), code="bad-request").event())
        except (KeyError, TypeError, ValueError) as e:
            log.warning("Wyoming client %s: malformed %s event: %s", self.peer, event.type, e)
            await self.send(
                Error(text=f"malformed {event.type} event: {e}", code="bad-request").event()
            )

    async def _dispatch(self, event: Event) -> None:
        kind = event.type
        if Describe.is_type(kind):
            await self.send(self.stages.info.event())
        elif Ping.is_type(kind):
            await self.send(Pong(text=Ping.from_event(event).text).event())
        elif Detect.is_type(kind):
            self._wanted = Detect.from_event(event)
        elif Transcribe.is_type(kind):
            self._wanted = Transcribe.from_event(event)
        elif AudioStart.is_type(kind):
            self._start_audio(AudioStart.from_event(event))
        elif AudioChunk.is_type(kind):
            await self._audio(event.payload)
        elif AudioStop.is_type(kind):
            await self._stop_audio()
        elif Synthesize.is_type(kind):
            if self._speech is None:  # inside a stream it only repeats the chunks
                await self._speak_whole(self._text(Synthesize.from_event(event).text))
        elif SynthesizeStart.is_type(kind):
            self._speech, self._speech_chars = SentenceSplitter(), 0
        elif SynthesizeChunk.is_type(kind):
            await self._speak_chunk(SynthesizeChunk.from_event(event).text)
        elif SynthesizeStop.is_type(kind):
            await self._speak_end()
        elif Transcript.is_type(kind):
            await self._answer(self._text(Transcript.from_event(event).text))
        else:
            log.debug("Wyoming client %s: %s events are not served; ignored", self.peer, kind)

    # audio in: wake word or speech-to-text

    def _start_audio(self, start: AudioStart) -> None:
        self._intake = AudioIntake(start, self.settings.max_audio_s)
        self._utterance = []
        wanted, self._wanted = self._wanted, None
        self._wake = (
            _WakeStream(self.stages.wake(wanted.names)) if isinstance(wanted, Detect) else None
        )

    async def _audio(self, payload: bytes | None) -> None:
        if self._intake is None:
            raise BadRequestError("audio-chunk before audio-start")
        audio = self._intake.push(payload)
        if self._wake is not None:  # a wake stream may run for hours: nothing is kept
            for detection in await asyncio.to_thread(self._wake.push, audio):
                await self.send(detection.event())
            return
        if self._intake.samples > self._intake.max_samples:
            raise BadRequestError(
                f"audio longer than {self.settings.max_audio_s:g} s (wyoming.max_audio_s)"
            )
        self._utterance.append(audio)

    async def _stop_audio(self) -> None:
        if self._intake is None:
            raise BadRequestError("audio-stop before audio-start")
        wake, self._intake, self._wake = self._wake, None, None
        if wake is not None:
            for detection in await asyncio.to_thread(wake.finish):
                await self.send(detection.event())
            if not wake.detected:
                await self.send(NotDetected().event())
            return
        audio = np.concatenate(self._utterance) if self._utterance else np.zeros(0, np.int16)
        self._utterance = []
        await self.send(TranscriptStart(language="en").event())
        pieces = []
        async for piece in in_thread(lambda: self.stages.stt.segments(audio), threading.Event()):
            pieces.append(piece)
            await self.send(TranscriptChunk(text=piece).event())
        await self.send(TranscriptStop().event())
        text = " ".join(pieces)
        log.info("Wyoming transcript for %s: %r", self.peer, text)
        await self.send(Transcript(text=text, language="en").event())

    # text to speech

    def _text(self, text: str, already: int = 0) -> str:
        """`text` if it (with `already` characters before it in a stream) is within the cap."""
        if already + len(text) > self.settings.max_text_chars:
            raise BadRequestError(
                f"text of {already + len(text)} characters is over wyoming.max_text_chars "
                f"({self.settings.max_text_chars})"
            )
        return text

    async def _speak_whole(self, text: str) -> None:
        """The legacy request: one audio stream for the whole text."""
        rate = self.stages.tts.sample_rate_hz
        await self.send(AudioStart(rate=rate, width=2, channels=1).event())
        await self._send_speech(text)
        await self.send(AudioStop().event())

    async def _speak_chunk(self, text: str) -> None:
        if self._speech is None:
            raise BadRequestError("synthesize-chunk before synthesize-start")
        self._text(text, already=self._speech_chars)
        self._speech_chars += len(text)
        for sentence in self._speech.push(text):
            await self._speak_whole(sentence)

    async def _speak_end(self) -> None:
        if self._speech is None:
            raise BadRequestError("synthesize-stop before synthesize-start")
        splitter, self._speech = self._speech, None
        for sentence in splitter.flush():
            await self._speak_whole(sentence)
        await self.send(SynthesizeStopped().event())

    async def _send_speech(self, text: str) -> None:
        rate = self.stages.tts.sample_rate_hz
        async for audio in in_thread(lambda: self.stages.tts.synthesize(text), threading.Event()):
            for start in range(0, len(audio), AUDIO_OUT_SAMPLES):
                piece = audio[start : start + AUDIO_OUT_SAMPLES].astype("<i2").tobytes()
                await self.send(AudioChunk(rate=rate, width=2, channels=1, audio=piece).event())

    # handle: local intents, then the LLM

    async def _answer(self, text: str) -> None:
        timeline = TurnTimeline()
        cancel = threading.Event()

        def sentences() -> Iterator[str]:
            history = self.stages.conversations.of(self.peer)
            return self.stages.responder.reply_sentences(text, timeline, cancel, history)

        await self.send(HandledStart().event())
        spoken = []
        async for sentence in in_thread(sentences, cancel):
            spoken.append(sentence)
            await self.send(HandledChunk(text=sentence + " ").event())
        await self.send(HandledStop().event())
        reply = " ".join(spoken)
        log.info("Wyoming handled for %s: %r -> %r (%s)", self.peer, text, reply, timeline.route)
        if timeline.route == "not understood":
            await self.send(NotHandled(text=reply).event())
        else:
            await self.send(Handled(text=reply).event())


class _WakeStream:
    """Wake detection over one client stream, in the 80 ms blocks the detector takes."""

    def __init__(self, detector: WakeWordDetector) -> None:
        self.detector = detector
        self.rechunker = Rechunker(BLOCK_SAMPLES)
        self.detected = False

    def push(self, audio: np.ndarray) -> list[Detection]:
        return self._heard(self.rechunker.push(audio))

    def finish(self) -> list[Detection]:
        """audio-stop: the last block, short of 80 ms, made whole with silence and heard."""
        tail = self.rechunker.flush()
        return self._heard([] if tail is None else [tail])

    def _heard(self, blocks: list[np.ndarray]) -> list[Detection]:
        found = []
        for block in blocks:
            for hit in self.detector.push(block):
                found.append(Detection(name=hit.name, timestamp=round(hit.at_s * 1000)))
        self.detected = self.detected or bool(found)
        return found
