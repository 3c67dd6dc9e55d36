"""The wake word's second look: a near miss scored again, said more slowly, by the same head."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from click.testing import CliRunner

from edgeai.cli.main import cli
from edgeai.config import WakeWordSettings
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, WakeFrontend
from edgeai.ears.wake.heads import SecondLookSpec, WakeHead, WakeWordSpec
from edgeai.ears.wake.second_look import SecondLook, lengthen
from edgeai.ears.wake.words import resolve_wake_word
from edgeai.errors import ConfigError
from tests.conftest import REPO, TEST_MODEL_STORE, silence, speak
from tests.test_wake import detections

HEAD = REPO / "wakewords" / "hey_jarvis.onnx"
LOOK = SecondLookSpec(low=0.1, threshold=0.6, lengthen=1.25)


def fast_phrase() -> tuple[np.ndarray, float]:
    """ "hey jarvis" at 400 words a minute (0.4 s) between silences, and when it ends: the
    bundled head alone scores it 0.12."""
    said = speak("hey jarvis", "en-us+m3", 400)
    end_s = 1.5 + np.flatnonzero(np.abs(said) > 500)[-1] / 16000
    return np.concatenate([silence(1.5), said, silence(1.5)]), end_s


def spec(second_look: SecondLookSpec | None) -> WakeWordSpec:
    return WakeWordSpec("hey_jarvis", HEAD, 0.5152, 2.0, second_look)


def test_lengthen_says_it_more_slowly_at_the_same_pitch():
    t = np.arange(16000) / 16000
    voice = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    samples = (voice / np.abs(voice).max() * 8000).astype(np.int16)
    longer = lengthen(samples, 1.25)
    assert longer.dtype == np.int16
    assert abs(len(longer) - 20000) < 200
    spectrum = np.abs(np.fft.rfft(longer.astype(np.float64)))
    assert abs(np.argmax(spectrum) * 16000 / len(longer) - 150) < 5


def test_the_same_audio_is_lengthened_the_same_every_time():
    """Praat draws unvoiced periods at random; unseeded, one clip's look scored 0.87 to 0.95."""
    audio, _ = fast_phrase()
    first = lengthen(audio, 1.35)
    assert all(np.array_equal(first, lengthen(audio, 1.35)) for _ in range(3))


def test_a_fast_phrase_the_head_misses_is_heard_on_a_second_look(frontend: WakeFrontend):
    audio, end_s = fast_phrase()
    assert detections(frontend, [spec(None)], audio) == []
    found = detections(frontend, [spec(LOOK)], audio)
    assert len(found) == 1
    assert found[0].second_look and found[0].score >= LOOK.threshold
    assert 0 <= found[0].at_s - end_s <= 1.0


def test_listen_says_which_wake_words_came_on_a_second_look(model_store, tmp_path: Path):
    """The bundled head's own second look, end to end through `edgeai listen`."""
    audio, _ = fast_phrase()
    wav = tmp_path / "fast.wav"
    soundfile.write(wav, audio, 16000, subtype="PCM_16")
    config = tmp_path / "edgeai.yaml"
    config.write_text(f"models:\n  store: {TEST_MODEL_STORE}\nprofile: x86-cpu\n")
    args = ["--config", str(config), "listen", "--source", str(wav), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    first = json.loads(result.output.splitlines()[0])
    assert (first["event"], first["name"], first["second_look"]) == ("wake", "hey_jarvis", True)


def test_one_look_per_rise_and_none_in_silence_or_while_the_word_rests(frontend: WakeFrontend):
    head = WakeHead(spec(LOOK))
    audio, _ = fast_phrase()

    def looks(audio: np.ndarray, quiet: bool = False) -> int:
        stream, look = frontend.stream(), SecondLook(LOOK, frontend, head)
        count = 0
        for i in range(len(audio) // BLOCK_SAMPLES):
            block = audio[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]
            count += (
                look.push(block, head.score(stream.push(block)), (i + 1) * 0.08, quiet) is not None
            )
        return count

    assert looks(audio) == 1
    assert looks(audio, quiet=True) == 0
    assert looks(silence(20.0)) == 0


def test_the_bundled_head_looks_twice_unless_the_config_says_not_to_or_sets_a_threshold():
    assert resolve_wake_word(WakeWordSettings(name="hey_jarvis")).second_look is not None
    off = WakeWordSettings(name="hey_jarvis", second_look=False)
    assert resolve_wake_word(off).second_look is None
    # the look was chosen with the manifest's threshold: a threshold of one's own goes alone
    own = WakeWordSettings(name="hey_jarvis", threshold=0.9)
    assert resolve_wake_word(own).second_look is None


@pytest.mark.parametrize(
    ("second_look", "error"),
    [
        ({"low": 0.1, "threshold": 1.5, "lengthen": 1.25},
         "second_look.threshold must be a number over 0 and at most 1, got 1.5"),
        ({"low": 0.1, "threshold": 0.6},
         "second_look must be an object with low, threshold, lengthen"),
        ({"low": 0.1, "threshold": 0.6, "lengthen": "slow"},
         "second_look.lengthen must be a number over 1 and at most 2, got 'slow'"),
    ],
)  # fmt: skip
def test_a_manifest_with_a_bad_second_look_is_refused_naming_its_file(
    edgeai_home: Path, second_look: dict, error: str
):
    own = edgeai_home / "wakewords"
    own.mkdir(parents=True)
    shutil.copy(HEAD, own / "hey_jarvis.onnx")
    manifest = own / "hey_jarvis.json"
    manifest.write_text(json.dumps({"threshold": 0.5, "second_look": second_look}))
    with pytest.raises(ConfigError, match=re.escape(f"{manifest}: {error}")):
        resolve_wake_word(WakeWordSettings(name="hey_jarvis"))
