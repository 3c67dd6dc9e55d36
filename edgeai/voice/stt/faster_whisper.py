"""faster-whisper (CTranslate2): Whisper with int8 weights on the CPU."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeai.audio.convert import int16_to_float
from edgeai.errors import ModelLoadError
from edgeai.voice.stt import Transcript

# Whisper's well-known hallucinations on silence and noise
_HALLUCINATIONS = re.compile(
    r"^\s*(?:\[.*\]|\(.*\)|thanks? (?:you )?(?:for watching|so much)[.!]?"
    r"|you[.!]?|[.\s]+|bye[.!]?)\s*$",
    re.IGNORECASE,
)


WINDOW_MARGIN_S = 1.0
"""An utterance goes through the short window only if it ends this long before the window does."""
NO_SPEECH_PROBABILITY = 0.6
"""With a low average log-probability, above this the window holds no speech (faster-whisper's
own thresholds)."""
LOW_LOG_PROBABILITY = -1.0
PROMPT_NO_SPEECH_PROBABILITY = 0.5
"""Above this unprompted no-speech probability the utterance is decoded without the prompt
(measured here: commands 0.02-0.12; silence and noise 0.63-0.95, tiny.en and base alike)."""
LOOP_COMPRESSION_RATIO = 2.4
SHORT_WINDOW_REPETITION_PENALTY = 1.2
"""CTranslate2's repetition penalty for a window under 30 s: prompted, tiny.en there said a
request two or three times over ("Why is the sky blue? Why is the sky blue?"); penalised, the
10 s window's word errors fell from 17.7% to 10.4% (30 s: 10.0%) on 265 command clips, at 0.23x
the 30 s window's time (BENCHMARKS.md, issue 26)."""
COMMAND_MARGIN = 0.5
"""A hypothesis that is a complete local command is taken over Whisper's best one that is not
when its log-probability per token is at most this much lower (chosen on in-family voices:
0.3 / 0.5 / 1.0 gave 8.9 / 8.4 / 8.4% word errors, beam 5, tiny.en prompted)."""
RIVAL_MARGIN = 0.2
"""Hypotheses whose log-probability per token is at most this much below Whisper's best are
its rivals: at a pause, "What is the..." behind "What is that?" (endpointing asks whether any
of them is unfinished). Chosen on prefixes and whole requests in in-family voices: 0.2 / 0.3 /
0.5 let 27 / 25 / 19 of 108 prefixes end on the trailing silence (35 without rivals) and held
1 / 4 / 7 of 108 whole requests for longer (BENCHMARKS.md, issue 26)."""


@dataclass(frozen=True)
class Hypothesis:
    text: str
    score: float
    """Log-probability per token (CTranslate2's length-normalised score)."""


def preferring_commands(
    hypotheses: Sequence[Hypothesis], is_command: Callable[[str], bool] | None
) -> Hypothesis:
    """Whisper's best hypothesis, unless it is no local command and one of the next ones within
    COMMAND_MARGIN is: constrained recognition, the device's grammar as a language model. A
    free-form request matches no template, so it keeps Whisper's best hypothesis."""
    best = hypotheses[0]
    if is_command is None or is_command(best.text):
        return best
    for other in hypotheses[1:]:
        if best.score - other.score > COMMAND_MARGIN:
            break
        if is_command(other.text):
            return other
    return best


