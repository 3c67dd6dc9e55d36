"""The voice loop and the camera loop side by side: camera rules speak through the voice loop,
and "what do you see" reads the camera loop's latest view."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from edgeai.audio.sources import AudioSource
from edgeai.config import CameraRule
from edgeai.vision.camera import Camera
from edgeai.vision.events import CameraEvent
from edgeai.vision.loop import CameraLoop
from edgeai.vision.rules import RuleRunner
from edgeai.voice.loop import VoiceLoop
from edgeai.voice.timeline import TurnTimeline

log = logging.getLogger(__name__)


@dataclass
class AssistantRun:
    timelines: list[TurnTimeline]
    events: list[CameraEvent] = field(default_factory=list)
    camera_error: str | None = None


class _SilenceUntil:
    """An audio source that, after its own audio, keeps the voice loop listening (silence)
    until `done` is set, so announcements of a camera still running get spoken."""

    def __init__(self, inner: AudioSource, done: threading.Event) -> None:
        self._inner = inner
        self._done = done

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        yield from self._inner.blocks(block_samples)
        silence = np.zeros(block_samples, np.int16)
        while not self._done.is_set():
            self._done.wait(block_samples / 16000)
            yield silence


def run_assistant(
    voice: VoiceLoop,
    audio: AudioSource,
    camera_loop: CameraLoop,
    camera: Camera,
    rules: Sequence[CameraRule],
) -> AssistantRun:
    """Run both loops until the audio has ended and the camera has finished (or failed)."""
    result = AssistantRun(timelines=[])
    camera_loop.bus.subscribe(RuleRunner(rules, voice.announce))
    camera_loop.bus.subscribe(result.events.append)
    camera_loop.yield_to = voice.busy
    camera_done = threading.Event()
    stop = threading.Event()

    def watch() -> None:
        try:
            camera_loop.run(camera, stop)
        except Exception as e:  # the voice loop goes on without eyes, as the service would
            log.error("camera loop stopped: %s", e)
            result.camera_error = str(e)
        finally:
            camera_done.set()

    thread = threading.Thread(target=watch, name="camera-loop", daemon=True)
    thread.start()
    result.timelines = voice.run(_SilenceUntil(audio, camera_done))
    stop.set()
    thread.join()
    return result
