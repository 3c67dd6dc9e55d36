"""Export a detector recipe: convert, load each artifact as the runtime would, gate it, record it.

Every artifact is judged against its source in the same run, on the same pictures: mAP@0.5 on
labelled pictures (the gate), agreement with the source's boxes, and latency measured side by
side. Each artifact folder is built aside and renamed into place with its manifest, so a failure
at any step leaves nothing half-written.
"""

from __future__ import annotations

import importlib.metadata
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from tqdm import tqdm

from edgeai.artifacts import Gate, Manifest, SourceRecord, write_manifest
from edgeai.atomic import staged_dir
from edgeai.catalog import Catalog, Licence, ModelFile
from edgeai.errors import EdgeAIError, ExportError, first_line
from edgeai.export import image_model_convert as convert
from edgeai.export.detection_metrics import box_agreement, mean_average_precision
from edgeai.export.recipe import DetectorRecipe, DetectorTarget, ImageSet
from edgeai.profiles import Profile, Profiles, RoleAssignment
from edgeai.store import ModelStore
from edgeai.store.files import hash_file
from edgeai.synthetic.people_images import labelled_people_images
from edgeai.vision.build import load_detector
from edgeai.vision.detection import Box, Detection, letterbox
from edgeai.vision.yolo import DEFAULT_SCORE, YoloDetector

EVAL_MIN_SCORE = 0.05
"""mAP counts low-score boxes too (they raise recall); agreement uses the runtime's threshold."""
LATENCY_RUNS = 10
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TOOLS = ("onnx", "onnxruntime", "openvino", "nncf")


@dataclass(frozen=True)
class Scored:
    """What one model did on the evaluation pictures."""

    detections: list[list[Detection]]
    map50: float
    per_class: dict[str, float]


@dataclass(frozen=True)
class ExportContext:
    store: ModelStore
    catalog: Catalog
    profiles: Profiles
    host: Profile
    """The profile of this machine: its thread count is used for latency figures."""
    out_root: Path


def export_detector(
    recipe: DetectorRecipe, context: ExportContext, profile: str | None = None
) -> list[Manifest]:
    """Build the recipe's targets (only those meant for `profile`, when given)."""
    targets = _chosen_targets(recipe, context.profiles, profile)
    source, licence = _checked_source(recipe, context)
    steps = 3 + len(targets)
    with tqdm(total=steps, desc=f"export {recipe.name}", unit="step", disable=None) as bar:
        bar.set_postfix_str("reading pictures")
        reference = _open(source, "onnxruntime", context.host)
        size = reference.size
        calibration = [_tensor(image, size) for image in _calibration_images(recipe.calibration)]
        evaluation = list(
            labelled_people_images(recipe.evaluation.synthetic or 0, recipe.evaluation.seed)
        )
        truths = [
            [
                (recipe.classes[p], Box(*map(float, box)))
                for p, box in zip(e.postures, e.boxes, strict=True)
                if p in recipe.classes
            ]
            for e in evaluation
        ]
        images = [e.image for e in evaluation]
        bar.update()
        bar.set_postfix_str("source")
        baseline = _score(reference, images, truths)
        bar.update()
        manifests = []
        for target in targets:
            bar.set_postfix_str(target.name)
            manifests.append(
                _build_target(
                    recipe,
                    target,
                    context,
                    source,
                    licence,
                    calibration,
                    images,
                    truths,
                    reference,
                    baseline,
                )
            )
            bar.update()
        bar.set_postfix_str("done")
        bar.update()
    return manifests


def _build_target(
    recipe: DetectorRecipe,
    target: DetectorTarget,
    context: ExportContext,
    source: Path,
    licence: Licence,
    calibration: list[np.ndarray],
    images: list[np.ndarray],
    truths: list[list[tuple[str, Box]]],
    reference: YoloDetector,
    baseline: Scored,
) -> Manifest:
    final = context.out_root / recipe.name / target.name
    with staged_dir(final) as work:
        scratch = work / ".scratch"
        scratch.mkdir()
        try:
            model_file = _convert(target, source, work, scratch, calibration, recipe.keep_float)
        except EdgeAIError:
            raise
        except Exception as e:  # converters raise anything from RuntimeError to protobuf errors
            raise ExportError(
                f"{recipe.name}/{target.name}: conversion to {target.format} {target.precision} "
                f"failed: {first_line(e)}"
            ) from None
        for leftover in scratch.iterdir():
            leftover.unlink()
        scratch.rmdir()
        detector = _open(model_file, target.runtime_engine, context.host)
        scored = _score(detector, images, truths)
        reference_ms, latency_ms = _latencies_side_by_side(reference, detector, images[0])
        manifest = Manifest(
            recipe=recipe.name,
            target=target.name,
            role="detector",
            source=SourceRecord(
                model=recipe.source.model,
                file=str(recipe.source.path or source.name),
                sha256=recipe.source.sha256,
                size_bytes=source.stat().st_size,
                licence=licence,
            ),
            format=target.format,
            precision=target.precision,
            engine=target.runtime_engine,
            profiles=target.profiles,
            preference=recipe.targets.index(target),
            files=[_described(path) for path in _model_files(model_file)],
            latency_ms=round(latency_ms, 1),
            reference_latency_ms=round(reference_ms, 1),
            accuracy={
                "map50": round(scored.map50, 4),
                "reference_map50": round(baseline.map50, 4),
                "box_agreement": round(
                    box_agreement(_confident(scored.detections), _confident(baseline.detections)), 4
                ),
                **{f"ap50_{label}": round(ap, 4) for label, ap in scored.per_class.items()},
            },
            gate=Gate(
                metric="map50",
                reference=round(baseline.map50, 4),
                value=round(scored.map50, 4),
                max_drop=recipe.gate.max_map_drop,
            ),
            created=datetime.now(timezone.utc).replace(microsecond=0),
            tools={tool: importlib.metadata.version(tool) for tool in TOOLS},
        )
        write_manifest(work, manifest)
    return manifest


