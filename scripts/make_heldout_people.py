"""Rebuild samples/heldout/, the held-out material for vision evaluation.

Other people, another place and other light than the demo scene's (samples/scene/): the
pedestrians of OpenCV's `vtest.avi` and its empty scene, read out of Debian's opencv-doc package
(Apache-2.0 AND BSD-3-Clause, see samples/heldout/README.md) with `apt-get download` (never
installed). The empty scene (a lawn and a road) is the median of the frames; people are cut out
where a background subtractor (MOG2) finds a whole, person-shaped blob, one per place and
stretch of the clip, then those checked by eye to be one person (CHOSEN) are kept.

Nothing made from this material may be used to build, calibrate or tune a model or a setting:
it exists to measure them.

Usage: .venv/bin/python scripts/make_heldout_people.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

HELDOUT = Path(__file__).resolve().parent.parent / "samples" / "heldout"
PACKAGE = "opencv-doc"
CLIP = "usr/share/doc/opencv-doc/examples/data/vtest.avi"
MIN_HEIGHT = 110
"""Pixels: smaller blobs are too far away (or a part of a person) to scale up to a sprite."""
CHOSEN = (0, 3, 7, 8, 9, 10, 11)
"""Of the blobs found, in order, those that are one whole person (checked by eye: the others
are two people walking together); five people, two of them twice in other strides."""


def read_clip() -> list[np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", PACKAGE], cwd=tmp, check=True)
        (deb,) = Path(tmp).glob("*.deb")
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        capture = cv2.VideoCapture(str(Path(tmp) / CLIP))
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    if not frames:
        raise SystemExit(f"{CLIP} in {PACKAGE}: no frames read")
    return frames


def cut_outs(frames: list[np.ndarray]) -> list[np.ndarray]:
    """BGRA sprites of whole, lone people, at most one per stretch of 40 frames per place."""
    subtractor = cv2.createBackgroundSubtractorMOG2(history=200, detectShadows=True)
    height, width = frames[0].shape[:2]
    taken: list[tuple[int, float]] = []
    sprites = []
    for index, frame in enumerate(frames):
        mask = subtractor.apply(frame)
        if index < 60 or index % 5:
            continue
        solid = np.where(mask == 255, 255, 0).astype(np.uint8)  # 127: shadows
        solid = cv2.morphologyEx(solid, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        solid = cv2.morphologyEx(solid, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
        contours, _ = cv2.findContours(solid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            whole = x > 4 and y > 4 and x + w < width - 4 and y + h < height - 4
            if not whole or h < MIN_HEIGHT or not 2.0 <= h / w <= 4.5:
                continue
            if cv2.contourArea(contour) < 0.45 * w * h:
                continue  # a ragged blob: two people, or a person and their shadow
            centre = x + w / 2
            if any(index - i < 40 and abs(centre - c) < 150 for i, c in taken):
                continue
            taken.append((index, centre))
            alpha = np.zeros((height, width), np.uint8)
            cv2.drawContours(alpha, [contour], -1, 255, thickness=-1)
            alpha = cv2.GaussianBlur(alpha, (3, 3), 0)
            sprites.append(np.dstack([frame, alpha])[y : y + h, x : x + w].copy())
    return sprites


def main() -> None:
    frames = read_clip()
    empty = np.median(np.stack(frames[::8]), axis=0).astype(np.uint8)
    sprites = cut_outs(frames)
    if len(sprites) <= max(CHOSEN):
        raise SystemExit(f"only {len(sprites)} people found in {CLIP}; expected {max(CHOSEN) + 1}")
    chosen = [sprites[i] for i in CHOSEN]
    people = HELDOUT / "people"
    people.mkdir(parents=True, exist_ok=True)
    for old in people.glob("*.png"):
        old.unlink()
    cv2.imwrite(str(HELDOUT / "background.jpg"), empty, [cv2.IMWRITE_JPEG_QUALITY, 90])
    for i, sprite in enumerate(chosen):
        cv2.imwrite(str(people / f"person-{i:02d}.png"), sprite)
    print(f"{HELDOUT}: background.jpg and {len(chosen)} people of {len(sprites)} found")


if __name__ == "__main__":
    main()
