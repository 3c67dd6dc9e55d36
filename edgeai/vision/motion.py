"""The motion gate: cheap change detection that decides whether the detector runs at all.

Works on a small blurred grey copy of the frame against a running background. Before comparing,
the frame's brightness is scaled to the background's, so a cloud or a lamp that changes the whole
picture is not motion; a change over most of the frame at once is taken as a lighting change and
the background is re-learnt. Masked areas (a tree, a TV, a timestamp overlay) never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edgeai.vision.detection import Box

Polygon = Sequence[tuple[float, float]]
"""Corners as fractions of the frame's width and height (0..1), so any resolution fits."""


@dataclass(frozen=True)
class MotionSettings:
    pixel_threshold: int
    """Grey-level difference (0..255) that counts a pixel as changed (camera.motion)."""
    min_area: float
    """Fraction of the frame that must change to call it motion (camera.motion)."""
    width: int = 160
    """Width of the grey copy the gate works on."""
    lighting_change_area: float = 0.6
    """A change over this much of the frame at once is light, not motion."""
    learn_rate: float = 0.03
    """How fast the background follows the scene, per frame: a person who stands still fades
    into it in a few seconds (the tracker keeps them), and so does the ghost they leave."""


@dataclass(frozen=True)
class Motion:
    boxes: list[Box]
    """Changed regions in frame pixels."""
    area: float
    """Fraction of the frame that changed."""
    lighting_change: bool = False

    def __bool__(self) -> bool:
        return bool(self.boxes)


class MotionGate:
    def __init__(self, settings: MotionSettings, masks: Sequence[Polygon] = ()) -> None:
        self.settings = settings
        self._masks = list(masks)
        self._background: np.ndarray | None = None
        self._keep: np.ndarray | None = None
        self._last: np.ndarray | None = None
        """The latest frame's grey copy, at the background's brightness."""
        self._scale = 1.0
        self.lighting_changes = 0

    def update(self, frame: np.ndarray) -> Motion:
        grey = self._small_grey(frame)
        if self._background is None or self._background.shape != grey.shape:
            # the first frame, or the camera changed its resolution: learn the scene anew
            self._background = grey
            return Motion([], 0.0)
        background = self._background
        gain = float(background.mean()) / max(float(grey.mean()), 1.0)
        grey *= gain
        self._last = grey
        changed = (cv2.absdiff(grey, background) > self.settings.pixel_threshold).astype(np.uint8)
        if self._keep is not None:
            changed &= self._keep
        area = float(changed.mean())
        if area >= self.settings.lighting_change_area:
            self.lighting_changes += 1
            self._background = grey
            return Motion([], area, lighting_change=True)
        cv2.accumulateWeighted(grey, background, self.settings.learn_rate)
        if area < self.settings.min_area:
            return Motion([], area)
        return Motion(self._regions(changed), area)

    def forget(self, boxes: list[Box], keep: list[Box]) -> None:
        """Take what the frame shows in `boxes` (frame pixels), except in `keep`, into the
        background at once: the detector looked there and found nobody, so what changed is
        the ghost of someone who left or stood up, a moved chair, a shadow; left to fade, it
        would keep waking the detector for seconds, and widen its crops."""
        if self._background is None or self._last is None:
            return
        background, last = self._background, self._last
        kept = [self._cells(box) for box in keep]
        saved = [background[y1:y2, x1:x2].copy() for x1, y1, x2, y2 in kept]
        for box in boxes:
            x1, y1, x2, y2 = self._cells(box)
            background[y1:y2, x1:x2] = last[y1:y2, x1:x2]
        for (x1, y1, x2, y2), before in zip(kept, saved, strict=True):
            background[y1:y2, x1:x2] = before

    def _cells(self, box: Box) -> tuple[int, int, int, int]:
        """`box` (frame pixels) in the grey copy's pixels, covering it."""
        s = self._scale
        x1, y1 = max(0, int(box.x1 / s)), max(0, int(box.y1 / s))
        return x1, y1, int(np.ceil(box.x2 / s)), int(np.ceil(box.y2 / s))

    def _small_grey(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        self._scale = w / self.settings.width
        size = (self.settings.width, max(1, round(h / self._scale)))
        grey = cv2.cvtColor(
            cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        grey = cv2.GaussianBlur(grey, (5, 5), 0).astype(np.float32)
        if self._masks and (self._keep is None or self._keep.shape != grey.shape):
            self._keep = _outside(self._masks, grey.shape)
        return grey

    def _regions(self, changed: np.ndarray) -> list[Box]:
        changed = cv2.dilate(changed, np.ones((5, 5), np.uint8))
        contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            s = self._scale
            boxes.append(Box(x * s, y * s, (x + w) * s, (y + h) * s))
        return boxes


def _outside(masks: Sequence[Polygon], shape: tuple[int, ...]) -> np.ndarray:
    """1 where motion counts, 0 inside any mask."""
    h, w = shape[:2]
    keep = np.ones((h, w), np.uint8)
    for polygon in masks:
        corners = np.round(np.asarray(polygon, np.float32) * [w, h]).astype(np.int32)
        cv2.fillPoly(keep, [corners], 0)
    return keep
