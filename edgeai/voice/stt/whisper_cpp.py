"""whisper.cpp through pywhispercpp: Whisper in ggml files (f16, or quantized q8_0 / q5_0;
f32 files abort whisper.cpp 1.8.5 and are refused).

whisper.cpp crashes the process on a malformed file (pywhispercpp hands a null context on to
the decoder), so the whole file is walked here first: header, mel filters, vocabulary, and every
tensor's header and size, to the last byte.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from edgeai.audio.convert import int16_to_float
from edgeai.errors import ModelLoadError
from edgeai.voice.stt.faster_whisper import is_hallucination

GGML_MAGIC = 0x67676D6C
HPARAMS = (
    "n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
    "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels", "ftype",
)  # fmt: skip
ENGLISH_VOCAB = 51864
"""whisper.cpp places its special tokens by the vocabulary size of OpenAI's models."""
TENSOR_TYPES = {
    0: (4, 1),
    1: (2, 1),
    2: (18, 32),
    3: (20, 32),
    6: (22, 32),
    7: (24, 32),
    8: (34, 32),
}
"""ggml type -> (bytes per block, values per block): f32, f16, q4_0, q4_1, q5_0, q5_1, q8_0."""
MAX_NAME_BYTES = 256
MLP_IN = re.compile(r"(encoder|decoder)\.blocks\.\d+\.mlp\.0\.weight")
CONVOLUTIONS = ("encoder.conv1.weight", "encoder.conv2.weight")
"""whisper.cpp's im2col aborts the process unless these are f16."""
F16 = 1


class WhisperCppSTT:
    def __init__(self, model_file: Path, threads: int) -> None:
        check_ggml_whisper_file(model_file)
        try:
            from pywhispercpp.model import Model
        except ImportError as e:
            raise ModelLoadError(f"speech-to-text on ggml needs pywhispercpp: {e}") from None
        self._model = Model(
            str(model_file),
            redirect_whispercpp_logs_to=None,
            n_threads=threads,
            language="en",
            no_timestamps=True,
            print_progress=False,
            print_realtime=False,
            temperature_inc=0.0,  # no fallback passes: a hard clip must not multiply the latency
        )
        if getattr(self._model, "_ctx", None) is None:  # decoding a null context crashes
            raise ModelLoadError(f"{model_file}: whisper.cpp could not load this model")

    def warm_up(self) -> None:
        self.transcribe(np.zeros(16000, np.int16))

    def transcribe(self, audio: np.ndarray) -> str:
        return " ".join(self.segments(audio))

    def segments(self, audio: np.ndarray) -> Iterator[str]:
        for segment in self._model.transcribe(int16_to_float(audio)):
            text = segment.text.strip()
            if text and not is_hallucination(text):
                yield text


def check_ggml_whisper_file(path: Path) -> None:
    """Raise ModelLoadError unless `path` is a complete whisper.cpp model of the layout it
    loads (the English or multilingual vocabulary, feed-forward layers 4x the width)."""
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    size = path.stat().st_size
    with path.open("rb") as f:
        try:
            _walk(f, size)
        except (struct.error, EOFError):
            raise ModelLoadError(f"{path}: truncated whisper.cpp model") from None
        except ValueError as e:
            raise ModelLoadError(f"{path}: not a whisper.cpp model: {e}") from None


def _walk(f: BinaryIO, size: int) -> None:
    magic = _ints(f, 1)[0]
    if magic != GGML_MAGIC:
        raise ValueError(f"magic {magic:#x}, expected {GGML_MAGIC:#x} ('ggml')")
    hparams = dict(zip(HPARAMS, _ints(f, len(HPARAMS)), strict=True))
    if hparams["n_vocab"] < ENGLISH_VOCAB or min(hparams.values()) < 0:
        raise ValueError(f"hyperparameters {hparams} (vocabulary below {ENGLISH_VOCAB})")
    n_mel, n_fft = _ints(f, 2)
    _skip(f, 4 * n_mel * n_fft, size)
    for _ in range(_ints(f, 1)[0]):
        _skip(f, _ints(f, 1)[0], size)
    tensors = 0
    while f.tell() < size:
        n_dims, name_bytes, kind = _ints(f, 3)
        if not 1 <= n_dims <= 4 or not 0 < name_bytes <= MAX_NAME_BYTES or kind not in TENSOR_TYPES:
            raise ValueError(f"tensor {tensors}: header ({n_dims}, {name_bytes}, {kind})")
        dims = _ints(f, n_dims)
        name = f.read(name_bytes).decode(errors="replace")
        if MLP_IN.fullmatch(name) and dims[1] != 4 * dims[0]:
            raise ValueError(f"{name} is {dims}; whisper.cpp needs a feed-forward 4x the width")
        if name in CONVOLUTIONS and kind != F16:
            raise ValueError(f"{name} is not f16 (f32 model?); whisper.cpp needs f16 there")
        block_bytes, block_values = TENSOR_TYPES[kind]
        count = int(np.prod(dims))
        if min(dims) <= 0 or count % block_values:
            raise ValueError(f"{name}: shape {dims}")
        _skip(f, count // block_values * block_bytes, size)
        tensors += 1
    if tensors == 0:
        raise ValueError("no tensors")


def _ints(f: BinaryIO, count: int) -> tuple[int, ...]:
    return struct.unpack(f"<{count}i", f.read(4 * count))


def _skip(f: BinaryIO, count: int, size: int) -> None:
    if count < 0 or f.tell() + count > size:
        raise EOFError
    f.seek(count, 1)
