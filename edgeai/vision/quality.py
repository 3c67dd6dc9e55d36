"""Frames that show nothing: black (a covered lens, the lights out), over-exposed (the sun in
the lens), flat (a grey error frame) or frozen (a stream repeating its last picture).

The detector never sees them, so a dark or white blob and a stale picture of someone lying
make no person or fall events. Real sensors add noise to every frame, so two frames that are
exactly equal on a small grey copy are a repeat, not a still scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np


class PictureProblem(Enum):
    BLACK = "black"
    OVEREXPOSED = "over-exposed"
    FLAT = "flat"
    FROZEN = "frozen"


@dataclass(frozen=True)
class QualitySettings:
    width: int = 80
    """Width of the grey copy the checks work on."""
    black_level: float = 12.0
    """Mean grey (0..255) at or below which a frame is black."""
    white_share: float = 0.9
    """Share of pixels at 250 or more above which a frame is over-exposed."""
    flat_std: float = 1.5
    """Grey standard deviation below which a frame shows no structure at all."""


class PictureCheck:
    def __init__(self, settings: QualitySettings | None = None) -> None:
        self.settings = settings or QualitySettings()
        self._previous: np.ndarray | None = None

    def problem(self, frame: np.ndarray) -> PictureProblem | None:
        """What is wrong with `frame` (None: fit for the detector)."""
        h, w = frame.shape[:2]
        size = (self.settings.width, max(1, round(h * self.settings.width / w)))
        grey = cv2.cvtColor(
            cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        repeat = self._previous is not None and np.array_equal(grey, self._previous)
        self._previous = grey
        if float(grey.mean()) <= self.settings.black_level:
            return PictureProblem.BLACK
        if float((grey >= 250).mean()) >= self.settings.white_share:
            return PictureProblem.OVEREXPOSED
        if float(grey.std()) < self.settings.flat_std:
            return PictureProblem.FLAT
        return PictureProblem.FROZEN if repeat else None
