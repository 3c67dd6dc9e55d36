"""Audio files in and out: WAV and FLAC, checked before libsndfile reads them."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile

from edgeai.atomic import partial_file
from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.convert import to_runtime_format
from edgeai.errors import AudioError

_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # streaming writers (arecord, sox to a pipe) leave these


def read_audio(path: Path) -> np.ndarray:
    """The whole file as 16 kHz mono int16, whatever its rate and channels."""
    samples, rate = _read_raw(path)
    return to_runtime_format(samples, rate)


def write_wav(path: Path, samples: np.ndarray, rate_hz: int = SAMPLE_RATE_HZ) -> None:
    """Write int16 audio; the file appears complete or not at all."""
    try:
        with partial_file(path) as partial:
            soundfile.write(partial, samples, rate_hz, subtype="PCM_16", format="WAV")
    except (OSError, soundfile.SoundFileError) as e:
        raise AudioError(f"{path}: cannot write WAV: {e}") from None


def _read_raw(path: Path) -> tuple[np.ndarray, int]:
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    if path.suffix.lower() == ".wav":
        _check_wav_complete(path)
    try:
        samples, rate = soundfile.read(path, dtype="int16", always_2d=False)
    except soundfile.SoundFileError as e:
        raise AudioError(f"{path}: not a readable WAV or FLAC file ({_reason(e)})") from None
    if samples.size == 0:
        raise AudioError(f"{path}: contains no audio")
    return samples, int(rate)


def _check_wav_complete(path: Path) -> None:
    """libsndfile silently reads a cut-off WAV; compare the data chunk's size with the file."""
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64") or header[8:12] != b"WAVE":
            raise AudioError(f"{path}: not a WAV file (no RIFF/WAVE header)")
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise AudioError(f"{path}: truncated WAV: no audio data chunk")
            chunk_id, chunk_size = struct.unpack("<4sI", chunk)
            if chunk_id == b"data":
                available = size - f.tell()
                if chunk_size not in _UNKNOWN_SIZES and available < chunk_size:
                    raise AudioError(
                        f"{path}: truncated WAV: header promises {chunk_size} bytes of audio, "
                        f"file has {available}"
                    )
                return
            f.seek(chunk_size + (chunk_size & 1), 1)


def _reason(error: soundfile.SoundFileError) -> str:
    return str(error).split(": ", 1)[-1]
