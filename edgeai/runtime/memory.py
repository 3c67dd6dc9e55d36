"""glibc's allocator, set for a long-running service with many threads on a small board.

By default glibc gives each thread its own arena (up to 8 per core) and raises its mmap
threshold as large blocks are freed, so big temporary arrays (audio windows, frames, model
activations) land in arenas that never shrink. Measured on the whole service (voice and camera
on, answering LLM questions, 100 s): peak resident memory 1,073 MiB as it was, 752 MiB with
these settings and onnxruntime's arenas off. A 64 KiB threshold saved another 24 MiB but cost
200 ms of speech-to-text per turn (every large buffer a fresh mapping); 4 MiB costs nothing
measurable there.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
"""Blocks this large are mapped on their own and go back to the system when freed; fixed, so
glibc does not raise it (up to 32 MiB) as large blocks are freed."""
TRIM_THRESHOLD_BYTES = 8 * 1024 * 1024


def tune_allocator() -> bool:
    """Apply the settings above; False (and nothing changed) where libc is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        log.debug("not glibc: the allocator keeps its defaults")
        return False
    for option, value in (
        (M_ARENA_MAX, ARENAS),
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
        (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
    ):
        if mallopt(option, value) != 1:
            log.warning(
                "mallopt(%d, %d) was refused; the allocator keeps its default", option, value
            )
    return True
