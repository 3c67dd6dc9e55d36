"""Where to look: the part of the frame the detector is run on when only part of it matters.

As Frigate does: the moving regions (and the people already followed, so none of them goes
unseen) are joined into one box, padded, grown to at least the detector's minimum side, and cut
out at the scale the detector sees the whole frame at, so a person is the same size to it
either way. Where the crop meets a side of the frame that the whole frame's letterbox pads, the
picture is continued by a band of its edge pixels repeated: with nothing there the model
stretched the box of a person lying near the bottom to the border (a box cut by it says nothing
about lying), and with the letterbox's grey it missed someone cut by the bottom (measured on the
held-out clip; the repeated band fixes both).

The detector's cost grows with its input's area, so a crop of a third of the frame costs about a
third. When the crop would cost nearly as much as the whole frame, the whole frame
is used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from edgeai.vision.detection import Box, Detection


@dataclass(frozen=True)
class RegionSettings:
    min_side: int = 320
    """Least crop side, in detector input pixels: room for a whole person near the motion, and
    the context the detector needs (Frigate's region is never below its 320 model)."""
    pad: float = 0.25
    """Each box is widened by this share of its longer side on every side: the rest of a body
    whose arm moved, or the steps taken since a person's last box."""
    max_share: float = 0.6
    """A crop whose input area is above this share of the whole frame's (`whole_frame`) is
    not worth it."""
    stride: int = 32
    """Crop sides, in input pixels, are multiples of this (the detector's largest stride); also
    the band put beside a side of the frame (enough, measured)."""


@dataclass(frozen=True)
class Crop:
    """A rectangle of the frame (pixels) and the size it is fed to the detector at."""

    x: int
    y: int
    width: int
    height: int
    input_width: int
    input_height: int
    scale: float
    """Input pixels per frame pixel (as for the whole frame)."""
    left: int = 0
    """Input pixels of band left of the picture (its edge repeated), above it, right of it and
    below it: beside the frame's sides, and what rounds the input to whole strides."""
    top: int = 0
    right: int = 0
    bottom: int = 0

    @property
    def area(self) -> int:
        """Input pixels: what a detector run on the crop costs."""
        return self.input_width * self.input_height

    @property
    def box(self) -> Box:
        """The crop's rectangle in frame pixels."""
        return Box(self.x, self.y, self.x + self.width, self.y + self.height)

    def cuts(self, box: Box, frame_width: int, frame_height: int) -> bool:
        """Whether `box` (frame pixels) touches a side of the crop that is not the frame's: what
        is cut there may go on outside the crop, so its shape says nothing."""
        margin = 2.0 + 0.01 * max(self.width, self.height)
        right, bottom = self.x + self.width, self.y + self.height
        return (
            (self.x > 0 and box.x1 <= self.x + margin)
            or (self.y > 0 and box.y1 <= self.y + margin)
            or (right < frame_width and box.x2 >= right - margin)
            or (bottom < frame_height and box.y2 >= bottom - margin)
        )


def plan_crop(
    boxes: Sequence[Box],
    frame_width: int,
    frame_height: int,
    size: int,
    settings: RegionSettings,
) -> Crop | None:
    """The crop around `boxes` (frame pixels) for a detector that sees the whole frame
    letterboxed into a `size` square; None when there is nothing to crop around or the whole
    frame is about as cheap."""
    if not boxes:
        return None
    scale = size / max(frame_width, frame_height)
    x1 = min(b.x1 - settings.pad * max(b.width, b.height) for b in boxes)
    y1 = min(b.y1 - settings.pad * max(b.width, b.height) for b in boxes)
    x2 = max(b.x2 + settings.pad * max(b.width, b.height) for b in boxes)
    y2 = max(b.y2 + settings.pad * max(b.width, b.height) for b in boxes)
    width = _side(x2 - x1, frame_width, scale, settings)
    height = _side(y2 - y1, frame_height, scale, settings)
    x = _place((x1 + x2) / 2, width, frame_width)
    y = _place((y1 + y2) / 2, height, frame_height)
    crop = _fed(x, y, width, height, frame_width, frame_height, size, settings)
    whole = whole_frame(frame_width, frame_height, size, settings)
    if crop.area > settings.max_share * whole.area:
        return None
    return crop


def whole_frame(frame_width: int, frame_height: int, size: int, settings: RegionSettings) -> Crop:
    """The whole frame as a crop: fed at its own shape (with the bands) instead of the
    letterbox's square, which for a 4:3 frame is 15% fewer input pixels."""
    return _fed(0, 0, frame_width, frame_height, frame_width, frame_height, size, settings)


def _fed(
    x: int,
    y: int,
    width: int,
    height: int,
    frame_width: int,
    frame_height: int,
    size: int,
    settings: RegionSettings,
) -> Crop:
    """The crop at (x, y, width, height) of the frame, at the scale the whole frame is
    letterboxed at, with its bands."""
    scale = size / max(frame_width, frame_height)
    # bands where the whole frame's letterbox has them, as far as the crop reaches the sides
    band_x = min(settings.stride, round((size - frame_width * scale) / 2))
    band_y = min(settings.stride, round((size - frame_height * scale) / 2))
    left = band_x if x == 0 else 0
    right = band_x if x + width == frame_width else 0
    top = band_y if y == 0 else 0
    bottom = band_y if y + height == frame_height else 0
    picture_width, picture_height = round(width * scale), round(height * scale)
    input_width = _multiple(picture_width + left + right, settings.stride)
    input_height = _multiple(picture_height + top + bottom, settings.stride)
    right = input_width - picture_width - left
    bottom = input_height - picture_height - top
    return Crop(x, y, width, height, input_width, input_height, scale, left, top, right, bottom)


def _side(extent: float, frame_side: int, scale: float, settings: RegionSettings) -> int:
    """The crop's side in frame pixels: the extent, at least the minimum, within the frame,
    and a whole number of strides once scaled (unless it is the frame's whole side)."""
    wanted = max(extent * scale, settings.min_side)
    side = math.ceil(_multiple(wanted, settings.stride) / scale)
    return min(side, frame_side)


def _multiple(value: float, stride: int) -> int:
    return stride * math.ceil(round(value, 6) / stride)


def _place(centre: float, side: int, frame_side: int) -> int:
    """The crop's start: centred on the boxes, moved inside the frame."""
    return max(0, min(round(centre - side / 2), frame_side - side))


@runtime_checkable
class CropDetector(Protocol):
    """A detector that also runs on a crop of the frame (a YOLO graph that takes any size)."""

    size: int
    """The square input side a whole frame is fed at (its cost: size * size)."""
    any_size: bool
    """False: this model only takes its fixed square, and a crop would cost the same."""

    def detect_crop(self, image: np.ndarray, crop: Crop) -> list[Detection]: ...
