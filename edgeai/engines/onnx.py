"""onnxruntime sessions: the file is checked before onnxruntime sees it, threads are explicit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnxruntime

from edgeai.errors import ModelLoadError, first_line

MIN_ONNX_BYTES = 64


def open_session(
    path: Path,
    threads: int = 1,
    providers: list[str] | None = None,
    fixed_dims: dict[str, int] | None = None,
) -> onnxruntime.InferenceSession:
    """An InferenceSession on `path`, or ModelLoadError naming the file and what is wrong.

    `fixed_dims` pins free input dimensions (by name) where the caller always uses one size.
    """
    check_onnx_file(path)
    options = onnxruntime.SessionOptions()
    for name, size in (fixed_dims or {}).items():
        options.add_free_dimension_override_by_name(name, size)
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # small models on small CPUs: spinning threads burn the core that capture needs
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # no arena: it keeps each session's peak (rounded up to a power of two) for good; on a
    # 4 GB board that is 65 MiB over the service's models (measured), for a few µs per run
    options.enable_cpu_mem_arena = False
    available = onnxruntime.get_available_providers()
    chosen = [p for p in (providers or ["CPUExecutionProvider"]) if p in available]
    try:
        return onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=chosen or ["CPUExecutionProvider"]
        )
    except Exception as e:  # onnxruntime raises its own exception types for bad graphs
        raise ModelLoadError(f"{path}: not a loadable ONNX model: {first_line(e)}") from None


def check_onnx_file(path: Path) -> None:
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    size = path.stat().st_size
    if size < MIN_ONNX_BYTES:
        raise ModelLoadError(f"{path}: {size} bytes is too small for an ONNX model")
    with path.open("rb") as f:
        first = f.read(1)
    # an ONNX file is a protobuf ModelProto; its first field is ir_version (tag 0x08)
    if first != b"\x08":
        raise ModelLoadError(f"{path}: not an ONNX file (it does not start with a ModelProto)")


def input_shape(session: onnxruntime.InferenceSession, index: int = 0) -> list[Any]:
    """The declared shape of an input: ints for fixed sizes, strings or None for free ones."""
    return list(session.get_inputs()[index].shape)
