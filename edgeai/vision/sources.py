"""Where frames come from: a V4L2 camera, an RTSP/HTTP stream, a video file, an image folder, or
an array (tests, benchmarks). Everything is BGR uint8 by the time it leaves this module."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from edgeai.errors import CameraError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
STREAM_URL = re.compile(r"^(rtsp|rtsps|rtmp|http|https|udp|tcp)://", re.IGNORECASE)


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    t: float
    """Seconds: position in a file, or the monotonic clock when a live frame arrived."""
    index: int


class FrameSource(Protocol):
    name: str
    live: bool
    """Live sources are reopened when they fail; a file or folder just ends."""
    corrupt_frames: int

    def frames(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


class CaptureSource:
    """OpenCV VideoCapture: V4L2 devices, network streams and video files."""

    def __init__(
        self,
        target: str,
        width: int | None = None,
        height: int | None = None,
        fps: int | None = None,
        realtime: bool = False,
    ) -> None:
        self.name = target
        self.live = is_live(target)
        self.realtime = realtime
        self.corrupt_frames = 0
        if not self.live and not Path(target).is_file():
            raise CameraError(f"{target}: no such video file")
        device = _device_index(target)
        backend = cv2.CAP_V4L2 if device is not None else cv2.CAP_ANY
        self._capture = cv2.VideoCapture(device if device is not None else target, backend)
        if not self._capture.isOpened():
            kind = "camera" if device is not None else "stream" if self.live else "video file"
            raise CameraError(f"{target}: cannot open the {kind} (not present or not a video)")
        if device is not None:  # a file or stream has its own size and rate
            _request_mode(self._capture, width, height, fps)
        reported = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(reported) if reported and 1 <= reported <= 240 else float(fps or 15)

    def frames(self) -> Iterator[Frame]:
        if not self.live:
            yield from _paced(self, self._file_images())
            return
        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok:
                raise CameraError(f"{self.name}: no more frames (camera or stream lost)")
            if not _looks_like_frame(image):
                self.corrupt_frames += 1
                continue
            yield Frame(image, time.monotonic(), index)
            index += 1

    def _file_images(self) -> Iterator[np.ndarray | None]:
        while True:
            ok, image = self._capture.read()
            if not ok:
                return
            yield image

    def close(self) -> None:
        self._capture.release()


class ImageFolderSource:
    """The images in a folder, in name order, as frames at `fps`; unreadable ones are skipped."""

    def __init__(self, folder: Path, fps: float = 1.0, realtime: bool = False) -> None:
        self.name = str(folder)
        self.live = False
        self.corrupt_frames = 0
        self._paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._paths:
            raise CameraError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in the folder")
        self.fps = fps
        self.realtime = realtime

    def frames(self) -> Iterator[Frame]:
        yield from _paced(self, self._images())

    def _images(self) -> Iterator[np.ndarray | None]:
        for path in self._paths:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None or not _looks_like_frame(image):
                log.warning("%s: not a readable image; skipped", path)
            yield image

    def close(self) -> None:
        pass


class ArrayFrameSource:
    """Frames from memory at `fps`: the camera stand-in for tests and benchmarks."""

    def __init__(
        self, images: Iterable[np.ndarray], fps: float, realtime: bool = False, name: str = "array"
    ) -> None:
        self.name = name
        self.live = False
        self.corrupt_frames = 0
        self.fps = fps
        self.realtime = realtime
        self._images = images

    def frames(self) -> Iterator[Frame]:
        yield from _paced(self, iter(self._images))

    def close(self) -> None:
        pass


def open_source(
    target: str,
    width: int | None = None,
    height: int | None = None,
    fps: int | None = None,
    realtime: bool = True,
) -> FrameSource:
    """A camera device, stream URL, video file or image folder, named by one string."""
    if not is_live(target) and Path(target).is_dir():
        return ImageFolderSource(Path(target), fps=float(fps or 1), realtime=realtime)
    return CaptureSource(target, width, height, fps, realtime)


def is_live(target: str) -> bool:
    return _device_index(target) is not None or bool(STREAM_URL.match(target))


def _device_index(target: str) -> int | None:
    """The V4L2 index for '/dev/videoN' or 'N', else None."""
    found = re.fullmatch(r"(?:/dev/video)?(\d+)", target)
    return int(found.group(1)) if found else None


def _request_mode(
    capture: cv2.VideoCapture, width: int | None, height: int | None, fps: int | None
) -> None:
    if width:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
    if height:
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    if fps:
        capture.set(cv2.CAP_PROP_FPS, fps)


class _PacedSource(Protocol):
    fps: float
    realtime: bool
    corrupt_frames: int


def _paced(source: _PacedSource, images: Iterator[np.ndarray | None]) -> Iterator[Frame]:
    """Frames of a file, folder or array at the source's rate: unreadable images are skipped
    and counted, and `realtime` sleeps so frame i leaves at i / fps."""
    start = time.monotonic()
    index = 0
    for image in images:
        if image is None or not _looks_like_frame(image):
            source.corrupt_frames += 1
            continue
        t = index / source.fps
        if source.realtime:
            _sleep_until(start + t)
        yield Frame(image, t, index)
        index += 1


def _looks_like_frame(image: np.ndarray | None) -> bool:
    return (
        image is not None
        and image.dtype == np.uint8
        and image.ndim == 3
        and image.shape[2] == 3
        and min(image.shape[:2]) >= 16
    )


def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        time.sleep(delay)
