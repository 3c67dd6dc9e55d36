"""Wake word detection with the real front end and the bundled "hey jarvis" head."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edgeai.config import WakeWordSettings
from edgeai.ears.wake.detector import WakeWordDetector
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, WakeFrontend
from edgeai.ears.wake.heads import WakeHead, WakeWordSpec
from edgeai.ears.wake.words import resolve_wake_word
from edgeai.errors import ConfigError, ModelLoadError
from tests.conftest import REPO, silence, speak

HEAD = REPO / "wakewords" / "hey_jarvis.onnx"


def detections(frontend: WakeFrontend, specs: list[WakeWordSpec], audio: np.ndarray) -> list:
    detector = WakeWordDetector(frontend, specs)
    found = []
    for i in range(len(audio) // BLOCK_SAMPLES):
        found.extend(detector.push(audio[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]))
    return found


def bundled(
    threshold: float | None = None, name: str = "hey_jarvis", head: str = "hey_jarvis"
) -> WakeWordSpec:
    spec = resolve_wake_word(WakeWordSettings(name=head, threshold=threshold))
    return WakeWordSpec(name, spec.model, spec.threshold, spec.refractory_s, spec.second_look)


def test_the_bundled_head_and_its_manifest_threshold_are_found():
    spec = resolve_wake_word(WakeWordSettings(name="hey_jarvis"))
    assert spec.model.samefile(HEAD)
    assert 0 < spec.threshold < 1
    assert WakeHead(spec).window == 16


def test_hey_jarvis_is_detected_shortly_after_it_is_said(frontend: WakeFrontend):
    phrase = speak("hey jarvis")
    audio = np.concatenate([silence(1.5), phrase, silence(1.5)])
    found = detections(frontend, [bundled()], audio)
    assert len(found) == 1 and not found[0].second_look
    phrase_end_s = 1.5 + np.flatnonzero(np.abs(phrase) > 500)[-1] / 16000
    assert -0.3 <= found[0].at_s - phrase_end_s <= 0.5


def test_refractory_period_reports_a_repeat_once(frontend: WakeFrontend):
    phrase = speak("hey jarvis")
    audio = np.concatenate([silence(1.5), phrase, silence(0.3), phrase, silence(1.5)])
    spec = bundled()
    short = WakeWordSpec(spec.name, spec.model, spec.threshold, refractory_s=0.0)
    long = WakeWordSpec(spec.name, spec.model, spec.threshold, refractory_s=5.0)
    assert len(detections(frontend, [long], audio)) == 1
    assert len(detections(frontend, [short], audio)) >= 2


def test_several_words_at_once_each_with_its_own_threshold(frontend: WakeFrontend):
    audio = np.concatenate([silence(1.5), speak("hey jarvis"), silence(1.5)])
    eager, picky = bundled(0.05, "eager"), bundled(0.999999, "picky")
    names = {d.name for d in detections(frontend, [eager, picky], audio)}
    assert names == {"eager"}


def very_loud_speech() -> np.ndarray:
    """Ordinary sentences 30 dB too loud: clipped flat at full scale most of the time."""
    said = speak("The kettle is on and the windows are open. Call me after lunch, please.")
    return np.clip(said.astype(np.int32) * 30, -32768, 32767).astype(np.int16)


@pytest.mark.parametrize(
    "audio",
    [
        silence(30.0),
        np.where(np.arange(16000 * 20) % 40 < 20, 32767, -32768).astype(np.int16),
        (np.random.default_rng(3).standard_normal(16000 * 30) * 8000).astype(np.int16),
        np.full(16000 * 10, -32768, np.int16),
        np.concatenate([silence(1.0), very_loud_speech(), silence(1.0)] * 3),
        np.concatenate([silence(2.0), np.full(8000, 32767, np.int16)] * 5),
    ],
    ids=[
        "silence",
        "clipped-square",
        "loud-noise",
        "clipped-dc",
        "very-loud-speech",
        "clicks-from-silence",
    ],
)
@pytest.mark.parametrize("word", ["hey_jarvis", "stop"])
def test_no_wake_storm_on_silence_noise_or_clipping(
    frontend: WakeFrontend, audio: np.ndarray, word: str
):
    assert detections(frontend, [bundled(name=word, head=word)], audio) == []


@pytest.mark.parametrize(
    ("word", "voice", "words_per_minute"),
    [("stop", "en-029+m5", 190), ("hey_jarvis", "en-us+m3", 150)],
)
def test_a_word_over_digital_silence_is_heard_as_in_a_quiet_room(
    frontend: WakeFrontend, word: str, voice: str, words_per_minute: int
):
    """A noise-gated microphone hands over digital silence between words. Without the front
    end's fixed floor this "stop" (20 dB below full scale) was missed there."""
    said = speak(word.replace("_", " "), voice, words_per_minute).astype(np.float32)
    quiet = (said / np.abs(said).max() * 3276).astype(np.int16)
    audio = np.concatenate([silence(1.5), quiet, silence(1.5)])
    assert len(detections(frontend, [bundled(name=word, head=word)], audio)) == 1


