"""Rebuild samples/scene/, the pictures the synthetic camera scenes are made of.

They come from OpenCV's sample data in Debian's opencv-doc package (Apache-2.0 AND
BSD-3-Clause, see samples/scene/README.md), read out of the .deb with `apt-get download` (never
installed). Not from scikit-image's sample photos (reserved for an independent evaluation) and
not from `vtest.avi`, whose people are the held-out set (scripts/make_heldout_people.py). The
animal is cut out of its photo with GrabCut inside a hand-chosen rectangle; the person along a
hand-traced outline (GrabCut loses his dark hair and shirt against the dark doorway of the grey
photo); both are saved with an alpha channel. The textures are hand-chosen crops.

Usage: .venv/bin/python scripts/make_scene_sprites.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

SCENE = Path(__file__).resolve().parent.parent / "samples" / "scene"
PACKAGE = "opencv-doc"
DATA = Path("usr/share/doc/opencv-doc/examples/data")
CUTOUTS = {"cat": ("squirrel_cls.jpg", (125, 100, 245, 265))}
"""Sprite name -> (file in DATA, GrabCut rectangle x, y, w, h): the squirrel, the scene's pet (a
non-person that moves)."""
OUTLINES = {
    "person": (
        "basketball1.png",
        # the man on the left, standing, catching a ball: head, ball, arm, right leg, feet,
        # between the legs, left leg, shirt, back to the head
        [
            (80, 82),
            (95, 85),
            (102, 100),
            (110, 116),
            (118, 95),
            (150, 92),
            (178, 110),
            (180, 140),
            (160, 160),
            (150, 170),
            (135, 178),
            (128, 200),
            (125, 240),
            (125, 290),
            (132, 330),
            (135, 400),
            (140, 455),
            (155, 472),
            (152, 479),
            (110, 479),
            (108, 470),
            (95, 380),
            (88, 330),
            (82, 380),
            (80, 470),
            (72, 479),
            (45, 479),
            (42, 440),
            (40, 380),
            (38, 300),
            (35, 290),
            (38, 240),
            (40, 170),
            (50, 150),
            (65, 140),
            (62, 120),
            (60, 100),
            (68, 85),
        ],
    )
}
"""Sprite name -> (file in DATA, outline as x, y points)."""
TEXTURES = {
    "wall": ("building.jpg", (300, 40, 400, 260)),
    "floor": ("leuvenA.jpg", (100, 440, 400, 123)),
}
"""Texture name -> (file in DATA, crop x, y, w, h): a plain stretch of facade, cobblestones."""


def read_images() -> dict[str, np.ndarray]:
    sources = [*CUTOUTS.values(), *OUTLINES.values(), *TEXTURES.values()]
    names = {file for file, _ in sources}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", PACKAGE], cwd=tmp, check=True)
        (deb,) = Path(tmp).glob("*.deb")
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        images = {
            name: cv2.imread(str(Path(tmp) / DATA / name), cv2.IMREAD_COLOR) for name in names
        }
    missing = sorted(name for name, image in images.items() if image is None)
    if missing:
        raise SystemExit(f"{PACKAGE}: {', '.join(missing)} missing or unreadable in {DATA}")
    return images


def cut_out(image: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """The object inside `rect` as BGRA, cropped to its mask."""
    mask = np.zeros(image.shape[:2], np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(image, mask, rect, background, foreground, 8, cv2.GC_INIT_WITH_RECT)
    alpha = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    alpha = cv2.morphologyEx(alpha, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    return cropped(image, alpha)


def traced(image: np.ndarray, outline: list[tuple[int, int]]) -> np.ndarray:
    """The object inside `outline` as BGRA, cropped to it, its edge softened by a pixel."""
    alpha = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(alpha, [np.array(outline, np.int32)], 255, lineType=cv2.LINE_AA)
    return cropped(image, cv2.GaussianBlur(alpha, (3, 3), 0))


def cropped(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(alpha)
    if not len(ys):
        raise SystemExit("a cut-out came out empty: check its rectangle or outline")
    crop = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return np.dstack([image, alpha])[crop]


def main() -> None:
    images = read_images()
    SCENE.mkdir(parents=True, exist_ok=True)
    for sprite, (file, rect) in CUTOUTS.items():
        cv2.imwrite(str(SCENE / f"{sprite}.png"), cut_out(images[file], rect))
    for sprite, (file, outline) in OUTLINES.items():
        cv2.imwrite(str(SCENE / f"{sprite}.png"), traced(images[file], outline))
    for texture, (file, (x, y, w, h)) in TEXTURES.items():
        crop = images[file][y : y + h, x : x + w]
        cv2.imwrite(str(SCENE / f"{texture}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 90])


if __name__ == "__main__":
    main()
