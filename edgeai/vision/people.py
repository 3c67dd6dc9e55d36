"""From tracks to what a person cares about: someone arrived, went to the door, fell, left.

The default detector has two classes, upright ("Normal") and fallen ("Fall"), and its Fall class
also fires on low, wide things such as a cat. So a track only counts as a person once it has been
seen upright twice (or once with a sure score), and a fall is a person seen upright first and
then lying (the Fall class or a box much wider than tall) for a few detector runs. A person
already lying when the camera starts is therefore not reported as a fall: the price of no fall
alarms for pets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from edgeai.vision.detection import Detection
from edgeai.vision.tracker import Track, TrackUpdate
from edgeai.vision.zones import Zone, zones_of

EventKind = Literal["person_entered", "person_left", "fall_detected"]


@dataclass(frozen=True)
class PeopleSettings:
    person_labels: tuple[str, ...] = ("Normal", "person")
    """Detector labels of an upright person."""
    fallen_labels: tuple[str, ...] = ("Fall",)
    """Detector labels of a person lying down."""
    confirm_upright: int = 2
    """Upright detections before a track is reported as a person..."""
    sure_score: float = 0.6
    """...unless one is at least this confident: then that one is enough, a detector run
    sooner (a one-frame false detection is rarely this sure; the cat is called "Fall")."""
    fall_hits: int = 2
    """Lying detections in a row before a fall is reported."""
    upright_ratio: float = 1.0
    """Height / width at or above which a person box is upright."""
    lying_ratio: float = 0.8
    """Height / width at or below which a person box is lying, whatever the label."""

    @property
    def labels(self) -> tuple[str, ...]:
        return self.person_labels + self.fallen_labels


@dataclass(frozen=True)
class PersonChange:
    kind: EventKind
    zone: str | None
    """None: the whole picture."""
    track: Track


@dataclass
class _Person:
    upright_hits: int = 0
    reported: bool = False
    lying_streak: int = 0
    fallen: bool = False
    zones: list[str] = field(default_factory=list)


class PeopleWatcher:
    def __init__(self, settings: PeopleSettings, zones: Sequence[Zone]) -> None:
        self.settings = settings
        self.zones = list(zones)
        self._people: dict[int, _Person] = {}
        self._tracks: dict[int, Track] = {}

    def update(self, update: TrackUpdate, width: int, height: int) -> list[PersonChange]:
        changes: list[PersonChange] = []
        for track in update.updated:
            person = self._people.setdefault(track.id, _Person())
            self._tracks[track.id] = track
            changes.extend(self._follow(track, person, width, height))
        for track in update.lost:
            person = self._people.pop(track.id, _Person())
            self._tracks.pop(track.id, None)
            if person.reported:
                changes.extend(PersonChange("person_left", z, track) for z in person.zones)
                changes.append(PersonChange("person_left", None, track))
        return changes

    def awaiting_confirmation(self) -> bool:
        """Someone seen upright (or lying) once whose event waits for one more look."""
        return any(
            (not p.reported and p.upright_hits > 0)
            or (p.reported and not p.fallen and p.lying_streak > 0)
            for p in self._people.values()
        )

    def present(self) -> list[tuple[Track, bool, list[str]]]:
        """Reported people now: their track, whether they are down, and their zones."""
        return [
            (self._tracks[tid], person.fallen, list(person.zones))
            for tid, person in self._people.items()
            if person.reported
        ]

    def _follow(self, track: Track, person: _Person, width: int, height: int) -> list[PersonChange]:
        latest = track.recent[-1]
        changes = []
        if self._upright(latest):
            person.upright_hits += 1
            person.lying_streak = 0
            person.fallen = False
        elif self._lying(latest):
            person.lying_streak += 1
        if not person.reported:
            sure = self._upright(latest) and latest.score >= self.settings.sure_score
            if person.upright_hits < self.settings.confirm_upright and not sure:
                return []
            person.reported = True
            changes.append(PersonChange("person_entered", None, track))
        zones = zones_of(track.box, self.zones, width, height)
        changes += [PersonChange("person_left", z, track) for z in person.zones if z not in zones]
        changes += [
            PersonChange("person_entered", z, track) for z in zones if z not in person.zones
        ]
        person.zones = zones
        if person.lying_streak >= self.settings.fall_hits and not person.fallen:
            person.fallen = True
            changes.append(PersonChange("fall_detected", zones[0] if zones else None, track))
        return changes

    def _upright(self, detection: Detection) -> bool:
        box = detection.box
        return (
            detection.label in self.settings.person_labels
            and box.height >= self.settings.upright_ratio * box.width
        )

    def _lying(self, detection: Detection) -> bool:
        box = detection.box
        return (
            detection.label in self.settings.fallen_labels
            or box.height <= self.settings.lying_ratio * box.width
        )
