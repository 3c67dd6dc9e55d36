"""Piper text-to-speech: one sentence at a time, so the first is heard while the rest is made,
and each sentence a window of frames at a time where the voice's graph can be cut in two
(piper_graph.py), so its first words are heard while the rest of it is made."""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from edgeai.engines.onnx import open_session
from edgeai.engines.tensor import OpenVinoSession
from edgeai.errors import ModelLoadError
from edgeai.voice.piper_graph import split_graph
from edgeai.voice.sentences import clean, speakable_pieces

log = logging.getLogger(__name__)

MAX_WORDS_PER_PIECE = 24
"""onnxruntime keeps the memory of the longest input it has run: long sentences are split."""
FIRST_WINDOW_FRAMES = 24
"""The first window of a sentence's latent frames made into audio: about 0.28 s of it (joe,
22.05 kHz, 256 samples a frame), so it is heard soon; each window after it is twice as long as
the one before, and is made while that one plays."""
CONTEXT_FRAMES = 24
"""Frames on each side of a window that its audio depends on: the flow's couplings and the
decoder's convolutions reach about this far. On joe-medium, windows with 24 frames of context
make the whole sentence's audio to within -77 dB or better; with 16, -40 dB; with 8, -4 dB."""
WINDOWS_MATCH_DB = 60.0
"""Windowed audio must equal the whole sentence's made at once to within this (checked at load,
noise off), or the voice speaks whole sentences: another voice's convolutions may reach further."""
LEVEL_SENTENCES = (
    "Timer set for 5 minutes and 30 seconds.",
    "I see one person. Someone is in the door zone.",
    "The sky looks blue because air scatters blue sunlight more than red light.",
)
"""Spoken (unheard) at load to set the voice's level: windows cannot be scaled to their whole
sentence's peak, as Piper scales a sentence, before the last one is made."""
LEVEL_PEAK = 0.8
"""Where the loudest LEVEL_SENTENCES peak lands: sentences made with Piper's noise peak higher
than without (at 1.0, 4 of 36 replies reached full scale; BENCHMARKS.md)."""


class TextToSpeech(Protocol):
    sample_rate_hz: int
    """Rate of the audio `synthesize` yields, in Hertz."""

    def warm_up(self) -> None: ...

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """int16 mono audio of `text`, a piece at a time; text it cannot speak yields nothing."""
        ...


class PiperTTS:
    def __init__(
        self,
        model: Path,
        threads: int = 1,
        engine: str = "onnxruntime",
        noise_free: bool = False,
        split_cache: Path | None = None,
    ) -> None:
        """A Piper voice: its ONNX model on onnxruntime, or (engine "openvino", or an exported
        .xml) on OpenVINO; the voice's JSON config sits beside the model either way.

        `noise_free` speaks without Piper's sampled noise: the same text, the same audio, on any
        engine (how the export gate compares a voice's variants). With `split_cache` (the model
        store's folder for cut graphs), an ONNX voice on onnxruntime is cut in two and speaks a
        window of frames at a time; None, or a voice that cannot be cut: whole sentences."""
        from piper import PiperVoice, SynthesisConfig
        from piper.config import PiperConfig

        config_path = voice_config_path(model)
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text()))
        except (OSError, ValueError, KeyError) as e:
            raise ModelLoadError(f"{config_path}: not a piper voice config: {e}") from None
        self._style = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if noise_free else None
        self.sample_rate_hz = int(config.sample_rate)
        self._lock = threading.Lock()
        """espeak-ng, Piper's phonemizer, keeps global state: one piece at a time (the voice
        loop and the Wyoming server share the voice)."""
        self._voice = PiperVoice(config=config, session=None)  # phonemizes; a session follows
        self._windowed: WindowedVoice | None = None
        if split_cache is not None and engine == "onnxruntime" and model.suffix == ".onnx":
            self._windowed = self._cut(model, split_cache, threads)
        if self._windowed is None:
            self._voice.session = (
                OpenVinoSession(model, threads)
                if engine == "openvino" or model.suffix == ".xml"
                else open_session(model, threads)
            )

    def _cut(self, model: Path, cache: Path, threads: int) -> WindowedVoice | None:
        """The voice cut in two and checked (kept in `cache`); None, logged, where that fails:
        the whole graph is used then."""
        with tempfile.TemporaryDirectory(prefix="edgeai-voice-") as folder:
            cut = split_graph(model, Path(folder), cache)
            if cut is None:
                return None
            try:
                windowed = WindowedVoice(
                    open_session(cut[0], threads), open_session(cut[1], threads)
                )
                windowed.calibrate(self._phoneme_ids, self._scales(noise=False))
            except Exception as e:  # a cut graph onnxruntime cannot run: the whole one can
                log.warning("%s: the voice cut in two does not run (%s): whole sentences", model, e)
                return None
        return windowed

    def warm_up(self) -> None:
        """The first synthesis pays for phonemizer and session start-up: pay it at load."""
        for _ in self.synthesize("Ready."):
            pass

    @property
    def windowed(self) -> bool:
        """Whether a sentence's audio comes a window of frames at a time."""
        return self._windowed is not None and self._windowed.matches

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """int16 audio at `sample_rate_hz`; text piper cannot speak yields nothing."""
        for piece in speakable_pieces(clean(text), MAX_WORDS_PER_PIECE):
            try:
                if self._windowed is None:
                    with self._lock:
                        chunks = [
                            chunk.audio_int16_array
                            for chunk in self._voice.synthesize(piece, syn_config=self._style)
                        ]
                    yield from chunks
                    continue
                for ids in self._phoneme_ids(piece):
                    yield from self._windowed.speak(ids, self._scales())
            except Exception as e:  # piper's phonemizer raises assorted errors on odd text
                log.warning("could not speak %r: %s", piece[:60], e)

    def _phoneme_ids(self, text: str) -> list[list[int]]:
        """Piper's phoneme ids of each sentence in `text`."""
        with self._lock:
            sentences = self._voice.phonemize(text)
        return [self._voice.phonemes_to_ids(phonemes) for phonemes in sentences if phonemes]

    def _scales(self, noise: bool = True) -> np.ndarray:
        """The voice's noise, length and noise-width scales (no noise when `noise_free`)."""
        config = self._voice.config
        noisy = noise and self._style is None
        return np.array(
            [config.noise_scale * noisy, config.length_scale, config.noise_w_scale * noisy],
            np.float32,
        )


