"""The ears end to end: wake word, then the utterance that follows, from arrays, files, stdin."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from click.testing import CliRunner

from edgeai.audio.sources import ArraySource, RawPcmSource
from edgeai.cli.main import cli
from edgeai.config import Config, VadSettings
from edgeai.device.profiles import Profiles
from edgeai.ears.listener import LISTEN_BLOCK_SAMPLES, PlaybackWords, build_listener
from edgeai.ears.wake.frontend import BLOCK_SAMPLES
from edgeai.messages import (
    NoSpeech,
    SpeechEnded,
    SpeechPaused,
    SpeechStarted,
    StopWordHeard,
    WakeDetected,
)
from edgeai.models.catalog import Catalog
from tests.conftest import TEST_MODEL_STORE, silence, speak


def listener(config: Config | None = None):
    config = config or Config.model_validate({"models": {"store": str(TEST_MODEL_STORE)}})
    catalog = Catalog.load()
    from edgeai.store import ModelStore

    profile = Profiles.load(catalog).get("x86-cpu")
    return build_listener(config, profile, ModelStore(TEST_MODEL_STORE), catalog)


def heard(listener, source) -> list:
    return [e for e in listener.run(source) if not isinstance(e, SpeechPaused)]


def test_follow_up_listens_without_the_wake_word(model_store):
    ears = listener()
    ears.follow_up(3.0)
    audio = np.concatenate([silence(0.5), speak("and tomorrow"), silence(1.0)])
    assert [type(e) for e in heard(ears, ArraySource(audio))] == [SpeechStarted, SpeechEnded]


@pytest.fixture(scope="module")
def turn() -> tuple[np.ndarray, float]:
    """'hey jarvis', a pause, 'what time is it': the audio and when the command ends (s)."""
    command = speak("what time is it")
    audio = np.concatenate([silence(1.5), speak("hey jarvis"), silence(0.4), command, silence(1.5)])
    command_end_s = (len(audio) - 1.5 * 16000 - len(command)) / 16000 + np.flatnonzero(
        np.abs(command) > 500
    )[-1] / 16000
    return audio, command_end_s


def test_wake_then_the_utterance(model_store, turn):
    audio, command_end_s = turn
    events = heard(listener(), ArraySource(audio))
    assert [type(e) for e in events] == [WakeDetected, SpeechStarted, SpeechEnded]
    wake, start, end = events
    assert start.at_s >= wake.at_s
    assert end.at_s == pytest.approx(command_end_s, abs=0.3)
    assert end.duration_s < 3.0  # the command, not the whole clip


def test_short_blocks_hear_the_same_and_see_the_end_sooner(model_store, turn):
    """The loop's 20 ms blocks give the events 80 ms blocks give (the wake words still hear
    80 ms ones), each returned by the block that holds it: the end of the utterance at most
    one block after its frame, where an 80 ms block can hold it back up to 64 ms."""
    audio, _ = turn
    audio = np.concatenate([audio, np.zeros(-len(audio) % BLOCK_SAMPLES, np.int16)])

    def events_and_when(block_samples: int) -> list[tuple[object, float]]:
        ears = listener()
        found = []
        for start in range(0, len(audio), block_samples):
            found += [(e, ears.now_s) for e in ears.push(audio[start : start + block_samples])]
        return [(e, now_s) for e, now_s in found if not isinstance(e, SpeechPaused)]

    short, long = events_and_when(LISTEN_BLOCK_SAMPLES), events_and_when(BLOCK_SAMPLES)
    assert [type(e) for e, _ in short] == [WakeDetected, SpeechStarted, SpeechEnded]
    for (a, _), (b, _) in zip(short, long, strict=True):
        assert type(a) is type(b) and a.at_s == pytest.approx(b.at_s, abs=1e-9)
    (end, seen_s), (end_in_long, _) = short[-1], long[-1]
    assert isinstance(end, SpeechEnded) and isinstance(end_in_long, SpeechEnded)
    assert np.array_equal(end.audio, end_in_long.audio)
    assert 0 <= seen_s - end.endpoint_at_s < LISTEN_BLOCK_SAMPLES / 16000


def test_speech_without_the_wake_word_is_ignored(model_store):
    audio = np.concatenate([silence(1.0), speak("what time is it"), silence(1.5)])
    assert heard(listener(), ArraySource(audio)) == []


def test_a_stop_word_is_heard_but_does_not_wake(model_store):
    ears = listener()
    audio = np.concatenate([silence(1.0), speak("stop"), silence(1.0), speak("hey jarvis")])
    events = heard(ears, ArraySource(np.concatenate([audio, silence(1.5)])))
    assert [type(e) for e in events] == [StopWordHeard, WakeDetected]
    assert events[0].name == "stop" and events[1].name == "hey_jarvis"
    assert ears.wake_words == ["hey_jarvis"]


def test_words_heard_only_during_playback_fire_as_an_always_on_detector_would(model_store):
    """The stop words' own front end rests while nothing plays and wakes with the latest
    seconds heard: the same detection, at the same stream time, as a detector that never
    rested."""
    always = listener().detector.fresh(["stop"])
    during = PlaybackWords(always.fresh())
    audio = np.concatenate([silence(3.0), speak("hey jarvis"), speak("stop"), silence(1.0)])
    playing_from = 3 * 16000 + BLOCK_SAMPLES  # the reply starts 80 ms after the 3 s of quiet
    found: dict[str, list] = {"always": [], "during": []}
    for start in range(0, len(audio) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
        block = audio[start : start + BLOCK_SAMPLES]
        found["always"] += always.push(block)
        found["during"] += during.push(block, playing=start >= playing_from)
    assert [d.name for d in found["always"]] == ["stop"]
    assert [d.name for d in found["during"]] == ["stop"]
    assert found["during"][0].at_s == pytest.approx(found["always"][0].at_s, abs=1e-6)
    assert found["during"][0].score == pytest.approx(found["always"][0].score, abs=0.02)


def test_without_stop_words_stop_is_nothing(model_store):
    config = Config.model_validate(
        {"models": {"store": str(TEST_MODEL_STORE)}, "wake": {"stop_words": []}}
    )
    audio = np.concatenate([silence(1.0), speak("stop"), silence(1.0)])
    assert heard(listener(config), ArraySource(audio)) == []


def test_nothing_said_after_the_wake_word_times_out(model_store):
    config = Config.model_validate(
        {"models": {"store": str(TEST_MODEL_STORE)}, "vad": {"no_speech_timeout_s": 1.0}}
    )
    audio = np.concatenate([silence(1.5), speak("hey jarvis"), silence(3.0)])
    events = heard(listener(config), ArraySource(audio))
    assert [type(e) for e in events] == [WakeDetected, NoSpeech]
    assert events[1].at_s - events[0].at_s == pytest.approx(1.0, abs=0.1)


def test_stdin_at_another_rate_gives_the_same_events_as_the_array(model_store, turn):
    audio, _ = turn
    import soxr

    pcm_44k = soxr.resample(audio.astype(np.float32) / 32768, 16000, 44100)
    raw = (np.clip(pcm_44k, -1, 1) * 32767).astype("<i2").tobytes()
    from_stdin = heard(listener(), RawPcmSource(io.BytesIO(raw), 44100, 1))
    from_array = heard(listener(), ArraySource(audio))
    assert [type(e) for e in from_stdin] == [type(e) for e in from_array]
    for a, b in zip(from_stdin, from_array, strict=True):
        assert a.at_s == pytest.approx(b.at_s, abs=0.1)


def test_listen_command_prints_events_and_saves_utterances(model_store, turn, tmp_path: Path):
    audio, _ = turn
    wav = tmp_path / "turn.wav"
    soundfile.write(wav, audio, 16000, subtype="PCM_16")
    config = tmp_path / "edgeai.yaml"
    config.write_text(f"models:\n  store: {TEST_MODEL_STORE}\nprofile: x86-cpu\n")
    saved = tmp_path / "utterances"

    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config),
            "listen",
            "--source",
            str(wav),
            "--json",
            "--save-dir",
            str(saved),
        ],
    )

    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    assert [e["event"] for e in events] == ["wake", "speech-start", "speech-end"]
    assert events[0]["name"] == "hey_jarvis"
    assert len(list(saved.glob("utterance-*.wav"))) == 1


def test_listen_on_a_bad_file_is_one_clear_error(model_store, tmp_path: Path):
    config = tmp_path / "edgeai.yaml"
    config.write_text(f"models:\n  store: {TEST_MODEL_STORE}\n")
    bad = tmp_path / "song.wav"
    bad.write_text("not audio at all")
    result = CliRunner().invoke(cli, ["--config", str(config), "listen", "--source", str(bad)])
    assert result.exit_code == 1
    assert f"Error: {bad}: not a WAV file" in result.output


def test_listen_without_models_says_which_to_pull(tmp_path: Path):
    result = CliRunner().invoke(cli, ["listen", "--source", "x.wav"])
    assert result.exit_code == 1
    assert "run `edgeai models pull openwakeword-frontend`" in result.output


def test_vad_settings_reach_the_endpointer(model_store):
    config = Config(models={"store": TEST_MODEL_STORE}, vad=VadSettings(trailing_silence_ms=900))  # type: ignore[arg-type]
    assert listener(config).endpointer.settings.trailing_silence_ms == 900


def test_the_last_part_of_a_file_reaches_the_wake_words(model_store):
    """A file rarely ends on a whole 80 ms block: its last part is heard too, made whole with
    silence, by the listener and by a Wyoming wake stream at audio-stop."""
    from edgeai.wyoming.session import _WakeStream

    audio = np.concatenate([silence(1.0), speak("hey jarvis"), silence(0.03)])
    assert len(audio) % BLOCK_SAMPLES  # a part block at the end
    ears = listener()
    events = heard(ears, ArraySource(audio))
    assert [type(e) for e in events] == [WakeDetected]
    assert len(audio) / 16000 <= ears.detector.heard_s < len(audio) / 16000 + BLOCK_SAMPLES / 16000

    stream = _WakeStream(ears.detector.fresh())
    found = stream.push(audio)
    assert stream.detector.heard_s < len(audio) / 16000
    found += stream.finish()
    assert len(audio) / 16000 <= stream.detector.heard_s
    assert [d.name for d in found] == ["hey_jarvis"] and stream.detected
    assert stream.finish() == []  # nothing left: no block of silence alone


def test_a_wake_word_in_a_follow_up_window_starts_the_request_anew(model_store, turn):
    """After a reply, a user who says the wake word again and pauses before the request (as
    one who does not know the window is open will): the utterance is the request that follows
    the wake word, not "hey jarvis" alone ended on the pause (which became an empty request,
    "Sorry, I didn't catch that.", and the request said over it was lost)."""
    audio, command_end_s = turn
    ears = listener()
    ears.follow_up(3.0)
    events = heard(ears, ArraySource(audio))
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert [type(e) for e in events][-3:] == [WakeDetected, SpeechStarted, SpeechEnded]
    assert len(ended) == 1
    assert ended[0].at_s == pytest.approx(command_end_s, abs=0.3)
    assert ended[0].duration_s < 3.0
