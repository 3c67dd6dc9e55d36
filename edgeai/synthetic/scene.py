"""A synthetic front-door camera scene with ground truth, for the demo, tests and `bench vision`.

A wall with a door over a gravel floor, sensor noise on every frame, and a script of what
happens: the light dims and comes back (a cloud), a pet crosses (a squirrel: the sprite is still
called the cat), a person walks to the door, falls, gets up and leaves. Every happening has its
time span, so a benchmark can tell a late or false event from a right one. The pictures are cut
from OpenCV's sample photos in samples/scene/ (see its README).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edgeai.paths import bundled_data_dir
from edgeai.synthetic.poses import BEND_DEGREES, Pose, posed

FLOOR_TOP = 0.62
"""Where the wall meets the floor, as a fraction of the height."""
DOOR = (0.12, 0.12, 0.32, FLOOR_TOP)
"""The door on the wall: left, top, right, bottom as fractions of the frame."""
DOOR_ZONE = ((0.0, 0.7), (0.45, 0.7), (0.45, 1.0), (0.0, 1.0))
"""The floor in front of the door, where a person's feet are when they are at it."""


@dataclass(frozen=True)
class SceneScript:
    """When each thing happens, in seconds from the start of the clip."""

    seconds: float = 36.0
    fps: int = 15
    width: int = 640
    height: int = 480
    light_dims: tuple[float, float] = (3.0, 3.5)
    light_returns: tuple[float, float] = (7.0, 7.5)
    cat_crosses: tuple[float, float] = (9.0, 13.0)
    person_enters: float = 16.0
    person_at_door: float = 18.5
    person_falls: float = 23.0
    person_gets_up: float = 27.0
    person_leaves: float = 29.0
    noise_sigma: float = 2.0
    seed: int = 0
    person_height: float = 0.62
    """Standing, as a share of the picture's height."""
    stands_at: float = 0.04
    """Where the person stops (their left side, a fraction of the width): at the door."""
    poses: tuple[tuple[Pose, float, float], ...] = ()
    """(pose, start, end): the person sits down or bends over where they stopped, for that
    span (edgeai/synthetic/poses.py folds their cut-out), standing again after it."""
    bend_degrees: float = BEND_DEGREES
    """How far they lean over when bending."""


@dataclass(frozen=True)
class GroundTruth:
    """Time spans of what a camera loop should and should not report."""

    person_visible: tuple[float, float]
    person_half_in_view: float
    """When at least half of the person is in the picture (on the way in)."""
    person_fallen: tuple[float, float]
    cat_visible: tuple[float, float]
    light_changes: list[tuple[float, float]] = field(default_factory=list)
    door_zone: tuple[tuple[float, float], ...] = DOOR_ZONE

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def ground_truth(script: SceneScript, sprites: Sprites) -> GroundTruth:
    """The spans, measured on the rendered geometry (a person is visible from the first frame
    any part of them is in the picture until the last)."""
    placed = [(t, _person_box(script, sprites, t)) for t in _frame_times(script)]
    visible = [t for t, box in placed if box is not None]
    half_in = next(
        t for t, box in placed if box is not None and box[1] + box[0].shape[1] / 2 <= script.width
    )
    return GroundTruth(
        person_visible=(visible[0], visible[-1]),
        person_half_in_view=half_in,
        person_fallen=(script.person_falls, script.person_gets_up),
        cat_visible=script.cat_crosses,
        light_changes=[script.light_dims, script.light_returns],
    )


@dataclass(frozen=True)
class Sprites:
    """The scene's pictures: BGRA cut-outs and BGR textures."""

    person: np.ndarray
    cat: np.ndarray
    wall: np.ndarray
    floor: np.ndarray

    @classmethod
    def load(cls, folder: Path | None = None) -> Sprites:
        folder = folder or bundled_data_dir("samples") / "scene"
        return cls(
            person=_read(folder / "person.png", cv2.IMREAD_UNCHANGED),
            cat=_read(folder / "cat.png", cv2.IMREAD_UNCHANGED),
            wall=_read(folder / "wall.jpg", cv2.IMREAD_COLOR),
            floor=_read(folder / "floor.jpg", cv2.IMREAD_COLOR),
        )


def render(script: SceneScript, sprites: Sprites) -> Iterator[np.ndarray]:
    """The clip's frames, BGR uint8, in order."""
    background = draw_background(script.width, script.height, sprites)
    rng = np.random.default_rng(script.seed)
    for t in _frame_times(script):
        frame = background.astype(np.float32)
        _paste_cat(frame, script, sprites, t)
        _paste_person(frame, script, sprites, t)
        frame *= light_level(script.light_dims, script.light_returns, 0.55, t)
        frame += rng.normal(0.0, script.noise_sigma, frame.shape).astype(np.float32)
        yield np.clip(frame, 0, 255).astype(np.uint8)


def write_clip(path: Path, script: SceneScript, sprites: Sprites) -> None:
    """The clip as a video file (MJPEG in AVI: decodable by every OpenCV build)."""
    fourcc = cv2.VideoWriter.fourcc(*"MJPG")
    writer = cv2.VideoWriter(str(path), fourcc, script.fps, (script.width, script.height))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write an MJPEG AVI here")
    try:
        for frame in render(script, sprites):
            writer.write(frame)
    finally:
        writer.release()


def _frame_times(script: SceneScript) -> list[float]:
    return [i / script.fps for i in range(round(script.seconds * script.fps))]


def _read(path: Path, flags: int) -> np.ndarray:
    image = cv2.imread(str(path), flags)
    if image is None:
        raise FileNotFoundError(f"{path}: scene picture missing or unreadable")
    return image


