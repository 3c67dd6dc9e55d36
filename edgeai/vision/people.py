"""From tracks to what a person cares about: someone arrived, went to the door, fell, left.

The default detector has two classes, upright ("Normal") and fallen ("Fall"); its label flips
from one run to the next on someone bending, sitting or partly in view, and its Fall class also
fires on low, wide things such as a cat. So:

- a track counts as a person once it has been seen upright twice (or once with a sure score);
- a box cut by the picture's edge is a partial person: its shape and label say nothing about
  lying, but a person label on it counts toward "person entered" at once, from any side, and
  from a lower score (`camera.partial_min_score`): partly in view, the detector is less sure;
- a fall is an episode: a person seen upright for `rearm_upright_s` who then lies for `lying_s`
  (no upright look in between) raises one fall event; the episode ends only after
  `rearm_upright_s` upright again (so a track that splits while someone gets up does not make a
  second fall), a person falls at most once per `min_interval_s`, and someone still lying is
  reported again (still_down, not fall_detected) every `still_down_every_s`.

A person already lying when the camera starts is therefore not reported as a fall: the price of
no fall alarms for pets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from edgeai.config import CameraSettings, FallConfig
from edgeai.messages import EventKind
from edgeai.vision.detection import Detection
from edgeai.vision.tracker import Track, TrackUpdate
from edgeai.vision.zones import Zone, zones_of


class Posture(Enum):
    UPRIGHT = "upright"
    LYING = "lying"
    PARTIAL = "partial"
    """Cut by the picture's edge: says nothing about lying."""
    UNSURE = "unsure"
    """Neither clearly upright nor clearly lying (a Fall label on a tall box: someone bending)."""


