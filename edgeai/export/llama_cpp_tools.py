"""llama.cpp's own converter and quantizer, for Hugging Face checkpoints to GGUF.

The converter (convert_hf_to_gguf.py with its `conversion` package and `gguf-py`) is not in any
wheel: it ships in the llama-cpp-python source distribution, under vendor/llama.cpp. It is taken
from the sdist of the llama-cpp-python version installed (so converter and runtime agree on the
format), once, into a cache folder. The quantizer is llama.cpp's, through llama_cpp's bindings.
"""

from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

from edgeai.errors import ExportError
from edgeai.export.sdist import run_tool, sdist_tree

PACKAGE = "llama-cpp-python"
VENDOR = "vendor/llama.cpp/"
CONVERTER_PARTS = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")
SCRIPT = "convert_hf_to_gguf.py"
QUANT_TYPES = {"q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}


def converter(cache: Path) -> Path:
    """The folder holding convert_hf_to_gguf.py for the installed llama-cpp-python version."""
    return sdist_tree(PACKAGE, VENDOR, CONVERTER_PARTS, cache, SCRIPT)


def supported_architectures(tools: Path) -> list[str]:
    """Text-model architectures the converter knows (config.json `architectures` names)."""
    listed = _run_converter(tools, ["--print-supported-models"], "list supported models")
    names, in_text = [], False
    for line in listed.splitlines():  # the converter logs the list (on stderr)
        if line.strip().endswith("models:"):
            in_text = line.strip() == "TEXT models:"
        elif in_text and line.strip().startswith("- "):
            names.append(line.strip()[2:])
    return names


def check_checkpoint(tools: Path, checkpoint: Path) -> str:
    """The checkpoint's architecture, refused unless the converter supports it."""
    try:
        config = json.loads((checkpoint / "config.json").read_text())
        architecture = str(config["architectures"][0])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        raise ExportError(
            f"{checkpoint}: not a Hugging Face checkpoint (config.json with architectures)"
        ) from None
    supported = supported_architectures(tools)
    if architecture not in supported:
        shown = ", ".join(name for name in supported if name.endswith("ForCausalLM"))
        raise ExportError(
            f"{checkpoint}: architecture {architecture} is not supported by llama.cpp's "
            f"converter; supported: {shown}"
        )
    return architecture


def convert_to_gguf(tools: Path, checkpoint: Path, out_file: Path) -> Path:
    """The checkpoint as an f16 GGUF: the reference every quantization is measured against."""
    _run_converter(
        tools, [str(checkpoint), "--outfile", str(out_file), "--outtype", "f16"], "convert"
    )
    return out_file


def quantize(source: Path, out_file: Path, precision: str, threads: int) -> Path:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANT_TYPES[precision])
    params.nthread = threads
    failed = llama_cpp.llama_model_quantize(
        str(source).encode(), str(out_file).encode(), ctypes.byref(params)
    )
    if failed or not out_file.is_file():
        raise ExportError(f"llama.cpp could not quantize {source.name} to {precision}")
    return out_file


def _run_converter(tools: Path, args: list[str], what: str) -> str:
    return run_tool(
        [sys.executable, str(tools / SCRIPT), *args], f"llama.cpp's converter ({what})", cwd=tools
    )
