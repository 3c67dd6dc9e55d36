"""Synthetic speech for wake word data: piper (the catalog voice), espeak-ng voices, SVOX
Pico's two English voices (a synthesizer with its own text front end and prosody) and Kokoro's
speakers (a neural synthesizer trained on recorded people)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile

from edgeai.audio.convert import to_runtime_format
from edgeai.errors import EdgeAIError
from edgeai.synthetic.kokoro import KOKORO_MODEL, KokoroSpeaker, KokoroVoice


@dataclass(frozen=True)
class EspeakVoice:
    voice: str
    """Language voice plus variant, e.g. en-us+m3."""
    words_per_minute: int
    pitch: int
    """0-99."""

    @property
    def label(self) -> str:
        return f"espeak:{self.voice}:{self.words_per_minute}:{self.pitch}"


@dataclass(frozen=True)
class PiperStyle:
    length_scale: float
    """>1 speaks slower."""
    noise_scale: float
    noise_w_scale: float

    @property
    def label(self) -> str:
        return f"piper:{self.length_scale:.2f}:{self.noise_scale:.2f}:{self.noise_w_scale:.2f}"


@dataclass(frozen=True)
class PicoVoice:
    language: str
    """en-US (a woman's voice) or en-GB (another woman's): Pico's English voices."""
    speed: int
    """Percent of the voice's own rate (Pico's <speed level>)."""
    pitch: int
    """Percent of the voice's own pitch (Pico's <pitch level>)."""

    @property
    def label(self) -> str:
        return f"pico:{self.language}:{self.speed}:{self.pitch}"


PICO_LANGUAGES = ("en-US", "en-GB")
PICO_PACKAGE = "libttspico-utils"
"""Debian's package for pico2wave (non-free); scripts/install-system-deps.sh installs it."""

Voice = EspeakVoice | PiperStyle | PicoVoice | KokoroVoice

VOICED_LEVEL = 0.01
"""Samples above this share of the peak (-40 dB) are voice; below it, the synthesizer's padding."""


def voiced_span(speech: np.ndarray) -> tuple[int, int]:
    """(first, one past the last) sample of the voice in synthesized speech.

    Both synthesizers pad speech with silence: espeak-ng up to 0.7 s after it at slow rates,
    piper about 0.2 s. Where a phrase ends must be where its sound ends, not its padding.
    """
    magnitude = np.abs(speech.astype(np.int32))
    loud = np.flatnonzero(magnitude > VOICED_LEVEL * magnitude.max())
    if len(loud) == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1


def voiced(speech: np.ndarray) -> np.ndarray:
    """Synthesized speech without the silence the synthesizer put before and after it."""
    first, end = voiced_span(speech)
    return speech[first:end]


def espeak_phonemes(text: str, voice: EspeakVoice) -> str:
    """espeak-ng's phoneme mnemonics for `text` in `voice` ("h'eI dZ'A@vIs"); speaking them back
    inside [[...]] says exactly those sounds."""
    command = ["espeak-ng", "-q", "-x", "-v", voice.voice, text]
    return subprocess.run(command, capture_output=True, check=True, text=True).stdout.strip()


def _complaint(done: subprocess.CompletedProcess[bytes]) -> str:
    """The last line a synthesizer process wrote to stderr, or "no audio" if it wrote none."""
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no audio"


class Synthesizer:
    """Speaks text in any of the voices above as 16 kHz mono int16."""

    def __init__(self, piper_model: Path | None, kokoro_model: Path | None = None) -> None:
        """`kokoro_model`: the folder of the catalog's KOKORO_MODEL, for KokoroVoice."""
        if shutil.which("espeak-ng") is None:
            raise EdgeAIError("espeak-ng is missing: apt-get install espeak-ng")
        self._piper = None
        if piper_model is not None:
            from piper import PiperVoice  # imported on use: loading it costs a second

            self._piper = PiperVoice.load(str(piper_model))
        self._kokoro = KokoroSpeaker(kokoro_model) if kokoro_model is not None else None

    def speak(self, text: str, voice: Voice) -> np.ndarray:
        if isinstance(voice, EspeakVoice):
            return self._espeak(text, voice)
        if isinstance(voice, PicoVoice):
            return self._pico(text, voice)
        if isinstance(voice, KokoroVoice):
            if self._kokoro is None:
                raise EdgeAIError(f"no {KOKORO_MODEL} model was given to the synthesizer")
            return self._kokoro.speak(text, voice)
        return self._piper_speak(text, voice)

    def _espeak(self, text: str, voice: EspeakVoice) -> np.ndarray:
        command = ["espeak-ng", "-v", voice.voice, "-s", str(voice.words_per_minute),
                   "-p", str(voice.pitch), "--stdout", text]  # fmt: skip
        done = subprocess.run(command, capture_output=True, check=False)
        if done.returncode != 0 or not done.stdout:
            raise EdgeAIError(f"espeak-ng voice {voice.voice!r}: {_complaint(done)}")
        samples, rate = soundfile.read(io.BytesIO(done.stdout), dtype="int16")
        return to_runtime_format(samples, int(rate))

    def _pico(self, text: str, voice: PicoVoice) -> np.ndarray:
        if shutil.which("pico2wave") is None:
            raise EdgeAIError(
                f"pico2wave is missing (Debian {PICO_PACKAGE}, non-free): "
                "run scripts/install-system-deps.sh"
            )
        markup = (
            f"<speed level='{voice.speed}'><pitch level='{voice.pitch}'>"
            f"{escape(text)}</pitch></speed>"
        )
        # pico2wave writes only to a named file, and only to one whose name ends in .wav
        with tempfile.TemporaryDirectory(prefix="edgeai-pico-") as folder:
            wav = Path(folder) / "speech.wav"
            command = ["pico2wave", "-l", voice.language, "-w", str(wav), markup]
            done = subprocess.run(command, capture_output=True, check=False)
            if done.returncode != 0 or not wav.is_file() or wav.stat().st_size == 0:
                raise EdgeAIError(f"pico2wave voice {voice.language!r}: {_complaint(done)}")
            samples, rate = soundfile.read(wav, dtype="int16")
        return to_runtime_format(samples, int(rate))

    def _piper_speak(self, text: str, style: PiperStyle) -> np.ndarray:
        if self._piper is None:
            raise EdgeAIError("no piper voice was given to the synthesizer")
        from piper import SynthesisConfig

        config = SynthesisConfig(
            length_scale=style.length_scale,
            noise_scale=style.noise_scale,
            noise_w_scale=style.noise_w_scale,
        )
        chunks = list(self._piper.synthesize(text, syn_config=config))
        audio = np.concatenate([c.audio_int16_array for c in chunks])
        return to_runtime_format(audio, chunks[0].sample_rate)
