"""Vision benchmark: the camera loop on a generated front-door clip with ground truth, in real
time: CPU while nothing moves and while things do, detector runs per phase, event latency, and
events that should not have happened (the cat, the light)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgeai.config import CameraSettings
from edgeai.synthetic.scene import (
    DOOR_ZONE,
    GroundTruth,
    SceneScript,
    Sprites,
    ground_truth,
    write_clip,
)
from edgeai.vision.build import build_camera_loop
from edgeai.vision.camera import Camera, CameraTiming
from edgeai.vision.detection import Detector
from edgeai.vision.events import CameraEvent
from edgeai.vision.loop import CameraLoop
from edgeai.vision.sources import CaptureSource, Frame, FrameSource

PHASES = ("still", "light change", "cat", "person", "after the person left")


@dataclass
class PhaseCost:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    clip_s: float = 0.0
    """Seconds of the clip the phase's frames span (its own clock): the wall time of a loop
    that keeps up in real time, and the time base when the clip is played as fast as it goes."""
    frames: int = 0
    detector_runs: int = 0

    @property
    def cpu_percent_of_one_core(self) -> float:
        """CPU seconds per second of video: played as fast as it goes on a machine too busy for
        real time, still the work of every frame (paced by the clip's clock), not of the few a
        starved loop gets to."""
        return 100 * self.cpu_s / self.clip_s if self.clip_s else 0.0

    def add(self, wall_s: float, cpu_s: float, clip_s: float, runs: int) -> None:
        self.wall_s += wall_s
        self.cpu_s += cpu_s
        self.clip_s += clip_s
        self.frames += 1
        self.detector_runs += runs


@dataclass
class VisionBench:
    clip_s: float
    width: int
    height: int
    fps: int
    realtime: bool
    """False: played as fast as it goes, every frame processed; latencies on the clip's clock."""
    phases: dict[str, PhaseCost]
    detector_ms: float
    """Mean time of one detector run."""
    person_event_latency_s: float | None
    """From the first frame any part of the person shows."""
    person_event_latency_from_half_s: float | None
    """From the first frame half of the person is in view."""
    fall_event_latency_s: float | None
    events: list[dict[str, object]] = field(default_factory=list)
    false_events: list[str] = field(default_factory=list)
    dropped_frames: int = 0
    crops: dict[str, int] = field(default_factory=dict)
    """Detector runs on a crop, and crops that cut someone (see `crop_counts`)."""

    def as_dict(self) -> dict[str, object]:
        return with_cpu_percent(asdict(self), self.phases)

    def markdown(self) -> str:
        lines = [
            f"### vision: {self.width}x{self.height} at {self.fps} fps, {self.clip_s:.0f} s clip, "
            + playback(self.realtime),
            "",
            *phase_table(self.phases),
        ]
        lines += [
            "",
            f"- detector: {self.detector_ms:.0f} ms per run ({1000 / self.detector_ms:.1f} runs/s)"
            if self.detector_ms
            else "- detector: never ran",
            f"- person event {_latency(self.person_event_latency_s)} after the first pixel of the "
            f"person showed, {_latency(self.person_event_latency_from_half_s)} after half of "
            "them was in view",
            f"- fall event {_latency(self.fall_event_latency_s)} after the fall",
            f"- false events (cat, light, nobody there): {len(self.false_events)}"
            + (f" ({'; '.join(self.false_events)})" if self.false_events else ""),
            f"- frames dropped by a busy loop: {self.dropped_frames}",
            crop_line(self.crops),
        ]
        return "\n".join(lines) + "\n"


def bench_vision(
    detector: Detector,
    workdir: Path,
    script: SceneScript | None = None,
    realtime: bool = True,
    progress: Callable[[float], None] | None = None,
    settings: CameraSettings | None = None,
) -> VisionBench:
    """Write the clip, play it at its frame rate through the camera loop, and score it.

    `settings` (the user's camera settings: detector pace, scores) are used with the clip's door
    zone and no rules."""
    script = script or SceneScript()
    sprites = Sprites.load()
    truth = ground_truth(script, sprites)
    clip = workdir / "bench-scene.avi"
    write_clip(clip, script, sprites)
    door = {"door": [list(c) for c in DOOR_ZONE]}
    settings = (settings or CameraSettings()).model_copy(update={"zones": door, "rules": []})
    loop = build_camera_loop(settings, detector, "bench", None)
    events: list[CameraEvent] = []
    loop.bus.subscribe(events.append)
    phases = {name: PhaseCost() for name in PHASES}
    meter = _PhaseMeter(loop, truth, phases, progress, realtime)

    camera = play_clip(loop, clip, meter.frame_done, realtime)
    return VisionBench(
        clip_s=script.seconds,
        width=script.width,
        height=script.height,
        fps=script.fps,
        realtime=realtime,
        phases=phases,
        detector_ms=1000 * loop.stats.detector_s / loop.stats.detector_runs
        if loop.stats.detector_runs
        else 0.0,
        person_event_latency_s=_first_latency(
            events, "person_entered", truth.person_visible[0], meter
        ),
        person_event_latency_from_half_s=_first_latency(
            events, "person_entered", truth.person_half_in_view, meter
        ),
        fall_event_latency_s=_first_latency(events, "fall_detected", truth.person_fallen[0], meter),
        events=[{"kind": e.kind, "zone": e.zone, "frame_t": e.frame_t} for e in events],
        false_events=_false_events(events, truth),
        dropped_frames=camera.dropped_frames,
        crops=crop_counts(loop),
    )


def crop_counts(loop: CameraLoop) -> dict[str, int]:
    """How many detector runs saw a crop, and how many crops cut someone (the whole frame was
    then looked at too), of all runs."""
    stats = loop.stats
    return {"runs": stats.detector_runs, "on_a_crop": stats.crop_runs, "cut": stats.crops_widened}


def crop_line(crops: dict[str, int]) -> str:
    return (
        f"- detector runs on a crop around what moved: {crops['on_a_crop']} of {crops['runs']} "
        f"({crops['cut']} cut someone, who was then looked for in the whole frame)"
    )


def playback(realtime: bool) -> str:
    """How the clip was played, for a section's title."""
    if realtime:
        return "real time"
    return (
        "as fast as it goes (every frame, paced by the clip's clock; CPU per second of video, "
        "latency from the frame that raised the event, the detector's time not included)"
    )


def with_cpu_percent(data: dict[str, Any], phases: dict[str, PhaseCost]) -> dict[str, Any]:
    """`data` (a result as a dict) with each phase's CPU share added, as the table shows it."""
    for name, cost in phases.items():
        data["phases"][name]["cpu_percent_of_one_core"] = cost.cpu_percent_of_one_core
    return data


def phase_table(phases: dict[str, PhaseCost]) -> list[str]:
    """Markdown lines: each phase's seconds, CPU and detector runs."""
    lines = [
        "| phase | seconds of video | CPU (% of one core) | detector runs |",
        "| --- | --- | --- | --- |",
    ]
    for name, cost in phases.items():
        lines.append(
            f"| {name} | {cost.clip_s:.1f} | {cost.cpu_percent_of_one_core:.1f} | "
            f"{cost.detector_runs} |"
        )
    return lines


def play_clip(
    loop: CameraLoop,
    clip: Path,
    frame_done: Callable[[Frame, list[CameraEvent]], None],
    realtime: bool = True,
) -> Camera:
    """Run `loop` on the video file `clip` (at its frame rate unless not `realtime`) until it
    ends, calling `frame_done` after each frame; returns the camera, for its counters."""

    def opener() -> FrameSource:
        return CaptureSource(str(clip), realtime=realtime)

    camera = Camera(
        opener, CameraTiming(CameraSettings().stall_s), live=False, lossless=not realtime
    )
    loop.frame_done = frame_done
    loop.run(camera, threading.Event())
    return camera


class _PhaseMeter:
    """Charges the wall and CPU time between frames to the phase the frame belongs to."""

    def __init__(
        self,
        loop: CameraLoop,
        truth: GroundTruth,
        phases: dict[str, PhaseCost],
        progress: Callable[[float], None] | None,
        realtime: bool = True,
    ) -> None:
        self.loop = loop
        self.truth = truth
        self.phases = phases
        self.progress = progress
        self.realtime = realtime
        self.event_wall: dict[int, float] = {}
        """Seconds into the playback (the clip's clock) when each event was raised: by the wall
        clock in real time, else the time of the frame that raised it."""
        self._playback_start: float | None = None
        self._last = (0.0, 0.0, 0.0)
        self._runs = 0

    def frame_done(self, frame: Frame, events: list[CameraEvent]) -> None:
        now, cpu = time.monotonic(), time.process_time()
        if self._playback_start is None:  # the first frame: the clock starts here
            self._playback_start = now - frame.t
            self._last = (now, cpu, frame.t)
            return
        runs = self.loop.stats.detector_runs - self._runs
        wall, cpu_s, clip = now - self._last[0], cpu - self._last[1], frame.t - self._last[2]
        self.phases[_phase(frame.t, self.truth)].add(wall, cpu_s, clip, runs)
        self._runs = self.loop.stats.detector_runs
        self._last = (now, cpu, frame.t)
        for event in events:
            played = now - self._playback_start if self.realtime else frame.t
            self.event_wall[id(event)] = played
        if self.progress is not None:
            self.progress(frame.t)


def _phase(t: float, truth: GroundTruth) -> str:
    def within(span: tuple[float, float], slack: float = 0.0) -> bool:
        return span[0] <= t < span[1] + slack

    # a ghost of what left lingers in the motion gate's background for a few seconds
    if within(truth.person_visible, slack=4.0):
        return "person"
    if t >= truth.person_visible[1]:
        return "after the person left"
    if within(truth.cat_visible, slack=4.0):
        return "cat"
    if any(within(span, slack=1.0) for span in truth.light_changes):
        return "light change"
    return "still"


def _first_latency(
    events: list[CameraEvent], kind: str, truth_t: float, meter: _PhaseMeter
) -> float | None:
    """Wall-clock seconds from the moment (in the real-time playback) the thing happened to
    the moment the event was raised."""
    for event in events:
        if event.kind == kind:
            return round(meter.event_wall[id(event)] - truth_t, 3)
    return None


def _false_events(events: list[CameraEvent], truth: GroundTruth) -> list[str]:
    start, end = truth.person_visible
    wrong = []
    for event in events:
        if not start <= event.frame_t <= end + 1.0:
            wrong.append(f"{event.kind} at {event.frame_t:.1f} s")
        elif event.kind == "fall_detected" and not (
            truth.person_fallen[0] <= event.frame_t <= truth.person_fallen[1]
        ):
            wrong.append(f"fall at {event.frame_t:.1f} s while standing")
    return wrong


def _latency(value: float | None) -> str:
    return "never raised" if value is None else f"{value * 1000:.0f} ms"
