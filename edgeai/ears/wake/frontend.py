"""The openWakeWord front end: audio -> melspectrogram -> 96-d speech embeddings.

Every 80 ms block adds 8 mel frames and one embedding of the last 76 mel frames (775 ms).
Streaming keeps ring buffers, so each block costs one small melspectrogram call and one
embedding call however long the stream runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeai.engines.onnx import open_session

BLOCK_SAMPLES = 1280
"""80 ms at 16 kHz: the step of the front end."""
MEL_CONTEXT_SAMPLES = 480
"""Audio before each block that the melspectrogram window needs."""
MEL_FRAMES_PER_BLOCK = 8
EMBEDDING_WINDOW_FRAMES = 76
EMBEDDING_DIM = 96
MAX_WINDOW = 64
"""Embeddings a stream keeps (5.1 s): the longest window a head may look at."""
FLOOR_DBFS = -65.0
"""RMS of the fixed white noise floor added to all audio before the melspectrogram.

Digital silence (a noise-gated microphone, noise suppression) blinds the front end: each call
clips its mel frames to 80 dB below the loudest one, so silent frames between words sit 80 dB
below the speech, far below any room a head was trained in, and the phrase's embeddings change.
A fixed floor keeps silence looking like a quiet room; under any real room's noise it is lost.
"""
FLOOR_SAMPLES = BLOCK_SAMPLES * 25
"""The floor is one fixed 2 s noise, repeated: the same audio gives the same features."""


class WakeFrontend:
    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        self._mel = open_session(model_dir / "melspectrogram.onnx", threads)
        # a fixed batch of one lets onnxruntime pick faster kernels for the streaming call
        self._embed = open_session(
            model_dir / "embedding_model.onnx", threads, fixed_dims={"unk__314": 1}
        )
        self._mel_input = self._mel.get_inputs()[0].name
        self._embed_input = self._embed.get_inputs()[0].name
        scale = 32768 * 10 ** (FLOOR_DBFS / 20)
        self.floor = np.random.default_rng(0).standard_normal(FLOOR_SAMPLES) * scale
        # what a stream starts from, as if silence came before it: computed once, not per stream
        silence = self.floor[-(MEL_CONTEXT_SAMPLES + BLOCK_SAMPLES * 12) :]
        self.silence_mel = self.melspectrogram(silence)[-EMBEDDING_WINDOW_FRAMES:]
        self.silence_embedding = self.embed(self.silence_mel[None])

    def melspectrogram(self, samples: np.ndarray) -> np.ndarray:
        """(frames, 32) mel features of audio in int16 units, scaled as openWakeWord trains on."""
        audio = np.asarray(samples, dtype=np.float32)[None, :]
        mel: np.ndarray = self._mel.run(None, {self._mel_input: audio})[0]
        return np.squeeze(mel, axis=(1,)).reshape(-1, 32) / 10.0 + 2.0

    def embed(self, windows: np.ndarray) -> np.ndarray:
        """(1, 96) embedding of a (1, 76, 32) mel window."""
        out: np.ndarray = self._embed.run(
            None, {self._embed_input: windows[..., None].astype(np.float32)}
        )[0]
        return out.reshape(-1, EMBEDDING_DIM)

    def features(self, samples: np.ndarray) -> np.ndarray:
        """(blocks, 96): one embedding per whole block of a clip, as a fresh stream yields them.

        Deliberately the streaming path: the melspectrogram model clips each call to 80 dB
        below its loudest frame, so a batched call would not give what a stream sees.
        """
        stream = self.stream()
        count = len(samples) // BLOCK_SAMPLES
        blocks = (samples[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES] for i in range(count))
        return np.stack([stream.push(block)[-1] for block in blocks])

    def stream(self) -> FrontendStream:
        return FrontendStream(self)


class FrontendStream:
    """One audio stream through the front end: push 80 ms blocks, get one embedding each."""

    def __init__(self, frontend: WakeFrontend) -> None:
        self._frontend = frontend
        self._audio = frontend.floor[-MEL_CONTEXT_SAMPLES:]
        self._blocks = 0
        self._mel = frontend.silence_mel
        # a stream starts as if silence came before it, so heads score from the first block
        self.embeddings = np.repeat(frontend.silence_embedding, MAX_WINDOW, axis=0)
        """The latest embeddings, newest last; heads read their window from the end."""

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add one block of BLOCK_SAMPLES int16 samples; returns the embeddings so far."""
        if len(block) != BLOCK_SAMPLES:
            raise ValueError(f"the wake front end takes blocks of {BLOCK_SAMPLES} samples")
        at = self._blocks % (FLOOR_SAMPLES // BLOCK_SAMPLES) * BLOCK_SAMPLES
        self._blocks += 1
        floored = block + self._frontend.floor[at : at + BLOCK_SAMPLES]
        audio = np.concatenate([self._audio, floored])
        self._audio = audio[-MEL_CONTEXT_SAMPLES:]
        mel = self._frontend.melspectrogram(audio)
        self._mel = np.concatenate([self._mel, mel])[-EMBEDDING_WINDOW_FRAMES:]
        embedding = self._frontend.embed(self._mel[None])
        self.embeddings = np.concatenate([self.embeddings, embedding])[-MAX_WINDOW:]
        return self.embeddings
