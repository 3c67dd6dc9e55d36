"""An OpenAI-compatible chat endpoint on the LAN (llama.cpp's server, Ollama, vLLM) standing in
for the local LLM: streamed with server-sent events, the history kept here."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from edgeai.config import RemoteStage
from edgeai.errors import RemoteStageError
from edgeai.voice.llm import ChatHistory, Flag

MAX_ERROR_CHARS = 200


class OpenAiChat:
    def __init__(self, stage: RemoteStage, max_tokens: int, history_turns: int) -> None:
        self.stage = stage
        self.max_tokens = max_tokens
        self.history = ChatHistory(turns=history_turns)
        self._client = httpx.Client(timeout=httpx.Timeout(stage.timeout_s))

    def warm_up(self) -> None:
        """Nothing to load here; the remote side keeps its model warm."""

    def stream(self, user_text: str, cancel: Flag, remember: bool = True) -> Iterator[str]:
        url = self.stage.url.rstrip("/") + "/chat/completions"
        body: dict[str, object] = {
            "messages": self.history.messages(user_text),
            "stream": True,
            "max_tokens": self.max_tokens,
            "temperature": 0.3,
        }
        if self.stage.model:
            body["model"] = self.stage.model
        headers = {}
        if self.stage.api_key is not None:
            headers["Authorization"] = f"Bearer {self.stage.api_key.get_secret_value()}"
        pieces = []
        with self._client.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code != 200:
                detail = response.read().decode(errors="replace")[:MAX_ERROR_CHARS]
                raise RemoteStageError(f"{url}: HTTP {response.status_code}: {detail}")
            for line in response.iter_lines():
                if cancel.is_set():
                    return
                piece = _content(line, url)
                if piece is None:
                    break
                if piece:
                    pieces.append(piece)
                    yield piece
        if remember:
            self.history.remember(user_text, "".join(pieces))


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
