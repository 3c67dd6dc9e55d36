"""The local LLM through llama.cpp: streamed tokens, the system prompt kept in the KV cache."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from edgeai.errors import ModelLoadError

log = logging.getLogger(__name__)

T = TypeVar("T")


class Flag(Protocol):
    """Anything with is_set(): a threading.Event, or several combined."""

    def is_set(self) -> bool: ...


GGUF_MAGIC = b"GGUF"
CONTEXT_TOKENS = 2048
"""llama.cpp's context: the prompt (system, history, request) and the answer share it."""
MESSAGE_OVERHEAD_TOKENS = 8
"""What the chat template adds around each message (role markers, newlines), at most."""
SENTENCE_ENDS = frozenset({".", "?", "!"})
"""A request's words end where the model would write one of these, or end the message."""
LLAMA_THREAD = "llama"
"""The name of the one thread that calls into llama.cpp."""
REQUEST_END = "\x00"
"""Marks where the request's words end in the rendered prompt (never in a transcript)."""

SYSTEM_PROMPT = (
    "You are Jarvis, a voice assistant on a small home computer. Answer in one or two short "
    "spoken sentences, plain text, no lists or markdown. If you do not know, say so. "
    "You cannot switch, lock, set or check any device, and you cannot see the camera. Nothing "
    "is done unless a tool does it, and no tool ran for this answer: never say that you did "
    "something, that a device is now on, off, set or locked, or that you see someone; say "
    "that you can't."
)


class ChatHistory:
    """One conversation: the last few exchanges of one talker (the device's own, or one
    Wyoming client's), so nobody's long request crowds out another's context."""

    def __init__(self, turns: int = 3) -> None:
        self._exchanges: deque[tuple[str, str]] = deque(maxlen=turns)

    def exchanges(self) -> list[tuple[str, str]]:
        return list(self._exchanges)

    def remember(self, user_text: str, reply: str) -> None:
        self._exchanges.append((user_text, reply.strip()))

    def copy(self) -> ChatHistory:
        """The same exchanges in a history of its own: what one is told, the other is not."""
        twin = ChatHistory(self._exchanges.maxlen or 0)
        twin._exchanges.extend(self._exchanges)
        return twin

    def forget_oldest(self) -> None:
        if self._exchanges:
            self._exchanges.popleft()


class Conversations:
    """A conversation per talker (a Wyoming client's address), the least recently heard
    forgotten beyond `keep`: no client's history reaches another's prompt."""

    def __init__(self, turns: int, keep: int = 16) -> None:
        self.turns = turns
        self.keep = keep
        self._histories: OrderedDict[str, ChatHistory] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, talker: str) -> ChatHistory:
        with self._lock:
            history = self._histories.pop(talker, None) or ChatHistory(self.turns)
            self._histories[talker] = history
            while len(self._histories) > self.keep:
                self._histories.popitem(last=False)
            return history


