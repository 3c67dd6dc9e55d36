"""Wake word benchmark: false rejects, false accepts per hour, delay and CPU on a dev set."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.ears.vad.silero import FRAME_SAMPLES, SileroVad
from edgeai.ears.wake.evaluate import WakeMetrics, evaluate
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.ears.wake.heads import WakeWordSpec
from edgeai.synthetic.speech import Synthesizer
from edgeai.synthetic.wake_data import dev_set

VAD_SAMPLE_S = 600.0
"""Audio the VAD cost is measured on: ten minutes is plenty for a per-frame cost."""


@dataclass(frozen=True)
class WakeBench:
    word: str
    threshold: float
    seed: int
    metrics: WakeMetrics
    vad_cpu_percent_of_one_core: float
    """Silero VAD run on every frame; the listener runs it only after a wake word."""

    @property
    def total_cpu_percent(self) -> float:
        return self.metrics.cpu_percent_of_one_core + self.vad_cpu_percent_of_one_core

    def as_dict(self) -> dict[str, object]:
        return {
            **asdict(self),
            "false_reject_rate": self.metrics.false_reject_rate,
            "false_accepts_per_hour": self.metrics.false_accepts_per_hour,
            "after_speech_false_reject_rate": self.metrics.after_speech_false_reject_rate,
            "total_cpu_percent": self.total_cpu_percent,
        }

    def markdown(self) -> str:
        m = self.metrics
        rows = [
            ("false rejects", f"{m.false_reject_rate:.1%} ({m.false_rejects} of {m.positives})"),
            (
                "false accepts",
                f"{m.false_accepts_per_hour:.2f} per hour ({m.false_accepts} in "
                f"{m.negative_hours:.2f} h of ordinary speech and noise)",
            ),
            (
                "false rejects right after other speech (barge-in)",
                f"{m.after_speech_false_reject_rate:.1%} ({m.after_speech_false_rejects} of "
                f"{m.after_speech_positives})",
            ),
            (
                "near-miss phrases accepted (a stress test)",
                f"{m.near_miss_accepts} of {m.near_misses} (e.g. 'hey garvis', 'hey jarbis')",
            ),
            ("detection delay after the phrase", _delays(m)),
            ("CPU, wake (front end + head)", f"{m.cpu_percent_of_one_core:.2f}% of one core"),
            ("CPU, VAD on every frame", f"{self.vad_cpu_percent_of_one_core:.2f}% of one core"),
            ("CPU, wake + VAD", f"{self.total_cpu_percent:.2f}% of one core"),
        ]
        lines = [
            f"### Wake word `{self.word}` (threshold {self.threshold:.3f}, dev seed {self.seed})",
            "",
            "| measure | result |",
            "| --- | --- |",
            *[f"| {name} | {value} |" for name, value in rows],
        ]
        return "\n".join(lines) + "\n"


def _delays(m: WakeMetrics) -> str:
    if m.delay_ms_p50 is None or m.delay_ms_p95 is None:
        return "no detections"
    return f"p50 {m.delay_ms_p50:.0f} ms, p95 {m.delay_ms_p95:.0f} ms"


def bench_wake(
    frontend: WakeFrontend,
    spec: WakeWordSpec,
    vad_model: Path,
    phrase: str,
    positives: int,
    negative_minutes: float,
    seed: int,
) -> WakeBench:
    dev = dev_set(Synthesizer(None), phrase, positives, negative_minutes * 60, seed)
    metrics = evaluate(frontend, spec, dev)
    vad_audio = dev.ordinary[: int(VAD_SAMPLE_S * SAMPLE_RATE_HZ)]
    return WakeBench(
        spec.name, spec.threshold, seed, metrics, _vad_cpu_percent(vad_model, vad_audio)
    )


def _vad_cpu_percent(model: Path, audio: np.ndarray) -> float:
    vad = SileroVad(model)
    frames = len(audio) // FRAME_SAMPLES
    started = time.process_time()
    for i in range(frames):
        vad.probability(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
    busy_s = time.process_time() - started
    return 100 * busy_s / (frames * FRAME_SAMPLES / SAMPLE_RATE_HZ)
