"""Endpointing with the real Silero VAD on synthetic speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeai.config import VadSettings
from edgeai.ears.vad.endpointer import Endpointer
from edgeai.ears.vad.silero import SileroVad
from edgeai.errors import ModelLoadError
from edgeai.messages import SpeechEnded, SpeechPaused, SpeechStarted
from edgeai.synthetic.speech import voiced, voiced_span
from tests.conftest import silence, speak


def run(endpointer: Endpointer, audio: np.ndarray, step: int = 1280) -> list:
    """Start and end events (pauses are checked on their own)."""
    events = []
    for start in range(0, len(audio), step):
        events.extend(endpointer.push(audio[start : start + step]))
    return [e for e in events if not isinstance(e, SpeechPaused)]


def voiced_seconds(speech: np.ndarray) -> tuple[float, float]:
    """Seconds from the clip's start to where its voice starts and ends."""
    first, end = voiced_span(speech)
    return first / 16000, end / 16000


@pytest.fixture
def endpointer(silero_path: Path) -> Endpointer:
    return Endpointer(SileroVad(silero_path), VadSettings())


def test_start_and_end_of_an_utterance(endpointer: Endpointer):
    speech = speak("please turn on the kitchen lights")
    audio = np.concatenate([silence(1.0), speech, silence(1.5)])

    events = run(endpointer, audio)

    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    start, end = events
    first, last = voiced_seconds(speech)
    speech_end_s = 1.0 + last
    assert start.at_s == pytest.approx(1.0 + first, abs=0.15)
    assert end.at_s == pytest.approx(speech_end_s, abs=0.3)
    assert end.endpoint_at_s - end.at_s == pytest.approx(0.5, abs=0.07)  # trailing silence
    assert end.duration_s > len(speech) / 16000  # pre-roll and trailing silence included
    assert not end.truncated


def test_trailing_silence_setting_moves_the_endpoint(silero_path: Path):
    audio = np.concatenate([silence(0.5), speak("what is the weather"), silence(2.0)])
    quick = run(Endpointer(SileroVad(silero_path), VadSettings(trailing_silence_ms=300)), audio)
    patient = run(Endpointer(SileroVad(silero_path), VadSettings(trailing_silence_ms=1200)), audio)
    assert patient[-1].endpoint_at_s - quick[-1].endpoint_at_s == pytest.approx(0.9, abs=0.1)


def test_pre_roll_keeps_the_first_syllable(silero_path: Path):
    speech = speak("yes")
    audio = np.concatenate([silence(1.0), speech, silence(1.0)])
    settings = VadSettings(pre_roll_ms=300, min_utterance_ms=0)
    ended = [
        e
        for e in run(Endpointer(SileroVad(silero_path), settings), audio)
        if isinstance(e, SpeechEnded)
    ]
    assert len(ended) == 1
    # everything espeak said is inside the utterance audio
    first_voiced_s = 1.0 + voiced_seconds(speech)[0]
    utterance_start_s = ended[0].at_s + 0.5 - ended[0].duration_s  # end + trailing - length
    assert utterance_start_s <= first_voiced_s


def test_long_speech_is_cut_at_the_maximum(silero_path: Path):
    talk = np.concatenate([speak("and then we walked along the river for a very long time")] * 3)
    settings = VadSettings(max_utterance_s=2.0)
    ended = [
        e
        for e in run(Endpointer(SileroVad(silero_path), settings), talk)
        if isinstance(e, SpeechEnded)
    ]
    assert ended[0].truncated
    assert ended[0].duration_s == pytest.approx(
        2.0, abs=0.1
    )  # speech from the first frame: no pre-roll


@pytest.mark.parametrize(
    "audio",
    [
        silence(5.0),
        np.full(16000 * 3, 32767, np.int16),  # clipped DC
        np.where(np.arange(48000) % 40 < 20, 32767, -32768).astype(np.int16),  # clipped square
    ],
    ids=["silence", "clipped-dc", "clipped-square"],
)
def test_silence_and_clipping_make_no_utterance(endpointer: Endpointer, audio: np.ndarray):
    assert [e for e in run(endpointer, audio) if isinstance(e, SpeechEnded)] == []


def test_same_events_whatever_the_push_size(silero_path: Path):
    audio = np.concatenate([silence(0.7), speak("set a timer for ten minutes"), silence(1.0)])
    results = []
    for step in (160, 512, 1280, 4000):
        events = run(Endpointer(SileroVad(silero_path), VadSettings()), audio, step)
        results.append([(type(e).__name__, round(e.at_s, 3)) for e in events])
    assert all(r == results[0] for r in results)


def test_a_model_that_is_not_silero_is_refused(model_store):
    melspec = model_store.root / "openwakeword-frontend" / "melspectrogram.onnx"
    with pytest.raises(ModelLoadError, match="not a Silero VAD v5/v6 model"):
        SileroVad(melspec)


def test_a_pause_comes_before_the_end_with_the_speech_so_far(silero_path: Path):
    audio = np.concatenate([silence(0.5), speak("open the garage door"), silence(1.0)])
    endpointer = Endpointer(SileroVad(silero_path), VadSettings())
    events = [e for i in range(0, len(audio), 1280) for e in endpointer.push(audio[i : i + 1280])]
    pauses = [e for e in events if isinstance(e, SpeechPaused)]
    end = next(e for e in events if isinstance(e, SpeechEnded))
    assert pauses[-1].at_s == end.at_s  # exactly: the loop matches them to reuse speculative STT
    # the speculative audio is the final utterance without its trailing silence
    assert np.array_equal(pauses[-1].audio, end.audio[: len(pauses[-1].audio)])
    assert len(end.audio) - len(pauses[-1].audio) == pytest.approx(0.5 * 16000, abs=600)


def test_speech_under_way_at_the_start_is_pre_roll_until_its_first_pause(silero_path: Path):
    """After a wake word that fired early, the rest of its phrase is not the request."""
    jarvis = speak("jarvis")
    first, last = voiced_span(jarvis)
    tail = jarvis[first + (last - first) // 2 : last]  # still sounding when the word fired
    request = speak("what time is it")
    audio = np.concatenate([tail, silence(0.6), request, silence(1.5)])
    request_start_s = (len(tail) + 0.6 * 16000) / 16000 + voiced_seconds(request)[0]

    plain = Endpointer(SileroVad(silero_path), VadSettings(min_utterance_ms=0))
    assert run(plain, audio)[0].at_s < 0.1  # the tail alone is taken for an utterance
    after_wake = Endpointer(SileroVad(silero_path), VadSettings(min_utterance_ms=0))
    after_wake.start(at_s=0.0, speech_under_way_s=0.5)
    started, ended = run(after_wake, audio)
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    assert started.at_s == pytest.approx(request_start_s, abs=0.15)

    # speech that goes on into the request ("hey jarvis turn on ..."): none of it is lost
    command = voiced(speak("please turn on the kitchen lights"))
    long_start = Endpointer(SileroVad(silero_path), VadSettings())
    long_start.start(at_s=0.0, speech_under_way_s=0.5)
    started, ended = run(long_start, np.concatenate([command, silence(1.5)]))
    assert ended.duration_s > len(command) / 16000
