"""Stages on another machine over Wyoming: speech-to-text, text-to-speech, and a handler
(another edgeai's intents and LLM) standing in for the LLM.

Each call opens a connection, sends its request, and reads the answer with the same capped
reader as the server; every event must arrive within the stage's timeout. Calls are plain
blocking iterators, like the local models they stand in for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse

import numpy as np
from wyoming.asr import Transcribe, Transcript, TranscriptChunk
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.handle import Handled, HandledChunk, NotHandled
from wyoming.tts import Synthesize, SynthesizeVoice

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import StreamConverter
from edgeai.config import RemoteStage
from edgeai.errors import RemoteStageError
from edgeai.voice.llm import ChatHistory, Flag
from edgeai.wyoming.bridge import step_by_step
from edgeai.wyoming.framing import Event, Limits, read_event, write_event

LIMITS = Limits(max_event_bytes=1 << 20, max_payload_bytes=8 << 20)
"""What a remote stage may send back: generous, but bounded."""
AUDIO_IN_SAMPLES = 1024


def audio_stream(audio: np.ndarray) -> list[Event]:
    """16 kHz mono int16 audio as a client sends it: audio-start, the chunks, audio-stop."""
    fmt = {"rate": SAMPLE_RATE_HZ, "width": 2, "channels": 1}
    pcm = np.asarray(audio, "<i2")
    chunks = (pcm[i : i + AUDIO_IN_SAMPLES] for i in range(0, len(pcm), AUDIO_IN_SAMPLES))
    return [
        AudioStart(**fmt).event(),
        *(AudioChunk(audio=chunk.tobytes(), **fmt).event() for chunk in chunks),
        AudioStop().event(),
    ]


def exchange(stage: RemoteStage, request: list[Event]) -> Iterator[Event]:
    """The events answering `request`; the caller stops reading at the answer's last event."""
    return step_by_step(lambda: _exchange(stage, request), stage.timeout_s)


async def _exchange(stage: RemoteStage, request: list[Event]) -> AsyncIterator[Event]:
    address = urlparse(stage.url)
    host, port = address.hostname or "", address.port or 0
    reader, writer = await asyncio.open_connection(host, port, limit=LIMITS.max_event_bytes)
    try:
        for sent in request:
            await write_event(sent, writer)
        while (answer := await read_event(reader, LIMITS)) is not None:
            if Error.is_type(answer.type):
                raise RemoteStageError(f"{stage.url}: {Error.from_event(answer).text}")
            yield answer
        raise RemoteStageError(f"{stage.url} closed the connection before it answered")
    finally:
        writer.close()


class WyomingSpeechToText:
    def __init__(self, stage: RemoteStage) -> None:
        self.stage = stage

    def warm_up(self) -> None:
        """Nothing to load here; the remote side keeps its model warm."""

    def transcribe(self, audio: np.ndarray) -> str:
        return " ".join(self.segments(audio))

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        request = [Transcribe(name=self.stage.model, language="en").event(), *audio_stream(audio)]
        streamed = False
        for event in exchange(self.stage, request):
            if TranscriptChunk.is_type(event.type):
                streamed = True
                yield TranscriptChunk.from_event(event).text.strip()
            elif Transcript.is_type(event.type):
                text = Transcript.from_event(event).text.strip()
                if text and not streamed:  # a server without streamed transcripts
                    yield text
                return


class WyomingTextToSpeech:
    """A remote voice, resampled to `sample_rate_hz` (the local voice's) so the speaker and
    the fallback see one rate."""

    def __init__(self, stage: RemoteStage, sample_rate_hz: int) -> None:
        self.stage = stage
        self.sample_rate_hz = sample_rate_hz

    def warm_up(self) -> None:
        """Nothing to load here; the remote side keeps its voice warm."""

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        voice = SynthesizeVoice(name=self.stage.voice) if self.stage.voice else None
        converter: StreamConverter | None = None
        channels = 1
        for event in exchange(self.stage, [Synthesize(text=text, voice=voice).event()]):
            if AudioStart.is_type(event.type):
                start = AudioStart.from_event(event)
                if start.width != 2:
                    raise RemoteStageError(f"{self.stage.url}: {start.width}-byte samples")
                converter = StreamConverter(start.rate, to_hz=self.sample_rate_hz)
                channels = start.channels
            elif AudioChunk.is_type(event.type):
                if converter is None:
                    raise RemoteStageError(f"{self.stage.url}: audio before audio-start")
                frames = np.frombuffer(event.payload or b"", "<i2").reshape(-1, channels)
                yield converter.convert(frames if channels > 1 else frames[:, 0])
            elif AudioStop.is_type(event.type):
                if converter is not None:
                    yield converter.convert(np.zeros(0, np.int16), last=True)
                return


class WyomingHandler:
    """Another edgeai (or any Wyoming handler) answering in the LLM's place; the history is
    the remote side's own (its conversation for this device), so `history` is not sent."""

    def __init__(self, stage: RemoteStage) -> None:
        self.stage = stage

    def warm_up(self) -> None:
        """Nothing to load here; the remote side keeps its model warm."""

    def stream(
        self, user_text: str, cancel: Flag, history: ChatHistory | None = None
    ) -> Iterator[str]:
        streamed = False
        for event in exchange(self.stage, [Transcript(text=user_text).event()]):
            if cancel.is_set():
                return
            if HandledChunk.is_type(event.type):
                streamed = True
                yield HandledChunk.from_event(event).text
            elif Handled.is_type(event.type) or NotHandled.is_type(event.type):
                text = event.data.get("text") or ""
                if text and not streamed:
                    yield text
                return
