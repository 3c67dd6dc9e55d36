"""What one config runs: the voice and camera loops, their threads and devices, and their state
in the words /health, STATUS and MQTT use. Replaced as a whole on reload."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from edgeai.audio.microphone import MicrophoneSource
from edgeai.audio.sinks import AudioSink
from edgeai.audio.sources import AudioSource
from edgeai.config import CameraSettings, Config
from edgeai.device.profiles import Profile
from edgeai.runtime.compose import Assistant
from edgeai.vision.camera import Camera
from edgeai.vision.loop import CameraLoop
from edgeai.voice.loop import VoiceLoop
from edgeai.wyoming.server import WyomingServer

AUDIO_LOOP = "audio"
CAMERA_LOOP = "camera"


@dataclass
class Inputs:
    """Where sound and pictures come from and where replies go. None means the real devices of
    the config (microphone, camera, speaker); tests and benchmarks pass files instead."""

    audio: Callable[[], AudioSource] | None = None
    camera: Callable[[CameraSettings, Profile], Camera] | None = None
    open_sink: Callable[[int], AudioSink] | None = None


@dataclass
class Loops:
    """What one config runs: its assistant (voice and camera loops), their threads, the
    devices they read, the Wyoming server."""

    assistant: Assistant
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    microphone: MicrophoneSource | None = None
    camera: Camera | None = None
    wyoming: WyomingServer | None = None

    @property
    def config(self) -> Config:
        return self.assistant.config

    @property
    def profile(self) -> Profile:
        return self.assistant.profile

    @property
    def voice(self) -> VoiceLoop:
        return self.assistant.voice

    @property
    def camera_loop(self) -> CameraLoop | None:
        return self.assistant.camera_loop

    def listening(self) -> bool:
        """The audio loop runs (a file source may have ended)."""
        return any(t.name == AUDIO_LOOP and t.is_alive() for t in self.threads)

    def device_state(self) -> dict[str, str]:
        """The short state MQTT and STATUS carry."""
        present = self.camera_loop.people.present() if self.camera_loop else []
        return {
            "person": "ON" if present else "OFF",
            "fall": "ON" if any(fallen for _, fallen, _ in present) else "OFF",
            "camera": str(self.camera_state()["state"]),
            "microphone": str(self.microphone_state()["state"]),
        }

    def camera_state(self) -> dict[str, object]:
        camera = self.camera
        if camera is None:
            return {"state": "disabled"}
        problem = camera.problem if camera.state.value in ("reopening", "failed") else ""
        return {
            "state": camera.state.value,
            "problem": problem,
            "outages": camera.outages,
            "dropped_frames": camera.dropped_frames,
            "picture": self.camera_loop.picture_problem.value
            if self.camera_loop is not None and self.camera_loop.picture_problem is not None
            else "ok",
        }

    def microphone_state(self) -> dict[str, object]:
        mic = self.microphone
        if mic is None:
            return {"state": "file" if self.listening() else "ended"}
        return {
            "state": mic.state.value,
            "problem": mic.problem if mic.state.value == "reopening" else "",
            "outages": mic.outages,
            "dropped_pieces": mic.dropped_pieces,
        }


class WatchedSource:
    """An audio source that reports progress on every block and ends when told to stop."""

    def __init__(self, inner: AudioSource, stop: threading.Event, beat: Callable[[], None]):
        self.inner = inner
        self.stop = stop
        self.beat = beat

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        for block in self.inner.blocks(block_samples):
            self.beat()
            if self.stop.is_set():
                return
            yield block
