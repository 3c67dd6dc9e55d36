"""The stages the Wyoming server offers, from the models the voice loop already loaded."""

from __future__ import annotations

import time

from edgeai.catalog import Catalog
from edgeai.config import Config
from edgeai.intents.handlers import IntentContext
from edgeai.profiles import Profile
from edgeai.store import ModelStore
from edgeai.voice.build import VoiceModels
from edgeai.voice.respond import Responder
from edgeai.wake.detector import WakeWordDetector
from edgeai.wake.frontend import WakeFrontend
from edgeai.wake.words import resolve_wake_word
from edgeai.wyoming.info import describe
from edgeai.wyoming.session import BadRequestError, Stages


def serve_stages(
    config: Config,
    profile: Profile,
    store: ModelStore,
    catalog: Catalog,
    models: VoiceModels,
    intents: IntentContext,
) -> Stages:
    """Shares the loaded models (and the intents' timers) with the voice loop; the wake front
    end is loaded once here and each client stream gets its own detector state."""
    wake_role = profile.roles["wake"]
    frontend = WakeFrontend(store.require(catalog.get(wake_role.model)), wake_role.threads)
    words = {word.name: resolve_wake_word(word) for word in config.wake.words}

    def wake(names: list[str] | None) -> WakeWordDetector:
        wanted = [words[name] for name in names or words if name in words]
        if not wanted:
            known = ", ".join(words)
            raise BadRequestError(f"no wake word {', '.join(names or [])}; this server has {known}")
        return WakeWordDetector(frontend, wanted)

    responder = Responder(
        models.tts, models.llm, intents, time.monotonic, config.voice.max_sentences
    )
    roles = profile.roles
    info = describe(roles["stt"].model, roles["tts"].model, roles["llm"].model, list(words))
    return Stages(models.stt, models.tts, responder, wake, info)
