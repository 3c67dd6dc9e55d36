"""Piper speaking a window of frames at a time: the same sentence, heard sooner."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, save

from edgeai.store import ModelStore
from edgeai.store.files import hash_file
from edgeai.voice import tts
from edgeai.voice.piper_graph import HEAD, TAIL, split_graph
from edgeai.voice.tts import FIRST_WINDOW_FRAMES, PiperTTS

from .conftest import TEST_MODEL_STORE

SENTENCE = "The sky looks blue because air scatters the blue part of sunlight the most."


@pytest.fixture(scope="module")
def voice_file(model_store: ModelStore) -> Path:
    return next((TEST_MODEL_STORE / "piper-en-us-joe-medium").glob("*.onnx"))


def peak_normalized(chunks: list[np.ndarray]) -> np.ndarray:
    audio = np.concatenate(chunks).astype(np.float64)
    return audio / np.abs(audio).max()


def test_a_sentence_made_in_windows_is_the_sentence_made_whole_and_starts_with_a_short_one(
    voice_file: Path, tmp_path: Path
):
    whole = list(PiperTTS(voice_file, 1, noise_free=True).synthesize(SENTENCE))
    voice = PiperTTS(voice_file, 1, noise_free=True, split_cache=tmp_path / "cuts")
    windows = list(voice.synthesize(SENTENCE))
    assert voice.windowed and len(whole) == 1 and len(windows) >= 3
    assert len(windows[0]) <= FIRST_WINDOW_FRAMES * 256 < len(whole[0]) / 4
    a, b = peak_normalized(whole), peak_normalized(windows)
    assert len(a) == len(b)
    error_db = 20 * np.log10(np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean(a**2)))
    assert error_db < -40  # int16 rounding on both sides; the windows themselves match
    digest = hash_file(voice_file)[1]
    assert sorted(p.name for p in (tmp_path / "cuts").iterdir()) == [
        f"{digest}{HEAD}",
        f"{digest}{TAIL}",
    ]


def test_windows_that_do_not_make_the_whole_sentence_are_said_and_whole_sentences_spoken(
    voice_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
):
    """Too little context around each window (a voice whose convolutions reach further than
    this one's would do the same): the check at load finds it, logs it, and the voice speaks
    whole sentences through the same cut graphs."""
    monkeypatch.setattr(tts, "CONTEXT_FRAMES", 2)
    with caplog.at_level(logging.WARNING):
        voice = PiperTTS(voice_file, 1, noise_free=True, split_cache=tmp_path / "cuts")
    assert not voice.windowed
    assert "it speaks whole sentences" in caplog.text
    chunks = list(voice.synthesize(SENTENCE))
    whole = list(PiperTTS(voice_file, 1, noise_free=True).synthesize(SENTENCE))
    assert len(chunks) == 1
    a, b = peak_normalized(whole), peak_normalized(chunks)
    assert np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean(a**2)) < 0.01


def test_a_graph_that_is_no_piper_voice_is_not_cut_and_nothing_is_logged(tmp_path: Path, caplog):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"], name="/enc_p/Identity")],
        "not-vits",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])],
    )
    path = tmp_path / "model.onnx"
    save(helper.make_model(graph), str(path))
    with caplog.at_level(logging.WARNING):
        assert split_graph(path, tmp_path, tmp_path / "cuts") is None
    assert caplog.text == "" and not (tmp_path / "cuts").exists()
