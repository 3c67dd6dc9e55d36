"""Pictures for calibrating and evaluating image models: generated, or a folder of the user's."""

from __future__ import annotations

import cv2
import numpy as np

from edgeai.errors import ExportError
from edgeai.export.recipe import ImageSet
from edgeai.synthetic.people_images import labelled_people_images

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def pictures(spec: ImageSet, purpose: str) -> list[np.ndarray]:
    """BGR pictures: generated people pictures, or those of a folder (at most `spec.count`)."""
    if spec.synthetic is not None:
        return [e.image for e in labelled_people_images(spec.synthetic, spec.seed)]
    assert spec.images is not None
    files = sorted(p for p in spec.images.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not spec.images.is_dir() or not files:
        raise ExportError(
            f"{purpose}: {spec.images} has no .jpg or .png pictures; give up to {spec.count} "
            "pictures like the camera's"
        )
    images = []
    for path in files[: spec.count]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ExportError(f"{purpose}: {path} is not a readable picture")
        images.append(image)
    return images
