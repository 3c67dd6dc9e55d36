"""whisper.cpp's own converter and quantizer, for Hugging Face Whisper checkpoints to ggml.

Both ship only in the pywhispercpp source distribution (whisper.cpp is vendored there): the
converter is models/convert-h5-to-ggml.py, the quantizer the `whisper-quantize` example, built
once with CMake. They come from the sdist of the pywhispercpp version installed, so the files
they write are the ones its whisper.cpp reads.

The converter expects OpenAI's whisper repository for its mel filters; the checkpoint's own
feature extractor holds the same filters, so they are written from it into a stand-in folder.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

from edgeai.errors import ExportError
from edgeai.export.sdist import run_tool, sdist_tree

PACKAGE = "pywhispercpp"
VENDOR = "whisper.cpp/"
SCRIPT = "models/convert-h5-to-ggml.py"
BUILD_PARTS = ("CMakeLists.txt", "cmake/", "src/", "include/", "ggml/", "examples/", "bindings/")
QUANTIZER = "whisper-quantize"
QUANT_TYPES = {"int8": "q8_0", "q5_0": "q5_0"}


def sources(cache: Path) -> Path:
    """whisper.cpp's converter and the sources its quantizer is built from."""
    return sdist_tree(PACKAGE, VENDOR, ("models/", *BUILD_PARTS), cache, SCRIPT)


def convert(tools: Path, checkpoint: Path, out_file: Path, scratch: Path) -> Path:
    """The checkpoint as an f16 ggml file (whisper.cpp aborts on f32 ones)."""
    model = scratch / "checkpoint"
    model.mkdir()
    for item in checkpoint.iterdir():
        (model / item.name).symlink_to(item.resolve())
    _vocabulary_files(checkpoint, model)
    whisper_repo = scratch / "openai-whisper"
    _mel_filters(checkpoint, whisper_repo / "whisper" / "assets" / "mel_filters.npz")
    converted = scratch / "ggml"
    converted.mkdir()
    args = [str(model), str(whisper_repo), str(converted)]
    run_tool([sys.executable, str(tools / SCRIPT), *args], "whisper.cpp's converter")
    written = sorted(converted.glob("ggml-model*.bin"))
    if len(written) != 1:
        raise ExportError("whisper.cpp's converter wrote no model file")
    return written[0].rename(out_file)


def quantize(tools: Path, source: Path, out_file: Path, precision: str, cache: Path) -> Path:
    quantizer = _quantizer(tools, cache)
    command = [str(quantizer), str(source), str(out_file), QUANT_TYPES[precision]]
    run_tool(command, f"whisper.cpp's quantizer ({precision})")
    if not out_file.is_file():
        raise ExportError(f"whisper.cpp's quantizer wrote no {precision} file")
    return out_file


def _quantizer(tools: Path, cache: Path) -> Path:
    """whisper-quantize, built from `tools` once (about two minutes on two cores)."""
    build = cache / f"{tools.name}-build"
    binary = build / "bin" / QUANTIZER
    if binary.is_file():
        return binary
    cmake = shutil.which(
        "cmake", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if cmake is None:
        raise ExportError("building whisper.cpp's quantizer needs cmake (pip install cmake)")
    configure = [cmake, "-S", str(tools), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                 "-DBUILD_SHARED_LIBS=OFF", "-DWHISPER_BUILD_TESTS=OFF",
                 "-DWHISPER_BUILD_EXAMPLES=ON", "-DWHISPER_BUILD_SERVER=OFF"]  # fmt: skip
    run_tool(configure, "cmake (configuring whisper.cpp)")
    jobs = str(os.cpu_count() or 1)
    run_tool(
        [cmake, "--build", str(build), "--target", QUANTIZER, "-j", jobs], "building whisper.cpp"
    )
    return binary


def _vocabulary_files(checkpoint: Path, model: Path) -> None:
    """vocab.json and added_tokens.json, which the converter reads and newer checkpoints may
    fold into tokenizer.json: written from the checkpoint's tokenizer when missing."""
    if (model / "vocab.json").exists() and (model / "added_tokens.json").exists():
        return
    from transformers import WhisperTokenizer

    tokenizer = WhisperTokenizer.from_pretrained(str(checkpoint))
    added = tokenizer.get_added_vocab()
    base = {token: i for token, i in tokenizer.get_vocab().items() if token not in added}
    for name, content in (("vocab.json", base), ("added_tokens.json", added)):
        (model / name).unlink(missing_ok=True)
        (model / name).write_text(json.dumps(content, ensure_ascii=False))


def _mel_filters(checkpoint: Path, path: Path) -> None:
    from transformers import WhisperFeatureExtractor

    extractor = WhisperFeatureExtractor.from_pretrained(str(checkpoint))
    path.parent.mkdir(parents=True)
    filters = np.asarray(extractor.mel_filters, np.float32).T  # (mels, frequencies)
    np.savez(path, **{f"mel_{extractor.feature_size}": filters})
