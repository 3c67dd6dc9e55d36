"""Named polygon zones in the picture ("door", "driveway"); a person is in a zone when the point
where they touch the floor (the bottom centre of their box) is inside it, as Frigate does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edgeai.vision.detection import Box


@dataclass(frozen=True)
class Zone:
    name: str
    polygon: tuple[tuple[float, float], ...]
    """Corners as fractions (0..1) of the frame's width and height."""

    def contains(self, box: Box, width: int, height: int) -> bool:
        x, y = box.foot
        corners = np.asarray(self.polygon, np.float32) * [width, height]
        return cv2.pointPolygonTest(corners.astype(np.float32), (x, y), False) >= 0


def zones_of(box: Box, zones: Sequence[Zone], width: int, height: int) -> list[str]:
    return [zone.name for zone in zones if zone.contains(box, width, height)]
