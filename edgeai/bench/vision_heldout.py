"""The held-out half of `bench vision`: the camera loop on clips of other people in another
place (edgeai/synthetic/held_out_scenes.py), in real time, scored against their ground truth:
how soon each person is reported after a quarter of them is in view (from every edge), how
soon a real fall is reported after the configured lying time, and every event that should not
have been (a fall for someone walking, standing, sitting or bending over)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgeai.bench.vision import (
    PhaseCost,
    crop_counts,
    crop_line,
    phase_table,
    play_clip,
    playback,
    with_cpu_percent,
)
from edgeai.config import CameraSettings
from edgeai.synthetic.held_out_scenes import (
    HeldOutMaterial,
    HeldOutScript,
    HeldOutTruth,
    VisitTruth,
    heldout_truth,
    write_heldout_clip,
)
from edgeai.synthetic.poses import Pose
from edgeai.vision.build import build_camera_loop
from edgeai.vision.detection import Detector
from edgeai.vision.events import CameraEvent
from edgeai.vision.loop import CameraLoop
from edgeai.vision.sources import Frame

NOBODY, SOMEONE = "nobody in view", "someone in view"
SLACK_S = 2.0
"""An event this long after a person left still belongs to their visit (the tracker lets a
track go a few detector runs after its last sighting)."""


@dataclass(frozen=True)
class VisitResult:
    edge: str
    pose: Pose | None
    person_latency_s: float | None
    """From the first frame a quarter of the person is in view to the person_entered event
    (wall clock of the real-time playback; negative: reported sooner)."""
    falls: int
    fall_latency_s: float | None
    """From the end of the configured lying time to the fall event."""


DOING: dict[Pose, str] = {"lie": "lies down", "sit": "sits down", "bend": "bends over"}


@dataclass
class HeldOutBench:
    title: str
    """What the clip shows, for the table's heading."""
    clip_s: float
    lying_s: float
    realtime: bool
    phases: dict[str, PhaseCost]
    visits: list[VisitResult]
    false_events: list[str] = field(default_factory=list)
    detector_ms: float = 0.0
    crops: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return with_cpu_percent(asdict(self), self.phases)

    def markdown(self) -> str:
        lines = [
            f"### vision, held out: {self.clip_s:.0f} s clip of {self.title}, "
            + playback(self.realtime),
            "",
            "| visit | person event after a quarter in view | falls | fall event after "
            f"lying {self.lying_s:g} s |",
            "| --- | --- | --- | --- |",
        ]
        for visit in self.visits:
            what = f"from the {visit.edge}" + (f", {DOING[visit.pose]}" if visit.pose else "")
            fall = _ms(visit.fall_latency_s) if visit.pose == "lie" else "-"
            lines.append(f"| {what} | {_ms(visit.person_latency_s)} | {visit.falls} | {fall} |")
        lines += ["", *phase_table(self.phases)]
        lines += [
            "",
            "- false events (nobody there, a fall while walking, standing, sitting or bending, "
            f"a second fall): "
            f"{len(self.false_events)}"
            + (f" ({'; '.join(self.false_events)})" if self.false_events else ""),
            f"- detector: {self.detector_ms:.0f} ms per run (crops and whole frames)",
            crop_line(self.crops),
        ]
        return "\n".join(lines) + "\n"