def chat_messages(
    user_text: str, history: ChatHistory | None, system_prompt: str = SYSTEM_PROMPT
) -> list[dict[str, str]]:
    """The system prompt, the conversation so far, and the new request, as chat messages."""
    messages = [{"role": "system", "content": system_prompt}]
    for user, assistant in history.exchanges() if history is not None else []:
        messages += [
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
    return [*messages, {"role": "user", "content": user_text}]


class LanguageModel(Protocol):
    def warm_up(self) -> None: ...

    def stream(
        self, user_text: str, cancel: Flag, history: ChatHistory | None = None
    ) -> Iterator[str]:
        """Text pieces of the reply as they are generated; stops early when `cancel` is set.
        `history` is the conversation so far: read (its oldest exchanges dropped where the
        prompt would not fit), never added to; whoever says the reply remembers what was said,
        a capped or cut-short answer too. None: no past turns."""
        ...


class LocalLLM:
    def __init__(
        self,
        model: Path,
        threads: int,
        n_gpu_layers: int = 0,
        max_tokens: int = 80,
        system_prompt: str = SYSTEM_PROMPT,
        seed: int | None = None,
    ) -> None:
        check_gguf_file(model)
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ModelLoadError(f"the LLM needs llama-cpp-python: {e}") from None
        self._llama_thread = ThreadPoolExecutor(1, thread_name_prefix=LLAMA_THREAD)
        """Every call into llama.cpp runs on this one thread (`_on_llama_thread`): llama.cpp's
        OpenMP keeps a team of threads per calling thread, and once the process holds more
        team threads than cores, each waits for the others asleep instead of spinning: 14
        instead of 8 ms a token on two cores (BENCHMARKS.md, issue 26)."""
        self._llm = self._on_llama_thread(
            Llama,
            model_path=str(model),
            n_ctx=CONTEXT_TOKENS,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=n_gpu_layers,
            verbose=False,
        )
        self.max_tokens = max_tokens
        self.seed = seed
        """Sampling seed reset on every answer; None: a different draw each time."""
        self.system_prompt = system_prompt
        self._lock = threading.Lock()
        """llama.cpp contexts are not thread-safe: one generation at a time (the voice loop and
        the Wyoming server share the model)."""
        self._endings: list[int] = []
        """The tokens that end a sentence or the message (found at warm-up)."""
        self._formatter: Any = None
        """The chat template (set at warm-up); None: no end-of-request check."""

    def _on_llama_thread(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`work(*args, **kwargs)`, run on the LLM's own thread; its exception is raised here."""
        return self._llama_thread.submit(work, *args, **kwargs).result()

    def warm_up(self) -> None:
        """Evaluate the system prompt once, so every turn starts from it in the KV cache."""
        for _ in self.stream("Hello.", threading.Event(), None, max_tokens=1):
            pass
        self._formatter = self._chat_formatter()
        self._endings = self._ending_tokens()

    def ending_probability(
        self, user_text: str, history: ChatHistory | None = None, wait_s: float = 0.05
    ) -> float | None:
        """How likely the model finds it that the request ends after `user_text` (its own end
        punctuation left out): the chance that its next token ends a sentence or the message.
        "How do I make" scores about 0.0001, "How do I make pancakes" about 0.1 (BENCHMARKS.md).
        The prompt is the one the answer would start from, so the answer reuses what this
        evaluated in the KV cache. None when the model is still busy after `wait_s` (an answer
        being generated): the question is not worth waiting for."""
        words = user_text.rstrip(" .?!,;:")
        if not words or self._formatter is None or not self._lock.acquire(timeout=wait_s):
            return None
        try:
            messages = chat_messages(words + REQUEST_END, history, self.system_prompt)
            prompt = self._formatter(messages=messages).prompt
            prompt = prompt[: prompt.rindex(words + REQUEST_END) + len(words)]
            # as create_chat_completion tokenizes a templated prompt
            tokens = self._llm.tokenize(prompt.encode(), add_bos=False, special=True)
            logits = self._next_token_logits(tokens)
        finally:
            self._lock.release()
        probabilities = np.exp(logits - logits.max())
        return float(probabilities[self._endings].sum() / probabilities.sum())

    def _next_token_logits(self, tokens: list[int]) -> np.ndarray:
        """Evaluate `tokens`, reusing the longest prefix already in the KV cache (as llama.cpp's
        own generation does), and return the logits of the token after them."""
        llm = self._llm
        kept = llm.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        llm.n_tokens = min(kept, len(tokens) - 1)  # at least the last one, for its logits
        try:
            self._on_llama_thread(llm.eval, tokens[llm.n_tokens :])
        except Exception:
            llm.reset()  # type: ignore[no-untyped-call]  # nothing half-evaluated is kept
            raise
        logits: Any = llm._ctx.get_logits()  # type: ignore[no-untyped-call]  # the last token's (0.3.36)
        return np.ctypeslib.as_array(logits, shape=(llm.n_vocab(),)).astype(np.float64)

    def _chat_formatter(self) -> Any:
        """The model's own chat template, rendered as `create_chat_completion` renders it;
        None (logged) for a model without one: the end-of-request check is then not made."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            log.warning("the LLM has no chat template: it is not asked where requests end")
            return None
        return Jinja2ChatFormatter(
            template=template,
            eos_token=llm.detokenize([llm.token_eos()], special=True).decode(errors="ignore"),
            bos_token=llm.detokenize([llm.token_bos()], special=True).decode(errors="ignore"),
        )

    def _ending_tokens(self) -> list[int]:
        """The tokens that end a sentence or the message."""
        llm = self._llm
        return [llm.token_eos()] + [
            token
            for token in range(llm.n_vocab())
            if llm.detokenize([token]).decode(errors="ignore").strip() in SENTENCE_ENDS
        ]

    def stream(
        self,
        user_text: str,
        cancel: Flag,
        history: ChatHistory | None = None,
        max_tokens: int | None = None,
    ) -> Iterator[str]:
        """Text pieces of the reply as they are generated; stops early when `cancel` is set.

        llama.cpp reuses the longest common prefix of the previous prompt, so the system
        prompt and the kept history are not evaluated again.
        """
        with self._lock:
            try:
                yield from self._generate(user_text, cancel, history, max_tokens or self.max_tokens)
            except Exception:
                self._llm.reset()  # type: ignore[no-untyped-call]  # a generation that broke leaves no half-evaluated context
                raise

    def _generate(
        self, user_text: str, cancel: Flag, history: ChatHistory | None, max_tokens: int
    ) -> Iterator[str]:
        chunks: Any = self._llm.create_chat_completion(
            messages=self._fitting_messages(user_text, history, max_tokens),  # type: ignore[arg-type]
            stream=True,
            max_tokens=max_tokens,
            temperature=0.3,
            repeat_penalty=1.2,
            seed=self.seed,
        )  # a generator: nothing is evaluated until it is advanced, on the LLM's thread
        try:
            while (chunk := self._on_llama_thread(next, chunks, None)) is not None:
                if cancel.is_set():
                    break
                piece = chunk["choices"][0]["delta"].get("content") or ""
                if piece:
                    yield piece
        finally:
            self._on_llama_thread(chunks.close)

    def _fitting_messages(
        self, user_text: str, history: ChatHistory | None, max_tokens: int
    ) -> list[dict[str, str]]:
        """The prompt, with the oldest exchanges left out (and, at worst, the request cut) so
        that it and the answer fit in the context: a long request never breaks the next."""
        budget = CONTEXT_TOKENS - max_tokens
        while True:
            messages = chat_messages(user_text, history, self.system_prompt)
            used = sum(self._tokens(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in messages)
            if used <= budget:
                return messages
            if history is not None and history.exchanges():
                history.forget_oldest()
                continue
            keep = max(1, self._tokens(user_text) - (used - budget))
            cut = self._llm.detokenize(self._llm.tokenize(user_text.encode(), add_bos=False)[:keep])
            log.warning("a %d-token request was cut to %d tokens to fit the LLM's context",
                        self._tokens(user_text), keep)  # fmt: skip
            user_text = cut.decode(errors="ignore")

    def _tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode(), add_bos=False))


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
