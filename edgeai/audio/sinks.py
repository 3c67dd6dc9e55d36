"""Audio sinks: the speaker (PortAudio) and WAV files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile

from edgeai.atomic import commit, partial_path
from edgeai.audio.microphone import import_sounddevice
from edgeai.errors import AudioError


class AudioSink(Protocol):
    def write(self, samples: np.ndarray) -> None:
        """Play or store int16 mono samples at the rate the sink was opened with."""
        ...

    def close(self) -> None:
        """Finish: audio written so far plays (or is stored) to its end."""
        ...

    def interrupt(self) -> None:
        """Finish at once (barge-in): audio not yet played is dropped."""
        ...


class NullSink:
    """Discards audio: text-only chat."""

    def write(self, samples: np.ndarray) -> None:
        pass

    def close(self) -> None:
        pass

    def interrupt(self) -> None:
        pass


class WavSink:
    """Streams into `path.partial`, renamed to `path` on close: never a half-written WAV."""

    def __init__(self, path: Path, rate_hz: int) -> None:
        self.path = path
        self._partial = partial_path(path)
        try:
            self._file = soundfile.SoundFile(
                self._partial, "w", samplerate=rate_hz, channels=1, subtype="PCM_16", format="WAV"
            )
        except (OSError, soundfile.SoundFileError) as e:
            raise AudioError(f"{path}: cannot write WAV: {e}") from None

    def write(self, samples: np.ndarray) -> None:
        try:
            self._file.write(np.asarray(samples, dtype=np.int16))
        except (OSError, soundfile.SoundFileError) as e:
            self.abort()
            raise AudioError(f"{self.path}: cannot write WAV: {e}") from None

    def close(self) -> None:
        self._file.close()
        commit(self._partial, self.path)

    def interrupt(self) -> None:
        """A file has nothing waiting to play: it keeps what was said before the cut."""
        self.close()

    def abort(self) -> None:
        self._file.close()
        self._partial.unlink(missing_ok=True)


class ReplyFiles:
    """Spoken replies as reply-1.wav, reply-2.wav, ... in a folder, instead of a speaker."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths: list[Path] = []

    def open(self, rate_hz: int) -> WavSink:
        """The next reply's file: the voice loop's `open_sink`."""
        self.paths.append(self.folder / f"reply-{len(self.paths) + 1}.wav")
        return WavSink(self.paths[-1], rate_hz)


class SpeakerSink:
    """A PortAudio output device (name substring, index, or None for the default)."""

    def __init__(self, device: str | int | None, rate_hz: int) -> None:
        sounddevice = import_sounddevice()
        try:
            self._stream: Any = sounddevice.OutputStream(
                device=device, samplerate=rate_hz, channels=1, dtype="int16"
            )
            self._stream.start()
        except (sounddevice.PortAudioError, ValueError) as e:
            raise AudioError(f"cannot open output device {device!r}: {e}") from None

    def write(self, samples: np.ndarray) -> None:
        self._stream.write(np.asarray(samples, dtype=np.int16).reshape(-1, 1))

    def close(self) -> None:
        self._stream.stop()  # plays out what PortAudio still holds
        self._stream.close()

    def interrupt(self) -> None:
        self._stream.abort()  # drops it: the device's buffer would otherwise delay the cut
        self._stream.close()