@dataclass(frozen=True)
class PeopleSettings:
    sure_score: float
    """One upright detection this confident is a person at once (camera.person_sure_score)."""
    falls: FallConfig
    min_score: float
    """Detections less sure than this are no one (camera.min_score)..."""
    partial_min_score: float
    """...except a person label on a box cut by the picture's edge, down to this
    (camera.partial_min_score): the detector is less sure of someone partly in view."""
    person_labels: tuple[str, ...] = ("Normal", "person")
    """Detector labels of an upright person."""
    fallen_labels: tuple[str, ...] = ("Fall",)
    """Detector labels of a person lying down."""
    confirm_upright: int = 2
    """Upright detections before a track is reported as a person, unless one reaches
    `sure_score`: then that one is enough, a detector run sooner (a one-frame false detection
    is rarely this sure; the cat is called "Fall")."""
    upright_ratio: float = 1.0
    """Height / width at or above which a person box is upright; a Fall label on a box this
    tall is unsure, not lying. Lying: `falls.lying_ratio` and `falls.lying_height`."""
    lying_hits: int = 2
    """Lying detections an episode needs besides its time (one run is never a fall)."""
    edge_margin: float = 0.01
    """A box within this fraction of the width (height) of a side is cut by it: partial."""

    @classmethod
    def of(cls, camera: CameraSettings) -> PeopleSettings:
        return cls(
            sure_score=camera.person_sure_score,
            falls=camera.falls,
            min_score=camera.min_score,
            partial_min_score=camera.partial_min_score,
        )

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
    """Looks that count toward "person entered" (upright, or partial with a person label)."""
    reported: bool = False
    armed: bool = False
    """Upright for `rearm_upright_s` (from the first look of an upright row to the look that
    ends it) since the last fall, or ever: lying now can be a fall."""
    upright_since: float | None = None
    """Source time of the first of the upright looks in a row."""
    lying_since: float | None = None
    """Source time of the first of the lying looks in a row (partial and unsure ones neither
    break nor extend the row)."""
    lying_hits: int = 0
    upright_height: float | None = None
    """Box height at the last upright look: how tall this person stands here."""
    fallen_at: float | None = None
    """The fall episode's event time; None while there is no episode."""
    last_fall: float | None = None
    last_report: float | None = None
    """The last fall or still_down event of this episode."""
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
        """Someone seen once whose "person entered" waits for one more look."""
        return any(not p.reported and p.upright_hits > 0 for p in self._people.values())

    def fall_pending(self) -> bool:
        """Someone lying whose fall waits for its time: they may lie still, so the detector must
        keep looking although nothing moves."""
        return any(p.armed and p.lying_since is not None for p in self._people.values())

    def followed(self) -> list[Track]:
        """Tracks of people (reported, or seen upright once): the detector must keep seeing
        them. A thing never seen upright (a bin the model calls "Fall" now and then) is not
        one, and losing its track changes nothing."""
        return [
            self._tracks[tid]
            for tid, person in self._people.items()
            if person.reported or person.upright_hits > 0
        ]

    def present(self) -> list[tuple[Track, bool, list[str]]]:
        """Reported people now: their track, whether they are down, and their zones."""
        return [
            (self._tracks[tid], person.fallen_at is not None, list(person.zones))
            for tid, person in self._people.items()
            if person.reported
        ]

    def credible(self, detections: list[Detection], width: int, height: int) -> list[Detection]:
        """The detections sure enough to follow: `min_score`, or `partial_min_score` for a
        person label on a box cut by the edge (someone walking in from any side)."""
        s = self.settings
        return [
            d
            for d in detections
            if d.score >= s.min_score
            or (
                d.score >= s.partial_min_score
                and d.label in s.person_labels
                and d.box.cut_by_edge(width, height, s.edge_margin)
            )
        ]

    def posture(
        self, detection: Detection, width: int, height: int, upright_height: float | None = None
    ) -> Posture:
        """What one look says. A whole box is lying when it is low for its width
        (`falls.lying_ratio`), or when the detector calls it fallen, it is not tall, and its top
        dropped to `falls.lying_height` of `upright_height` (the person's last upright box):
        bent over or sitting, people give squarish boxes the detector now and then calls
        fallen, but they keep more than half their height."""
        box, s = detection.box, self.settings
        if box.cut_by_edge(width, height, s.edge_margin):
            return Posture.PARTIAL
        tall = box.height >= s.upright_ratio * box.width
        if detection.label in s.person_labels and tall:
            return Posture.UPRIGHT
        dropped = upright_height is not None and box.height <= s.falls.lying_height * upright_height
        if box.height <= s.falls.lying_ratio * box.width or (
            detection.label in s.fallen_labels and not tall and dropped
        ):
            return Posture.LYING
        return Posture.UNSURE

    def _follow(self, track: Track, person: _Person, width: int, height: int) -> list[PersonChange]:
        latest, t = track.recent[-1], track.last_seen
        posture = self.posture(latest, width, height, person.upright_height)
        if posture is Posture.UPRIGHT:
            person.upright_height = latest.box.height
        self._observe(person, posture, t)
        changes = []
        if not person.reported:
            looks_like_one = (
                posture in (Posture.UPRIGHT, Posture.PARTIAL)
                and latest.label in self.settings.person_labels
            )
            person.upright_hits += looks_like_one
            sure = looks_like_one and latest.score >= self.settings.sure_score
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
        fall = self._fall(person, t)
        if fall is not None:
            changes.append(PersonChange(fall, zones[0] if zones else None, track))
        return changes

    def _observe(self, person: _Person, posture: Posture, t: float) -> None:
        """Extends or breaks the person's upright and lying rows; ends an episode after a
        sustained upright row."""
        if posture is Posture.UPRIGHT:
            person.lying_since, person.lying_hits = None, 0
            if person.upright_since is None:
                person.upright_since = t
        # upright from the row's first look until now: the detector rests while a person
        # stands still, so the look that ends the row may be the first one in a while
        upright_for = None if person.upright_since is None else t - person.upright_since
        if (
            posture is not Posture.UNSURE
            and posture is not Posture.PARTIAL
            and (upright_for is not None and upright_for >= self.settings.falls.rearm_upright_s)
        ):
            person.armed, person.fallen_at = True, None
        if posture is Posture.LYING:
            person.upright_since = None
            if person.lying_since is None:
                person.lying_since = t
            person.lying_hits += 1

    def _fall(self, person: _Person, t: float) -> EventKind | None:
        """fall_detected once per episode, still_down on its interval, or nothing."""
        falls = self.settings.falls
        if person.lying_since is None:
            return None
        if person.fallen_at is not None:
            every = falls.still_down_every_s
            if every > 0 and person.last_report is not None and t - person.last_report >= every:
                person.last_report = t
                return "still_down"
            return None
        if (
            person.armed
            and person.lying_hits >= self.settings.lying_hits
            and t - person.lying_since >= falls.lying_s
            and (person.last_fall is None or t - person.last_fall >= falls.min_interval_s)
        ):
            person.fallen_at = person.last_fall = person.last_report = t
            person.armed = False
            return "fall_detected"
        return None
