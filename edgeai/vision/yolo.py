"""YOLOv8-style detectors (Ultralytics export, no NMS in the graph) on any tensor engine.

Input (1, 3, S, S) RGB in 0..1, letterboxed; output (1, 4 + classes, anchors) with centre x,
centre y, width, height in input pixels and one score per class. Class names come from the
model's own metadata (`names`), so a retrained model needs no code change.

A graph cut before its decoding head (`yolo_graph.any_size_graph`) gives the three per-scale
maps instead, for inputs of any size: the detector then also runs on crops of the frame
(`detect_crop`) at the scale it sees the whole frame at, and decodes the maps itself.

Suppression is class-agnostic: the default model's classes are two states of one person
(upright, fallen) and it often reports both boxes for one body; per-class suppression would
keep both and the tracker would see two people.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import cv2
import numpy as np

from edgeai.engines.tensor import TensorModel
from edgeai.errors import ModelLoadError
from edgeai.vision.detection import (
    Box,
    Detection,
    Letterbox,
    letterbox,
    non_max_suppression,
)
from edgeai.vision.regions import Crop

DEFAULT_SCORE = 0.45
"""A box below this score is not reported (a camera loop's detector: camera.detector_min_score,
the lower of camera.min_score and camera.partial_min_score)."""


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
        self.any_size = len(model.output_shapes) == 3
        """The model takes any input size (three per-scale maps out): crops are cheaper."""
        self.size = _exported_size(model, path) if self.any_size else _square_input(model, path)
        if not self.any_size:
            _check_output(model, path, len(self.labels))
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold

    def detect(self, image: np.ndarray) -> list[Detection]:
        tensor, placement = model_input(image, self.size)
        return self._detections(tensor, placement, (0, 0, image.shape[1], image.shape[0]))

    def detect_crop(self, image: np.ndarray, crop: Crop) -> list[Detection]:
        """Detections (in frame pixels) in `crop` of the frame `image`, fed at the crop's input
        size; only for a model that takes any size."""
        part = image[crop.y : crop.y + crop.height, crop.x : crop.x + crop.width]
        width, height = round(crop.width * crop.scale), round(crop.height * crop.scale)
        if (width, height) != (crop.width, crop.height):
            part = cv2.resize(part, (width, height), interpolation=cv2.INTER_LINEAR)
        sides = (crop.top, crop.bottom, crop.left, crop.right)
        canvas = cv2.copyMakeBorder(part, *sides, cv2.BORDER_REPLICATE)
        pad_x, pad_y = crop.left - crop.x * crop.scale, crop.top - crop.y * crop.scale
        placement = Letterbox(crop.scale, pad_x, pad_y)
        bounds = (crop.x, crop.y, crop.x + crop.width, crop.y + crop.height)
        return self._detections(_tensor(canvas), placement, bounds)

    def _detections(
        self, tensor: np.ndarray, placement: Letterbox, bounds: tuple[int, int, int, int]
    ) -> list[Detection]:
        outputs = self._model.run(tensor)
        if self.any_size:
            classes = len(self.labels)
            predictions = decode_maps(outputs, tensor.shape[2], classes, self.score_threshold)
        else:
            predictions = outputs[0][0]
        scores_by_class = predictions[4:].T
        classes = scores_by_class.argmax(axis=1)
        scores = scores_by_class[np.arange(len(classes)), classes]
        keep = scores >= self.score_threshold
        if not keep.any():
            return []
        cx, cy, w, h = predictions[:4, keep]
        corners = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        boxes = placement.to_frame(corners)
        left, top, right, bottom = bounds
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(left, right)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(top, bottom)
        scores, classes = scores[keep], classes[keep]
        same_class = np.zeros(len(scores), np.int32)
        kept = non_max_suppression(boxes, scores, same_class, self.iou_threshold)
        return [
            Detection(self.labels[classes[i]], float(scores[i]), Box(*map(float, boxes[i])))
            for i in kept
        ]


def decode_maps(
    maps: list[np.ndarray], input_height: int, classes: int, min_score: float
) -> np.ndarray:
    """What the shipped head computes from its three per-scale maps, (4 + classes, points):
    centre x, centre y, width, height in input pixels and the class scores, for the anchor
    points whose best class scores at least `min_score` (the others are dropped anyway).

    Each map is (1, 4 * bins + classes, h, w): per side of the box (left, top, right, bottom),
    a distribution over `bins` distances in strides from the cell's centre, then class logits.
    """
    threshold = math.log(min_score / (1 - min_score))
    columns = []
    for features in maps:
        _, channels, h, w = features.shape
        bins, rest = divmod(channels - classes, 4)
        if rest or bins < 1:
            raise ValueError(f"a YOLO map has {channels} channels; not 4 * bins + {classes}")
        stride = input_height / h
        flat = features[0].reshape(channels, h * w)
        logits = flat[4 * bins :]
        points = np.flatnonzero(logits.max(axis=0) >= threshold)
        if not points.size:
            continue
        spread = flat[: 4 * bins, points].reshape(4, bins, -1)
        weights = np.exp(spread - spread.max(axis=1, keepdims=True))
        steps = np.arange(bins, dtype=np.float32)[None, :, None]
        left, top, right, bottom = (weights * steps).sum(axis=1) / weights.sum(axis=1)
        ax, ay = points % w + 0.5, points // w + 0.5
        x1, y1, x2, y2 = ax - left, ay - top, ax + right, ay + bottom
        box = np.vstack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]) * stride
        columns.append(np.vstack([box, 1 / (1 + np.exp(-logits[:, points]))]))
    if not columns:
        return np.zeros((4 + classes, 0), np.float32)
    return np.hstack(columns)


def model_input(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """What the model is fed for a BGR `image` (1, 3, size, size RGB in 0..1, letterboxed), and
    where the picture sits in it. Calibration for int8 feeds exactly this."""
    square, placement = letterbox(image, size)
    return _tensor(square), placement


def _tensor(picture: np.ndarray) -> np.ndarray:
    """A BGR picture as the model's (1, 3, h, w) RGB input in 0..1."""
    tensor = picture[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(tensor)


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


def _exported_size(model: TensorModel, path: Path) -> int:
    """The square size a model with a free input size was exported for (metadata `imgsz`):
    the size a whole frame is fed at."""
    text = model.metadata.get("imgsz", "")
    try:
        size = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        size = None
    if not isinstance(size, list) or len(size) != 2 or size[0] != size[1]:
        raise ModelLoadError(f"{path}: no square export size in the metadata ('imgsz': {text!r})")
    return int(size[0])


def _check_output(model: TensorModel, path: Path, classes: int) -> None:
    shape = model.output_shapes[0] if model.output_shapes else ()
    if len(shape) != 3 or shape[1] != 4 + classes:
        raise ModelLoadError(
            f"{path}: not a YOLO detector: output shape {list(shape)}, expected "
            f"[1, {4 + classes}, anchors] for {classes} classes"
        )
