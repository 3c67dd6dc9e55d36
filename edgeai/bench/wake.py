"""Wake word benchmark: false rejects, false accepts per hour, delay and CPU on a dev set."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.ears.vad.silero import FRAME_SAMPLES, SileroVad
from edgeai.ears.wake.evaluate import WakeMetrics, evaluate, false_rejects
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.ears.wake.heads import WakeWordSpec
from edgeai.synthetic.held_out_voices import CONDITIONS, condition_positives, held_out_split
from edgeai.synthetic.speech import Synthesizer
from edgeai.synthetic.wake_data import DevSet, Split, babble_track, dev_set, dev_split

VAD_SAMPLE_S = 600.0
"""Audio the VAD cost is measured on: ten minutes is plenty for a per-frame cost."""
FAMILIES: dict[str, Callable[[np.random.Generator], Split]] = {
    "in-family": dev_split,
    "held-out": held_out_split,
}
"""In-family: espeak-ng voices training never used, but its synthesizer. Held-out: MBROLA's
voices, which neither training nor the threshold choice ever hears."""
BABBLE_S = 60.0
"""The busy room behind the condition clips in babble: a minute of four talkers."""
CONDITION_SEED_OFFSET = 1
"""The condition clips draw from seed + this, so the dev sets stay what they were."""


@dataclass(frozen=True)
class ConditionRejects:
    """False rejects of one voice family in one listening condition (see CONDITIONS)."""

    family: str
    condition: str
    positives: int
    false_rejects: int

    @property
    def false_reject_rate(self) -> float:
        return self.false_rejects / max(1, self.positives)


@dataclass(frozen=True)
class WakeBench:
    word: str
    threshold: float
    seed: int
    metrics: WakeMetrics
    """On the in-family dev set: the figure earlier benchmarks reported."""
    held_out: WakeMetrics
    """The same measures on the held-out voice family."""
    conditions: tuple[ConditionRejects, ...]
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
            "held_out_false_reject_rate": self.held_out.false_reject_rate,
            "held_out_false_accepts_per_hour": self.held_out.false_accepts_per_hour,
            "condition_false_reject_rates": {
                f"{c.family}, {c.condition}": c.false_reject_rate for c in self.conditions
            },
            "total_cpu_percent": self.total_cpu_percent,
        }

    def markdown(self) -> str:
        rows = [(name, value(self.metrics), value(self.held_out)) for name, value in _MEASURES]
        for condition in CONDITIONS:
            found = {c.family: c for c in self.conditions if c.condition == condition.name}
            name = f"false rejects, {condition.name}"
            rows.append((name, _share(found["in-family"]), _share(found["held-out"])))
        cpu = [
            ("CPU, wake (front end + head)", self.metrics.cpu_percent_of_one_core),
            ("CPU, VAD on every frame", self.vad_cpu_percent_of_one_core),
            ("CPU, wake + VAD", self.total_cpu_percent),
        ]
        lines = [
            f"### Wake word `{self.word}` (threshold {self.threshold:.3f}, dev seed {self.seed})",
            "",
            "| measure | in-family (espeak-ng dev voices) | held-out (MBROLA voices) |",
            "| --- | --- | --- |",
            *[f"| {name} | {family} | {held_out} |" for name, family, held_out in rows],
            *[f"| {name} | {value:.2f}% of one core | |" for name, value in cpu],
        ]
        return "\n".join(lines) + "\n"


def _share(c: ConditionRejects) -> str:
    return f"{c.false_reject_rate:.1%} ({c.false_rejects} of {c.positives})"


_MEASURES: tuple[tuple[str, Callable[[WakeMetrics], str]], ...] = (
    ("false rejects", lambda m: f"{m.false_reject_rate:.1%} ({m.false_rejects} of {m.positives})"),
    (
        "false accepts",
        lambda m: (
            f"{m.false_accepts_per_hour:.2f} per hour ({m.false_accepts} in "
            f"{m.negative_hours:.2f} h of ordinary speech and noise)"
        ),
    ),
    (
        "false rejects right after other speech (barge-in)",
        lambda m: (
            f"{m.after_speech_false_reject_rate:.1%} ({m.after_speech_false_rejects} of "
            f"{m.after_speech_positives})"
        ),
    ),
    (
        "near-miss phrases accepted (a stress test)",
        lambda m: f"{m.near_miss_accepts} of {m.near_misses} (e.g. 'hey garvis', 'hey jarbis')",
    ),
    ("detection delay after the phrase", lambda m: _delays(m)),
)
"""The rows measured on both families, and how each is written."""


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
    condition_positives_each: int,
) -> WakeBench:
    """Both families' dev sets, then each family's phrase in each of CONDITIONS."""
    synth = Synthesizer(None)
    devs: dict[str, DevSet] = {
        family: dev_set(synth, phrase, positives, negative_minutes * 60, seed, family=split)
        for family, split in FAMILIES.items()
    }
    metrics = {family: evaluate(frontend, spec, dev) for family, dev in devs.items()}
    conditions = tuple(
        _condition_rejects(frontend, spec, synth, phrase, family, seed, condition_positives_each)
        for family in FAMILIES
    )
    vad_audio = devs["in-family"].ordinary[: int(VAD_SAMPLE_S * SAMPLE_RATE_HZ)]
    return WakeBench(
        spec.name,
        spec.threshold,
        seed,
        metrics["in-family"],
        metrics["held-out"],
        tuple(c for family in conditions for c in family),
        _vad_cpu_percent(vad_model, vad_audio),
    )


def _condition_rejects(
    frontend: WakeFrontend, spec: WakeWordSpec, synth: Synthesizer, phrase: str, family: str,
    seed: int, count: int,
) -> list[ConditionRejects]:  # fmt: skip
    rng = np.random.default_rng(seed + CONDITION_SEED_OFFSET)
    split = FAMILIES[family](rng)
    babble = babble_track(synth, split, BABBLE_S, rng, phrase)
    out = []
    for condition in CONDITIONS:
        clips = condition_positives(synth, phrase, split, condition, count, rng, babble)
        missed = false_rejects(frontend, spec, clips, f"{family}, {condition.name}")
        out.append(ConditionRejects(family, condition.name, count, missed))
    return out


def _vad_cpu_percent(model: Path, audio: np.ndarray) -> float:
    vad = SileroVad(model)
    frames = len(audio) // FRAME_SAMPLES
    started = time.process_time()
    for i in range(frames):
        vad.probability(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
    busy_s = time.process_time() - started
    return 100 * busy_s / (frames * FRAME_SAMPLES / SAMPLE_RATE_HZ)
