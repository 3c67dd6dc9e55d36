"""The local LLM through llama.cpp: streamed tokens, the system prompt kept in the KV cache."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from edgeai.errors import ModelLoadError


class Flag(Protocol):
    """Anything with is_set(): a threading.Event, or several combined."""

    def is_set(self) -> bool: ...


GGUF_MAGIC = b"GGUF"

SYSTEM_PROMPT = (
    "You are Jarvis, a voice assistant on a small home computer. Answer in one or two short "
    "spoken sentences, plain text, no lists or markdown. If you do not know, say so. "
    "You cannot switch, lock, set or check any device, and you cannot see the camera: never "
    "say that you did something or that you see someone; say that you can't."
)


class LanguageModel(Protocol):
    def warm_up(self) -> None: ...

    def stream(self, user_text: str, cancel: Flag, remember: bool = True) -> Iterator[str]:
        """Text pieces of the reply as they are generated; stops early when `cancel` is set.
        `remember=False` leaves the exchange out of the conversation history."""
        ...


class ChatHistory:
    """The system prompt and the last few exchanges, as chat messages."""

    def __init__(self, system_prompt: str = SYSTEM_PROMPT, turns: int = 3) -> None:
        self.system_prompt = system_prompt
        self._exchanges: deque[tuple[str, str]] = deque(maxlen=turns)

    def messages(self, user_text: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system_prompt}]
        for user, assistant in self._exchanges:
            messages += [
                {"role": "user", "content": user},
                {"role": "assistant", "content": assistant},
            ]
        return [*messages, {"role": "user", "content": user_text}]

    def remember(self, user_text: str, reply: str) -> None:
        self._exchanges.append((user_text, reply.strip()))


class LocalLLM:
    def __init__(
        self,
        model: Path,
        threads: int,
        n_gpu_layers: int = 0,
        max_tokens: int = 80,
        history_turns: int = 3,
        system_prompt: str = SYSTEM_PROMPT,
        seed: int | None = None,
    ) -> None:
        check_gguf_file(model)
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ModelLoadError(f"the LLM needs llama-cpp-python: {e}") from None
        self._llm = Llama(
            model_path=str(model),
            n_ctx=2048,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=n_gpu_layers,
            verbose=False,
        )
        self.max_tokens = max_tokens
        self.seed = seed
        """Sampling seed reset on every answer; None: a different draw each time."""
        self.history = ChatHistory(system_prompt, history_turns)
        self._lock = threading.Lock()
        """llama.cpp contexts are not thread-safe: one generation at a time (the voice loop and
        the Wyoming server share the model)."""

    def warm_up(self) -> None:
        """Evaluate the system prompt once, so every turn starts from it in the KV cache."""
        for _ in self.stream("Hello.", threading.Event(), remember=False, max_tokens=1):
            pass

    def stream(
        self,
        user_text: str,
        cancel: Flag,
        remember: bool = True,
        max_tokens: int | None = None,
    ) -> Iterator[str]:
        """Text pieces of the reply as they are generated; stops early when `cancel` is set.

        llama.cpp reuses the longest common prefix of the previous prompt, so the system
        prompt and the kept history are not evaluated again.
        """
        with self._lock:
            yield from self._generate(user_text, cancel, remember, max_tokens)

    def _generate(
        self, user_text: str, cancel: Flag, remember: bool, max_tokens: int | None
    ) -> Iterator[str]:
        pieces = []
        chunks: Any = self._llm.create_chat_completion(
            messages=self.history.messages(user_text),  # type: ignore[arg-type]
            stream=True,
            max_tokens=max_tokens or self.max_tokens,
            temperature=0.3,
            repeat_penalty=1.2,
            seed=self.seed,
        )
        for chunk in chunks:
            if cancel.is_set():
                break
            piece = chunk["choices"][0]["delta"].get("content") or ""
            if piece:
                pieces.append(piece)
                yield piece
        if remember and not cancel.is_set():
            self.history.remember(user_text, "".join(pieces))


def check_gguf_file(path: Path) -> None:
    """llama.cpp can crash on a malformed file: check the magic and size before it reads it."""
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    with path.open("rb") as f:
        header = f.read(8)
    if header[:4] != GGUF_MAGIC:
        raise ModelLoadError(f"{path}: not a GGUF file (magic {header[:4]!r}, expected b'GGUF')")
    version = int.from_bytes(header[4:8], "little")
    if version not in (2, 3):
        raise ModelLoadError(f"{path}: GGUF version {version}; llama.cpp reads versions 2 and 3")
    if path.stat().st_size < 1 << 20:
        raise ModelLoadError(f"{path}: {path.stat().st_size} bytes is too small for a GGUF model")
