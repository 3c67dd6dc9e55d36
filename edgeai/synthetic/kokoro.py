"""Kokoro-82M speaking English: a neural synthesizer trained on recorded people, as a source
of wake word training voices unlike espeak-ng's formants, piper's one voice and Pico's diphones.

The catalog's copy (`kokoro-82m-int8`) carries five speakers' style vectors (four women, one
man); a blend of two speakers' vectors is a speaker of its own. Phonemes are espeak-ng's IPA for
US or British English, as kokoro-onnx feeds the model, so the words are said the same way
whichever speaker says them.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeai.audio.convert import float_to_int16, to_runtime_format
from edgeai.engines.onnx import open_session
from edgeai.errors import EdgeAIError

KOKORO_MODEL = "kokoro-82m-int8"
"""The catalog entry: the int8 ONNX model, its phoneme vocabulary and the speakers' styles."""
SAMPLE_RATE_HZ = 24000
MAX_TOKENS = 510
"""The model's style table has one row per token count up to this; longer text is refused."""
LANGUAGES = ("en-us", "en-gb")
"""espeak-ng voices whose IPA the phonemes come from."""
SPEAKERS = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
"""The speakers whose styles the catalog's copy carries."""


@dataclass(frozen=True)
class KokoroVoice:
    speakers: tuple[str, str]
    """Two speakers whose style vectors are blended (the same name twice: that speaker)."""
    share: float
    """Weight of the first speaker's style, 0-1."""
    language: str
    """en-us or en-gb: whose pronunciation."""
    speed: float
    """>1 speaks faster."""

    @property
    def label(self) -> str:
        first, second = self.speakers
        return f"kokoro:{first}*{self.share:.2f}+{second}:{self.language}:{self.speed:.2f}"


class KokoroSpeaker:
    """Runs the model on one thread; speech comes back as 16 kHz mono int16."""

    def __init__(self, model_dir: Path) -> None:
        self._session = open_session(model_dir / "kokoro-v1.0.int8.onnx", threads=1)
        vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        self._vocab: dict[str, int] = vocab
        with np.load(model_dir / "voices_ja.npz", allow_pickle=False) as styles:
            self._styles: dict[str, np.ndarray] = {
                name: np.asarray(styles[name], np.float32).reshape(-1, 256) for name in styles.files
            }

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(sorted(self._styles))

    def speak(self, text: str, voice: KokoroVoice) -> np.ndarray:
        tokens = self._tokens(text, voice.language)
        first, second = (self._style(name) for name in voice.speakers)
        style = voice.share * first + (1 - voice.share) * second
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], np.int64),
                "style": style[min(len(tokens), len(style) - 1)][None].astype(np.float32),
                "speed": np.array([voice.speed], np.float32),
            },
        )[0]
        return to_runtime_format(float_to_int16(np.asarray(audio).ravel()), SAMPLE_RATE_HZ)

    def _style(self, name: str) -> np.ndarray:
        if name not in self._styles:
            raise EdgeAIError(f"Kokoro speaker {name!r}: not one of {', '.join(self.speakers)}")
        return self._styles[name]

    def _tokens(self, text: str, language: str) -> list[int]:
        phonemes = espeak_ipa(text, language)
        # a question or exclamation keeps its mark: the model's intonation follows it
        if text.rstrip()[-1:] in ("?", "!", "."):
            phonemes += text.rstrip()[-1]
        tokens = [self._vocab[p] for p in phonemes if p in self._vocab]
        if not tokens or len(tokens) > MAX_TOKENS - 2:
            raise EdgeAIError(
                f"Kokoro: {text[:40]!r} gives {len(tokens)} phonemes; expected 1-{MAX_TOKENS - 2}"
            )
        return tokens


def espeak_ipa(text: str, language: str) -> str:
    """espeak-ng's IPA with stress marks ("hˈeɪ dʒˈɑːɹvɪs"), its clauses joined by a space."""
    command = ["espeak-ng", "-q", "--ipa", "-v", language, text]
    done = subprocess.run(command, capture_output=True, check=False, text=True)
    if done.returncode != 0:
        raise EdgeAIError(f"espeak-ng --ipa -v {language}: {done.stderr.strip() or 'failed'}")
    return " ".join(line.strip() for line in done.stdout.splitlines() if line.strip())


def kokoro_voices() -> list[KokoroVoice]:
    """Each speaker, and each pair of them blended half and half, in both pronunciations."""
    pairs = [(a, b) for i, a in enumerate(SPEAKERS) for b in SPEAKERS[i:]]
    return [KokoroVoice(pair, 0.5, lang, 1.0) for pair in pairs for lang in LANGUAGES]