def _convert(
    target: DetectorTarget,
    source: Path,
    work: Path,
    scratch: Path,
    calibration: list[np.ndarray],
    keep_float: list[str],
) -> Path:
    fp32 = convert.onnx_fp32(source, scratch)
    conversions: dict[tuple[str, str], Callable[[], Path]] = {
        ("onnx", "fp32"): lambda: convert.onnx_fp32(source, work),
        ("onnx", "fp16"): lambda: convert.onnx_fp16(fp32, work),
        ("onnx", "int8"): lambda: convert.onnx_int8(fp32, work, calibration, keep_float, scratch),
        ("openvino", "fp32"): lambda: convert.openvino_ir(fp32, work, fp16=False),
        ("openvino", "fp16"): lambda: convert.openvino_ir(fp32, work, fp16=True),
        ("openvino", "int8"): lambda: convert.openvino_int8(fp32, work, calibration, keep_float),
    }
    model_file = conversions[(target.format, target.precision)]()
    return model_file


def _chosen_targets(
    recipe: DetectorRecipe, profiles: Profiles, profile: str | None
) -> list[DetectorTarget]:
    known = {p.name for p in profiles}
    for target in recipe.targets:
        unknown = sorted(set(target.profiles) - known)
        if unknown:
            raise ExportError(
                f"{recipe.name}/{target.name}: unknown profile {unknown}; known: {sorted(known)}"
            )
    if profile is None:
        return list(recipe.targets)
    profiles.get(profile)  # an unknown name is refused with the known ones
    chosen = [t for t in recipe.targets if profile in t.profiles]
    if not chosen:
        raise ExportError(f"{recipe.name}: no target is meant for profile {profile}")
    return chosen


def _checked_source(recipe: DetectorRecipe, context: ExportContext) -> tuple[Path, Licence]:
    """The source file, refused unless its sha256 is the recipe's."""
    if recipe.source.model is not None:
        entry = context.catalog.get(recipe.source.model)
        path = context.store.main_file(entry)
        licence = entry.licence
    else:
        assert recipe.source.path is not None
        path = recipe.source.path
        licence = Licence(spdx="NOASSERTION", commercial_use=False, note=recipe.licence_note)
    if not path.is_file():
        hint = f"run: edgeai models pull {recipe.source.model}" if recipe.source.model else ""
        raise ExportError(f"{recipe.name}: source {path} not found; {hint}".rstrip("; "))
    _, digest = hash_file(path)
    if digest != recipe.source.sha256:
        raise ExportError(
            f"{recipe.name}: source {path} has sha256 {digest}, the recipe expects "
            f"{recipe.source.sha256}: the source changed; check it, then update the recipe"
        )
    return path, licence


def _calibration_images(spec: ImageSet) -> list[np.ndarray]:
    if spec.synthetic is not None:
        return [e.image for e in labelled_people_images(spec.synthetic, spec.seed)]
    assert spec.images is not None
    files = sorted(p for p in spec.images.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not spec.images.is_dir() or not files:
        raise ExportError(
            f"calibration: {spec.images} has no .jpg or .png pictures; static int8 needs "
            f"{spec.count} pictures like the camera's"
        )
    images = []
    for path in files[: spec.count]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ExportError(f"calibration: {path} is not a readable picture")
        images.append(image)
    return images


def _open(path: Path, engine: Literal["onnxruntime", "openvino"], host: Profile) -> YoloDetector:
    role = RoleAssignment(model="export", engine=engine, threads=host.roles["detector"].threads)
    detector = load_detector(path, role, host, EVAL_MIN_SCORE)
    if not isinstance(detector, YoloDetector):
        raise ExportError(
            f"{path}: unsupported architecture; supported: YOLOv8-style detectors "
            "(input [1, 3, S, S], output [1, 4 + classes, anchors], class names in metadata)"
        )
    return detector


def _tensor(image: np.ndarray, size: int) -> np.ndarray:
    square, _ = letterbox(image, size)
    return np.ascontiguousarray(square[:, :, ::-1].transpose(2, 0, 1)[None], np.float32) / 255.0


def _score(
    detector: YoloDetector, images: Sequence[np.ndarray], truths: list[list[tuple[str, Box]]]
) -> Scored:
    detections = [detector.detect(image) for image in images]
    map50, per_class = mean_average_precision(detections, truths)
    return Scored(detections, map50, per_class)


def _latencies_side_by_side(
    reference: YoloDetector, candidate: YoloDetector, image: np.ndarray
) -> tuple[float, float]:
    """Median milliseconds per frame (letterbox, inference, suppression) of both, taking turns,
    so that a busy moment on a shared machine slows both alike."""
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(LATENCY_RUNS):
        for detector, runs in zip((reference, candidate), timings, strict=True):
            start = time.perf_counter()
            detector.detect(image)
            runs.append(time.perf_counter() - start)
    return 1000 * statistics.median(timings[0]), 1000 * statistics.median(timings[1])


def _confident(detections: list[list[Detection]]) -> list[list[Detection]]:
    threshold = DEFAULT_SCORE
    return [[d for d in found if d.score >= threshold] for found in detections]


def _model_files(main: Path) -> list[Path]:
    return [main, main.with_suffix(".bin")] if main.suffix == ".xml" else [main]


def _described(path: Path) -> ModelFile:
    size, digest = hash_file(path)
    return ModelFile(name=path.name, sha256=digest, size_bytes=size)
