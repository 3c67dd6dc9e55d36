"""Assemble the voice loop from the config, the device profile and the model store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgeai.audio.reference import teeing
from edgeai.audio.sinks import AudioSink
from edgeai.config import Config
from edgeai.device.artifacts import ArtifactIndex, role_model
from edgeai.device.profiles import Profile
from edgeai.ears.listener import build_listener
from edgeai.intents.grammar import Grammar, load_grammar
from edgeai.intents.handlers import IntentContext
from edgeai.intents.timers import TimerStore
from edgeai.models.catalog import Catalog
from edgeai.paths import edgeai_home
from edgeai.store import ModelStore
from edgeai.vision.view import CameraView
from edgeai.voice.home_assistant import home_assistant
from edgeai.voice.llm import ChatHistory, LanguageModel, LocalLLM
from edgeai.voice.loop import Spawn, StreamClock, VoiceLoop, plain_thread
from edgeai.voice.respond import Responder
from edgeai.voice.stt import SpeechToText, load_stt
from edgeai.voice.tts import PiperTTS, TextToSpeech

log = logging.getLogger(__name__)

SPLIT_VOICES = ".split-voices"
"""The model store's folder of Piper voices cut in two (piper_graph.py), named by their
source's sha256."""


@dataclass(frozen=True)
class VoiceModelSettings:
    """Everything in the config that `load_voice_models` reads, and nothing else: the models
    are reused across a reload exactly while this (and the profile) stays equal."""

    llm_max_tokens: int
    llm_seed: int | None
    stt_window_s: float | None
    stt_prompt: str | None
    """The text speech-to-text starts from (it names the camera zones)."""
    stt_hypotheses: int = 1
    intents: tuple[Path | None, tuple[str, ...]] = (None, ())
    """The template file and camera zones whose commands speech-to-text prefers."""

    @classmethod
    def of(cls, config: Config) -> VoiceModelSettings:
        voice = config.voice
        return cls(
            voice.llm_max_tokens, voice.llm_seed, voice.stt_window_s, stt_prompt(config),
            voice.stt_hypotheses, intents_source(config),
        )  # fmt: skip


@dataclass
class VoiceModels:
    """The loaded, warmed-up models of a voice turn."""

    stt: SpeechToText
    llm: LanguageModel
    tts: TextToSpeech


def load_voice_models(
    settings: VoiceModelSettings, profile: Profile, store: ModelStore, catalog: Catalog
) -> VoiceModels:
    """Load and warm up STT, LLM and TTS now, so the first turn is as fast as the rest."""
    started = time.monotonic()
    roles = profile.roles
    artifacts = ArtifactIndex.load()  # read the manifests once for the three roles
    stt_file, stt_role = role_model(profile, "stt", store, catalog, artifacts)
    stt = load_stt(
        stt_role.engine,
        stt_file,
        stt_role.threads,
        profile.stt_window_s(settings.stt_window_s),
        settings.stt_prompt,
        settings.stt_hypotheses,
        load_grammar(*settings.intents).is_command,
    )
    llm_path, llm_role = role_model(profile, "llm", store, catalog, artifacts)
    llm = LocalLLM(
        llm_path,
        threads=llm_role.threads,
        n_gpu_layers=profile.engines.llama_cpp.n_gpu_layers if roles["llm"].device == "gpu" else 0,
        max_tokens=settings.llm_max_tokens,
        seed=settings.llm_seed,
    )
    tts_path, tts_role = role_model(profile, "tts", store, catalog, artifacts)
    tts = PiperTTS(
        tts_path, tts_role.threads, tts_role.engine, split_cache=store.root / SPLIT_VOICES
    )
    stt.warm_up()
    llm.warm_up()
    tts.warm_up()
    log.info("voice models loaded and warm in %.1f s", time.monotonic() - started)
    return VoiceModels(stt, llm, tts)


def intents_source(config: Config) -> tuple[Path | None, tuple[str, ...]]:
    """The template file (None: the bundled one) and the camera zones its {zone} list names."""
    return config.voice.intents_file, tuple(config.camera.zones)


def grammar(config: Config) -> Grammar:
    """The sentence templates with the config's camera zones; a file with a mistake stops the
    start here, naming its file and line."""
    return load_grammar(*intents_source(config))


def stt_prompt(config: Config) -> str | None:
    """What speech-to-text is prompted with: the intents' words (None when turned off)."""
    return grammar(config).stt_prompt() if config.voice.stt_prompt else None


def intent_context(config: Config, camera: Callable[[], CameraView] | None = None) -> IntentContext:
    return IntentContext(
        timers=TimerStore(config.voice.timers_file or edgeai_home() / "timers.json"),
        camera=camera,
        grammar=grammar(config),
        room=config.home.watched_room() if camera is not None else None,
    )


def build_voice_loop(
    config: Config,
    profile: Profile,
    store: ModelStore,
    catalog: Catalog,
    models: VoiceModels,
    open_sink: Callable[[int], AudioSink],
    camera: Callable[[], CameraView] | None = None,
    spawn: Spawn = plain_thread,
) -> VoiceLoop:
    """The loop; `camera` answers "what do you see" when a camera loop runs beside it."""
    intents = intent_context(config, camera)
    home = home_assistant(config.home_assistant)

    def make_responder(clock: StreamClock) -> Responder:
        history = ChatHistory(config.voice.history_turns)  # the device's own conversation
        return Responder(
            models.tts, models.llm, intents, clock, config.voice.max_sentences, history, home
        )

    listener = build_listener(config, profile, store, catalog)
    if listener.echo is not None:  # what the loop plays is the canceller's reference
        open_sink = teeing(open_sink, listener.echo.reference)
    return VoiceLoop(
        listener,
        models.stt,
        make_responder,
        open_sink,
        config.voice.follow_up_s,
        spawn,
    )
