"""Conversions of a Hugging Face Whisper checkpoint: CTranslate2, ONNX (optimum), OpenVINO IR.

Each writes its files into `out` and returns the file a loader starts from. CTranslate2 is what
the runtime's faster-whisper backend loads; faster-whisper also needs the fast tokenizer's
tokenizer.json, which a checkpoint may lack, so it is made from the checkpoint's tokenizer.
The ONNX export is optimum's encoder + decoder + decoder-with-past; its int8 variant quantizes
the weights of each graph dynamically (transformer MatMuls, no calibration).
"""

from __future__ import annotations

from pathlib import Path

from edgeai.export.onnx_convert import onnx_int8_dynamic

CT2_QUANTIZATION = {"fp32": "float32", "fp16": "float16", "int8": "int8"}


def ctranslate2(checkpoint: Path, out: Path, precision: str, scratch: Path) -> Path:
    import ctranslate2 as ct2

    converted = scratch / "ct2"  # the converter wants a folder of its own
    ct2.converters.TransformersConverter(str(checkpoint)).convert(
        str(converted), quantization=CT2_QUANTIZATION[precision]
    )
    for part in converted.iterdir():
        part.rename(out / part.name)
    converted.rmdir()
    _fast_tokenizer_file(checkpoint, out)
    return out / "model.bin"


def _fast_tokenizer_file(checkpoint: Path, out: Path) -> None:
    """tokenizer.json, made from the checkpoint's tokenizer when the checkpoint has none."""
    from transformers import AutoTokenizer

    if not (out / "tokenizer.json").is_file():
        fast = AutoTokenizer.from_pretrained(str(checkpoint), use_fast=True)  # type: ignore[no-untyped-call]
        fast.backend_tokenizer.save(str(out / "tokenizer.json"))


def onnx(checkpoint: Path, out: Path, int8: bool, scratch: Path) -> Path:
    from optimum.onnxruntime import ORTModelForSpeechSeq2Seq

    exported = scratch / "onnx-fp32" if int8 else out
    ORTModelForSpeechSeq2Seq.from_pretrained(str(checkpoint), export=True).save_pretrained(
        str(exported)
    )
    if int8:
        for graph in sorted(exported.glob("*.onnx")):
            quantized = onnx_int8_dynamic(graph, scratch)
            quantized.rename(out / graph.name)
        for other in exported.iterdir():
            if other.suffix != ".onnx":
                other.rename(out / other.name)
    _copy_processor(checkpoint, out)
    return out / "encoder_model.onnx"


def openvino_int8(checkpoint: Path, out: Path) -> Path:
    from optimum.intel import OVModelForSpeechSeq2Seq, OVWeightQuantizationConfig

    OVModelForSpeechSeq2Seq.from_pretrained(
        str(checkpoint), export=True, quantization_config=OVWeightQuantizationConfig(bits=8)
    ).save_pretrained(str(out))
    _copy_processor(checkpoint, out)
    return out / "openvino_encoder_model.xml"


def _copy_processor(checkpoint: Path, out: Path) -> None:
    """The feature extractor and tokenizer, so the artifact folder loads on its own, with the
    fast tokenizer's tokenizer.json the runtime's ONNX backend decodes with."""
    from transformers import WhisperProcessor

    WhisperProcessor.from_pretrained(str(checkpoint)).save_pretrained(str(out))
    _fast_tokenizer_file(checkpoint, out)
