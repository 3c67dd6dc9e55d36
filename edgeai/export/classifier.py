"""Export an image-classifier recipe: a Hugging Face checkpoint to ONNX (optimum), then the same
fp16 / static int8 / OpenVINO conversions as a detector, gated on top-1 agreement.

The checkpoint itself (transformers, float32) is the reference: each artifact, run by the same
tensor engines the runtime uses, must pick the same top class on the evaluation pictures.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from edgeai.export.recipe import ClassifierRecipe, ImageModelTarget
from edgeai.manifest import Manifest

TOOLS = ("optimum", "transformers", "onnx", "onnxruntime", "openvino", "nncf")


@dataclass(frozen=True)
class Bench:
    onnx_fp32: Path
    calibration: list[np.ndarray]
    evaluation: list[np.ndarray]
    reference: Any
    """The checkpoint as a transformers model."""
    reference_top1: list[int]


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
            "the checkpoint to ONNX, and on the pictures",
            lambda: _bench(recipe, source.path.parent, Path(scratch)),
            lambda target, bench: _build_target(recipe, target, context, source, bench),
        )


def _bench(recipe: ClassifierRecipe, checkpoint: Path, scratch: Path) -> Bench:
    import torch
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    def load() -> tuple[Any, Any]:
        processor = AutoImageProcessor.from_pretrained(str(checkpoint))  # type: ignore[no-untyped-call]
        return processor, AutoModelForImageClassification.from_pretrained(str(checkpoint)).eval()

    processor, reference = converted(
        f"{recipe.name}: loading {checkpoint} as an image-classification checkpoint", load
    )
    fp32 = converted(f"{recipe.name}: export to ONNX", lambda: _onnx(checkpoint, scratch))

    def tensors(images: list[np.ndarray]) -> list[np.ndarray]:
        rgb = [image[:, :, ::-1] for image in images]
        return [processor(picture, return_tensors="np").pixel_values for picture in rgb]

    calibration = tensors(pictures(recipe.calibration, "calibration"))
    evaluation = tensors(pictures(recipe.evaluation, "evaluation"))
    with torch.no_grad():
        top1 = [int(reference(torch.from_numpy(x)).logits.argmax()) for x in evaluation]
    return Bench(fp32, calibration, evaluation, reference, top1)


def _onnx(checkpoint: Path, scratch: Path) -> Path:
    from optimum.onnxruntime import ORTModelForImageClassification

    folder = scratch / "onnx"
    ORTModelForImageClassification.from_pretrained(str(checkpoint), export=True).save_pretrained(
        str(folder)
    )
    return folder / "model.onnx"


def _build_target(
    recipe: ClassifierRecipe,
    target: ImageModelTarget,
    context: ExportContext,
    source: Source,
    bench: Bench,
) -> Manifest:
    import torch

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
        with torch.no_grad():
            reference_ms, latency_ms = latencies_side_by_side(
                lambda: bench.reference(torch.from_numpy(sample)), lambda: model.run(sample)
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
