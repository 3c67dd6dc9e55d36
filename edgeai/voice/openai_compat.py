"""OpenAI-compatible endpoints on the LAN standing in for local stages: chat completions
(llama.cpp's server, Ollama, vLLM) for the LLM, streamed with server-sent events, the history
sent with each request; audio transcriptions (faster-whisper-server) for speech-to-text; audio
speech (another edgeai's API) for text-to-speech."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import httpx
import numpy as np
import soundfile

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import StreamConverter
from edgeai.config import RemoteStage
from edgeai.errors import RemoteStageError
from edgeai.voice.llm import ChatHistory, Flag, chat_messages

MAX_ERROR_CHARS = 200
TRANSCRIPTION_MODEL = "whisper-1"
"""What OpenAI's API calls Whisper; servers that host one model accept it."""
SPEECH_MODEL, SPEECH_VOICE = "tts-1", "alloy"
"""OpenAI's names, sent when the config names none; servers with one voice ignore them."""


class OpenAiEndpoint:
    """One base URL (…/v1) with its key and timeout; errors become one RemoteStageError line."""

    def __init__(self, stage: RemoteStage) -> None:
        self.stage = stage
        headers = {}
        if stage.api_key is not None:
            headers["Authorization"] = f"Bearer {stage.api_key.get_secret_value()}"
        self._client = httpx.Client(timeout=httpx.Timeout(stage.timeout_s), headers=headers)

    def url(self, path: str) -> str:
        return self.stage.url.rstrip("/") + path

    def warm_up(self) -> None:
        """Nothing to load here; the remote side keeps its model warm."""

    def check(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            detail = response.read().decode(errors="replace")[:MAX_ERROR_CHARS]
            raise RemoteStageError(f"{response.url}: HTTP {response.status_code}: {detail}")


class OpenAiChat(OpenAiEndpoint):
    def __init__(self, stage: RemoteStage, max_tokens: int) -> None:
        super().__init__(stage)
        self.max_tokens = max_tokens

    def stream(
        self, user_text: str, cancel: Flag, history: ChatHistory | None = None
    ) -> Iterator[str]:
        url = self.url("/chat/completions")
        body: dict[str, object] = {
            "messages": chat_messages(user_text, history),
            "stream": True,
            "max_tokens": self.max_tokens,
            "temperature": 0.3,
        }
        if self.stage.model:
            body["model"] = self.stage.model
        with self._client.stream("POST", url, json=body) as response:
            self.check(response)
            for line in response.iter_lines():
                if cancel.is_set():
                    return
                piece = _content(line, url)
                if piece is None:
                    break
                if piece:
                    yield piece


class OpenAiTranscriber(OpenAiEndpoint):
    def transcribe(self, audio: np.ndarray) -> str:
        return " ".join(self.segments(audio))

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        """The whole transcript as one piece: the endpoint answers once."""
        wav = io.BytesIO()
        soundfile.write(wav, np.asarray(audio, np.int16), SAMPLE_RATE_HZ, format="WAV")
        response = self._client.post(
            self.url("/audio/transcriptions"),
            files={"file": ("speech.wav", wav.getvalue(), "audio/wav")},
            data={"model": self.stage.model or TRANSCRIPTION_MODEL, "language": "en"},
        )
        self.check(response)
        try:
            text = str(response.json()["text"]).strip()
        except (ValueError, KeyError, TypeError) as e:
            raise RemoteStageError(f"{response.url}: not a transcription: {e}") from None
        if text:
            yield text


class OpenAiSpeech(OpenAiEndpoint):
    """Speech as WAV, checked before it is decoded, resampled to the local voice's rate."""

    def __init__(self, stage: RemoteStage, sample_rate_hz: int) -> None:
        super().__init__(stage)
        self.sample_rate_hz = sample_rate_hz

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        response = self._client.post(
            self.url("/audio/speech"),
            json={
                "model": self.stage.model or SPEECH_MODEL,
                "voice": self.stage.voice or SPEECH_VOICE,
                "input": text,
                "response_format": "wav",
            },
        )
        self.check(response)
        if response.content[:4] != b"RIFF" or response.content[8:12] != b"WAVE":
            raise RemoteStageError(f"{response.url}: the answer is not a WAV file")
        try:
            audio, rate = soundfile.read(io.BytesIO(response.content), dtype="int16")
        except (RuntimeError, ValueError) as e:  # libsndfile's errors are RuntimeErrors
            raise RemoteStageError(f"{response.url}: unreadable WAV: {e}") from None
        if len(audio):
            yield StreamConverter(int(rate), to_hz=self.sample_rate_hz).convert(audio, last=True)


def _content(line: str, url: str) -> str | None:
    """The text in one server-sent-event line; "" for lines without any, None at the end."""
    if not line.startswith("data:"):
        return ""
    data = line[len("data:") :].strip()
    if data == "[DONE]":
        return None
    try:
        choices = json.loads(data).get("choices") or [{}]
        return str(choices[0].get("delta", {}).get("content") or "")
    except (ValueError, AttributeError, TypeError) as e:
        raise RemoteStageError(f"{url}: not an OpenAI chat stream: {data[:80]!r} ({e})") from None
