"""libspeexdsp's linear echo canceller and its residual echo suppressor, through ctypes.

Our own thin binding because no maintained package binds both: `speexdsp-aec` (used before)
wraps only the canceller, and the suppressor (`speex_preprocess` given the canceller's state)
must read that canceller's residual echo estimate frame by frame; `speexdsp` on PyPI is a 2018
sdist that needs SWIG. libspeexdsp's C API has not changed since 2008 (speexdsp 1.2).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass

import numpy as np

from edgeai.errors import AudioError

_ECHO_SET_SAMPLING_RATE = 24
_PREPROCESS_SET_NOISE_SUPPRESS = 18
_PREPROCESS_SET_ECHO_SUPPRESS = 20
_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
_PREPROCESS_SET_ECHO_STATE = 24
_SAMPLES = ctypes.POINTER(ctypes.c_int16)


@dataclass(frozen=True)
class Suppression:
    """How far speex's suppressor may turn down what the canceller left (dB, negative)."""

    echo_db: int
    """Residual echo while the far end talks alone."""
    echo_active_db: int
    """Residual echo while someone in the room talks too (kept milder: the user's word)."""
    noise_db: int
    """Steady noise: the suppressor only works with its noise reduction on; kept slight."""


def _library() -> ctypes.CDLL:
    names = [ctypes.util.find_library("speexdsp"), "libspeexdsp.so.1", "libspeexdsp.dylib"]
    for name in filter(None, names):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.speex_echo_state_init.restype = ctypes.c_void_p
        lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
        lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, _SAMPLES, _SAMPLES, _SAMPLES]
        lib.speex_echo_cancellation.restype = None
        lib.speex_preprocess_state_init.restype = ctypes.c_void_p
        lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
        lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, _SAMPLES]
        return lib
    raise AudioError("libspeexdsp not found (Debian: apt-get install libspeexdsp1)")


class SpeexCanceller:
    """Frame by frame: the microphone less the linear filter's estimate of the echo, and that
    output again through the residual echo suppressor."""

    def __init__(self, rate_hz: int, frame: int, tail: int, suppression: Suppression) -> None:
        self._lib = lib = _library()
        self.frame = frame
        self._echo = lib.speex_echo_state_init(frame, tail)
        self._pre = lib.speex_preprocess_state_init(frame, rate_hz)
        if not self._echo or not self._pre:
            raise AudioError(f"libspeexdsp refused a {frame}-sample frame, {tail}-sample tail")
        lib.speex_echo_ctl(self._echo, _ECHO_SET_SAMPLING_RATE, ctypes.byref(ctypes.c_int(rate_hz)))
        lib.speex_preprocess_ctl(self._pre, _PREPROCESS_SET_ECHO_STATE, self._echo)
        for request, db in (
            (_PREPROCESS_SET_ECHO_SUPPRESS, suppression.echo_db),
            (_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, suppression.echo_active_db),
            (_PREPROCESS_SET_NOISE_SUPPRESS, suppression.noise_db),
        ):
            lib.speex_preprocess_ctl(self._pre, request, ctypes.byref(ctypes.c_int(db)))

    def process(self, near: np.ndarray, far: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(linear output, suppressed output) of int16 `near` (the microphone) and `far` (the
        reference, aligned), whole frames of equal length."""
        if len(near) != len(far) or len(near) % self.frame:
            raise AudioError(
                f"speex: microphone and reference of whole {self.frame}-sample frames, "
                f"got {len(near)} and {len(far)}"
            )
        near = np.ascontiguousarray(near, np.int16)
        far = np.ascontiguousarray(far, np.int16)
        linear = np.empty_like(near)
        suppressed = np.empty_like(near)
        for start in range(0, len(near), self.frame):
            frame = slice(start, start + self.frame)
            out = np.empty(self.frame, np.int16)
            self._lib.speex_echo_cancellation(
                self._echo,
                near[frame].ctypes.data_as(_SAMPLES),
                far[frame].ctypes.data_as(_SAMPLES),
                out.ctypes.data_as(_SAMPLES),
            )
            linear[frame] = out
            self._lib.speex_preprocess_run(self._pre, out.ctypes.data_as(_SAMPLES))
            suppressed[frame] = out
        return linear, suppressed

    def __del__(self) -> None:
        lib = getattr(self, "_lib", None)
        if lib is not None:
            if getattr(self, "_pre", None):
                lib.speex_preprocess_state_destroy(self._pre)
            if getattr(self, "_echo", None):
                lib.speex_echo_state_destroy(self._echo)
