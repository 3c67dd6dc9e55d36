"""Cut a stream of LLM tokens into speakable sentences as they form, and clean them."""

from __future__ import annotations

import re

_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "approx", "no"}
_END = re.compile(r"([.!?;:]+|\n+)(\s+|$)")
_MARKUP = re.compile(r"[*_`#>|~]+|\[(.*?)\]\(.*?\)|https?://\S+")
_NOT_SPEAKABLE = re.compile(r"[^\w\s.,!?;:'\"()%$€£&+\-/]")


_CLAUSE = re.compile(r"[,;:—]\s")


class SentenceSplitter:
    """Push text pieces; get back each sentence once it is complete.

    The first piece may be a clause: speaking "The sky is blue because of scattering," while the
    rest of a long first sentence is generated gets the first audio out sooner.
    """

    def __init__(self, first_min_chars: int = 12, first_clause_chars: int = 24) -> None:
        self._buffer = ""
        self._first_min_chars = first_min_chars
        self._first_clause_chars = first_clause_chars
        self._emitted = 0

    def push(self, piece: str) -> list[str]:
        self._buffer += piece
        if self._emitted == 0 and (clause := self._first_clause()):
            return [clause]
        sentences = []
        start = 0
        for found in _END.finditer(self._buffer):
            candidate = self._buffer[start : found.end()]
            if found.end() == len(self._buffer) and not found.group(2):
                break  # a "." at the very end may still become "3.5" or "..."
            if _ends_in_abbreviation(candidate) or (
                self._emitted == 0
                and len(candidate.strip()) < self._first_min_chars
                and "\n" not in found.group(1)
            ):
                continue
            sentences.append(candidate)
            start = found.end()
        self._buffer = self._buffer[start:]
        cleaned = [s for s in (clean(s) for s in sentences) if s]
        self._emitted += len(cleaned)
        return cleaned

    def _first_clause(self) -> str | None:
        for found in _CLAUSE.finditer(self._buffer):
            if found.start() >= self._first_clause_chars:
                clause, self._buffer = self._buffer[: found.end()], self._buffer[found.end() :]
                self._emitted += 1
                return clean(clause)
        return None

    def flush(self) -> list[str]:
        rest, self._buffer = clean(self._buffer), ""
        return [rest] if rest else []


REPLY_FIRST_CLAUSE_CHARS = 12
"""A reply known whole has its first clause spoken apart when the clause is at least this long."""


def reply_pieces(text: str) -> list[str]:
    """A reply known whole (a local intent's, Home Assistant's), in the pieces to speak: its
    first clause apart ("Today is Saturday," then "December 5, 2026."). Piper makes a piece
    whole before any of it sounds; the rest is made while the clause plays (208 against 89 ms
    to the first audio of the date here)."""
    splitter = SentenceSplitter(first_clause_chars=REPLY_FIRST_CLAUSE_CHARS)
    return splitter.push(text) + splitter.flush()


def clean(text: str) -> str:
    """Speakable text: markdown, links, emoji and stray symbols removed, spaces collapsed."""
    text = _MARKUP.sub(lambda m: m.group(1) or " ", text)
    text = _NOT_SPEAKABLE.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if re.search(r"\w", text) else ""


def _ends_in_abbreviation(text: str) -> bool:
    words = text.strip().rstrip(".").split()
    return bool(words) and text.strip().endswith(".") and words[-1].lower() in _ABBREVIATIONS


def speakable_pieces(text: str, max_words: int) -> list[str]:
    """`text` in pieces of at most `max_words` words: split after sentence ends, then at commas
    and semicolons, then between words. Text-to-speech memory grows with the longest piece it
    is given and is kept, so the cap bounds it; shorter pieces also start sounding sooner."""
    pieces: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        for clause in _clauses(sentence, max_words):
            words = clause.split()
            pieces += [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]
    return [piece for piece in pieces if piece]


def _clauses(sentence: str, max_words: int) -> list[str]:
    """Clauses after commas and semicolons, joined back up while they fit in `max_words`."""
    if len(sentence.split()) <= max_words:
        return [sentence]
    clauses: list[str] = []
    for part in re.split(r"(?<=[,;:])\s+", sentence):
        if clauses and len(clauses[-1].split()) + len(part.split()) <= max_words:
            clauses[-1] += " " + part
        else:
            clauses.append(part)
    return clauses
