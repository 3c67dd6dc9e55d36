"""Audio at the edge: files, raw PCM, the microphone (faked at the PortAudio seam) and sinks."""

from __future__ import annotations

import io
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import soundfile

from edgeai.audio.files import read_audio, write_wav
from edgeai.audio.microphone import MicrophoneSource, MicState, OpenedInput
from edgeai.audio.sinks import SpeakerSink, WavSink
from edgeai.audio.sources import ArraySource, RawPcmSource
from edgeai.errors import AudioError
from edgeai.queues import DropOldestQueue


def tone(freq_hz: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq_hz * t) * 12000).astype(np.int16)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float32)))
    return float(np.fft.rfftfreq(len(samples), 1 / 16000)[np.argmax(spectrum)])


def test_a_44k_stereo_wav_becomes_16k_mono(tmp_path: Path):
    left = tone(440, 1.0, 44100)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, left], axis=1), 44100, subtype="PCM_16")

    audio = read_audio(path)

    assert audio.dtype == np.int16
    assert abs(len(audio) - 16000) <= 1
    assert dominant_hz(audio) == pytest.approx(440, abs=2)


def test_flac_is_read(tmp_path: Path):
    path = tmp_path / "tone.flac"
    soundfile.write(path, tone(1000, 0.5, 22050), 22050, format="FLAC")
    assert dominant_hz(read_audio(path)) == pytest.approx(1000, abs=3)


def test_truncated_wav_is_named(tmp_path: Path):
    path = tmp_path / "cut.wav"
    write_wav(path, tone(440, 1.0, 16000))
    path.write_bytes(path.read_bytes()[:10000])
    with pytest.raises(AudioError, match=r"cut\.wav: truncated WAV: header promises 32000 bytes"):
        read_audio(path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("notes.wav", b"these are my notes, not audio" * 10, "not a WAV file"),
        ("empty.wav", b"", "not a WAV file"),
        ("random.flac", bytes(range(256)) * 8, "not a readable WAV or FLAC file"),
    ],
)
def test_non_audio_files_are_named(tmp_path: Path, name: str, content: bytes, expected: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError, match=f"{name}: {expected}"):
        read_audio(path)


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(AudioError, match=r"gone\.wav: no such audio file"):
        read_audio(tmp_path / "gone.wav")


class ChoppyStream(io.RawIOBase):
    """A pipe that hands back fewer bytes than asked, in uneven pieces."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes, self.index = data, sizes, 0

    def read(self, n: int = -1) -> bytes:
        size = min(n, self.sizes[self.index % len(self.sizes)])
        self.index += 1
        piece, self.data = self.data[:size], self.data[size:]
        return piece


def test_raw_pcm_at_48k_stereo_in_uneven_reads_matches_the_file_path():
    left = tone(300, 2.0, 48000)
    pcm = np.stack([left, left], axis=1).astype("<i2").tobytes()
    whole = np.concatenate(list(RawPcmSource(io.BytesIO(pcm), 48000, 2).blocks(1280)))
    choppy = np.concatenate(
        list(RawPcmSource(ChoppyStream(pcm, [7, 1001, 333]), 48000, 2).blocks(1280))
    )  # type: ignore[arg-type]
    assert np.array_equal(whole, choppy)
    assert dominant_hz(whole) == pytest.approx(300, abs=2)
    assert len(whole) >= 32000


def test_array_source_pads_the_last_block():
    blocks = list(ArraySource(np.ones(3000, np.int16)).blocks(1280))
    assert [len(b) for b in blocks] == [1280, 1280, 1280]
    assert blocks[-1][440:].sum() == 0


def test_wav_sink_appears_only_when_complete(tmp_path: Path):
    path = tmp_path / "reply.wav"
    sink = WavSink(path, 22050)
    sink.write(tone(500, 0.5, 22050))
    assert not path.exists()
    sink.close()
    data, rate = soundfile.read(path, dtype="int16")
    assert rate == 22050 and len(data) == 11025


def test_drop_oldest_queue_never_blocks_and_counts():
    queue: DropOldestQueue[int] = DropOldestQueue(3)
    for i in range(5):
        queue.put(i)
    assert queue.dropped == 2
    assert [queue.get(0), queue.get(0), queue.get(0), queue.get(0)] == [2, 3, 4, None]


class FakeDevice:
    """Stands in for PortAudio: each open delivers some 48 kHz stereo pieces, then goes quiet
    (the device was unplugged) until it is opened again."""

    def __init__(self, opens_that_fail: int = 0) -> None:
        self.opens = 0
        self.opens_that_fail = opens_that_fail

    def __call__(self, device: str | int | None, on_piece) -> OpenedInput:
        self.opens += 1
        if self.opens <= self.opens_that_fail:
            raise AudioError("device not found")
        piece = np.stack([tone(200, 0.1, 48000)] * 2, axis=1)
        for _ in range(10):
            on_piece(piece)
        return OpenedInput(nullcontext(), 48000, 2)


def test_microphone_reopens_after_it_disappears(monkeypatch):
    monkeypatch.setattr("edgeai.audio.microphone.SILENT_DEVICE_S", 0.05)
    fake = FakeDevice(opens_that_fail=1)
    mic = MicrophoneSource("USB mic", open_stream=fake, backoff_s=(0.01, 0.02))
    heard, silent = [], 0
    for block in mic.blocks(1280):
        assert len(block) == 1280 and block.dtype == np.int16
        if block.any():
            heard.append(block)
        else:
            silent += 1  # the device was gone: silence keeps the loop going
        if len(heard) == 24:  # two openings' worth: 2 x 1 s of audio
            mic.stop()
            break
    assert fake.opens >= 3  # failed once, opened, went quiet, reopened
    assert mic.outages >= 2
    assert silent >= 1
    assert dominant_hz(np.concatenate(heard[:12])) == pytest.approx(200, abs=3)


def test_microphone_stop_from_another_thread_ends_the_stream(monkeypatch):
    monkeypatch.setattr("edgeai.audio.microphone.SILENT_DEVICE_S", 0.05)
    mic = MicrophoneSource(
        None, open_stream=FakeDevice(opens_that_fail=10**6), backoff_s=(0.01, 0.01)
    )
    threading.Timer(0.3, mic.stop).start()
    blocks = list(mic.blocks(1280))  # silence, paced like audio, until stopped
    assert 1 <= len(blocks) <= 6 and not any(b.any() for b in blocks)
    assert mic.state is MicState.STOPPED
    assert mic.problem == "device not found"
    assert mic.outages > 1


class FakeOutputStream:
    """PortAudio's output stream as sounddevice has it: what was done to it, in order."""

    calls: ClassVar[list[str]] = []

    def __init__(self, **settings: object) -> None:
        self.calls.clear()

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append(name)


def test_the_speaker_plays_out_at_the_end_but_drops_its_buffer_on_a_barge_in(monkeypatch):
    class FakeSoundDevice:
        OutputStream = FakeOutputStream
        PortAudioError = OSError

    monkeypatch.setattr("edgeai.audio.sinks.import_sounddevice", lambda: FakeSoundDevice)
    finished = SpeakerSink(None, 22050)
    finished.write(np.zeros(100, np.int16))
    finished.close()
    assert FakeOutputStream.calls == ["start", "write", "stop", "close"]
    cut = SpeakerSink(None, 22050)
    cut.write(np.zeros(100, np.int16))
    cut.interrupt()
    assert FakeOutputStream.calls == ["start", "write", "abort", "close"]