def voice_config_path(model: Path) -> Path:
    """Where a Piper voice's config lives: `<model file name>.json` beside the model."""
    return model.with_name(model.name + ".json")


@dataclass
class WindowedVoice:
    """A voice cut in two (piper_graph.py): `head` makes a sentence's latent frames and their
    mask from its phoneme ids, `tail` makes audio from any window of them."""

    head: Any
    tail: Any
    samples_per_frame: int = 0
    """Audio samples a latent frame makes (measured by `calibrate`)."""
    gain: float = 1.0
    """Scales raw audio to the voice's level (set by `calibrate`)."""
    matches: bool = True
    """Windows make the whole sentence's audio (checked by `calibrate`); if not, one window
    spans the sentence."""

    def calibrate(self, phoneme_ids: Callable[[str], list[list[int]]], quiet: np.ndarray) -> None:
        """Measure the samples a frame makes, set the gain from LEVEL_SENTENCES (their loudest
        peak reaches LEVEL_PEAK), and check that windows make what the whole sentence makes,
        with the `quiet` scales (no noise)."""
        peak, worst_db = 0.0, np.inf
        for sentence in LEVEL_SENTENCES:
            for ids in phoneme_ids(sentence):
                frames, mask = self._frames(ids, quiet)
                [whole] = self.tail.run(None, self._window_feed(frames, mask, 0, frames.shape[2]))
                whole = np.asarray(whole).reshape(-1)
                self.samples_per_frame, rest = divmod(len(whole), frames.shape[2])
                if rest:
                    raise ValueError(f"{len(whole)} samples from {frames.shape[2]} frames")
                windows = np.concatenate(
                    [self._audio(frames, mask, a, b) for a, b in windows_of(frames.shape[2])]
                )
                peak = max(peak, float(np.abs(whole).max()))
                error = float(np.sqrt(np.mean((windows - whole) ** 2)))
                signal = float(np.sqrt(np.mean(whole**2)))
                worst_db = min(worst_db, 20 * np.log10(signal / max(error, 1e-12)))
        self.gain = LEVEL_PEAK / max(peak, 1e-3)
        self.matches = bool(worst_db >= WINDOWS_MATCH_DB)
        if not self.matches:
            log.warning(
                "the voice's audio made in windows is %.0f dB from the whole sentence's (at "
                "least %.0f dB needed): it speaks whole sentences",
                worst_db,
                WINDOWS_MATCH_DB,
            )

    def speak(self, phoneme_ids: list[int], scales: np.ndarray) -> Iterator[np.ndarray]:
        """int16 audio of one sentence, a window at a time."""
        frames, mask = self._frames(phoneme_ids, scales)
        count = frames.shape[2]
        for start, end in windows_of(count) if self.matches else [(0, count)]:
            audio = self._audio(frames, mask, start, end) * self.gain
            yield (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)

    def _frames(self, phoneme_ids: list[int], scales: np.ndarray) -> tuple[Any, Any]:
        """The sentence's latent frames and their mask (Piper's own input names)."""
        ids = np.array([phoneme_ids], np.int64)
        feed = {"input": ids, "input_lengths": np.array([ids.shape[1]], np.int64), "scales": scales}
        frames, mask = self.head.run(None, feed)
        return frames, mask

    def _audio(self, frames: Any, mask: Any, start: int, end: int) -> np.ndarray:
        """Float audio of frames [start, end), made with CONTEXT_FRAMES on each side."""
        low, high = max(0, start - CONTEXT_FRAMES), min(frames.shape[2], end + CONTEXT_FRAMES)
        [audio] = self.tail.run(None, self._window_feed(frames, mask, low, high))
        skip = (start - low) * self.samples_per_frame
        return np.asarray(audio).reshape(-1)[skip : skip + (end - start) * self.samples_per_frame]

    def _window_feed(self, frames: Any, mask: Any, low: int, high: int) -> dict[str, Any]:
        latent, mask_name = (i.name for i in self.tail.get_inputs())
        return {latent: frames[:, :, low:high], mask_name: mask[:, :, low:high]}


def windows_of(frames: int) -> Iterator[tuple[int, int]]:
    """[start, end) windows over `frames`: FIRST_WINDOW_FRAMES, then each twice the last."""
    start, size = 0, FIRST_WINDOW_FRAMES
    while start < frames:
        end = min(frames, start + size)
        yield start, end
        start, size = end, size * 2
