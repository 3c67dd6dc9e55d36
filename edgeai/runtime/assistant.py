"""Both loops of a composed assistant run to the end of their sources, side by side (`edgeai
demo`): the service runs the same assistant under its supervisor instead."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from edgeai.audio.sources import AudioSource
from edgeai.runtime.compose import Assistant
from edgeai.vision.camera import Camera
from edgeai.vision.events import CameraEvent
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


def run_assistant(assistant: Assistant, audio: AudioSource, camera: Camera) -> AssistantRun:
    """Run both loops until the audio has ended and the camera has finished (or failed)."""
    voice, camera_loop = assistant.voice, assistant.camera_loop
    assert camera_loop is not None, "the assistant was composed without a camera loop"
    result = AssistantRun(timelines=[])
    camera_loop.bus.subscribe(result.events.append)
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
