"""`edgeai bench service`: the whole service with the default models, in two phases.

1. API under load: sources in real time (the demo's two questions, the front-door scene, both
   looped), 100 requests/s to /health and /metrics for a while; latency percentiles.
2. Soak: the same sources looped as fast as they go, padded with long quiet stretches as a day
   has them, for a while of wall time (hours of audio and video); resident memory sampled
   throughout, growth after warm-up.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import httpx
import numpy as np
import psutil
import yaml

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.sinks import AudioSink, NullSink
from edgeai.audio.sources import ArraySource
from edgeai.config import CameraSettings, Config
from edgeai.device.profiles import Profile
from edgeai.service.hub import ServiceEvent
from edgeai.service.loops import Inputs
from edgeai.service.service import Service
from edgeai.synthetic.scene import DEMO_SCENE, DOOR_ZONE, SceneScript, Sprites, write_clip
from edgeai.vision.camera import Camera, CameraTiming
from edgeai.vision.sources import CaptureSource, Frame, FrameSource

REQUESTS_PER_S = 100
SAMPLE_EVERY_S = 2.0
WARM_UP_SHARE = 0.2
"""Memory samples before this share of the soak are warm-up (caches, allocator pools)."""
QUIET_AUDIO_S = 120.0
"""After each pass of the two questions: two minutes of room noise, no wake word."""
SOAK_SCENE = replace(DEMO_SCENE, seconds=120.0)
"""The demo scene's 20 eventful seconds, then 100 s of an empty hallway."""


@dataclass
class ApiLoad:
    seconds: float
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass
class Soak:
    wall_s: float
    audio_s: float
    video_s: float
    turns: int
    camera_events: int
    rss_mb: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since start, resident MB) samples."""

    def _after_warm_up(self) -> tuple[float, float]:
        """Medians of the first and the last tenth of the samples after warm-up: single
        samples land on the short peaks of an LLM turn."""
        after = [mb for t, mb in self.rss_mb if t >= WARM_UP_SHARE * self.wall_s]
        if len(after) < 2:
            return float("nan"), float("nan")
        tenth = max(1, len(after) // 10)
        return statistics.median(after[:tenth]), statistics.median(after[-tenth:])

    @property
    def start_mb(self) -> float:
        return self._after_warm_up()[0]

    @property
    def end_mb(self) -> float:
        return self._after_warm_up()[1]

    @property
    def peak_mb(self) -> float:
        return max((mb for _, mb in self.rss_mb), default=float("nan"))

    @property
    def growth_after_warm_up(self) -> float:
        return (self.end_mb - self.start_mb) / self.start_mb


@dataclass
class ServiceBench:
    api: ApiLoad
    soak: Soak

    def as_dict(self) -> dict[str, object]:
        soak = self.soak
        return asdict(self) | {
            "soak_memory_mb": {"after_warm_up": soak.start_mb, "end": soak.end_mb},
            "soak_peak_mb": soak.peak_mb,
            "soak_growth_after_warm_up": soak.growth_after_warm_up,
        }

    def markdown(self) -> str:
        api, soak = self.api, self.soak
        return "\n".join(
            [
                "### Service: API under load, memory over a soak",
                "",
                f"API, {REQUESTS_PER_S} requests/s for {api.seconds:.0f} s while the loops run "
                "in real time:",
                "",
                "| requests | errors | p50 | p95 | p99 | max |",
                "| --- | --- | --- | --- | --- | --- |",
                f"| {api.requests} | {api.errors} | {api.p50_ms:.1f} ms | {api.p95_ms:.1f} ms "
                f"| {api.p99_ms:.1f} ms | {api.max_ms:.1f} ms |",
                "",
                f"Soak, sources as fast as they go for {soak.wall_s / 60:.1f} min: "
                f"{soak.audio_s / 3600:.2f} h of audio, {soak.video_s / 3600:.2f} h of video, "
                f"{soak.turns} voice turns, {soak.camera_events} camera events.",
                "",
                "Resident memory of the whole process (medians of the first and last tenth of "
                f"the samples after the first {WARM_UP_SHARE:.0%} of the soak):",
                "",
                "| after warm-up | at the end | growth | peak (during a turn) |",
                "| --- | --- | --- | --- |",
                f"| {soak.start_mb:.0f} MB | {soak.end_mb:.0f} MB "
                f"| {100 * soak.growth_after_warm_up:+.1f}% | {soak.peak_mb:.0f} MB |",
                "",
            ]
        )


class LoopedAudio:
    """`samples` then `quiet_s` of faint noise, over and over; counts the seconds delivered."""

    def __init__(self, samples: np.ndarray, quiet_s: float, realtime: bool) -> None:
        noise = np.random.default_rng(0).normal(0, 30, int(quiet_s * SAMPLE_RATE_HZ))
        self.samples = np.concatenate([samples, noise.astype(np.int16)])
        self.realtime = realtime
        self.seconds = 0.0

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        while True:
            for block in ArraySource(self.samples, self.realtime).blocks(block_samples):
                self.seconds += block_samples / SAMPLE_RATE_HZ
                yield block


class LoopedClip:
    """A video file over and over, its frame times running on, as one endless source."""

    def __init__(self, clip: Path, fps: int, realtime: bool) -> None:
        self.name = str(clip)
        self.live = False
        self.corrupt_frames = 0
        self.clip = clip
        self.fps = fps
        self.realtime = realtime

    def frames(self) -> Iterator[Frame]:
        offset, index = 0.0, 0
        while True:
            source = CaptureSource(self.name, realtime=self.realtime)
            last_t = 0.0
            for frame in source.frames():
                last_t = frame.t
                index += 1
                yield Frame(frame.image, offset + frame.t, index)
            source.close()
            offset += last_t + 1 / self.fps

    def close(self) -> None:
        pass


def bench_service(
    config: Config,
    config_source: Path | None,
    out: Path,
    speech: np.ndarray,
    api_seconds: float,
    soak_seconds: float,
    progress: Callable[[str, float], None] | None = None,
    scene: SceneScript = SOAK_SCENE,
) -> ServiceBench:
    """Run both phases; `progress(phase, fraction)` is called as they go."""
    out.mkdir(parents=True, exist_ok=True)
    clip = out / f"soak-scene-{scene.seconds:.0f}s.avi"
    if not clip.is_file():
        write_clip(clip, scene, Sprites.load())
    setup = _Setup(bench_config(config, config_source, out), speech, clip, scene.fps, progress)
    api = _api_phase(setup, api_seconds)
    gc.collect()  # the first service's models are gone before the soak measures memory
    soak = _soak_phase(setup, soak_seconds)
    return ServiceBench(api, soak)


def bench_config(
    config: Config, source: Path | None, out: Path, bench: str = "service", events: str = "soak"
) -> Path:
    """The user's config, with events kept in `out`, the API on a free loopback port, no MQTT,
    and the scene's door zone."""
    data = config.model_dump(mode="json", exclude={"api", "mqtt"})
    data["api"] = {"host": "127.0.0.1", "port": 0}
    data["camera"]["events"]["folder"] = str(out / f"{events}-events")
    data["camera"]["zones"] = data["camera"]["zones"] or {"door": [list(c) for c in DOOR_ZONE]}
    data["voice"]["timers_file"] = str(out / "bench-timers.json")
    path = out / ("bench-config.yaml" if bench == "service" else f"bench-{bench}-config.yaml")
    path.write_text(
        f"# derived from {source or 'the defaults'} by edgeai bench {bench}\n"
        + yaml.safe_dump(data, sort_keys=False)
    )
    return path


