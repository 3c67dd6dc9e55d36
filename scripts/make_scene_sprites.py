"""Rebuild samples/scene/, the pictures the synthetic camera scenes are made of.

They come from scikit-image's bundled data (all CC0 or public domain, see samples/scene/README.md),
read out of its wheel with `pip download --no-deps` (never installed). People and the cat are cut
out of their photos with GrabCut inside a hand-chosen rectangle and saved with an alpha channel.

Usage: .venv/bin/python scripts/make_scene_sprites.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

SCENE = Path(__file__).resolve().parent.parent / "samples" / "scene"
WHEEL = "scikit-image==0.26.0"
# sprite name -> (file in skimage/data, GrabCut rectangle x, y, w, h)
CUTOUTS = {
    "person": ("camera.png", (0, 60, 330, 452)),
    "cat": ("chelsea.png", (40, 20, 400, 280)),
}
TEXTURES = {"wall": "brick.png", "floor": "gravel.png"}


def read_wheel_images() -> dict[str, np.ndarray]:
    names = {file for file, _ in CUTOUTS.values()} | set(TEXTURES.values())
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, WHEEL],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            return {
                name: cv2.imdecode(
                    np.frombuffer(archive.read(f"skimage/data/{name}"), np.uint8), cv2.IMREAD_COLOR
                )
                for name in names
            }


def cut_out(image: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """The object inside `rect` as BGRA, cropped to its mask."""
    mask = np.zeros(image.shape[:2], np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(image, mask, rect, background, foreground, 8, cv2.GC_INIT_WITH_RECT)
    alpha = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    alpha = cv2.morphologyEx(alpha, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    ys, xs = np.nonzero(alpha)
    crop = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return np.dstack([image, alpha])[crop]


def main() -> None:
    images = read_wheel_images()
    SCENE.mkdir(parents=True, exist_ok=True)
    for sprite, (file, rect) in CUTOUTS.items():
        cv2.imwrite(str(SCENE / f"{sprite}.png"), cut_out(images[file], rect))
    for texture, file in TEXTURES.items():
        cv2.imwrite(str(SCENE / f"{texture}.jpg"), images[file], [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
