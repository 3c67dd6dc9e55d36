"""`edgeai bench web`: the service's web page in a real headless Chromium (Debian's chromium,
driven by Playwright, which never downloads a browser here).

1. First load: the page opened in fresh browser contexts (no cache), its files' bytes as the
   browser received them and the time from navigation to the status shown, on loopback.
2. Camera events: the page open with its event stream live, the scene played through the
   camera loop; for each event, the time from its file being stored to the page showing it
   with its snapshot (the page stamps that moment on the event's card).

The service, the gated clip and the browser are shared with tests/test_web.py.
"""

from __future__ import annotations

import os
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.sinks import AudioSink, NullSink
from edgeai.audio.sources import AudioSource
from edgeai.bench.service import QUIET_AUDIO_S, LoopedAudio, bench_config
from edgeai.config import CameraSettings, Config
from edgeai.device.profiles import Profile
from edgeai.errors import EdgeAIError
from edgeai.service.loops import Inputs
from edgeai.service.service import Service
from edgeai.synthetic.scene import DEMO_SCENE, SceneScript, Sprites, write_clip
from edgeai.vision.camera import Camera, CameraTiming
from edgeai.vision.sources import CaptureSource, FrameSource

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM_NAMES = ("chromium", "chromium-browser")
LOADS = 10
"""Fresh first loads measured (the first of them also starts the browser's own caches)."""
EVENT_WAIT_S = 60.0
"""How long the scene's events may take to reach the page before the bench gives up."""
PAGE_WAIT_MS = 30_000
"""Playwright's wait for what the page should show (not a measurement)."""


def chromium_executable() -> str | None:
    """Debian's chromium (scripts/install-system-deps.sh installs it), or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium from the system, driven by Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise EdgeAIError(
            "playwright is not installed: pip install 'edgeai[test]' (it drives the system's "
            "chromium and downloads no browser)"
        ) from None
    executable = chromium_executable()
    if executable is None:
        raise EdgeAIError(
            "no chromium found: install Debian's chromium (scripts/install-system-deps.sh)"
        )
    with sync_playwright() as playwright:
        browser = _launch(playwright, executable)
        try:
            yield browser
        finally:
            browser.close()


def _launch(playwright: Playwright, executable: str) -> Browser:
    return playwright.chromium.launch(executable_path=executable, headless=True)


def gated_clip(clip: Path, gate: threading.Event) -> Callable[[], FrameSource]:
    """Opens a video file in real time once `gate` is set: the page is open and listening
    before anything happens in front of the camera (the camera is "starting" until then)."""

    def opener() -> FrameSource:
        gate.wait()
        return CaptureSource(str(clip), realtime=True)

    return opener


class GatedAudio:
    """Quiet in real time until `gate` is set, then `inner`: the first loads are timed while
    the assistant idles, the events while it talks."""

    def __init__(self, inner: AudioSource, gate: threading.Event) -> None:
        self.inner = inner
        self.gate = gate

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        quiet = np.zeros(block_samples, np.int16)
        while not self.gate.is_set():
            time.sleep(block_samples / SAMPLE_RATE_HZ)
            yield quiet
        yield from self.inner.blocks(block_samples)


@dataclass
class PageService:
    service: Service
    base: str
    gate: threading.Event
    """Set it to start the camera clip."""
    events_folder: Path


@contextmanager
def page_service(
    config_path: Path, audio: AudioSource, clip: Path, gate: threading.Event | None = None
) -> Iterator[PageService]:
    """The real service on `config_path` with `audio` for a microphone and `clip`, held back
    until the gate is set, for a camera; replies go nowhere."""
    gate = gate or threading.Event()

    def open_camera(settings: CameraSettings, profile: Profile) -> Camera:
        return Camera(gated_clip(clip, gate), CameraTiming(settings.stall_s), live=False)

    def silent(rate_hz: int) -> AudioSink:
        return NullSink()

    service = Service(
        config_path, Inputs(audio=lambda: audio, camera=open_camera, open_sink=silent)
    )
    service.start()
    try:
        assert service.api is not None and service.app is not None
        folder = service.app.config.camera.events.folder_path()
        assert folder is not None
        yield PageService(service, f"http://127.0.0.1:{service.api.port}", gate, folder)
    finally:
        gate.set()
        service.stop()


def wait_for_status(page: Page) -> None:
    """Until the page shows the service's status (and so is past any token prompt)."""
    page.locator("#placement tbody tr").first.wait_for(timeout=PAGE_WAIT_MS)


def wait_for_event_stream(page: Page) -> None:
    page.locator("#stream.ok").wait_for(timeout=PAGE_WAIT_MS)


# --- the benchmark ---------------------------------------------------------------------------


@dataclass
class FirstLoad:
    bytes_total: int
    """The page's own files as transferred (headers included): HTML, CSS, JavaScript."""
    files: dict[str, int]
    load_ms: float
    """Navigation start to the load event."""
    status_ms: float
    """Navigation start to the service's status shown (after its first /health)."""


@dataclass
class ShownEvent:
    kind: str
    zone: str
    arrived_ms: float
    """The event's file stored to its card on the page."""
    shown_ms: float
    """The event's file stored to its snapshot shown on the page."""


