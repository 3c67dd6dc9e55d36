"""A light IoU tracker: one person walking through the picture is one track, not one per frame.

Greedy matching by box overlap is enough at camera rates (boxes move little between detector
runs); a track is confirmed after a few hits and dropped after a few detector runs without one.
Misses only count when the detector ran, so a person standing still while nothing moves (and the
detector rests) keeps their track.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

from edgeai.vision.detection import Box, Detection


@dataclass(frozen=True)
class TrackerSettings:
    match_iou: float = 0.25
    """Overlap a detection needs with a track's last box to continue it..."""
    match_reach: float = 1.0
    """...or, failing any overlap match, how far its centre may be from the box's, in the box's
    longer side: someone walking fast between detector runs (or while the detector slows down for
    a voice turn) stays one track, so one person is one event."""
    confirm_hits: int = 2
    """Detections before a track counts (one stray detection is not an event)."""
    lost_after_misses: int = 3
    """Detector runs without a match before the track is dropped."""
    history: int = 5


@dataclass
class Track:
    id: int
    box: Box
    label: str
    score: float
    first_seen: float
    last_seen: float
    hits: int = 1
    misses: int = 0
    recent: deque[Detection] = field(default_factory=deque)
    """The last few detections, newest last."""

    def add(self, detection: Detection, t: float, history: int) -> None:
        self.box, self.label, self.score = detection.box, detection.label, detection.score
        self.last_seen = t
        self.hits += 1
        self.misses = 0
        self.recent.append(detection)
        while len(self.recent) > history:
            self.recent.popleft()


@dataclass(frozen=True)
class TrackUpdate:
    updated: list[Track]
    """Tracks that got a detection this run."""
    lost: list[Track]
    """Tracks dropped this run."""


class Tracker:
    def __init__(self, settings: TrackerSettings) -> None:
        self.settings = settings
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def update(self, detections: list[Detection], t: float) -> TrackUpdate:
        used_tracks: set[int] = set()
        used_detections: set[int] = set()
        for closeness, enough in (
            (Box.iou, self.settings.match_iou),
            (_nearness, -self.settings.match_reach),
        ):
            pairs = (
                (closeness(track.box, d.box), ti, di)
                for ti, track in enumerate(self.tracks)
                for di, d in enumerate(detections)
            )
            for score, ti, di in sorted(pairs, reverse=True):
                if score < enough:
                    break
                if ti in used_tracks or di in used_detections:
                    continue
                if not _could_be_one(self.tracks[ti].box, detections[di].box):
                    continue
                used_tracks.add(ti)
                used_detections.add(di)
                self.tracks[ti].add(detections[di], t, self.settings.history)
        updated = [self.tracks[i] for i in sorted(used_tracks)]
        for i, track in enumerate(self.tracks):
            if i not in used_tracks:
                track.misses += 1
        lost = [tr for tr in self.tracks if tr.misses >= self.settings.lost_after_misses]
        self.tracks = [tr for tr in self.tracks if tr.misses < self.settings.lost_after_misses]
        for di, detection in enumerate(detections):
            if di not in used_detections:
                track = Track(
                    next(self._ids), detection.box, detection.label, detection.score, t, t
                )
                track.recent.append(detection)
                self.tracks.append(track)
                updated.append(track)
        return TrackUpdate(updated, lost)


def _nearness(box: Box, other: Box) -> float:
    """Minus the distance between the centres, in the longer side of `box` (a body's length,
    standing or lying, so someone getting up stays one track): larger is closer, as a larger
    overlap is, so both passes pair greedily the same way."""
    dx = (other.x1 + other.x2 - box.x1 - box.x2) / 2
    dy = (other.y1 + other.y2 - box.y1 - box.y2) / 2
    return -float((dx * dx + dy * dy) ** 0.5 / max(box.height, box.width, 1.0))


def _could_be_one(box: Box, other: Box) -> bool:
    """A body keeps its length, and either its shape (walking on) or its place (falling where
    it stood): a far box of another shape, or a small thing at the feet of someone who just
    left (a bag on the lawn the detector calls Fall), is something else."""
    length, other_length = max(box.width, box.height, 1.0), max(other.width, other.height, 1.0)
    if not 0.5 <= length / other_length <= 2.0:
        return False
    touch = min(box.x2, other.x2) > max(box.x1, other.x1) and min(box.y2, other.y2) > max(
        box.y1, other.y1
    )
    ratio = (box.height / max(box.width, 1.0)) / max(other.height / max(other.width, 1.0), 1e-6)
    return touch or 0.5 <= ratio <= 2.0
