"""Held-out vision material: a scene and pictures made of other people in another place.

The demo scene and the detector's calibration pictures are made of one cut-out person in front
of one wall (samples/scene/); a new seed of them is not a held-out test. This module makes a
clip and labelled pictures from samples/heldout/ instead: five other people (their own clothes,
strides and light) over another background, entering from every side of the picture, standing,
standing partly in view, lying down, under a light change; and a second clip of them sitting
down and bending over (edgeai/synthetic/poses.py), which must raise no fall. Nothing made here
may be used to build, calibrate or tune anything: it measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from edgeai.paths import bundled_data_dir
from edgeai.synthetic.people_images import LabelledImage, compose_picture
from edgeai.synthetic.poses import Pose, posed
from edgeai.synthetic.scene import light_level, paste, scaled

Edge = Literal["left", "right", "top", "bottom"]


@dataclass(frozen=True)
class HeldOutMaterial:
    background: np.ndarray
    """BGR: the empty scene."""
    people: list[np.ndarray]
    """BGRA cut-outs, each a whole person standing."""

    @classmethod
    def load(cls, folder: Path | None = None) -> HeldOutMaterial:
        folder = folder or bundled_data_dir("samples") / "heldout"
        files = sorted((folder / "people").glob("*.png"))
        background = cv2.imread(str(folder / "background.jpg"), cv2.IMREAD_COLOR)
        if background is None or not files:
            raise FileNotFoundError(
                f"{folder}: held-out material missing or empty; expected background.jpg and "
                "people/*.png (scripts/make_heldout_people.py makes them)"
            )
        people = []
        for path in files:
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is None or image.ndim != 3 or image.shape[2] != 4:
                raise FileNotFoundError(f"{path}: not a BGRA picture (a person with alpha)")
            people.append(image)
        return cls(background, people)


@dataclass(frozen=True)
class Visit:
    """One person coming in from `edge`, standing, maybe lying down (or sitting, or bending
    over), and leaving the same way."""

    person: int
    edge: Edge
    arrives: float
    """Seconds into the clip when they start walking in (from just outside the picture)."""
    at: tuple[float, float]
    """Where they stand: the foot point as fractions of width and height (a height past 1.0
    stands them partly below the picture)."""
    walk_s: float = 2.5
    stand_s: float = 4.0
    pose_s: float = 0.0
    """After standing, in `pose` this long (0: none), then standing 2 s more."""
    pose: Pose = "lie"

    @property
    def leaves(self) -> float:
        return (
            self.arrives
            + 2 * self.walk_s
            + self.stand_s
            + (self.pose_s + 2.0 if self.pose_s else 0.0)
        )


@dataclass(frozen=True)
class HeldOutScript:
    visits: tuple[Visit, ...] = (
        Visit(0, "left", 3.0, (0.45, 0.9)),
        Visit(1, "right", 13.0, (0.55, 0.88), pose_s=6.0),
        Visit(2, "bottom", 33.0, (0.3, 1.25)),  # close to the camera: legs out of the picture
        Visit(4, "top", 42.0, (0.7, 0.75), stand_s=3.0),
        Visit(6, "left", 52.0, (0.35, 0.92), stand_s=2.0, pose_s=5.0),
    )
    light_dims: tuple[float, float] = (0.5, 1.0)
    light_returns: tuple[float, float] = (1.5, 2.0)
    seconds: float = 72.0
    fps: int = 15
    width: int = 640
    height: int = 480
    person_height: float = 0.55
    """A standing person's height, as a fraction of the picture's."""
    noise_sigma: float = 2.0
    seed: int = 0


POSES_SCRIPT = HeldOutScript(
    visits=(
        Visit(3, "left", 2.0, (0.4, 0.9), stand_s=2.0, pose_s=10.0, pose="sit"),
        Visit(5, "right", 21.0, (0.6, 0.9), stand_s=2.0, pose_s=2.5, pose="bend"),
        Visit(0, "bottom", 33.0, (0.5, 0.95), stand_s=1.5, pose_s=5.0, pose="bend"),
        Visit(2, "top", 47.0, (0.3, 0.8), stand_s=1.0, pose_s=6.0, pose="sit"),
    ),
    seconds=62.0,
)
"""Held-out people sitting down for a while and bending over, briefly and for longer (tying a
shoe): none of it is a fall."""


@dataclass(frozen=True)
class VisitTruth:
    edge: Edge
    visible: tuple[float, float]
    """First and last frame any of the person is in the picture."""
    quarter_in_view: float
    """First frame a quarter of the person is in the picture."""
    lying: tuple[float, float] | None
    pose: Pose | None = None
    """What they do after standing (None: nothing but stand)."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class HeldOutTruth:
    visits: list[VisitTruth]
    light_changes: list[tuple[float, float]] = field(default_factory=list)


