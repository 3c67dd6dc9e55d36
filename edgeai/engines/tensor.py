"""One-input tensor models on onnxruntime or OpenVINO behind one interface, for vision roles.

The profile says which engine a role uses; the detector code only sees `TensorModel`. Every file
is checked before a native library reads it, and OpenVINO is asked for f32 (on CPUs with bf16 it
otherwise changes the results).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from edgeai.engines.onnx import check_onnx_file, open_session
from edgeai.errors import ModelLoadError, first_line

log = logging.getLogger(__name__)

Engine = Literal["onnxruntime", "openvino"]
TFLITE_MAGIC = b"TFL3"


class TensorModel(Protocol):
    input_shape: tuple[int | str | None, ...]
    """Declared input shape: ints where fixed."""
    output_shapes: list[tuple[int | str | None, ...]]
    metadata: dict[str, str]
    """The model's own key/value metadata (class names, for a YOLO export)."""

    def run(self, tensor: np.ndarray) -> list[np.ndarray]: ...


class OnnxTensorModel:
    def __init__(self, path: Path, threads: int, providers: list[str] | None) -> None:
        self._session = open_session(path, threads=threads, providers=providers)
        self._input = self._session.get_inputs()[0].name
        self.input_shape = tuple(self._session.get_inputs()[0].shape)
        self.output_shapes = [tuple(o.shape) for o in self._session.get_outputs()]
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        return [np.asarray(out) for out in self._session.run(None, {self._input: tensor})]


class OpenVinoTensorModel:
    def __init__(self, path: Path, threads: int, device: str) -> None:
        model, compiled = compile_openvino(path, threads, device)
        self._request = compiled.create_infer_request()
        self.input_shape = tuple(_dims(model.inputs[0].get_partial_shape()))
        self.output_shapes = [tuple(_dims(o.get_partial_shape())) for o in model.outputs]
        self.metadata = _framework_metadata(model)

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        result = self._request.infer({0: tensor})
        return [np.asarray(result[i]) for i in range(len(self.output_shapes))]


class OpenVinoSession:
    """The part of onnxruntime's InferenceSession that Piper uses (`run` with named inputs),
    on OpenVINO: a voice exported to OpenVINO IR speaks through the same PiperVoice."""

    def __init__(self, path: Path, threads: int, device: str = "CPU") -> None:
        _, compiled = compile_openvino(path, threads, device)
        self._request = compiled.create_infer_request()
        self._outputs = compiled.outputs

    def run(
        self, output_names: list[str] | None, inputs: dict[str, np.ndarray]
    ) -> list[np.ndarray]:
        result = self._request.infer(inputs)
        return [np.asarray(result[output]) for output in self._outputs]


def compile_openvino(path: Path, threads: int, device: str) -> tuple[Any, Any]:
    """(model, compiled model) for `path` on `device` (the CPU, with one log line, when that
    device is not here), checked first, f32 on the CPU."""
    import openvino  # lazily: only profiles that place a role on OpenVINO pay for it

    check_model_file(path)
    core = openvino.Core()
    try:
        model = core.read_model(str(path))
    except Exception as e:  # OpenVINO raises RuntimeError subclasses for bad files
        raise ModelLoadError(f"{path}: OpenVINO cannot read it: {first_line(e)}") from None
    if device not in core.available_devices:
        log.warning("OpenVINO device %s not present; %s runs on the CPU", device, path.name)
        device = "CPU"
    config: dict[str, str | int] = {"INFERENCE_NUM_THREADS": threads}
    if device == "CPU":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    return model, core.compile_model(model, device, config)


def open_tensor_model(
    path: Path,
    engine: Engine,
    threads: int,
    providers: list[str] | None = None,
    openvino_device: str = "CPU",
) -> TensorModel:
    """The model at `path` on the chosen engine. TFLite files only load on OpenVINO."""
    check_model_file(path)
    if engine == "onnxruntime" and path.suffix == ".tflite":
        log.info("%s is TFLite, which onnxruntime cannot run; using OpenVINO", path.name)
        engine = "openvino"
    if engine == "openvino":
        return OpenVinoTensorModel(path, threads, openvino_device)
    return OnnxTensorModel(path, threads, providers)


def check_model_file(path: Path) -> None:
    """ModelLoadError unless `path` looks like the format its suffix names."""
    if path.suffix == ".onnx":
        check_onnx_file(path)
        return
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    if path.suffix == ".tflite":
        with path.open("rb") as f:
            header = f.read(8)
        if header[4:8] != TFLITE_MAGIC:
            raise ModelLoadError(f"{path}: not a TFLite file (no TFL3 identifier in its header)")
    elif path.suffix == ".xml":
        if not path.with_suffix(".bin").is_file():
            raise ModelLoadError(f"{path}: OpenVINO IR without its weights file {path.stem}.bin")
    else:
        raise ModelLoadError(f"{path}: unknown model format; expected .onnx, .tflite or .xml")


def _dims(shape: object) -> list[int | str | None]:
    return [d.get_length() if d.is_static else None for d in shape]  # type: ignore[attr-defined]


def _framework_metadata(model: object) -> dict[str, str]:
    """ONNX metadata_props, which OpenVINO keeps under rt_info['framework']."""
    if not model.has_rt_info(["framework"]):  # type: ignore[attr-defined]
        return {}
    keys = model.get_rt_info()["framework"]  # type: ignore[attr-defined]
    return {
        str(key): model.get_rt_info(["framework", key]).astype(str)  # type: ignore[attr-defined]
        for key in keys
    }
