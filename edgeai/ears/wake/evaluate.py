"""Measure a head the way the runtime uses it: streaming, block by block, with refractory."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.ears.wake.detector import WakeWordDetector
from edgeai.ears.wake.frontend import BLOCK_SAMPLES, WakeFrontend
from edgeai.ears.wake.heads import WakeWordSpec
from edgeai.synthetic.wake_data import DevSet, Positive

EARLY_S = 0.5
"""A detection this long before the phrase's end still counts (the head may fire early)."""
LATE_S = 1.0
REFRACTORY_S = 2.0
"""What a trained head's manifest sets, and what the measures use."""


@dataclass(frozen=True)
class WakeMetrics:
    positives: int
    false_rejects: int
    negative_hours: float
    false_accepts: int
    delay_ms_p50: float | None
    delay_ms_p95: float | None
    """Detection time after the phrase's end (block-end time, so 80 ms granular); None when
    nothing was detected."""
    cpu_percent_of_one_core: float
    """Front end and head, per stream, while processing the negative audio."""
    near_misses: int
    near_miss_accepts: int
    """Near-miss clips ("hey garvis") the word fired on: a stress test, not false accepts."""
    after_speech_positives: int
    after_speech_false_rejects: int
    """The phrase a moment after other speech: how a barge-in word is said."""

    @property
    def false_reject_rate(self) -> float:
        return self.false_rejects / max(1, self.positives)

    @property
    def false_accepts_per_hour(self) -> float:
        return self.false_accepts / max(1e-9, self.negative_hours)

    @property
    def after_speech_false_reject_rate(self) -> float:
        return self.after_speech_false_rejects / max(1, self.after_speech_positives)


def evaluate(frontend: WakeFrontend, spec: WakeWordSpec, dev: DevSet) -> WakeMetrics:
    delays = _delays_ms(frontend, spec, dev.positives, "dev positives")
    after_speech = _delays_ms(frontend, spec, dev.after_speech, "dev positives after speech")
    near_miss_accepts = sum(bool(_detections(frontend, spec, clip)) for clip in dev.near_misses)
    started = time.process_time()
    false_accepts = len(_detections(frontend, spec, dev.ordinary, progress="dev negatives"))
    busy_s = time.process_time() - started
    audio_s = len(dev.ordinary) / SAMPLE_RATE_HZ
    return WakeMetrics(
        positives=len(dev.positives),
        false_rejects=len(dev.positives) - len(delays),
        negative_hours=audio_s / 3600,
        false_accepts=false_accepts,
        delay_ms_p50=float(np.percentile(delays, 50)) if delays else None,
        delay_ms_p95=float(np.percentile(delays, 95)) if delays else None,
        cpu_percent_of_one_core=100 * busy_s / audio_s,
        near_misses=len(dev.near_misses),
        near_miss_accepts=near_miss_accepts,
        after_speech_positives=len(dev.after_speech),
        after_speech_false_rejects=len(dev.after_speech) - len(after_speech),
    )


def false_rejects(
    frontend: WakeFrontend, spec: WakeWordSpec, positives: list[Positive], progress: str
) -> int:
    """Positives the word missed, or heard outside EARLY_S..LATE_S of the phrase's end."""
    return len(positives) - len(_delays_ms(frontend, spec, positives, progress))


def _delays_ms(
    frontend: WakeFrontend, spec: WakeWordSpec, positives: list[Positive], progress: str
) -> list[float]:
    """Detection delay after the phrase's end of each positive the word fired on in time."""
    delays = []
    for positive in tqdm(positives, desc=progress, unit="clip", disable=None):
        end_s = positive.end_sample / SAMPLE_RATE_HZ
        hits = [
            at_s
            for at_s in _detections(frontend, spec, positive.clip)
            if end_s - EARLY_S <= at_s <= end_s + LATE_S
        ]
        if hits:
            delays.append(max(0.0, hits[0] - end_s) * 1000)
    return delays


def _detections(
    frontend: WakeFrontend, spec: WakeWordSpec, audio: np.ndarray, progress: str | None = None
) -> list[float]:
    detector = WakeWordDetector(frontend, [spec])
    count = len(audio) // BLOCK_SAMPLES
    # no bar for short clips; for long runs one bar, shown only on a terminal (None)
    disable = True if progress is None else None
    times = []
    for i in tqdm(range(count), desc=progress, unit="block", disable=disable, mininterval=1.0):
        for detection in detector.push(audio[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]):
            times.append(detection.at_s)
    return times


def head_spec(name: str, path: Path, threshold: float) -> WakeWordSpec:
    return WakeWordSpec(name=name, model=path, threshold=threshold, refractory_s=REFRACTORY_S)
