"""What one config runs, built and wired in one place: the voice loop, the camera loop beside
it (its rules speak through the voice loop, "what do you see" reads it, it slows down during a
turn), and the Wyoming stages sharing the voice loop's models, intents and wake front end.

The service, `edgeai demo`, `chat`, `wyoming` and the benchmarks all build through here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edgeai.audio.sinks import AudioSink
from edgeai.config import CameraRule, CameraSettings, Config
from edgeai.device.profiles import Profile
from edgeai.ears.listener import load_wake_detector
from edgeai.runtime.context import AppContext
from edgeai.runtime.models import LoadedModels
from edgeai.runtime.remote import with_remote_stages
from edgeai.vision.build import build_camera_loop
from edgeai.vision.loop import CameraLoop
from edgeai.vision.rules import RuleRunner
from edgeai.voice.build import VoiceModels, build_voice_loop, intent_context
from edgeai.voice.home_assistant import home_assistant
from edgeai.voice.llm import ChatHistory
from edgeai.voice.loop import Spawn, VoiceLoop, plain_thread
from edgeai.voice.respond import Responder
from edgeai.wyoming.session import Stages
from edgeai.wyoming.stages import serve_stages


@dataclass
class Assistant:
    """The loops of one config, wired together."""

    config: Config
    profile: Profile
    models: VoiceModels
    """The voice loop's models, remote stages in front where the config has them."""
    voice: VoiceLoop
    camera_loop: CameraLoop | None
    """None while the camera is off."""
    rules: RuleRunner | None = None
    """The camera's rules, speaking through the voice loop (None without a camera)."""


def compose(
    app: AppContext,
    profile: Profile,
    models: LoadedModels,
    open_sink: Callable[[int], AudioSink],
    camera: CameraSettings | None = None,
    events_folder: Path | None = None,
    spawn: Spawn = plain_thread,
) -> Assistant:
    """The voice loop, and the camera loop beside it when a detector was loaded. `camera`
    replaces the config's camera settings (the demo's zones and rules)."""
    config = app.config
    voice_models = with_remote_stages(models.voice, config)  # cheap: redone on every reload
    camera = camera or config.camera
    camera_loop = (
        build_camera_loop(camera, models.detector, "camera", events_folder)
        if models.detector is not None
        else None
    )
    view = camera_loop.view if camera_loop is not None else None
    voice = build_voice_loop(
        config, profile, app.store, app.catalog, voice_models, open_sink, view, spawn
    )
    rules = wire(voice, camera_loop, camera.rules) if camera_loop is not None else None
    return Assistant(config, profile, voice_models, voice, camera_loop, rules)


def wire(voice: VoiceLoop, camera_loop: CameraLoop, rules: Sequence[CameraRule]) -> RuleRunner:
    """The camera's rules speak through the voice loop; the camera yields during a turn."""
    runner = RuleRunner(rules, voice.announce)
    camera_loop.bus.subscribe(runner)
    camera_loop.yield_to = voice.busy
    return runner


def wyoming_stages(assistant: Assistant) -> Stages:
    """Wake word, speech-to-text, text-to-speech and the assistant over Wyoming, sharing the
    voice loop's models (remote stages included), timers and wake front end."""
    voice = assistant.voice
    listener = voice.listener
    wake = listener.detector.fresh(listener.wake_words)
    intents = voice.responder.intents
    return serve_stages(assistant.config, assistant.profile, assistant.models, intents, wake)


def standalone_wyoming_stages(app: AppContext, profile: Profile, models: VoiceModels) -> Stages:
    """The Wyoming stages without microphone or camera loops (`edgeai wyoming`)."""
    config = app.config
    wake = load_wake_detector(config.wake.words, profile, app.store, app.catalog)
    voice_models = with_remote_stages(models, config)
    return serve_stages(config, profile, voice_models, intent_context(config), wake)


def responder_for(app: AppContext, models: VoiceModels, clock: Callable[[], float]) -> Responder:
    """A turn taker without the loop (`edgeai chat`): local intents, then Home Assistant when
    configured, then the LLM, with its own conversation. `models` as `with_remote_stages`
    gives them."""
    config = app.config
    return Responder(
        models.tts,
        models.llm,
        intent_context(config),
        clock,
        config.voice.max_sentences,
        ChatHistory(config.voice.history_turns),
        home_assistant(config.home_assistant),
    )
