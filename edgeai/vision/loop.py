"""The camera loop: frames -> motion gate -> detector (only when something moved; on a crop
around it where that is cheaper) -> tracker -> people and zones -> events (stored with a
snapshot, then published).

Nearly all of the loop's CPU is the detector (profiled: 96% of the loop's samples), so the
loop saves runs and input pixels: motion where a run found nobody is taken into the motion
gate's background at once (a ghost would otherwise wake the detector at full pace for
seconds), only people are kept in a crop (not a thing the model calls "Fall" now and then),
and the whole frame goes in at its own shape rather than the letterbox's square."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from edgeai.errors import CameraError
from edgeai.vision.camera import Camera, CameraState
from edgeai.vision.detection import Box, Detection, Detector, draw_detections
from edgeai.vision.events import CameraEvent, EventBus, EventStore, make_event
from edgeai.vision.motion import MotionGate
from edgeai.vision.people import PeopleWatcher
from edgeai.vision.quality import PictureCheck, PictureProblem
from edgeai.vision.regions import Crop, CropDetector, RegionSettings, plan_crop, whole_frame
from edgeai.vision.sources import Frame
from edgeai.vision.tracker import Tracker
from edgeai.vision.view import CameraView, SeenPerson

log = logging.getLogger(__name__)


@dataclass
class CameraStats:
    frames: int = 0
    motion_frames: int = 0
    detector_runs: int = 0
    detector_s: float = 0.0
    """Time spent inside the detector."""
    crop_runs: int = 0
    """Detector runs on a crop of the frame around what moved (included in detector_runs)."""
    crops_widened: int = 0
    """Crops that cut something the detector found, so it ran again on the whole frame."""
    events: int = 0
    unusable_frames: int = 0
    """Black, over-exposed, flat or repeated frames, kept from the detector."""

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class DetectPacing:
    interval_s: float
    """At most one detector run per this much source time while things move (1 /
    camera.detect_fps)..."""
    tracked_interval_s: float
    """...or (1 / camera.tracked_detect_fps) while the only motion is on people already
    tracked: the detector follows them (zones, a fall) but has nothing new to find there, and
    has less to learn there than where something new moves."""
    recheck_s: float
    """While people are tracked, run the detector this often even without motion."""
    still_interval_s: float = 1.0
    """...or (1 / camera.still_detect_fps) while all that moves lies inside people's boxes
    (someone standing, an arm moving) or where the last run found nobody. Someone who lies
    down or walks on moves out of their box, which brings the faster paces back at once."""
    yielding_interval_s: float = 1.0
    """The slower rate while another loop has priority (a voice turn)."""
    confirming_interval_s: float = 0.0
    """While a person seen once awaits the look that confirms it, the detector runs this soon
    again (0: on the next frame): that look decides how late the event is."""


class CameraLoop:
    def __init__(
        self,
        name: str,
        gate: MotionGate,
        detector: Detector,
        tracker: Tracker,
        people: PeopleWatcher,
        bus: EventBus,
        store: EventStore | None,
        pacing: DetectPacing,
        regions: RegionSettings | None = None,
    ) -> None:
        self.name = name
        self.gate = gate
        self.detector = detector
        self.tracker = tracker
        self.people = people
        self.bus = bus
        self.store = store
        self.pacing = pacing
        self.regions = regions
        """How to crop the frame around what moved; None: the detector always sees it whole."""
        self.stats = CameraStats()
        self.camera: Camera | None = None
        self.yield_to: Callable[[], bool] | None = None
        """While this returns True (a voice turn is on), the detector runs less often."""
        self.frame_done: Callable[[Frame, list[CameraEvent]], None] | None = None
        """Called after each frame in `run` (benchmarks measure with it)."""
        self.heartbeat: Callable[[], None] | None = None
        """Called on every pass of `run`, frame or not: the service's watchdog listens to it."""
        self.latest_frame: Frame | None = None
        """The last frame processed (the service's /snapshot)."""
        self._last_detect_t: float | None = None
        self._empty: list[Box] = []
        """The motion boxes of the last detector run where it found nobody (the ghost of
        someone who left, leaves in the wind, a shadow): motion again inside one of them, give
        or take a tenth of its size (a ghost fading), is paced as a person standing; what grows
        out of it (someone stepping in) is new."""
        self.picture = PictureCheck()
        self.picture_problem: PictureProblem | None = None
        """What is wrong with the latest frame (the service's /health)."""

    def process(self, frame: Frame) -> list[CameraEvent]:
        """One frame through the whole chain; returns the events it raised."""
        self.stats.frames += 1
        if self._unusable(frame):
            return []
        motion = self.gate.update(frame.image)
        moved = bool(motion)
        self.stats.motion_frames += moved
        if not self._detector_due(frame.t, moved, self._motion_interval(motion.boxes)):
            return []
        self._last_detect_t = frame.t
        started = time.perf_counter()
        seen = self._detect(frame.image, motion.boxes)
        self.stats.detector_s += time.perf_counter() - started
        height, width = frame.image.shape[:2]
        self._forget_nobody(motion.boxes, seen, width, height)
        changes = self.people.update(self.tracker.update(seen, frame.t), width, height)
        events = []
        for change in changes:
            latest = change.track.recent[-1]
            event = make_event(
                change.kind, change.zone, self.name, change.track.id, frame.t, latest, seen
            )
            if self.store is not None:
                picture = draw_detections(frame.image, seen, latest.box, event.describe())
                event = self.store.save(event, picture)
            log.info("camera %s: %s", self.name, event.describe())
            self.stats.events += 1
            self.bus.publish(event)
            events.append(event)
        return events

    def _forget_nobody(
        self, moving: list[Box], seen: list[Detection], width: int, height: int
    ) -> None:
        """What moved where this run found nobody is no one: the motion gate takes it into
        its background at once, instead of letting it fade for seconds at the full detector
        pace. Kept: whoever was found (and a tenth of their size around them), and motion at
        the picture's edge with nobody found on it, which may be someone stepping in."""
        self._empty = [b for b in moving if not any(b.overlaps(d.box) for d in seen)]
        inside = [b for b in moving if b not in self._empty or not b.cut_by_edge(width, height)]
        found = [_grown(d.box, 0.1) for d in seen]
        self.gate.forget(inside, keep=found)

    def _detect(self, image: np.ndarray, moving: list[Box]) -> list[Detection]:
        """The people the detector finds (sure enough: `PeopleWatcher.credible`): in a crop
        around what moved and whoever is followed when that is cheaper, else (or when the crop
        cuts someone) in the whole frame."""
        wanted = self.people.settings.labels
        height, width = image.shape[:2]

        def people(found: list[Detection]) -> list[Detection]:
            return self.people.credible([d for d in found if d.label in wanted], width, height)

        cropper = self._crop_detector()
        if cropper is None or self.regions is None:
            self.stats.detector_runs += 1
            return people(self.detector.detect(image))
        crop = self._crop(cropper, self.regions, moving, width, height)
        if crop is not None:
            self.stats.detector_runs += 1
            self.stats.crop_runs += 1
            seen = people(cropper.detect_crop(image, crop))
            if not any(crop.cuts(d.box, width, height) for d in seen):
                return seen
            self.stats.crops_widened += 1
        self.stats.detector_runs += 1
        whole = whole_frame(width, height, cropper.size, self.regions)
        return people(cropper.detect_crop(image, whole))

    def _crop(
        self,
        detector: CropDetector,
        regions: RegionSettings,
        moving: list[Box],
        width: int,
        height: int,
    ) -> Crop | None:
        # every person followed is looked at too: one left out would count a miss; other
        # things tracked only where the crop would cut them (else it is cut again each run)
        boxes = moving + [track.box for track in self.people.followed()]
        crop = plan_crop(boxes, width, height, detector.size, regions)
        if crop is None:
            return None
        cut = [t.box for t in self.tracker.tracks if crop.box.overlaps(t.box)]
        return plan_crop(boxes + cut, width, height, detector.size, regions)

    def _crop_detector(self) -> CropDetector | None:
        """The detector, where crops are on and it takes them."""
        detector = self.detector
        if self.regions is None or not isinstance(detector, CropDetector) or not detector.any_size:
            return None
        return detector

    def run(self, camera: Camera, stop: threading.Event) -> None:
        """Process the camera's frames until it ends, fails for good, or `stop` is set."""
        self.camera = camera
        camera.start()
        try:
            while not stop.is_set():
                if self.heartbeat is not None:
                    self.heartbeat()
                frame = camera.get(timeout_s=0.5)
                if frame is not None:
                    self.latest_frame = frame
                    events = self.process(frame)
                    if self.frame_done is not None:
                        self.frame_done(frame, events)
                elif camera.state is CameraState.FAILED:
                    raise CameraError(camera.problem)
                elif camera.state is CameraState.ENDED:
                    return
        finally:
            camera.stop()

    def view(self) -> CameraView:
        """Who the camera sees now and where: the voice loop's camera answers come from this."""
        problem = None
        if self.camera is not None and self.camera.state is CameraState.REOPENING:
            problem = self.camera.problem
        people = tuple(
            SeenPerson(tuple(zones), fallen) for _, fallen, zones in self.people.present()
        )
        return CameraView(people, tuple(z.name for z in self.people.zones), problem)

    def describe(self) -> str:
        """What the camera sees now, in a sentence, for "what do you see"."""
        return self.view().describe()

    def _unusable(self, frame: Frame) -> bool:
        """Counts and logs (once per change) frames that show nothing to detect."""
        problem = self.picture.problem(frame.image)
        if problem is not self.picture_problem:
            # some cameras repeat a frame now and then in low light: not worth a warning
            quiet = PictureProblem.FROZEN in (problem, self.picture_problem)
            if problem is None:
                text = "camera %s: the picture is usable again at %.1f s"
                log.log(logging.DEBUG if quiet else logging.INFO, text, self.name, frame.t)
            else:
                text = "camera %s: %s picture at %.1f s: the detector is not run on it"
                level = logging.DEBUG if quiet else logging.WARNING
                log.log(level, text, self.name, problem.value, frame.t)
            self.picture_problem = problem
        self.stats.unusable_frames += problem is not None
        return problem is not None

    def _motion_interval(self, boxes: list[Box]) -> float:
        """How long to wait between runs for what moved: new motion anywhere is looked at
        soonest, motion on people already reported later, and motion that stays inside their
        boxes, or where the last run found nobody, latest."""
        people = [track.box for track, _, _ in self.people.present()]
        pace = self.pacing
        if all(_inside(b, people, 0.1) or _inside(b, self._empty, 0.1) for b in boxes):
            return pace.still_interval_s
        if all(_inside(b, people, 0.5) or _inside(b, self._empty, 0.1) for b in boxes):
            return pace.tracked_interval_s
        return pace.interval_s

    def _detector_due(self, t: float, moved: bool, motion_interval: float) -> bool:
        if self._last_detect_t is None:
            return moved
        since = t - self._last_detect_t
        yielding = self.yield_to is not None and self.yield_to()
        if self.people.awaiting_confirmation() and not yielding:
            return since >= self.pacing.confirming_interval_s
        if self.people.fall_pending():
            return since >= self.pacing.interval_s
        if moved and yielding:
            return since >= self.pacing.yielding_interval_s
        if any(track.misses for track in self.people.followed()):
            # someone missed at the last look: gone, or hidden? The ghost they leave is
            # forgotten at once, so without this only `recheck_s` would tell
            motion_interval = min(motion_interval, self.pacing.tracked_interval_s)
            return since >= motion_interval
        if moved:
            return since >= motion_interval
        return bool(self.tracker.tracks) and since >= self.pacing.recheck_s


def _inside(box: Box, places: list[Box], slack: float) -> bool:
    """Whether `box` lies inside one of `places`, each widened on every side by `slack` times
    its longer side."""
    for place in places:
        wide = _grown(place, slack)
        if box.x1 >= wide.x1 and box.x2 <= wide.x2 and box.y1 >= wide.y1 and box.y2 <= wide.y2:
            return True
    return False


def _grown(box: Box, share: float) -> Box:
    """`box` widened on every side by `share` of its longer side."""
    reach = share * max(box.width, box.height)
    return Box(box.x1 - reach, box.y1 - reach, box.x2 + reach, box.y2 + reach)