def heldout_truth(script: HeldOutScript, material: HeldOutMaterial) -> HeldOutTruth:
    """Measured on the rendered geometry, frame by frame."""
    visits = []
    for visit in script.visits:
        shown = []
        for t in _frame_times(script):
            placed = _placed(script, material, visit, t)
            if placed is not None:
                sprite, x, y = placed
                shown.append((t, _share_in_view(sprite, x, y, script.width, script.height)))
        seen = [t for t, share in shown if share > 0]
        quarter = next(t for t, share in shown if share >= 0.25)
        pose_start = visit.arrives + visit.walk_s + visit.stand_s
        lies = visit.pose_s > 0 and visit.pose == "lie"
        visits.append(
            VisitTruth(
                visit.edge,
                (seen[0], seen[-1]),
                quarter,
                (pose_start, pose_start + visit.pose_s) if lies else None,
                visit.pose if visit.pose_s else None,
            )
        )
    return HeldOutTruth(visits, [script.light_dims, script.light_returns])


def render_heldout(script: HeldOutScript, material: HeldOutMaterial) -> Iterator[np.ndarray]:
    """The clip's frames, BGR uint8."""
    background = cv2.resize(material.background, (script.width, script.height)).astype(np.float32)
    rng = np.random.default_rng(script.seed)
    for t in _frame_times(script):
        frame = background.copy()
        for visit in script.visits:
            placed = _placed(script, material, visit, t)
            if placed is not None:
                paste(frame, *placed)
        frame *= light_level(script.light_dims, script.light_returns, 0.6, t)
        frame += rng.normal(0.0, script.noise_sigma, frame.shape).astype(np.float32)
        yield np.clip(frame, 0, 255).astype(np.uint8)


def write_heldout_clip(path: Path, script: HeldOutScript, material: HeldOutMaterial) -> None:
    """MJPEG in AVI, as the demo scene's clip."""
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*"MJPG"), script.fps, (script.width, script.height)
    )
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write an MJPEG AVI here")
    try:
        for frame in render_heldout(script, material):
            writer.write(frame)
    finally:
        writer.release()


def labelled_heldout_images(
    count: int,
    seed: int,
    material: HeldOutMaterial | None = None,
    width: int = 640,
    height: int = 480,
) -> Iterator[LabelledImage]:
    """`count` labelled pictures of the held-out people (standing or lying) over the held-out
    background, as the calibration pictures are made of the demo scene's: a detector's
    accuracy on what it was never calibrated on. No pet: there is no held-out one."""
    material = material or HeldOutMaterial.load()
    rng = np.random.default_rng(seed)
    scene = cv2.resize(material.background, (width * 2, height * 2))
    for _ in range(count):
        yield compose_picture(rng, scene, material.people, None, width, height)


def _frame_times(script: HeldOutScript) -> list[float]:
    return [i / script.fps for i in range(round(script.seconds * script.fps))]


def _placed(
    script: HeldOutScript, material: HeldOutMaterial, visit: Visit, t: float
) -> tuple[np.ndarray, int, int] | None:
    """The visitor's sprite at `t` and its top-left corner, or None while they are away."""
    if not visit.arrives <= t < visit.leaves:
        return None
    w, h = script.width, script.height
    standing = scaled(
        material.people[visit.person % len(material.people)], script.person_height * h
    )
    sh, sw = standing.shape[:2]
    foot_x, foot_y = round(visit.at[0] * w), round(visit.at[1] * h)
    stand = (foot_x - sw // 2, foot_y - sh)
    outside = {
        "left": (-sw, stand[1]),
        "right": (w, stand[1]),
        "top": (stand[0], -sh),
        "bottom": (stand[0], h),
    }[visit.edge]
    since = t - visit.arrives
    until_leaving = visit.leaves - t
    if since < visit.walk_s:
        return standing, *_between(outside, stand, since / visit.walk_s)
    if until_leaving < visit.walk_s:
        return standing, *_between(outside, stand, until_leaving / visit.walk_s)
    pose_from = visit.arrives + visit.walk_s + visit.stand_s
    if visit.pose_s and pose_from <= t < pose_from + visit.pose_s:
        facing = 1 if visit.edge == "left" or (visit.edge != "right" and foot_x < w // 2) else -1
        sprite = posed(standing, visit.pose, facing)
        return sprite, foot_x - sprite.shape[1] // 2, foot_y - sprite.shape[0]
    return standing, *stand


def _between(start: tuple[int, int], end: tuple[int, int], share: float) -> tuple[int, int]:
    return (
        round(start[0] + (end[0] - start[0]) * share),
        round(start[1] + (end[1] - start[1]) * share),
    )


def _share_in_view(sprite: np.ndarray, x: int, y: int, width: int, height: int) -> float:
    """Share of the sprite's opaque pixels inside the picture."""
    opaque = sprite[:, :, 3] > 127
    total = int(opaque.sum())
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(sprite.shape[1], width - x), min(sprite.shape[0], height - y)
    if right <= left or bottom <= top or not total:
        return 0.0
    return float(opaque[top:bottom, left:right].sum()) / total