def test_the_floor_is_the_same_in_every_stream(frontend: WakeFrontend):
    """Features are what the heads were trained on only if the same audio gives the same ones."""
    audio = np.concatenate([silence(0.5), speak("hey jarvis"), silence(0.5)])
    first, again = frontend.features(audio), frontend.features(audio)
    assert np.array_equal(first, again)
    assert not np.array_equal(first[0], first[-1])  # it is not a constant: speech shows through


def test_a_head_with_the_wrong_input_shape_is_refused_at_load(model_store):
    not_a_head = model_store.root / "openwakeword-frontend" / "melspectrogram.onnx"
    with pytest.raises(
        ModelLoadError, match=r"not an openWakeWord head: input shape .* expected \[1, window, 96\]"
    ):
        WakeHead(WakeWordSpec("x", not_a_head, 0.5, 1.0))


def test_a_corrupt_head_is_refused_before_onnxruntime_sees_it(tmp_path: Path):
    corrupt = tmp_path / "head.onnx"
    corrupt.write_bytes(b"<html>404 not found</html>" * 10)
    with pytest.raises(ModelLoadError, match=r"head\.onnx: not an ONNX file"):
        WakeHead(WakeWordSpec("x", corrupt, 0.5, 1.0))
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(HEAD.read_bytes()[:2000])
    with pytest.raises(ModelLoadError, match=r"cut\.onnx: not a loadable ONNX model"):
        WakeHead(WakeWordSpec("x", truncated, 0.5, 1.0))


def test_a_users_own_head_overrides_the_bundled_one(edgeai_home: Path):
    own = edgeai_home / "wakewords"
    own.mkdir(parents=True)
    shutil.copy(HEAD, own / "hey_jarvis.onnx")
    (own / "hey_jarvis.json").write_text('{"threshold": 0.42}')
    spec = resolve_wake_word(WakeWordSettings(name="hey_jarvis"))
    assert spec.model == own / "hey_jarvis.onnx"
    assert spec.threshold == 0.42


def test_an_unknown_wake_word_says_how_to_train_it():
    with pytest.raises(ConfigError, match='train one with `edgeai export wakeword "hey computer"`'):
        resolve_wake_word(WakeWordSettings(name="hey_computer"))


def tiny_head(path: Path, window: int) -> Path:
    """An openWakeWord-shaped head of another window length, as community heads may have."""
    import torch

    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(window * 96, 1), torch.nn.Sigmoid()
    )
    torch.nn.init.zeros_(model[1].weight)
    torch.nn.init.constant_(model[1].bias, 2.0)  # sigmoid(2) = 0.88 whatever it hears
    torch.onnx.export(model, (torch.zeros(1, window, 96),), str(path), dynamo=False)
    return path


def test_heads_with_other_windows_load_and_score_from_the_first_block(frontend, tmp_path: Path):
    head = tiny_head(tmp_path / "wide.onnx", window=28)
    spec = WakeWordSpec("wide", head, threshold=0.8, refractory_s=100.0)
    assert WakeHead(spec).window == 28
    found = detections(frontend, [spec], silence(1.0))
    assert [(d.name, round(d.score, 2), d.at_s) for d in found] == [("wide", 0.88, 0.08)]


def test_a_head_wider_than_the_stream_keeps_is_refused(tmp_path: Path):
    head = tiny_head(tmp_path / "huge.onnx", window=100)
    with pytest.raises(ModelLoadError, match="a window of 100 embeddings; heads may use 1-64"):
        WakeHead(WakeWordSpec("huge", head, 0.5, 1.0))
