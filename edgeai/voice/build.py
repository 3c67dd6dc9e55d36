"""Assemble the voice loop from the config, the device profile and the model store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from edgeai.artifacts import ArtifactIndex, role_model
from edgeai.audio.sinks import AudioSink
from edgeai.catalog import Catalog
from edgeai.config import Config
from edgeai.intents.grammar import Grammar, load_grammar
from edgeai.intents.handlers import IntentContext
from edgeai.intents.timers import TimerStore
from edgeai.listen import build_listener
from edgeai.paths import edgeai_home
from edgeai.profiles import Profile
from edgeai.store import ModelStore
from edgeai.vision.view import CameraView
from edgeai.voice.fallback import (
    Circuit,
    FallbackLanguageModel,
    FallbackSpeechToText,
    FallbackTextToSpeech,
)
from edgeai.voice.llm import LanguageModel, LocalLLM
from edgeai.voice.loop import StreamClock, VoiceLoop
from edgeai.voice.openai_compat import OpenAiChat, OpenAiSpeech, OpenAiTranscriber
from edgeai.voice.respond import Responder
from edgeai.voice.stt import SpeechToText, load_stt
from edgeai.voice.tts import PiperTTS, TextToSpeech
from edgeai.wyoming.client import WyomingHandler, WyomingSpeechToText, WyomingTextToSpeech

log = logging.getLogger(__name__)


@dataclass
class VoiceModels:
    """The loaded, warmed-up models of a voice turn."""

    stt: SpeechToText
    llm: LanguageModel
    tts: TextToSpeech


def load_voice_models(
    config: Config, profile: Profile, store: ModelStore, catalog: Catalog
) -> VoiceModels:
    """Load and warm up STT, LLM and TTS now, so the first turn is as fast as the rest."""
    started = time.monotonic()
    roles = profile.roles
    artifacts = ArtifactIndex.load()  # read the manifests once for the three roles
    stt_file, stt_role = role_model(profile, "stt", store, catalog, artifacts)
    stt = load_stt(
        stt_role.engine, stt_file, stt_role.threads, config.voice.stt_window_s, stt_prompt(config)
    )
    llm_path, llm_role = role_model(profile, "llm", store, catalog, artifacts)
    llm = LocalLLM(
        llm_path,
        threads=llm_role.threads,
        n_gpu_layers=profile.engines.llama_cpp.n_gpu_layers if roles["llm"].device == "gpu" else 0,
        max_tokens=config.voice.llm_max_tokens,
        history_turns=config.voice.history_turns,
        seed=config.voice.llm_seed,
    )
    tts_path, tts_role = role_model(profile, "tts", store, catalog, artifacts)
    tts = PiperTTS(tts_path, tts_role.threads, tts_role.engine)
    stt.warm_up()
    llm.warm_up()
    tts.warm_up()
    log.info("voice models loaded and warm in %.1f s", time.monotonic() - started)
    return VoiceModels(stt, llm, tts)


def with_remote_stages(models: VoiceModels, config: Config) -> VoiceModels:
    """The stages the config hands to machines on the LAN, each with its local model behind
    it; the others as they are."""
    remote = config.remote
    stt, llm, tts = models.stt, models.llm, models.tts
    if remote.stt is not None:
        far_stt: SpeechToText = (
            WyomingSpeechToText(remote.stt)
            if remote.stt.protocol == "wyoming"
            else OpenAiTranscriber(remote.stt)
        )
        stt = FallbackSpeechToText(far_stt, stt, Circuit("stt", remote.stt))
    if remote.tts is not None:
        rate = tts.sample_rate_hz  # remote audio is brought to the local voice's rate
        far_tts: TextToSpeech = (
            WyomingTextToSpeech(remote.tts, rate)
            if remote.tts.protocol == "wyoming"
            else OpenAiSpeech(remote.tts, rate)
        )
        tts = FallbackTextToSpeech(far_tts, tts, Circuit("tts", remote.tts))
    if remote.llm is not None:
        voice = config.voice
        far_llm: LanguageModel = (
            WyomingHandler(remote.llm)
            if remote.llm.protocol == "wyoming"
            else OpenAiChat(remote.llm, voice.llm_max_tokens, voice.history_turns)
        )
        llm = FallbackLanguageModel(far_llm, llm, Circuit("llm", remote.llm))
    for role, stage in remote.stages():
        log.info("%s: remote %s first, the local model as fallback", role, stage.url)
    return VoiceModels(stt, llm, tts)


def grammar(config: Config) -> Grammar:
    """The sentence templates with the config's camera zones; a file with a mistake stops the
    start here, naming its file and line."""
    return load_grammar(config.voice.intents_file, tuple(config.camera.zones))


def stt_prompt(config: Config) -> str | None:
    """What speech-to-text is prompted with: the intents' words (None when turned off)."""
    return grammar(config).stt_prompt() if config.voice.stt_prompt else None


def intent_context(config: Config, camera: Callable[[], CameraView] | None = None) -> IntentContext:
    return IntentContext(
        timers=TimerStore(config.voice.timers_file or edgeai_home() / "timers.json"),
        camera=camera,
        grammar=grammar(config),
    )


def build_voice_loop(
    config: Config,
    profile: Profile,
    store: ModelStore,
    catalog: Catalog,
    models: VoiceModels,
    open_sink: Callable[[int], AudioSink],
    camera: Callable[[], CameraView] | None = None,
) -> VoiceLoop:
    """The loop; `camera` answers "what do you see" when a camera loop runs beside it."""
    intents = intent_context(config, camera)

    def make_responder(clock: StreamClock) -> Responder:
        return Responder(models.tts, models.llm, intents, clock, config.voice.max_sentences)

    return VoiceLoop(
        build_listener(config, profile, store, catalog),
        models.stt,
        make_responder,
        open_sink,
        config.voice.follow_up_s,
    )
