"""What a detector reports, and the geometry shared by detectors and the tracker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """Pixel coordinates in the frame: left, top, right, bottom."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom centre: where a standing person touches the floor (how zones are tested)."""
        return ((self.x1 + self.x2) / 2, self.y2)

    def overlaps(self, other: Box) -> bool:
        return (
            self.x1 < other.x2 and other.x1 < self.x2 and self.y1 < other.y2 and other.y1 < self.y2
        )

    def iou(self, other: Box) -> float:
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        if w <= 0 or h <= 0:
            return 0.0
        inter = w * h
        return inter / (self.area + other.area - inter)

    def cut_by_edge(self, width: float, height: float, margin: float = 0.01) -> bool:
        """Within `margin` (a fraction of the width or height) of a side of a `width` x
        `height` picture: what it holds goes on outside the picture."""
        margin_x, margin_y = margin * width, margin * height
        return (
            self.x1 <= margin_x
            or self.y1 <= margin_y
            or self.x2 >= width - margin_x
            or self.y2 >= height - margin_y
        )

    def as_list(self) -> list[int]:
        return [round(self.x1), round(self.y1), round(self.x2), round(self.y2)]


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: Box


class Detector(Protocol):
    """A role backend: one BGR frame in, detections in that frame's pixels out."""

    labels: tuple[str, ...]

    def detect(self, image: np.ndarray) -> list[Detection]: ...


def non_max_suppression(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float
) -> list[int]:
    """Indices kept after per-class NMS; `boxes` are (N, 4) x1, y1, x2, y2."""
    if len(boxes) == 0:
        return []
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
    kept = cv2.dnn.NMSBoxesBatched(
        xywh.tolist(), scores.tolist(), classes.tolist(), 0.0, iou_threshold
    )
    return [int(i) for i in np.asarray(kept).reshape(-1)]


@dataclass(frozen=True)
class Letterbox:
    """How a frame (or a crop of it) was scaled and placed in the model input, to map boxes
    back: input = frame * scale + pad (a crop's pad is minus its corner, scaled)."""

    scale: float
    pad_x: float
    pad_y: float

    def to_frame(self, boxes: np.ndarray) -> np.ndarray:
        out: np.ndarray = boxes.astype(np.float32).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        return out


def letterbox(image: np.ndarray, size: int, fill: int = 114) -> tuple[np.ndarray, Letterbox]:
    """`image` scaled to fit a size x size square, centred, the rest filled grey."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    new_w, new_h = round(w * scale), round(h * scale)
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    canvas = np.full((size, size, 3), fill, np.uint8)
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return canvas, Letterbox(scale, pad_x, pad_y)


def draw_detections(
    image: np.ndarray, detections: list[Detection], highlight: Box | None = None, title: str = ""
) -> np.ndarray:
    """A copy of `image` with each detection boxed and labelled; `highlight` drawn in red."""
    out: np.ndarray = image.copy()
    for d in detections:
        x1, y1, x2, y2 = d.box.as_list()
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 200, 0), 2)
        text = f"{d.label} {d.score:.2f}"
        cv2.putText(out, text, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 200, 0), 1)
    if highlight is not None:
        x1, y1, x2, y2 = highlight.as_list()
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 0, 255), 2)
    if title:
        cv2.putText(out, title, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2)
    return out


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes
