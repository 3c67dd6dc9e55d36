"""Export an image-classifier recipe: a Hugging Face checkpoint (through optimum) or a
TorchScript file (a torchvision model; through torch.onnx) to ONNX, then the same fp16 / static
int8 / OpenVINO conversions as a detector, gated on top-1 agreement.

The source itself (transformers or TorchScript, float32) is the reference: each artifact, run by
the same tensor engines the runtime uses, must pick the same top class on the evaluation
pictures.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeai.engines.tensor import open_tensor_model
from edgeai.export.common import (
    ExportContext,
    Measured,
    Source,
    artifact_manifest,
    build_artifact,
    checked_source,
    chosen_targets,
    converted,
    latencies_side_by_side,
    run_targets,
    with_weights,
)
from edgeai.export.onnx_convert import convert_image_model
from edgeai.export.pictures import pictures
from edgeai.export.recipe import (
    TORCHSCRIPT_SUFFIXES,
    ClassifierRecipe,
    ImageModelTarget,
    TorchScriptInput,
)
from edgeai.models.manifest import Manifest

TOOLS = ("torch", "optimum", "transformers", "onnx", "onnxruntime", "openvino", "nncf")


@dataclass(frozen=True)
class Bench:
    onnx_fp32: Path
    calibration: list[np.ndarray]
    evaluation: list[np.ndarray]
    reference: Callable[[np.ndarray], np.ndarray]
    """The source's logits for one input tensor."""
    reference_top1: list[int]


@dataclass(frozen=True)
class Loaded:
    """A source ready to measure against: its logits, its preprocessing, its ONNX export."""

    logits: Callable[[np.ndarray], np.ndarray]
    tensors: Callable[[list[np.ndarray]], list[np.ndarray]]
    export_onnx: Callable[[Path], Path]


def export_classifier(
    recipe: ClassifierRecipe, context: ExportContext, profile: str | None = None
) -> list[Manifest]:
    """Build the recipe's targets (only those meant for `profile`, when given)."""
    targets = chosen_targets(recipe.name, recipe.targets, context.profiles, profile)
    source = checked_source(recipe.name, recipe.source, context)
    context.out_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".scratch-", dir=context.out_root) as scratch:
        return run_targets(
            recipe.name,
            targets,
            "the source to ONNX, and on the pictures",
            lambda: _bench(recipe, source.path, Path(scratch)),
            lambda target, bench: _build_target(recipe, target, context, source, bench),
        )


def _bench(recipe: ClassifierRecipe, weights: Path, scratch: Path) -> Bench:
    torchscript = weights.suffix in TORCHSCRIPT_SUFFIXES
    loaded = converted(
        f"{recipe.name}: loading {weights} as "
        + ("a TorchScript classifier" if torchscript else "an image-classification checkpoint"),
        lambda: (
            _torchscript(weights, recipe.torchscript_input)
            if torchscript
            else _checkpoint(weights.parent)
        ),
    )
    fp32 = converted(f"{recipe.name}: export to ONNX", lambda: loaded.export_onnx(scratch))
    calibration = loaded.tensors(pictures(recipe.calibration, "calibration"))
    evaluation = loaded.tensors(pictures(recipe.evaluation, "evaluation"))
    top1 = [int(np.argmax(loaded.logits(x))) for x in evaluation]
    return Bench(fp32, calibration, evaluation, loaded.logits, top1)


def _checkpoint(checkpoint: Path) -> Loaded:
    import torch
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    processor = AutoImageProcessor.from_pretrained(str(checkpoint))  # type: ignore[no-untyped-call]
    model = AutoModelForImageClassification.from_pretrained(str(checkpoint)).eval()

    def logits(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return np.asarray(model(torch.from_numpy(x)).logits.numpy())

    def tensors(images: list[np.ndarray]) -> list[np.ndarray]:
        rgb = [image[:, :, ::-1] for image in images]
        return [processor(picture, return_tensors="np").pixel_values for picture in rgb]

    def export_onnx(scratch: Path) -> Path:
        from optimum.onnxruntime import ORTModelForImageClassification

        folder = scratch / "onnx"
        exported = ORTModelForImageClassification.from_pretrained(str(checkpoint), export=True)
        exported.save_pretrained(str(folder))
        return folder / "model.onnx"

    return Loaded(logits, tensors, export_onnx)


def _torchscript(path: Path, spec: TorchScriptInput) -> Loaded:
    import cv2
    import torch

    model = torch.jit.load(str(path), map_location="cpu").eval()  # type: ignore[no-untyped-call]
    mean = np.asarray(spec.mean, np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(spec.std, np.float32).reshape(1, 3, 1, 1)

    def logits(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return np.asarray(model(torch.from_numpy(x)))

    def tensors(images: list[np.ndarray]) -> list[np.ndarray]:
        square = [cv2.resize(image, (spec.size, spec.size), interpolation=cv2.INTER_AREA)
                  for image in images]  # fmt: skip
        batch = [
            rgb[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255 for rgb in square
        ]
        return [np.ascontiguousarray((x - mean) / std, dtype=np.float32) for x in batch]

    def export_onnx(scratch: Path) -> Path:
        out = scratch / "model.onnx"
        example = torch.zeros(1, 3, spec.size, spec.size)
        torch.onnx.export(
            model, (example,), str(out), input_names=["pixel_values"], output_names=["logits"],
            dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
        return out

    return Loaded(logits, tensors, export_onnx)


def _build_target(
    recipe: ClassifierRecipe,
    target: ImageModelTarget,
    context: ExportContext,
    source: Source,
    bench: Bench,
) -> Manifest:
    def convert(work: Path, scratch: Path) -> Path:
        return convert_image_model(
            target, bench.onnx_fp32, work, scratch, bench.calibration, recipe.keep_float
        )

    def measure(model_file: Path, _: Path) -> Manifest:
        threads = context.host.roles["detector"].threads
        model = open_tensor_model(model_file, target.runtime_engine, threads)
        top1 = [int(np.argmax(model.run(x)[0])) for x in bench.evaluation]
        agreement = float(
            np.mean([a == b for a, b in zip(top1, bench.reference_top1, strict=True)])
        )
        sample = bench.evaluation[0]
        reference_ms, latency_ms = latencies_side_by_side(
            lambda: bench.reference(sample), lambda: model.run(sample)
        )
        return artifact_manifest(
            recipe,
            source,
            target,
            role="classifier",
            engine=target.runtime_engine,
            files=with_weights(model_file),
            measured=Measured(
                metric="top1_agreement",
                reference=1.0,
                value=agreement,
                max_drop=recipe.gate.max_agreement_drop,
                higher_is_better=True,
                latency_ms=latency_ms,
                reference_latency_ms=reference_ms,
                accuracy={"top1_agreement": agreement, "pictures": len(top1)},
            ),
            tools=TOOLS,
        )

    return build_artifact(context, recipe, target, convert, measure)
