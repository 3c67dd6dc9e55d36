"""Export a detector recipe: convert, load each artifact as the runtime would, gate it, record it.

Every artifact is judged against its source in the same run, on the same pictures: mAP@0.5 on
labelled pictures (the gate), agreement with the source's boxes, and latency measured taking
turns with the source. Each artifact folder is built aside and renamed into place with its
manifest, so a failure at any step leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from edgeai.device.profiles import Profile, RoleAssignment
from edgeai.errors import ExportError
from edgeai.export.common import (
    ExportContext,
    Measured,
    Source,
    artifact_manifest,
    build_artifact,
    checked_source,
    chosen_targets,
    latencies_side_by_side,
    run_targets,
    with_weights,
)
from edgeai.export.detection_metrics import box_agreement, mean_average_precision
from edgeai.export.onnx_convert import convert_image_model
from edgeai.export.pictures import pictures
from edgeai.export.recipe import DetectorRecipe, ImageModelTarget
from edgeai.models.manifest import Manifest
from edgeai.synthetic.held_out_scenes import HeldOutMaterial, labelled_heldout_images
from edgeai.synthetic.people_images import LabelledImage, labelled_people_images
from edgeai.vision.build import load_detector
from edgeai.vision.detection import Box, Detection
from edgeai.vision.yolo import DEFAULT_SCORE, YoloDetector, model_input

EVAL_MIN_SCORE = 0.05
"""mAP counts low-score boxes too (they raise recall); agreement uses the runtime's threshold."""
TOOLS = ("onnx", "onnxruntime", "openvino", "nncf")


@dataclass(frozen=True)
class Scored:
    """What one model did on the evaluation pictures."""

    detections: list[list[Detection]]
    map50: float
    per_class: dict[str, float]


@dataclass(frozen=True)
class Labelled:
    images: list[np.ndarray]
    truths: list[list[tuple[str, Box]]]


@dataclass(frozen=True)
class Bench:
    """The pictures and the source's results every artifact is compared with."""

    calibration: list[np.ndarray]
    in_family: Labelled
    """Composed of the same cut-out and wall as the calibration pictures (another seed)."""
    reference: YoloDetector
    baseline: Scored
    held_out: Labelled | None = None
    """Other people in another place (samples/heldout), when the recipe asks for them."""
    held_out_baseline: Scored | None = None


def export_detector(
    recipe: DetectorRecipe, context: ExportContext, profile: str | None = None
) -> list[Manifest]:
    """Build the recipe's targets (only those meant for `profile`, when given)."""
    targets = chosen_targets(recipe.name, recipe.targets, context.profiles, profile)
    source = checked_source(recipe.name, recipe.source, context)
    return run_targets(
        recipe.name,
        targets,
        "the source, on the pictures",
        lambda: _bench(recipe, source.path, context.host),
        lambda target, bench: _build_target(recipe, target, context, source, bench),
    )


def _bench(recipe: DetectorRecipe, source: Path, host: Profile) -> Bench:
    reference = _open(source, "onnxruntime", host)
    calibration = [
        model_input(image, reference.size)[0]
        for image in pictures(recipe.calibration, "calibration")
    ]
    in_family = _labelled(
        labelled_people_images(recipe.evaluation.synthetic or 0, recipe.evaluation.seed),
        recipe.classes,
    )
    baseline = _score(reference, in_family)
    spec = recipe.held_out
    if spec is None:
        return Bench(calibration, in_family, reference, baseline)
    try:
        material = HeldOutMaterial.load(spec.folder)
    except FileNotFoundError as e:
        raise ExportError(f"held_out: {e}") from None
    held_out = _labelled(
        labelled_heldout_images(spec.pictures, spec.seed, material), recipe.classes
    )
    return Bench(calibration, in_family, reference, baseline, held_out, _score(reference, held_out))


def _labelled(pictures: Iterable[LabelledImage], classes: dict[str, str]) -> Labelled:
    listed = list(pictures)
    truths = [
        [
            (classes[posture], Box(*map(float, box)))
            for posture, box in zip(picture.postures, picture.boxes, strict=True)
            if posture in classes
        ]
        for picture in listed
    ]
    return Labelled([picture.image for picture in listed], truths)


def _build_target(
    recipe: DetectorRecipe,
    target: ImageModelTarget,
    context: ExportContext,
    source: Source,
    bench: Bench,
) -> Manifest:
    def convert(work: Path, scratch: Path) -> Path:
        return convert_image_model(
            target, source.path, work, scratch, bench.calibration, recipe.keep_float
        )

    def measure(model_file: Path, _: Path) -> Manifest:
        detector = _open(model_file, target.runtime_engine, context.host)
        scored = _score(detector, bench.in_family)
        held_out = None if bench.held_out is None else _score(detector, bench.held_out)
        image = bench.in_family.images[0]
        reference_ms, latency_ms = latencies_side_by_side(
            lambda: bench.reference.detect(image), lambda: detector.detect(image)
        )
        agreement = box_agreement(
            _confident(scored.detections), _confident(bench.baseline.detections)
        )
        accuracy = {
            "map50": scored.map50,
            "reference_map50": bench.baseline.map50,
            "box_agreement": agreement,
            **{f"ap50_{name}": ap for name, ap in scored.per_class.items()},
        }
        metric, reference, value = "map50", bench.baseline.map50, scored.map50
        if held_out is not None and bench.held_out_baseline is not None:
            held_out_reference = bench.held_out_baseline.map50
            accuracy |= {
                "held_out_map50": held_out.map50,
                "reference_held_out_map50": held_out_reference,
            }
            if held_out_reference - held_out.map50 > reference - value:  # gate on the worse
                metric, reference, value = "held_out_map50", held_out_reference, held_out.map50
        return artifact_manifest(
            recipe,
            source,
            target,
            role="detector",
            engine=target.runtime_engine,
            files=with_weights(model_file),
            measured=Measured(
                metric=metric,
                reference=reference,
                value=value,
                max_drop=recipe.gate.max_map_drop,
                higher_is_better=True,
                latency_ms=latency_ms,
                reference_latency_ms=reference_ms,
                accuracy=accuracy,
            ),
            tools=TOOLS,
        )

    return build_artifact(context, recipe, target, convert, measure)


def _open(path: Path, engine: Literal["onnxruntime", "openvino"], host: Profile) -> YoloDetector:
    role = RoleAssignment(model="export", engine=engine, threads=host.roles["detector"].threads)
    detector = load_detector(path, role, host, EVAL_MIN_SCORE)
    if not isinstance(detector, YoloDetector):
        raise ExportError(
            f"{path}: unsupported architecture; supported: YOLOv8-style detectors "
            "(input [1, 3, S, S], output [1, 4 + classes, anchors], class names in metadata)"
        )
    return detector


def _score(detector: YoloDetector, pictures: Labelled) -> Scored:
    detections = [detector.detect(image) for image in pictures.images]
    map50, per_class = mean_average_precision(detections, pictures.truths)
    return Scored(detections, map50, per_class)


def _confident(detections: list[list[Detection]]) -> list[list[Detection]]:
    return [[d for d in found if d.score >= DEFAULT_SCORE] for found in detections]