def bench_heldout(
    detector: Detector,
    workdir: Path,
    settings: CameraSettings | None = None,
    script: HeldOutScript | None = None,
    material: HeldOutMaterial | None = None,
    realtime: bool = True,
    progress: Callable[[float], None] | None = None,
    name: str = "heldout",
    title: str = "five other people in another place",
) -> HeldOutBench:
    """Write the held-out clip (`workdir`/bench-`name`.avi), play it through a camera loop built
    from `settings` (no zones, no rules) at its frame rate, and score it."""
    script = script or HeldOutScript()
    material = material or HeldOutMaterial.load()
    truth = heldout_truth(script, material)
    clip = workdir / f"bench-{name}.avi"
    write_heldout_clip(clip, script, material)
    settings = (settings or CameraSettings()).model_copy(update={"zones": {}, "rules": []})
    loop = build_camera_loop(settings, detector, "held-out", None)
    meter = _Meter(loop, truth, progress, realtime)
    play_clip(loop, clip, meter.frame_done, realtime)
    lying_s = settings.falls.lying_s
    return HeldOutBench(
        title=title,
        clip_s=script.seconds,
        lying_s=lying_s,
        realtime=realtime,
        phases=meter.phases,
        visits=[_score(visit, meter.events, lying_s) for visit in truth.visits],
        false_events=_false_events(meter.events, truth),
        detector_ms=1000 * loop.stats.detector_s / max(loop.stats.detector_runs, 1),
        crops=crop_counts(loop),
    )


class _Meter:
    """Charges wall and CPU time to whether someone is in view, and times each event on the
    playback's clock."""

    def __init__(
        self,
        loop: CameraLoop,
        truth: HeldOutTruth,
        progress: Callable[[float], None] | None,
        realtime: bool = True,
    ) -> None:
        self.loop = loop
        self.truth = truth
        self.progress = progress
        self.realtime = realtime
        self.phases = {NOBODY: PhaseCost(), SOMEONE: PhaseCost()}
        self.events: list[tuple[float, CameraEvent]] = []
        self._start: float | None = None
        self._last = (0.0, 0.0, 0.0)
        self._runs = 0

    def frame_done(self, frame: Frame, events: list[CameraEvent]) -> None:
        now, cpu = time.monotonic(), time.process_time()
        if self._start is None:
            self._start, self._last = now - frame.t, (now, cpu, frame.t)
            return
        in_view = any(v.visible[0] <= frame.t <= v.visible[1] for v in self.truth.visits)
        runs = self.loop.stats.detector_runs - self._runs
        wall, cpu_s, clip = now - self._last[0], cpu - self._last[1], frame.t - self._last[2]
        self.phases[SOMEONE if in_view else NOBODY].add(wall, cpu_s, clip, runs)
        self._runs = self.loop.stats.detector_runs
        self._last = (now, cpu, frame.t)
        played = now - self._start if self.realtime else frame.t
        self.events += [(played, event) for event in events]
        if self.progress is not None:
            self.progress(frame.t)


def _during(visit: VisitTruth, event: CameraEvent) -> bool:
    return visit.visible[0] - 0.1 <= event.frame_t <= visit.visible[1] + SLACK_S


def _score(
    visit: VisitTruth, events: list[tuple[float, CameraEvent]], lying_s: float
) -> VisitResult:
    mine = [(wall, e) for wall, e in events if _during(visit, e)]
    entered = next((w for w, e in mine if e.kind == "person_entered" and e.zone is None), None)
    falls = [w for w, e in mine if e.kind == "fall_detected"]
    fall_latency = (
        round(falls[0] - (visit.lying[0] + lying_s), 3) if falls and visit.lying else None
    )
    return VisitResult(
        edge=visit.edge,
        pose=visit.pose,
        person_latency_s=None if entered is None else round(entered - visit.quarter_in_view, 3),
        falls=len(falls),
        fall_latency_s=fall_latency,
    )


def _false_events(events: list[tuple[float, CameraEvent]], truth: HeldOutTruth) -> list[str]:
    wrong = []
    for _, event in events:
        visits = [v for v in truth.visits if _during(v, event)]
        if not visits:
            wrong.append(f"{event.kind} at {event.frame_t:.1f} s with nobody there")
        elif event.kind == "fall_detected" and not any(v.lying for v in visits):
            wrong.append(f"fall at {event.frame_t:.1f} s of someone not lying down")
    for visit in truth.visits:
        falls = [e for _, e in events if _during(visit, e) and e.kind == "fall_detected"]
        wrong += [f"a second fall at {e.frame_t:.1f} s in one episode" for e in falls[1:]]
    return wrong


def _ms(value: float | None) -> str:
    return "never" if value is None else f"{value * 1000:.0f} ms"
