"""Other poses from a standing cut-out: sitting, bending over, lying.

The held-out people are cut out of a street clip, where everyone walks; a fall alarm must also
stay quiet for someone who sits down or bends over to pick something up. No photograph of a
sitting or bending person is at hand here, so these poses fold the standing cut-out at the hip
and the knee (the proportions of an adult body: hip at about 52% of the height from the top,
knee at about 75%) and turn the parts about those joints. The result is a person-shaped
silhouette with that person's clothes and light in another pose; it is not a photograph of one.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

Pose = Literal["lie", "sit", "bend"]

HIP = 0.52
"""The hip joint, as a fraction of a standing person's height from the top."""
KNEE = 0.75
"""The knee joint, likewise."""
BEND_DEGREES = 70.0
"""How far the upper body leans forward when bending over."""
THIGH_SIDE_VIEW = 0.5
"""Walking legs apart make a band as wide as it is tall; seen from the side, one sitting
person's thighs are about half that thick."""


def posed(
    standing: np.ndarray, pose: Pose, facing: int = 1, bend_degrees: float = BEND_DEGREES
) -> np.ndarray:
    """`standing` (BGRA, feet at the bottom row) in `pose`, cropped to its opaque pixels with
    the feet (or the body, lying) on the bottom row. `facing` +1 folds forward to the right,
    -1 to the left; bending leans the upper body `bend_degrees` from upright."""
    if pose == "lie":
        return np.ascontiguousarray(cv2.rotate(standing, cv2.ROTATE_90_COUNTERCLOCKWISE))
    height = standing.shape[0]
    hip_y, knee_y = round(HIP * height), round(KNEE * height)
    hip = (_middle(standing, hip_y), float(hip_y))
    upper = _part(standing, 0, hip_y)
    if pose == "bend":
        parts = [
            (_part(standing, hip_y, height), _turn(hip, 0.0)),
            (upper, _turn(hip, -facing * bend_degrees)),
        ]
    else:
        thigh = float(knee_y - hip_y)
        parts = [
            (_part(standing, knee_y, height), _shift(facing * thigh, -thigh)),
            (_part(standing, hip_y, knee_y), _then(_squeeze(hip[0]), _turn(hip, facing * 90.0))),
            (upper, _turn(hip, 0.0)),
        ]
    return _crop(_compose(parts, standing.shape[1], height))


def _middle(sprite: np.ndarray, row: int) -> float:
    """The centre of the opaque pixels on `row` (or the sprite's middle on a gap)."""
    opaque = np.flatnonzero(sprite[min(row, sprite.shape[0] - 1), :, 3] > 127)
    return float(opaque.mean()) if opaque.size else sprite.shape[1] / 2


def _part(sprite: np.ndarray, top: int, bottom: int) -> np.ndarray:
    """The sprite with everything outside rows top..bottom made transparent."""
    part: np.ndarray = sprite.copy()
    part[:top, :, 3] = 0
    part[bottom:, :, 3] = 0
    return part


def _turn(centre: tuple[float, float], degrees: float) -> np.ndarray:
    matrix: np.ndarray = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return matrix


def _squeeze(x: float) -> np.ndarray:
    """Narrow the part horizontally about `x`."""
    return np.array([[THIGH_SIDE_VIEW, 0.0, x * (1 - THIGH_SIDE_VIEW)], [0.0, 1.0, 0.0]])


def _then(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The affine map that applies `first`, then `second`."""
    linear: np.ndarray = second[:, :2] @ first
    linear[:, 2] += second[:, 2]
    return linear


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])


def _compose(parts: list[tuple[np.ndarray, np.ndarray]], width: int, height: int) -> np.ndarray:
    """Alpha-over the moved parts, later ones on top, on a canvas with room on every side."""
    canvas = np.zeros((2 * height, width + 2 * height, 4), np.float32)
    for part, matrix in parts:
        moved = matrix.copy()
        moved[:, 2] += (height, height // 2)
        warped = cv2.warpAffine(
            part, moved, (canvas.shape[1], canvas.shape[0]), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0),
        ).astype(np.float32)  # fmt: skip
        alpha = warped[:, :, 3:] / 255.0
        canvas[:, :, :3] = canvas[:, :, :3] * (1 - alpha) + warped[:, :, :3] * alpha
        canvas[:, :, 3:] = np.maximum(canvas[:, :, 3:], warped[:, :, 3:])
    return np.clip(canvas, 0, 255).astype(np.uint8)


def _crop(sprite: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero((sprite[:, :, 3] > 0).any(axis=1))
    cols = np.flatnonzero((sprite[:, :, 3] > 0).any(axis=0))
    return np.ascontiguousarray(sprite[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