def draw_background(w: int, h: int, sprites: Sprites) -> np.ndarray:
    """The wall with its door over the floor, BGR uint8."""
    floor_top = round(FLOOR_TOP * h)
    wall = cv2.resize(sprites.wall, (w, floor_top))
    floor = cv2.resize(sprites.floor, (w, h - floor_top))
    frame = np.vstack([wall, floor])
    left, top, right, bottom = (round(v * s) for v, s in zip(DOOR, (w, h, w, h), strict=True))
    cv2.rectangle(frame, (left, top), (right, bottom), (40, 70, 110), thickness=-1)
    cv2.circle(frame, (right - 12, (top + bottom) // 2), 5, (60, 180, 220), thickness=-1)
    return frame


def light_level(
    dims: tuple[float, float], returns: tuple[float, float], low: float, t: float
) -> float:
    """1.0 normally, `low` while a cloud passes: ramping down over `dims`, up over `returns`."""
    dim_start, dim_end = dims
    up_start, up_end = returns
    if t < dim_start or t >= up_end:
        return 1.0
    if t < dim_end:
        return 1.0 - (1.0 - low) * (t - dim_start) / (dim_end - dim_start)
    if t < up_start:
        return low
    return low + (1.0 - low) * (t - up_start) / (up_end - up_start)


def _person_box(
    script: SceneScript, sprites: Sprites, t: float
) -> tuple[np.ndarray, int, int] | None:
    """The person's sprite for time `t` and where its top-left corner goes, or None."""
    if not script.person_enters <= t < script.person_leaves + 2.0:
        return None
    w, h = script.width, script.height
    standing = scaled(sprites.person, script.person_height * h)
    sw, sh = standing.shape[1], standing.shape[0]
    feet_y = round(0.94 * h)
    door_x = round(script.stands_at * w)
    if t < script.person_at_door:  # walking in from the right edge
        progress = (t - script.person_enters) / (script.person_at_door - script.person_enters)
        x = round(w + (door_x - w) * progress)
    elif t < script.person_falls or script.person_gets_up <= t < script.person_leaves:
        x = door_x
    elif t < script.person_gets_up:  # lying on the floor in front of the door
        lying = cv2.rotate(standing, cv2.ROTATE_90_CLOCKWISE)
        # clear of the picture's edge: a body cut by it says nothing about lying
        return lying, door_x + round(0.06 * w), feet_y - lying.shape[0]
    else:  # walking out to the left
        progress = (t - script.person_leaves) / 2.0
        x = round(door_x + (-sw - door_x) * progress)
    if x >= w or x + sw <= 0:
        return None
    for pose, start, end in script.poses:
        if x == door_x and start <= t < end:
            sprite = posed(standing, pose, 1, script.bend_degrees)
            return sprite, x, feet_y - sprite.shape[0]
    return standing, x, feet_y - sh


def _paste_person(frame: np.ndarray, script: SceneScript, sprites: Sprites, t: float) -> None:
    placed = _person_box(script, sprites, t)
    if placed is not None:
        paste(frame, *placed)


def _paste_cat(frame: np.ndarray, script: SceneScript, sprites: Sprites, t: float) -> None:
    start, end = script.cat_crosses
    if not start <= t < end:
        return
    cat = scaled(sprites.cat, 0.2 * script.height)
    progress = (t - start) / (end - start)
    x = round(-cat.shape[1] + (script.width + cat.shape[1]) * progress)
    paste(frame, cat, x, round(0.97 * script.height) - cat.shape[0])


def scaled(sprite: np.ndarray, height: float) -> np.ndarray:
    scale = height / sprite.shape[0]
    size = (max(1, round(sprite.shape[1] * scale)), max(1, round(height)))
    return cv2.resize(sprite, size, interpolation=cv2.INTER_AREA)


def paste(frame: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend a BGRA sprite onto `frame` with its top-left corner at (x, y), clipped."""
    h, w = frame.shape[:2]
    left, top = max(x, 0), max(y, 0)
    right, bottom = min(x + sprite.shape[1], w), min(y + sprite.shape[0], h)
    if left >= right or top >= bottom:
        return
    part = sprite[top - y : bottom - y, left - x : right - x].astype(np.float32)
    alpha = part[:, :, 3:] / 255.0
    region = frame[top:bottom, left:right]
    region[:] = region * (1 - alpha) + part[:, :, :3] * alpha


DEMO_SCENE = SceneScript(
    seconds=20.0,
    light_dims=(1.0, 1.5),
    light_returns=(2.5, 3.0),
    cat_crosses=(3.0, 5.5),
    person_enters=6.0,
    person_at_door=8.0,
    person_falls=14.0,
    person_gets_up=16.0,
    person_leaves=17.0,
)
"""The short scene `edgeai demo` plays beside its audio: the person is at the door while the
demo asks "what do you see" (at 10.5 s)."""


POSES_SCENE = SceneScript(
    seconds=34.0,
    light_dims=(30.0, 30.5),
    light_returns=(31.0, 31.5),
    cat_crosses=(32.0, 34.0),
    person_enters=1.0,
    person_at_door=3.0,
    person_falls=24.0,
    person_gets_up=28.0,
    person_leaves=30.0,
    stands_at=0.15,
    poses=(("bend", 6.0, 11.0), ("sit", 14.0, 20.0)),
    bend_degrees=88.0,
)
"""The demo person bends over (tying a shoe: the back about level) for 5 s and sits down for
6 s mid-picture, then really falls:
the in-family ground on which the fall rule must tell a bend or a sit from a fall (the held-out
poses clip only checks it)."""
