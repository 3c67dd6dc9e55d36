"""YOLOv8-style detectors (Ultralytics export, no NMS in the graph) on any tensor engine.

Input (1, 3, S, S) RGB in 0..1, letterboxed; output (1, 4 + classes, anchors) with centre x,
centre y, width, height in input pixels and one score per class. Class names come from the
model's own metadata (`names`), so a retrained model needs no code change.

Suppression is class-agnostic: the default model's classes are two states of one person
(upright, fallen) and it often reports both boxes for one body; per-class suppression would
keep both and the tracker would see two people.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from edgeai.engines.tensor import TensorModel
from edgeai.errors import ModelLoadError
from edgeai.vision.detection import (
    Box,
    Detection,
    Letterbox,
    clip_boxes,
    letterbox,
    non_max_suppression,
)

DEFAULT_SCORE = 0.45
"""A box below this score is not reported (config: camera.min_score)."""


class YoloDetector:
    def __init__(
        self,
        model: TensorModel,
        path: Path,
        score_threshold: float = DEFAULT_SCORE,
        iou_threshold: float = 0.5,
    ) -> None:
        self._model = model
        self.labels = _class_names(model, path)
        self.size = _square_input(model, path)
        _check_output(model, path, len(self.labels))
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold

    def detect(self, image: np.ndarray) -> list[Detection]:
        tensor, placement = model_input(image, self.size)
        predictions = self._model.run(tensor)[0][0]
        scores_by_class = predictions[4:].T
        classes = scores_by_class.argmax(axis=1)
        scores = scores_by_class[np.arange(len(classes)), classes]
        keep = scores >= self.score_threshold
        if not keep.any():
            return []
        cx, cy, w, h = predictions[:4, keep]
        corners = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        boxes = clip_boxes(placement.to_frame(corners), image.shape[1], image.shape[0])
        scores, classes = scores[keep], classes[keep]
        same_class = np.zeros(len(scores), np.int32)
        kept = non_max_suppression(boxes, scores, same_class, self.iou_threshold)
        return [
            Detection(self.labels[classes[i]], float(scores[i]), Box(*map(float, boxes[i])))
            for i in kept
        ]


def model_input(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """What the model is fed for a BGR `image` (1, 3, size, size RGB in 0..1, letterboxed), and
    where the picture sits in it. Calibration for int8 feeds exactly this."""
    square, placement = letterbox(image, size)
    tensor = square[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(tensor), placement


def _class_names(model: TensorModel, path: Path) -> tuple[str, ...]:
    text = model.metadata.get("names")
    if text is None:
        raise ModelLoadError(f"{path}: no class names in the model's metadata ('names')")
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ModelLoadError(f"{path}: class names metadata is not a dict: {text[:80]}") from None
    if not isinstance(names, dict) or sorted(names) != list(range(len(names))):
        raise ModelLoadError(f"{path}: class names must map 0..N-1 to names, got {text[:80]}")
    return tuple(str(names[i]) for i in range(len(names)))


def _square_input(model: TensorModel, path: Path) -> int:
    shape = model.input_shape
    if len(shape) != 4 or shape[1] != 3 or shape[2] != shape[3] or not isinstance(shape[2], int):
        raise ModelLoadError(
            f"{path}: not a YOLO detector: input shape {list(shape)}, expected [1, 3, S, S]"
        )
    return shape[2]


def _check_output(model: TensorModel, path: Path, classes: int) -> None:
    shape = model.output_shapes[0] if model.output_shapes else ()
    if len(shape) != 3 or shape[1] != 4 + classes:
        raise ModelLoadError(
            f"{path}: not a YOLO detector: output shape {list(shape)}, expected "
            f"[1, {4 + classes}, anchors] for {classes} classes"
        )
