"""The models one config runs, loaded once and reused across reloads.

The reuse key is built from the very objects the loaders receive (`VoiceModelSettings`, the
detector's score cut, the profile and the store), so a setting that a loader reads is in the
key by construction: a new one cannot silently keep stale models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from edgeai.device.profiles import Profile
from edgeai.runtime.context import AppContext
from edgeai.vision.build import default_detector
from edgeai.vision.detection import Detector
from edgeai.voice.build import VoiceModels, VoiceModelSettings, load_voice_models

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelKey:
    profile: Profile
    store: Path
    voice: VoiceModelSettings
    detector_min_score: float | None
    with_detector: bool
    """The camera is on: a detector is loaded too."""


@dataclass
class LoadedModels:
    voice: VoiceModels
    detector: Detector | None


def model_key(app: AppContext, profile: Profile, with_detector: bool) -> ModelKey:
    config = app.config
    return ModelKey(
        profile,
        app.store.root,
        VoiceModelSettings.of(config),
        config.camera.detector_min_score,
        with_detector,
    )


def load_models(app: AppContext, key: ModelKey) -> LoadedModels:
    """Load (and warm up) every model the key names, from what the key holds."""
    voice = load_voice_models(key.voice, key.profile, app.store, app.catalog)
    detector = (
        default_detector(key.detector_min_score, key.profile, app.store, app.catalog)
        if key.with_detector
        else None
    )
    return LoadedModels(voice, detector)


def load_voice_models_for(app: AppContext, profile: Profile) -> VoiceModels:
    """The voice models alone: for commands without a camera (chat, wyoming, benchmarks)."""
    return load_models(app, model_key(app, profile, with_detector=False)).voice


class ModelCache:
    """The loaded models of the running config, kept while a reload does not change their key."""

    def __init__(self) -> None:
        self._held: tuple[ModelKey, LoadedModels] | None = None

    def get(self, app: AppContext, profile: Profile, with_detector: bool) -> LoadedModels:
        key = model_key(app, profile, with_detector)
        if self._held is not None and self._held[0] == key:
            return self._held[1]
        if self._held is not None:
            log.info("the settings the models were loaded with changed: loading them again")
        self._held = None  # let the old ones go before loading new ones (memory)
        models = load_models(app, key)
        self._held = (key, models)
        return models

    def clear(self) -> None:
        self._held = None
