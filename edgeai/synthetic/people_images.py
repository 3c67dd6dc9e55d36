"""Still pictures of people with exact boxes: calibration and evaluation sets for detector exports.

Each picture is the scene's wall and floor (randomly cropped, flipped and lit) with zero to two
people pasted in, standing or lying down, at random places and sizes, sometimes a cat, and
sensor noise. The boxes come from the pasted cut-outs' alpha, so they are exact. Different
seeds give disjoint sets: calibrate on one, evaluate on another.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edgeai.synthetic.scene import Sprites, draw_background, paste, scaled

UPRIGHT = "upright"
FALLEN = "fallen"
POSTURES = (UPRIGHT, FALLEN)


@dataclass(frozen=True)
class LabelledImage:
    image: np.ndarray
    """BGR uint8."""
    boxes: np.ndarray
    """(n, 4) float32: left, top, right, bottom in pixels."""
    postures: tuple[str, ...]
    """UPRIGHT or FALLEN for each box."""


def labelled_people_images(
    count: int, seed: int, width: int = 640, height: int = 480, sprites: Sprites | None = None
) -> Iterator[LabelledImage]:
    """`count` pictures, the same ones for the same seed."""
    sprites = sprites or Sprites.load()
    rng = np.random.default_rng(seed)
    scene = draw_background(width * 2, height * 2, sprites)
    for _ in range(count):
        yield compose_picture(rng, scene, [sprites.person], sprites.cat, width, height)


def compose_picture(
    rng: np.random.Generator,
    scene: np.ndarray,
    people: Sequence[np.ndarray],
    cat: np.ndarray | None,
    width: int,
    height: int,
) -> LabelledImage:
    """One picture: a random crop of `scene` (BGR, twice the picture's size), some of `people`
    (BGRA, standing) pasted in standing or lying, sometimes the `cat`, light and noise."""
    zoom = rng.uniform(1.0, 2.0)
    crop_w, crop_h = round(width * zoom), round(height * zoom)
    left = int(rng.integers(0, scene.shape[1] - crop_w + 1))
    top = int(rng.integers(0, scene.shape[0] - crop_h + 1))
    frame = cv2.resize(scene[top : top + crop_h, left : left + crop_w], (width, height))
    if rng.random() < 0.5:
        frame = frame[:, ::-1]
    canvas = frame.astype(np.float32)
    if cat is not None and rng.random() < 0.3:
        pet = scaled(cat, rng.uniform(0.12, 0.3) * height)
        paste(canvas, pet, int(rng.integers(-pet.shape[1] // 2, width)), height - pet.shape[0])
    boxes: list[tuple[float, float, float, float]] = []
    postures: list[str] = []
    for _ in range(int(rng.choice([0, 1, 1, 1, 2]))):
        posture = UPRIGHT if rng.random() < 0.65 else FALLEN
        who = people[int(rng.integers(len(people)))]
        person = scaled(who, rng.uniform(0.35, 0.9) * height)
        if rng.random() < 0.5:
            person = person[:, ::-1]
        if posture == FALLEN:
            person = cv2.rotate(
                person, rng.choice([cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE])
            )
        x = int(rng.integers(-person.shape[1] // 4, width - 3 * person.shape[1] // 4))
        y = int(
            rng.integers(max(0, height // 3 - person.shape[0] // 2), height - person.shape[0] // 2)
        )
        box = _visible_box(person, x, y, width, height)
        if box is None:
            continue
        paste(canvas, np.ascontiguousarray(person), x, y)
        boxes.append(box)
        postures.append(posture)
    canvas *= np.float32(rng.uniform(0.6, 1.2))
    canvas += np.asarray(rng.normal(0.0, rng.uniform(1.0, 4.0), canvas.shape), np.float32)
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    return LabelledImage(image, np.array(boxes, np.float32).reshape(-1, 4), tuple(postures))


def _visible_box(
    sprite: np.ndarray, x: int, y: int, width: int, height: int
) -> tuple[float, float, float, float] | None:
    """The opaque part of `sprite` placed at (x, y), clipped to the picture; None when less
    than half of it is inside (a sliver at the edge is not a fair thing to ask of a detector)."""
    ys, xs = np.nonzero(sprite[:, :, 3] > 127)
    x1, y1, x2, y2 = x + xs.min(), y + ys.min(), x + xs.max() + 1, y + ys.max() + 1
    full = (x2 - x1) * (y2 - y1)
    cx1, cy1, cx2, cy2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    if cx2 <= cx1 or cy2 <= cy1 or (cx2 - cx1) * (cy2 - cy1) < full / 2:
        return None
    return float(cx1), float(cy1), float(cx2), float(cy2)
