"""The stages the Wyoming server offers, from the models the voice loop already loaded."""

from __future__ import annotations

import time

from edgeai.config import Config
from edgeai.device.profiles import Profile
from edgeai.ears.wake.detector import WakeWordDetector
from edgeai.intents.handlers import IntentContext
from edgeai.voice.build import VoiceModels
from edgeai.voice.llm import Conversations
from edgeai.voice.respond import Responder
from edgeai.wyoming.info import describe
from edgeai.wyoming.session import BadRequestError, Stages


def serve_stages(
    config: Config,
    profile: Profile,
    models: VoiceModels,
    intents: IntentContext,
    wake: WakeWordDetector,
) -> Stages:
    """Shares the loaded models (and the intents' timers) with the voice loop; each client's
    wake stream gets a fresh state on `wake`'s front end and heads."""
    words = [head.spec.name for head in wake.heads]

    def wake_stream(names: list[str] | None) -> WakeWordDetector:
        if names and not set(names) & set(words):
            known = ", ".join(words)
            raise BadRequestError(f"no wake word {', '.join(names)}; this server has {known}")
        return wake.fresh(names or None)

    responder = Responder(
        models.tts, models.llm, intents, time.monotonic, config.voice.max_sentences
    )
    roles = profile.roles
    info = describe(roles["stt"].model, roles["tts"].model, roles["llm"].model, words)
    conversations = Conversations(config.voice.history_turns)
    return Stages(models.stt, models.tts, responder, conversations, wake_stream, info)
