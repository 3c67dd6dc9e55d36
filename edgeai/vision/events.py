"""Camera events, the bus that hands them out, and the folder that keeps them with snapshots.

Each stored event is one JSON file and one JPEG beside it, written to a temporary name and
renamed, so a crash or a full disk never leaves half an event. Retention is by count and age.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from edgeai.atomic import write_atomically
from edgeai.messages import EventKind
from edgeai.vision.detection import Detection

log = logging.getLogger(__name__)

PHRASES: dict[EventKind, str] = {
    "person_entered": "person entered",
    "person_left": "person left",
    "fall_detected": "fall detected",
    "still_down": "still down after a fall",
}


@dataclass(frozen=True)
class CameraEvent:
    id: str
    kind: EventKind
    zone: str | None
    """The zone it happened in; None for the whole picture."""
    camera: str
    track_id: int
    at: float
    """Unix time the event was raised."""
    frame_t: float
    """Time of the frame it was seen in, on the source's clock."""
    score: float
    box: list[int]
    detections: list[dict[str, object]]
    """Everything the detector saw in that frame."""
    snapshot: str | None = None

    def describe(self) -> str:
        where = f" ({self.zone})" if self.zone else ""
        return f"{PHRASES[self.kind]}{where}, track {self.track_id}, score {self.score:.2f}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def make_event(
    kind: EventKind,
    zone: str | None,
    camera: str,
    track_id: int,
    frame_t: float,
    detection: Detection,
    seen: list[Detection],
) -> CameraEvent:
    at = time.time()
    stamp = datetime.fromtimestamp(at).strftime("%Y%m%dT%H%M%S.%f")
    return CameraEvent(
        id=f"{stamp}-{kind}-{zone or 'all'}-{track_id}",
        kind=kind,
        zone=zone,
        camera=camera,
        track_id=track_id,
        at=at,
        frame_t=round(frame_t, 3),
        score=round(detection.score, 3),
        box=detection.box.as_list(),
        detections=[
            {"label": d.label, "score": round(d.score, 3), "box": d.box.as_list()} for d in seen
        ],
    )


EventSubscriber = Callable[[CameraEvent], None]


class EventBus:
    """Hands each event to every subscriber; a failing subscriber is logged, never fatal."""

    def __init__(self) -> None:
        self._subscribers: list[EventSubscriber] = []
        self.published = 0

    def subscribe(self, subscriber: EventSubscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, event: CameraEvent) -> None:
        self.published += 1
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", subscriber, event.id)


class EventStore:
    """`folder/<id>.json` + `folder/<id>.jpg`; the oldest go beyond `keep` events or `keep_days`."""

    def __init__(self, folder: Path, keep: int = 1000, keep_days: float = 7.0) -> None:
        self.folder = folder
        self.keep = keep
        self.keep_days = keep_days
        self.failed_writes = 0

    def save(self, event: CameraEvent, snapshot_image: np.ndarray) -> CameraEvent:
        """The event with its snapshot's path; on a write failure it is logged and returned
        without one, so the bus still gets it."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            snapshot = self.folder / f"{event.id}.jpg"
            ok, jpeg = cv2.imencode(".jpg", snapshot_image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            if not ok:
                raise OSError("JPEG encoding failed")
            write_atomically(snapshot, jpeg.tobytes(), durable=True)
            event = replace(event, snapshot=str(snapshot))
            write_atomically(
                self.folder / f"{event.id}.json", json.dumps(event.as_dict()).encode(), durable=True
            )
        except OSError as e:
            self.failed_writes += 1
            log.error(
                "events: could not store %s in %s: %s", event.id, self.folder, e.strerror or e
            )
            return event
        self._prune()
        return event

    def recent(self, limit: int = 50) -> list[CameraEvent]:
        paths = sorted(self.folder.glob("*.json"))[-limit:]
        return [CameraEvent(**json.loads(p.read_text())) for p in paths]

    def _prune(self) -> None:
        events = sorted(self.folder.glob("*.json"))
        cutoff = time.time() - self.keep_days * 86400
        expired = events[: max(0, len(events) - self.keep)]
        expired += [p for p in events[len(expired) :] if p.stat().st_mtime < cutoff]
        for path in expired:
            path.unlink(missing_ok=True)
            path.with_suffix(".jpg").unlink(missing_ok=True)
