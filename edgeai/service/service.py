"""The service: the voice loop and the camera loop, composed from the config and the profile,
with the HTTP API, MQTT, systemd notification and watchdog around them.

Models are loaded once; a reload (SIGHUP) restarts the loops with the new config and keeps the
models unless the settings they were loaded with changed. A config that fails validation is
rejected and the running one goes on.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import soundfile

from edgeai.audio.microphone import MicrophoneSource
from edgeai.audio.sinks import AudioSink, NullSink, SpeakerSink
from edgeai.cli.context import AppContext
from edgeai.config import Config
from edgeai.errors import AudioError, EdgeAIError
from edgeai.logs import logfmt
from edgeai.placement import Placement, place
from edgeai.profiles import Profile
from edgeai.service.api import ApiServer
from edgeai.service.health import LoopHealth, WatchdogFeeder
from edgeai.service.hub import EventHub, ServiceEvent
from edgeai.service.loops import AUDIO_THREAD, CAMERA_THREAD, Inputs, Loops, WatchedSource
from edgeai.service.metrics import ServiceMetrics
from edgeai.service.mqtt import MqttLink
from edgeai.service.systemd import SystemdNotifier
from edgeai.vision.build import build_camera, build_camera_loop, default_detector
from edgeai.vision.detection import Detector
from edgeai.vision.events import CameraEvent
from edgeai.vision.loop import CameraLoop
from edgeai.vision.rules import RuleRunner
from edgeai.voice.build import (
    VoiceModels,
    build_voice_loop,
    load_voice_models,
    with_remote_stages,
)
from edgeai.voice.timeline import TurnTimeline
from edgeai.wyoming.server import WyomingServer
from edgeai.wyoming.stages import serve_stages

log = logging.getLogger(__name__)

STATUS_EVERY_S = 2.0


class Service:
    def __init__(
        self,
        config_path: Path | None,
        inputs: Inputs | None = None,
        notifier: SystemdNotifier | None = None,
    ) -> None:
        self.config_path = config_path
        self.inputs = inputs or Inputs()
        self.notifier = notifier or SystemdNotifier()
        self.hub = EventHub()
        self.health_of_loops = LoopHealth()
        self.metrics_registry = ServiceMetrics(self)
        self.started_at = time.monotonic()
        self.placements: list[Placement] = []
        self.app: AppContext | None = None
        self.loops: Loops | None = None
        self.api: ApiServer | None = None
        self.mqtt: MqttLink | None = None
        self._unsubscribe_mqtt: Callable[[], None] | None = None
        self.stopping = False
        self._models: tuple[tuple[Any, ...], VoiceModels, Detector | None] | None = None
        self._watchdog: WatchdogFeeder | None = None
        self._monitor_stop = threading.Event()
        self._monitor = threading.Thread(target=self._report_status, name="status", daemon=True)
        self.hub.subscribe(_log_event)

    # lifecycle

    def start(self) -> None:
        """Load, start everything, and tell systemd it is ready. Errors here are fatal."""
        app = AppContext(self.config_path)
        self._start_loops(app)
        config = app.config
        self._start_links(config)
        self._watchdog = WatchdogFeeder(
            self.notifier, self.health_of_loops, config.service.watchdog_stall_s
        )
        self._watchdog.start()
        self._monitor.start()
        self.notifier.notify(READY=1, STATUS="running")
        log.info("edgeai is running (profile %s)", self.loops.profile.name if self.loops else "?")

    def reload(self) -> bool:
        """Apply the config file again; a bad one is rejected and the running one kept."""
        app = AppContext(self.config_path)
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
            return self._reject_reload(str(e))
        if previous is None or (previous.config.api, previous.config.mqtt) != (new.api, new.mqtt):
            self._stop_links()
            self._start_links(new)
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
        self._monitor_stop.set()
        if self._watchdog is not None:
            self._watchdog.stop()
        self._stop_loops()
        self._stop_links()
        self._models = None  # the models go with the service
        log.info("edgeai stopped")

    # ServiceView, for the HTTP API

    def health(self) -> tuple[bool, dict[str, Any]]:
        loops = self.loops
        stall_s = loops.config.service.watchdog_stall_s if loops else 15.0
        stalled = self.health_of_loops.stalled(stall_s)
        problems = [f"{name} loop: no progress for {age:.0f} s" for name, age in stalled.items()]
        body: dict[str, Any] = {
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "loops": self.health_of_loops.snapshot(),
        }
        if loops is not None:
            body["profile"] = loops.profile.name
            body["placement"] = [p.as_dict() for p in self.placements]
            body["microphone"] = loops.microphone_state()
            body["camera"] = loops.camera_state()
            if loops.wyoming is not None:
                body["wyoming"] = {"port": loops.wyoming.port} | asdict(loops.wyoming.counts)
            for name, state in (("microphone", body["microphone"]), ("camera", body["camera"])):
                if state.get("problem"):
                    problems.append(f"{name}: {state['problem']}")
        if self.mqtt is not None:
            body["mqtt"] = {
                "connected": self.mqtt.connected,
                "buffered": self.mqtt.buffered,
                "dropped": self.mqtt.dropped,
            }
            if not self.mqtt.connected:
                problems.append(f"MQTT broker {self.mqtt.settings.host} not connected")
        if self.stopping:
            status = "stopping"
        elif loops is None:
            status = "starting"
        elif stalled:
            status = "stalled"
        else:
            status = "degraded" if problems else "ok"
        healthy = status in ("ok", "degraded")
        return healthy, {"status": status, "problems": problems} | body

    def metrics(self) -> bytes:
        return self.metrics_registry.exposition()

    def say(self, text: str) -> bool:
        """Queue `text` to be spoken; False when no voice loop is listening to speak it."""
        loops = self.loops
        if loops is None or not loops.listening() or self.stopping:
            return False
        loops.voice.announce(text)
        return True

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
        profile, self.placements = place(app.active_profile(), app.host)
        local_models, detector = self._load_models(app, config, profile)
        models = with_remote_stages(local_models, config)  # cheap: redone on every reload
        camera_loop = (
            build_camera_loop(config.camera, detector, "camera", config.camera.events.folder_path())
            if detector is not None
            else None
        )
        camera_view = camera_loop.view if camera_loop else None
        open_sink = self.inputs.open_sink or _speaker(config)
        voice = build_voice_loop(
            config, profile, app.store, app.catalog, models, open_sink, camera_view
        )
        loops = Loops(config, profile, voice, camera_loop)
        voice.turn_done = self._on_turn
        if config.wyoming.enabled:
            listener = voice.listener
            intents, wake = voice.responder.intents, listener.detector.fresh(listener.wake_words)
            stages = serve_stages(config, profile, models, intents, wake)
            loops.wyoming = WyomingServer(config.wyoming, stages)
            loops.wyoming.start()
        self.health_of_loops.forget()
        self._start_audio(loops)
        if camera_loop is not None:
            camera_loop.bus.subscribe(self._on_camera_event)
            camera_loop.bus.subscribe(RuleRunner(config.camera.rules, voice.announce))
            camera_loop.yield_to = voice.busy
            self._start_camera(loops, camera_loop)
        self.loops = loops
        self.app = app

    def _load_models(
        self, app: AppContext, config: Config, profile: Profile
    ) -> tuple[VoiceModels, Detector | None]:
        """The loaded models, reused when what they were loaded with is unchanged."""
        key = (
            profile,
            config.models,
            config.voice.llm_max_tokens,
            config.voice.history_turns,
            config.voice.llm_seed,
            config.voice.stt_window_s,
            config.voice.stt_prompt,
            config.voice.intents_file,
            tuple(config.camera.zones),  # the prompt names them
            config.camera.enabled,
            config.camera.min_score,
        )
        if self._models is not None and self._models[0] == key:
            return self._models[1], self._models[2]
        self._models = None  # let the old ones go before loading new ones (memory)
        models = load_voice_models(config, profile, app.store, app.catalog)
        detector = (
            default_detector(config, profile, app.store, app.catalog)
            if config.camera.enabled
            else None
        )
        self._models = (key, models, detector)
        return models, detector

    def _start_audio(self, loops: Loops) -> None:
        if self.inputs.audio is not None:
            source = self.inputs.audio()
        else:
            loops.microphone = MicrophoneSource(loops.config.audio.input_device)
            source = loops.microphone
        self.health_of_loops.watch("audio")
        watched = WatchedSource(source, loops.stop, lambda: self.health_of_loops.beat("audio"))

        def listen() -> None:
            try:
                loops.voice.run(watched)
                log.info("the audio source ended")
            except Exception as e:
                log.exception("the audio loop stopped")
                loops.problems["audio"] = str(e)
            finally:
                self.health_of_loops.finish("audio")

        loops.spawn(listen, AUDIO_THREAD)

    def _start_camera(self, loops: Loops, camera_loop: CameraLoop) -> None:
        settings = loops.config.camera
        if self.inputs.camera is not None:
            camera = self.inputs.camera(settings, loops.profile)
        else:
            camera = build_camera(settings.device, settings, loops.profile)
        loops.camera = camera
        self.health_of_loops.watch("camera")
        camera_loop.heartbeat = lambda: self.health_of_loops.beat("camera")

        def watch() -> None:
            try:
                camera_loop.run(camera, loops.stop)
                if not loops.stop.is_set():
                    log.info("the camera source ended")
            except Exception as e:
                log.error("the camera loop stopped: %s", e)
                loops.problems["camera"] = str(e)
            finally:
                self.health_of_loops.finish("camera")

        loops.spawn(watch, CAMERA_THREAD)

    def _stop_loops(self) -> None:
        loops = self.loops
        if loops is None:
            return
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
        self.loops = None

    def _start_links(self, config: Config) -> None:
        if config.api.enabled:
            self.api = ApiServer(config.api, self)
            self.api.start()
        if config.mqtt.enabled:
            profile = self.loops.profile.name if self.loops else "unknown"
            self.mqtt = MqttLink(config.mqtt, profile)
            self._unsubscribe_mqtt = self.hub.subscribe(self.mqtt.publish)
            self.mqtt.start()

    def _stop_links(self) -> None:
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
            stalled = self._watchdog is not None and self._watchdog.stalled
            if state != last and not stalled:  # a stall's STATUS stays up until the restart
                self.notifier.notify(STATUS=", ".join(f"{k} {v}" for k, v in state.items()))
            last = state


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