class FasterWhisperSTT:
    """`window_s` below Whisper's 30 s encodes a shorter window: CTranslate2 takes fewer mel
    frames, and the encoder, most of tiny.en's cost, shrinks with them. Windows under about
    9 s make tiny.en repeat itself endlessly, so 10 s is the least the config allows; in a
    short window decoding penalises repeated tokens (SHORT_WINDOW_REPETITION_PENALTY)."""

    def __init__(
        self,
        model_dir: Path,
        threads: int,
        window_s: float | None = None,
        prompt: str | None = None,
        hypotheses: int = 1,
        is_command: Callable[[str], bool] | None = None,
    ) -> None:
        _check_ctranslate2_dir(model_dir)
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as e:
            raise ModelLoadError(f"speech-to-text needs faster-whisper: {e}") from None
        self._model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1
        )
        self.window_s = window_s
        tokenizer = Tokenizer(
            self._model.hf_tokenizer, self._model.model.is_multilingual, "transcribe", "en"
        )
        self._tokenizer = tokenizer
        self.prompt = prompt
        """Text Whisper takes as said before the utterance: the intents' example requests,
        which lean decoding toward their words (None: no prompt)."""
        self._plain = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        before = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip())] if prompt else []
        self._prompted = [*before, *self._plain]
        self.hypotheses = hypotheses
        """Beam width and n-best size of a short-window decode that hears speech (1: greedy)."""
        self._is_command = is_command
        """Whether a transcript is a complete local command (the intents' grammar), to choose
        among the n-best hypotheses."""

    def warm_up(self) -> None:
        self.transcribe(np.zeros(16000, np.int16))

    def transcribe(self, audio: np.ndarray) -> str:
        parts = list(self.segments(audio))
        return parts[0] if len(parts) == 1 else " ".join(parts)  # one keeps a Transcript

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        """Whisper's segments as it decodes them; known hallucinations are left out."""
        if not np.any(np.abs(audio.astype(np.int32)) > 1):
            return  # digital silence: a wide beam would find a likely filler ("Thank you.")
        for segment in self._decoded(audio):
            text = segment.strip()
            if text and not is_hallucination(text):
                yield segment if isinstance(segment, Transcript) else text

    def _decoded(self, audio: np.ndarray) -> Iterator[str]:
        """The short window when set and the utterance fits (with a prompt, the 30 s window
        decoded the same way, since the prompt needs the no-speech gate), else faster-whisper's
        own 30 s decoding, unprompted."""
        seconds = len(audio) / 16000
        window = next(
            (w for w in (self.window_s, 30.0 if self.prompt else None) if w is not None),
            None,
        )
        if window is not None and seconds <= window - WINDOW_MARGIN_S:
            text = self._in_window(audio, window)
            if not _looks_like_a_loop(text):
                yield text
                return
            # as faster-whisper retries a decode that repeats itself, with its own 30 s here
        segments, _ = self._model.transcribe(
            int16_to_float(audio),
            language="en",
            beam_size=1,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        yield from (segment.text for segment in segments)

    def _in_window(self, audio: np.ndarray, window_s: float) -> str:
        """One greedy decode of the utterance padded to `window_s` (faster-whisper's transcribe
        always pads to 30 s). At most ~8 tokens a second of audio: a decode that starts
        repeating itself stops there.

        With a prompt, Whisper fills silence and noise with the prompt's own sentences ("Turn
        the volume up.") and its no-speech probability drops, so one unprompted decoder step on
        the same encoding decides first: the prompt is used only where that step hears speech."""
        from faster_whisper.audio import pad_or_trim

        frames = int(window_s * 100)
        features = pad_or_trim(self._model.feature_extractor(int16_to_float(audio)), frames)
        encoded = self._model.encode(features)
        prompt = self._plain
        if self.prompt and self._no_speech_probability(encoded) <= PROMPT_NO_SPEECH_PROBABILITY:
            prompt = self._prompted
        new_tokens = int(8 * len(audio) / 16000) + 16
        result = self._model.model.generate(
            encoded,
            [prompt],
            beam_size=self.hypotheses,
            num_hypotheses=self.hypotheses,
            max_length=len(prompt) + new_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
            repetition_penalty=SHORT_WINDOW_REPETITION_PENALTY if window_s < 30 else 1.0,
        )[0]
        tokens = result.sequences_ids[0]
        # the score is the log-probability per token; faster-whisper averages over tokens + 1
        log_probability = result.scores[0] * len(tokens) / (len(tokens) + 1)
        if result.no_speech_prob > NO_SPEECH_PROBABILITY and log_probability < LOW_LOG_PROBABILITY:
            return ""
        hypotheses = [
            Hypothesis(str(self._tokenizer.decode(ids)).strip(), float(score))
            for ids, score in zip(result.sequences_ids, result.scores, strict=True)
        ]
        best = hypotheses[0]
        chosen = preferring_commands(hypotheses, self._is_command)
        rivals = [h.text for h in hypotheses[1:] if best.score - h.score <= RIVAL_MARGIN]
        return Transcript(chosen.text, best.text, rivals, best.score)

    def _no_speech_probability(self, encoded: Any) -> float:
        """Whisper's no-speech probability for an encoding, from one unprompted decoder step."""
        result = self._model.model.generate(
            encoded,
            [self._plain],
            beam_size=1,
            max_length=len(self._plain) + 1,
            return_no_speech_prob=True,
        )[0]
        return float(result.no_speech_prob)


def _looks_like_a_loop(text: str) -> bool:
    """faster-whisper's test of a decode stuck repeating itself: text that compresses too well."""
    data = text.encode()
    return len(data) > 0 and len(data) / len(zlib.compress(data)) > LOOP_COMPRESSION_RATIO


def is_hallucination(text: str) -> bool:
    """Whisper's stock output for silence and noise, from any backend."""
    return bool(_HALLUCINATIONS.match(text))


def _check_ctranslate2_dir(model_dir: Path) -> None:
    """CTranslate2 aborts the process on some malformed files: check before it reads them."""
    for name in ("model.bin", "config.json", "tokenizer.json"):
        if not (model_dir / name).is_file():
            raise ModelLoadError(f"{model_dir}: not a CTranslate2 Whisper model (no {name})")
    try:
        json.loads((model_dir / "config.json").read_text())
    except ValueError as e:
        raise ModelLoadError(f"{model_dir / 'config.json'}: not valid JSON: {e}") from None
    with (model_dir / "model.bin").open("rb") as f:
        header = f.read(4)
    # model.bin starts with a little-endian uint32 binary version (CTranslate2 writes 5 or 6)
    if len(header) < 4 or not 1 <= int.from_bytes(header, "little") <= 16:
        raise ModelLoadError(f"{model_dir / 'model.bin'}: not a CTranslate2 model file")
