"""`edgeai bench export`: every artifact of an export recipe against its source, in one run.

The artifacts are built into the benchmark's own folder (the runtime's artifacts are not
touched); the figures are the ones each manifest records: size, latency measured taking turns
with the source, and the gate's figure for artifact and source (mAP@0.5 for a detector, word
error rate for speech, perplexity for an LLM, top-1 agreement for a classifier).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeai.models.manifest import Manifest


@dataclass(frozen=True)
class ExportBench:
    recipe: str
    source_bytes: int
    evaluation: str
    """What the gate's figure was measured on."""
    manifests: list[Manifest]
    speed_target: float | None = None
    """The speed-up the int8 artifact should reach, where there is one (the detector's 1.5x)."""

    def rows(self) -> list[dict[str, object]]:
        return [
            {
                "artifact": m.name,
                "format": m.format,
                "precision": m.precision,
                "size_mb": round(m.size_bytes / 1e6, 2),
                "smaller_than_source": round(self.source_bytes / m.size_bytes, 2),
                "latency_ms": m.latency_ms,
                "source_latency_ms": m.reference_latency_ms,
                "speedup": speedup(m),
                "metric": m.gate.metric if m.gate else None,
                "value": m.gate.value if m.gate else None,
                "source_value": m.gate.reference if m.gate else None,
                "accuracy": m.accuracy,
                "usable": m.usable,
                "profiles": m.profiles,
            }
            for m in self.manifests
        ]

    def as_dict(self) -> dict[str, object]:
        return {
            "recipe": self.recipe,
            "source_bytes": self.source_bytes,
            "evaluation": self.evaluation,
            "artifacts": self.rows(),
        }

    def markdown(self) -> str:
        metric = next((m.gate.metric for m in self.manifests if m.gate), "gate")
        lines = [
            f"### export: {self.recipe}, each artifact against its source in the same run "
            f"({self.evaluation})",
            "",
            f"| artifact | size MB | x smaller | ms | source ms | speed-up | {metric} "
            f"| source {metric} | gate |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in self.rows():
            lines.append(
                f"| {row['artifact']} ({row['format']} {row['precision']}) | {row['size_mb']} | "
                f"{row['smaller_than_source']} | {row['latency_ms']} | {row['source_latency_ms']} "
                f"| {row['speedup']}x | {row['value']} | {row['source_value']} | "
                f"{'passed' if row['usable'] else 'FAILED'} |"
            )
        return "\n".join(lines) + "\n"


def speedup(manifest: Manifest) -> float | None:
    if not manifest.latency_ms or not manifest.reference_latency_ms:
        return None
    return round(manifest.reference_latency_ms / manifest.latency_ms, 2)
