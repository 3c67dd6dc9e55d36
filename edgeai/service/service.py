"""The service: the voice loop and the camera loop, composed from the config and the profile,
with the HTTP API, MQTT, systemd notification and watchdog around them.

Everything is built by the composition root (edgeai.runtime) and every thread runs under its
supervisor: a loop that fails or stalls makes /health answer 503, says so in STATUS= and starves
the watchdog. Models are loaded once; a reload (SIGHUP) restarts the loops with the new config
and keeps the models unless the settings they were loaded with changed. A config that fails
validation is rejected and the running one goes on.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import soundfile

from edgeai.audio.microphone import MicrophoneSource
from edgeai.audio.sinks import AudioSink, NullSink, SpeakerSink
from edgeai.config import Config
from edgeai.device.placement import Placement, place
from edgeai.errors import AudioError, EdgeAIError
from edgeai.home.home import Home
from edgeai.logs import logfmt
from edgeai.runtime.compose import compose, wyoming_stages
from edgeai.runtime.context import AppContext
from edgeai.runtime.memory import tune_allocator
from edgeai.runtime.models import ModelCache
from edgeai.runtime.supervisor import LoopProblem, Supervisor
from edgeai.service.api import API_THREAD, ApiServer, SayResult
from edgeai.service.health import WatchdogFeeder, failure_status
from edgeai.service.hub import EventHub, ServiceEvent
from edgeai.service.loops import AUDIO_LOOP, CAMERA_LOOP, Inputs, Loops, WatchedSource
from edgeai.service.metrics import ServiceMetrics
from edgeai.service.mqtt import SENDER_THREAD, MqttLink
from edgeai.service.systemd import SystemdNotifier
from edgeai.vision.build import build_camera
from edgeai.vision.events import CameraEvent
from edgeai.vision.loop import CameraLoop
from edgeai.voice.loop import TURNS_THREAD
from edgeai.voice.timeline import TurnTimeline
from edgeai.wyoming.server import WYOMING_THREAD, WyomingServer

log = logging.getLogger(__name__)

STATUS_EVERY_S = 2.0


class Service:
    def __init__(
        self,
        config_path: Path | None,
        inputs: Inputs | None = None,
        notifier: SystemdNotifier | None = None,
        verbosity: int = 0,
    ) -> None:
        self.config_path = config_path
        self.inputs = inputs or Inputs()
        self.notifier = notifier or SystemdNotifier()
        self.verbosity = verbosity
        self.hub = EventHub()
        self.supervisor = Supervisor()
        self.metrics_registry = ServiceMetrics(self)
        self.started_at = time.monotonic()
        self.placements: list[Placement] = []
        self._model_versions: dict[str, dict[str, str]] = {}
        self.app: AppContext | None = None
        self.loops: Loops | None = None
        self.api: ApiServer | None = None
        self.mqtt: MqttLink | None = None
        self.home: Home | None = None
        """Wake arbitration and rooms, while MQTT is on."""
        self._unsubscribe_mqtt: Callable[[], None] | None = None
        self.stopping = False
        self._models = ModelCache()
        self._watchdog: WatchdogFeeder | None = None
        self._monitor_stop = threading.Event()
        self.hub.subscribe(_log_event)

    # lifecycle

    def start(self) -> None:
        """Load, start everything, and tell systemd it is ready. Errors here are fatal."""
        tune_allocator()  # before anything large is allocated
        app = AppContext(self.config_path, self.verbosity)
        app.use_service_log_level()
        self.supervisor.install_excepthook()
        self._start_loops(app)
        config = app.config
        self._start_links(config)
        self._attach_home()
        self._watchdog = WatchdogFeeder(
            self.notifier, self.problems, config.service.watchdog_stall_s
        )
        self._watchdog.start()
        self.supervisor.run("status", self._report_status)
        self.notifier.notify(READY=1, STATUS="running")
        log.info("edgeai is running (profile %s)", self.loops.profile.name if self.loops else "?")

    def reload(self) -> bool:
        """Apply the config file again; a bad one is rejected and the running one kept."""
        app = AppContext(self.config_path, self.verbosity)
        try:
            new = app.config
        except EdgeAIError as e:
            return self._reject_reload(str(e))
        self.notifier.notify(RELOADING=1, STATUS="reloading")
        previous = self.app
        self._stop_loops()
        try:
            self._start_loops(app)
        except EdgeAIError as e:  # e.g. a model the new config names is not pulled
            if previous is not None:
                self._start_loops(previous)
                self._attach_home()
            return self._reject_reload(str(e))
        app.use_service_log_level()
        if previous is None or (previous.config.api, previous.config.mqtt) != (new.api, new.mqtt):
            self._stop_links()
            self._start_links(new)
        self._attach_home()
        if self._watchdog is not None:
            self._watchdog.stall_s = new.service.watchdog_stall_s
        self.notifier.notify(READY=1, STATUS="running (reloaded)")
        self.hub.publish("reload", {"ok": True})
        log.info("config reloaded")
        return True

    def _reject_reload(self, error: str) -> bool:
        log.error("reload rejected, the running config stays: %s", error)
        self.notifier.notify(READY=1, STATUS=f"reload rejected: {error.splitlines()[0]}")
        self.hub.publish("reload", {"ok": False, "error": error})
        return False

    def stop(self) -> None:
        """Stop within the configured time: loops first, then the API and MQTT."""
        self.stopping = True
        self.notifier.notify(STOPPING=1, STATUS="stopping")
        self.supervisor.retire()  # first: what ends from here on ends on purpose
        self._monitor_stop.set()
        if self._watchdog is not None:
            self._watchdog.stop()
        self._stop_loops()
        self._stop_links()
        self._models.clear()  # the models go with the service
        log.info("edgeai stopped")

    # ServiceView, for the HTTP API

    def problems(self) -> list[LoopProblem]:
        """What makes the service unhealthy: a loop that failed, died or stalls."""
        loops = self.loops
        stall_s = loops.config.service.watchdog_stall_s if loops else 15.0
        return self.supervisor.problems(stall_s)

    def health(self) -> tuple[bool, dict[str, Any]]:
        loops = self.loops
        failures = self.problems()
        problems = [problem.describe() for problem in failures]
        body: dict[str, Any] = {
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "loops": self.supervisor.snapshot(),
        }
        if loops is not None:
            body["profile"] = loops.profile.name
            body["placement"] = [
                p.as_dict() | self._model_versions.get(p.role, {}) for p in self.placements
            ]
            body["microphone"] = loops.microphone_state()
            body["camera"] = loops.camera_state()
            if loops.voice.responder.home is not None:
                body["home_assistant"] = loops.voice.responder.home.state()
            if loops.wyoming is not None:
                body["wyoming"] = {"port": loops.wyoming.port} | asdict(loops.wyoming.counts)
            for name, state in (("microphone", body["microphone"]), ("camera", body["camera"])):
                if state.get("problem"):
                    problems.append(f"{name}: {state['problem']}")
            problems += _degradations(loops)
        if self.api is not None:
            body["api_refused"] = asdict(self.api.refused)
        if self.mqtt is not None:
            body["mqtt"] = {
                "connected": self.mqtt.connected,
                "buffered": self.mqtt.buffered,
                "dropped": self.mqtt.dropped,
            }
            if not self.mqtt.connected:
                problems.append(f"MQTT broker {self.mqtt.settings.host} not connected")
        if self.home is not None:
            body["home"] = self.home.health()
        if self.stopping:
            status = "stopping"
        elif loops is None:
            status = "starting"
        elif any(problem.stalled_s is None for problem in failures):
            status = "failed"
        elif failures:
            status = "stalled"
        else:
            status = "degraded" if problems else "ok"
        healthy = status in ("ok", "degraded")
        return healthy, {"status": status, "problems": problems} | body

    def metrics(self) -> bytes:
        return self.metrics_registry.exposition()

    def say(self, text: str) -> SayResult:
        """Queue `text` to be spoken between turns."""
        loops = self.loops
        if loops is None or not loops.listening() or self.stopping:
            return SayResult.NOT_LISTENING
        return SayResult.QUEUED if loops.voice.announce(text) else SayResult.BUSY

    def ask(self, text: str) -> Future[TurnTimeline] | SayResult:
        """Answer typed `text` in text, between turns."""
        loops = self.loops
        if loops is None or not loops.listening() or self.stopping:
            return SayResult.NOT_LISTENING
        answer = loops.voice.ask(text)
        return SayResult.BUSY if answer is None else answer

    def turns(self) -> list[TurnTimeline]:
        return list(self.loops.voice.timelines) if self.loops is not None else []

    def event_snapshot(self, event_id: str) -> bytes | None:
        """The picture stored with camera event `event_id` (an id, never a path: the API
        checks it)."""
        loops = self.loops
        store = loops.camera_loop.store if loops and loops.camera_loop else None
        if store is None:
            return None
        try:
            return (store.folder / f"{event_id}.jpg").read_bytes()
        except FileNotFoundError:
            return None

    def speech_wav(self, text: str) -> bytes | None:
        loops = self.loops
        if loops is None or self.stopping:
            return None
        tts = loops.voice.responder.tts
        pieces = list(tts.synthesize(text))
        audio = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
        wav = io.BytesIO()
        soundfile.write(wav, audio, tts.sample_rate_hz, format="WAV", subtype="PCM_16")
        return wav.getvalue()

    def snapshot_jpeg(self) -> bytes | None:
        loops = self.loops
        frame = loops.camera_loop.latest_frame if loops and loops.camera_loop else None
        if frame is None:
            return None
        ok, data = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        return data.tobytes() if ok else None

    # internals

    def _start_loops(self, app: AppContext) -> None:
        config = app.config
        wanted = app.active_profile()
        profile, self.placements = place(wanted, app.placement_facts(wanted))
        self._model_versions = {p.role: model_version(app, p.model) for p in self.placements}
        models = self._models.get(app, profile, with_detector=config.camera.enabled)
        assistant = compose(
            app,
            profile,
            models,
            self.inputs.open_sink or _speaker(config),
            events_folder=config.camera.events.folder_path(),
            spawn=self._spawn_worker,
        )
        loops = Loops(assistant)
        assistant.voice.turn_done = self._on_turn
        if config.wyoming.enabled:
            loops.wyoming = WyomingServer(config.wyoming, wyoming_stages(assistant))
            loops.wyoming.start()
            self.supervisor.adopt(WYOMING_THREAD, loops.wyoming.thread)
        self._start_audio(loops)
        if assistant.camera_loop is not None:
            assistant.camera_loop.bus.subscribe(self._on_camera_event)
            self._start_camera(loops, assistant.camera_loop)
        self.loops = loops
        self.app = app

    def _spawn_worker(self, name: str, target: Callable[[], None]) -> threading.Thread:
        """A loop's worker (the turn taker): it returns only once its loop has ended, so its
        end is no failure by itself; an exception escaping it is."""
        return self.supervisor.run(name, target, may_end=True)

    def _start_audio(self, loops: Loops) -> None:
        if self.inputs.audio is not None:
            source = self.inputs.audio()
        else:
            loops.microphone = MicrophoneSource(loops.config.audio.input_device)
            source = loops.microphone
        watched = WatchedSource(source, loops.stop, lambda: self.supervisor.beat(AUDIO_LOOP))
        # a recording read ahead of real time waits for each answer: alive, though not reading
        loops.voice.waiting = lambda: self.supervisor.beat(AUDIO_LOOP)

        def listen() -> None:
            loops.voice.run(watched)
            log.info("the audio source ended")

        # a file or stdin may run out; a microphone never does
        may_end = self.inputs.audio is not None
        loops.threads.append(self.supervisor.run(AUDIO_LOOP, listen, beats=True, may_end=may_end))

    def _start_camera(self, loops: Loops, camera_loop: CameraLoop) -> None:
        settings = loops.config.camera
        if self.inputs.camera is not None:
            camera = self.inputs.camera(settings, loops.profile)
        else:
            camera = build_camera(settings.device, settings, loops.profile)
        loops.camera = camera
        camera_loop.heartbeat = lambda: self.supervisor.beat(CAMERA_LOOP)

        def watch() -> None:
            camera_loop.run(camera, loops.stop)
            if not loops.stop.is_set():
                log.info("the camera source ended")

        may_end = self.inputs.camera is not None  # a clip ends; a camera is retried for good
        loops.threads.append(self.supervisor.run(CAMERA_LOOP, watch, beats=True, may_end=may_end))

    def _stop_loops(self) -> None:
        loops = self.loops
        if loops is None:
            return
        self.supervisor.retire([AUDIO_LOOP, CAMERA_LOOP, TURNS_THREAD, WYOMING_THREAD])
        loops.stop.set()
        loops.voice.stop()
        if loops.wyoming is not None:
            loops.wyoming.stop()
        if loops.microphone is not None:
            loops.microphone.stop()
        deadline = time.monotonic() + loops.config.service.stop_timeout_s
        for thread in loops.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in loops.threads if t.is_alive()]
        if stuck:
            log.warning("%s did not stop in time; left behind", ", ".join(stuck))
        elif loops.voice.responder.home is not None:
            loops.voice.responder.home.close()  # a reload makes a new one
        self.loops = None

    def _start_links(self, config: Config) -> None:
        if config.api.enabled:
            self.api = ApiServer(config.api, self)
            self.api.start()
            self.supervisor.adopt(API_THREAD, self.api.thread)
        if config.mqtt.enabled:
            profile = self.loops.profile.name if self.loops else "unknown"
            self.mqtt = MqttLink(config.mqtt, profile)
            self._unsubscribe_mqtt = self.hub.subscribe(self.mqtt.publish)
            self.mqtt.start()
            self.supervisor.adopt(SENDER_THREAD, self.mqtt.thread)

    def _attach_home(self) -> None:
        """Wake arbitration and rooms over the broker, for the loops now running."""
        if self.home is not None:
            self.home.detach()
            self.home = None
        if self.mqtt is None or self.loops is None:
            return
        config = self.loops.config
        self.home = Home(config.home, config.mqtt.topic_prefix, self.mqtt.node, self.mqtt)
        self.home.attach(self.loops.assistant)

    def _stop_links(self) -> None:
        if self.home is not None:
            self.home.detach()
            self.home = None
        self.supervisor.retire([API_THREAD, SENDER_THREAD])
        if self.api is not None:
            self.api.stop()
            self.api = None
        if self._unsubscribe_mqtt is not None:
            self._unsubscribe_mqtt()
            self._unsubscribe_mqtt = None
        if self.mqtt is not None:
            self.mqtt.stop()
            self.mqtt = None

    def _on_camera_event(self, event: CameraEvent) -> None:
        self.hub.publish(event.kind, event.as_dict())

    def _on_turn(self, timeline: TurnTimeline) -> None:
        self.metrics_registry.observe_turn(timeline)
        self.hub.publish("turn", timeline.as_dict())

    def _report_status(self) -> None:
        """Every few seconds: STATUS for systemd, state for MQTT, a hub event on changes."""
        last: dict[str, str] = {}
        last_status = ""
        while not self._monitor_stop.wait(STATUS_EVERY_S):
            loops = self.loops
            if loops is None:
                continue
            state = loops.device_state()
            if self.mqtt is not None:
                self.mqtt.set_state(state)
            for device in ("camera", "microphone"):
                if state[device] != last.get(device):
                    self.hub.publish(device, {"state": state[device]})
            last = state
            problems = self.problems()  # a failure's STATUS stays up until the restart
            status = (
                failure_status(problems)
                if problems
                else ", ".join(f"{k} {v}" for k, v in state.items())
            )
            if status != last_status:
                self.notifier.notify(STATUS=status)
            last_status = status


def _degradations(loops: Loops) -> list[str]:
    """Faults the loops survived but the user should know of: a turn that failed, timers
    that cannot be saved, camera events that cannot be stored."""
    found = []
    faults = loops.voice.faults
    if faults.last_failure is not None:
        found.append(f"the last voice turn failed: {faults.last_failure}")
    timers_problem = loops.voice.responder.intents.timers.save_problem
    if timers_problem is not None:
        found.append(timers_problem)
    home = loops.voice.responder.home
    if home is not None and home.circuit.last_failure is not None:
        found.append(f"Home Assistant at {home.settings.url}: {home.circuit.last_failure}")
    store = loops.camera_loop.store if loops.camera_loop is not None else None
    if store is not None and store.failed_writes:
        found.append(f"{store.failed_writes} camera events could not be stored in {store.folder}")
    return found


def model_version(app: AppContext, name: str) -> dict[str, str]:
    """What the page and /health show of catalog model `name`: its format and precision, the
    pinned source its bytes come from and the first 12 digits of its file's sha256."""
    entry = app.catalog.get(name)
    return {
        "format": entry.format,
        "precision": entry.precision,
        "source": entry.sources[0].label,
        "sha256": entry.files[0].sha256[:12],
    }


def _speaker(config: Config) -> Callable[[int], AudioSink]:
    """Opens the speaker per reply; without one the reply is still published, just not heard."""

    def open_sink(rate_hz: int) -> AudioSink:
        try:
            return SpeakerSink(config.audio.output_device, rate_hz)
        except AudioError as e:
            log.warning("no speaker, the reply is not played: %s", e)
            return NullSink()

    return open_sink


def _log_event(event: ServiceEvent) -> None:
    data = event.data
    if event.kind == "turn":
        latency = data.get("latency_s")
        fields = {k: data.get(k) for k in ("route", "transcript", "reply")}
        fields["latency_ms"] = round(latency * 1000) if isinstance(latency, float) else None
    else:
        fields = {k: data.get(k) for k in ("zone", "track_id", "score", "state", "snapshot")}
    log.info("event %s", logfmt(kind=event.kind, seq=event.seq, **fields))