@dataclass
class WebBench:
    loads: list[FirstLoad]
    events: list[ShownEvent]
    expected_events: int
    load_average: float
    """The machine's one-minute load average while the first loads were timed."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | self.summary()

    def summary(self) -> dict[str, float]:
        status = [load.status_ms for load in self.loads]
        shown = [event.shown_ms for event in self.events] or [float("nan")]
        return {
            "first_load_kb": self.loads[-1].bytes_total / 1000,
            "status_ms_median": statistics.median(status),
            "status_ms_max": max(status),
            "load_ms_median": statistics.median(load.load_ms for load in self.loads),
            "event_shown_ms_median": statistics.median(shown),
            "event_shown_ms_max": max(shown),
        }

    def markdown(self) -> str:
        s = self.summary()
        files = ", ".join(
            f"{name} {size / 1000:.1f} kB" for name, size in self.loads[-1].files.items()
        )
        rows = [
            "### Web page: first load and live camera events",
            "",
            f"First load on loopback, {len(self.loads)} fresh browser contexts (headless "
            f"Chromium, no cache), the service running idle; load average "
            f"{self.load_average:.1f} on {os.cpu_count()} cores:",
            "",
            "| page files | load event p50 | status shown p50 | status shown max |",
            "| --- | --- | --- | --- |",
            f"| {s['first_load_kb']:.1f} kB | {s['load_ms_median']:.0f} ms "
            f"| {s['status_ms_median']:.0f} ms | {s['status_ms_max']:.0f} ms |",
            "",
            f"Files as transferred (headers included): {files}.",
            "",
            "Camera events while the assistant answers the demo's questions, from stored to "
            "shown on the page: "
            f"{len(self.events)} of {self.expected_events} stored events shown.",
            "",
            "| event | zone | card shown | snapshot shown |",
            "| --- | --- | --- | --- |",
        ]
        rows += [
            f"| {e.kind} | {e.zone} | {e.arrived_ms:.0f} ms | {e.shown_ms:.0f} ms |"
            for e in self.events
        ]
        rows += [
            "",
            f"Median {s['event_shown_ms_median']:.0f} ms, max {s['event_shown_ms_max']:.0f} ms.",
            "",
        ]
        return "\n".join(rows)


def bench_web(
    config: Config,
    config_source: Path | None,
    out: Path,
    speech: np.ndarray,
    scene: SceneScript = DEMO_SCENE,
) -> tuple[WebBench, Path]:
    """Both measurements with one service and one browser; returns the result and a
    screenshot of the page at the end."""
    out.mkdir(parents=True, exist_ok=True)
    clip = out / f"web-scene-{scene.seconds:.0f}s.avi"
    if not clip.is_file():
        write_clip(clip, scene, Sprites.load())
    config_path = bench_config(config, config_source, out, "web", events="web")
    shutil.rmtree(out / "web-events", ignore_errors=True)  # only this run's events count
    gate = threading.Event()
    audio = GatedAudio(LoopedAudio(speech, QUIET_AUDIO_S, realtime=True), gate)
    with page_service(config_path, audio, clip, gate) as running, chromium() as browser:
        loads = [_first_load(browser, running.base) for _ in range(LOADS)]
        load_average = os.getloadavg()[0]
        page = browser.new_page()
        page.goto(running.base)
        wait_for_status(page)
        wait_for_event_stream(page)
        running.gate.set()
        events, expected = _shown_events(page, running, scene)
        screenshot = out / "web.png"
        page.screenshot(path=str(screenshot), full_page=True)
    return WebBench(loads, events, expected, load_average), screenshot


def _first_load(browser: Browser, base: str) -> FirstLoad:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(base)
        wait_for_status(page)
        page.wait_for_function("performance.getEntriesByName('edgeai-status').length > 0")
        timing: dict[str, Any] = page.evaluate(
            """() => {
                const nav = performance.getEntriesByType("navigation")[0];
                const own = performance.getEntriesByType("resource")
                    .filter((r) => new URL(r.name).pathname.startsWith("/ui/"));
                return {
                    files: Object.fromEntries([["index.html", nav.transferSize],
                        ...own.map((r) => [new URL(r.name).pathname.slice(4), r.transferSize])]),
                    load_ms: nav.loadEventEnd,
                    status_ms: performance.getEntriesByName("edgeai-status")[0].startTime,
                };
            }"""
        )
    finally:
        context.close()
    files = {name: int(size) for name, size in timing["files"].items()}
    return FirstLoad(sum(files.values()), files, timing["load_ms"], timing["status_ms"])


def _shown_events(
    page: Page, running: PageService, scene: SceneScript
) -> tuple[list[ShownEvent], int]:
    """Every event the scene stores, once the page shows it (or EVENT_WAIT_S passes)."""
    deadline = time.monotonic() + scene.seconds + EVENT_WAIT_S
    shown: dict[str, ShownEvent] = {}
    stored: list[Path] = []
    while time.monotonic() < deadline:
        time.sleep(0.5)
        stored = sorted(running.events_folder.glob("*.json"))
        cards: list[dict[str, str]] = page.evaluate(
            """() => [...document.querySelectorAll("#event-list li[data-shown-at]")]
                .map((li) => ({...li.dataset}))"""
        )
        by_id = {card["id"]: card for card in cards}
        for path in stored:
            card = by_id.get(path.stem)
            if card is None or path.stem in shown:
                continue
            stored_ms = path.stat().st_mtime * 1000
            shown[path.stem] = ShownEvent(
                card["kind"],
                card["zone"],
                float(card["arrivedAt"]) - stored_ms,
                float(card["shownAt"]) - stored_ms,
            )
        scene_over = running.service.loops is not None and (
            running.service.loops.camera_state()["state"] == "ended"
        )
        if scene_over and stored and len(shown) == len(stored):
            break
    return [shown[key] for key in sorted(shown)], len(stored)
