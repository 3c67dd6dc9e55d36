"""Conversions of an fp32 ONNX model: fp16, int8 (static QDQ or dynamic), OpenVINO IR, NNCF int8.

Each writes one file and returns its path. Static int8 needs calibration tensors, exactly what
the model is fed at run time: it is what a detector gets (dynamic int8 made a small CNN 14x
slower here). Nodes named by `keep_float` stay in float: a detector's decoding tail mixes pixel
coordinates and 0..1 scores in one tensor, which one int8 scale cannot hold. Dynamic int8 is for
models whose inputs have no fixed shape to calibrate (Piper's text-to-speech).
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from edgeai.errors import ExportError
from edgeai.export.recipe import ImageModelTarget


def onnx_fp32(source: Path, out: Path) -> Path:
    """The source as it is, once known to hold float32 weights (the others start from it)."""
    import onnx

    model = onnx.load(str(source), load_external_data=False)
    kinds = {onnx.TensorProto.DataType.Name(t.data_type) for t in model.graph.initializer}
    if "FLOAT16" in kinds or "BFLOAT16" in kinds:
        raise ExportError(
            f"{source}: weights are {sorted(kinds)}; the export starts from a float32 model"
        )
    target = out / "model.onnx"
    shutil.copyfile(source, target)
    return target


def onnx_fp16(fp32: Path, out: Path) -> Path:
    """Float16 weights and activations, float32 input and output (for GPUs; CPUs gain nothing)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True)
    target = out / "model.onnx"
    onnx.save(model, str(target))
    return target


def onnx_int8(
    fp32: Path,
    out: Path,
    calibration: Sequence[np.ndarray],
    keep_float: Sequence[str],
    scratch: Path,
) -> Path:
    """Static int8, QDQ format: per-channel int8 weights, uint8 activations, min-max ranges.

    Weights use 7 bits (reduce_range): x86 CPUs without VNNI multiply uint8 by int8 with a
    saturating instruction, and full-range weights lost 4 mAP points there; 7 bits lost none.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = scratch / "prepared.onnx"
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    graph = onnx.load(str(prepared)).graph
    input_name = graph.input[0].name
    excluded = [node.name for node in graph.node if _matches(node.name, keep_float)]

    class Feeder(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._tensors = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            tensor = next(self._tensors, None)
            return None if tensor is None else {input_name: tensor}

    target = out / "model.onnx"
    with _quiet_root_logger():
        quantize_static(
            str(prepared),
            str(target),
            Feeder(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=CalibrationMethod.MinMax,
        )
    return target


def onnx_int8_dynamic(fp32: Path, out: Path) -> Path:
    """Int8 weights, activations quantized on the fly: no calibration data needed."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = out / "model.onnx"
    with _quiet_root_logger():
        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QUInt8)
    return target


def openvino_ir(fp32: Path, out: Path, fp16: bool) -> Path:
    """OpenVINO IR (model.xml + model.bin); fp16 halves the weights file, math stays f32 on CPU."""
    import openvino

    target = out / "model.xml"
    openvino.save_model(openvino.convert_model(str(fp32)), str(target), compress_to_fp16=fp16)
    return target


def openvino_int8(
    fp32: Path, out: Path, calibration: Sequence[np.ndarray], keep_float: Sequence[str]
) -> Path:
    """NNCF post-training int8, symmetric weights and activations (the performance preset:
    on the YOLOv8 detector it kept mAP where the mixed preset lost 2 points)."""
    import nncf
    import openvino

    nncf.set_log_level(logging.WARNING)  # its INFO lines name every node it skips
    model = openvino.Core().read_model(str(fp32))
    quantized = nncf.quantize(
        model,
        nncf.Dataset(list(calibration)),
        preset=nncf.QuantizationPreset.PERFORMANCE,
        subset_size=len(calibration),
        ignored_scope=nncf.IgnoredScope(patterns=list(keep_float), validate=False),
    )
    target = out / "model.xml"
    openvino.save_model(quantized, str(target), compress_to_fp16=False)
    return target


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(re.search(pattern, name) for pattern in patterns)


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """ONNX Runtime's quantizer warns on the root logger, with a protobuf dump per tensor it
    leaves alone (hundreds of lines for a Piper voice): hold warnings back while it runs."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def convert_image_model(
    target: ImageModelTarget,
    source: Path,
    work: Path,
    scratch: Path,
    calibration: list[np.ndarray],
    keep_float: list[str],
) -> Path:
    """The fp32 ONNX image model `source` (a detector, a classifier) in the format and precision
    `target` names, written into `work`."""
    if (target.format, target.precision) == ("onnx", "fp32"):
        return onnx_fp32(source, work)
    fp32 = onnx_fp32(source, scratch)
    conversions: dict[tuple[str, str], Callable[[], Path]] = {
        ("onnx", "fp16"): lambda: onnx_fp16(fp32, work),
        ("onnx", "int8"): lambda: onnx_int8(fp32, work, calibration, keep_float, scratch),
        ("openvino", "fp32"): lambda: openvino_ir(fp32, work, fp16=False),
        ("openvino", "fp16"): lambda: openvino_ir(fp32, work, fp16=True),
        ("openvino", "int8"): lambda: openvino_int8(fp32, work, calibration, keep_float),
    }
    return conversions[(target.format, target.precision)]()