@dataclass(frozen=True)
class _Setup:
    config_path: Path
    speech: np.ndarray
    clip: Path
    fps: int
    progress: Callable[[str, float], None] | None

    def report(self, phase: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(phase, fraction)


def _inputs(setup: _Setup, realtime: bool) -> tuple[Inputs, LoopedAudio]:
    audio = LoopedAudio(setup.speech, QUIET_AUDIO_S, realtime)

    def open_camera(settings: CameraSettings, profile: Profile) -> Camera:
        def opener() -> FrameSource:
            return LoopedClip(setup.clip, setup.fps, realtime)

        return Camera(
            opener, CameraTiming(CameraSettings().stall_s), live=False, lossless=not realtime
        )

    def silent(rate_hz: int) -> AudioSink:
        return NullSink()

    return Inputs(audio=lambda: audio, camera=open_camera, open_sink=silent), audio


def _api_phase(setup: _Setup, seconds: float) -> ApiLoad:
    inputs, _ = _inputs(setup, realtime=True)
    service = Service(setup.config_path, inputs)
    service.start()
    latencies: list[float] = []
    errors = 0
    try:
        assert service.api is not None
        base = f"http://127.0.0.1:{service.api.port}"
        with httpx.Client(base_url=base, timeout=5.0) as client:
            started = time.monotonic()
            for n in range(int(seconds * REQUESTS_PER_S)):
                due = started + n / REQUESTS_PER_S
                time.sleep(max(0.0, due - time.monotonic()))
                path = "/metrics" if n % 10 == 0 else "/health"
                sent = time.perf_counter()
                try:
                    ok = client.get(path).status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - sent)
                errors += not ok
                if n % REQUESTS_PER_S == 0:
                    setup.report("api", (time.monotonic() - started) / seconds)
    finally:
        service.stop()
    ms = np.array(latencies) * 1000
    return ApiLoad(
        seconds=seconds,
        requests=len(latencies),
        errors=errors,
        p50_ms=float(np.percentile(ms, 50)),
        p95_ms=float(np.percentile(ms, 95)),
        p99_ms=float(np.percentile(ms, 99)),
        max_ms=float(ms.max()),
    )


def _soak_phase(setup: _Setup, seconds: float) -> Soak:
    inputs, audio = _inputs(setup, realtime=False)
    service = Service(setup.config_path, inputs)
    counts = {"turns": 0, "camera events": 0}

    def count(event: ServiceEvent) -> None:
        if event.kind == "turn" and event.data.get("route") != "announcement":
            counts["turns"] += 1
        elif event.kind in ("person_entered", "person_left", "fall_detected"):
            counts["camera events"] += 1

    service.hub.subscribe(count)
    process = psutil.Process()
    service.start()
    started = time.monotonic()
    samples: list[tuple[float, float]] = []
    try:
        while (elapsed := time.monotonic() - started) < seconds:
            samples.append((elapsed, process.memory_info().rss / 2**20))
            setup.report("soak", elapsed / seconds)
            time.sleep(SAMPLE_EVERY_S)
        loops = service.loops
        frames = loops.camera_loop.stats.frames if loops and loops.camera_loop else 0
    finally:
        service.stop()
    return Soak(
        wall_s=time.monotonic() - started,
        audio_s=audio.seconds,
        video_s=frames / setup.fps,
        turns=counts["turns"],
        camera_events=counts["camera events"],
        rss_mb=samples,
    )
