"""`edgeai bench export`: every artifact of a detector recipe against its source, in one run.

The artifacts are built into the benchmark's own folder (the runtime's artifacts are not
touched); the figures are the ones each manifest records: size, latency measured taking turns
with the source, mAP@0.5 on the recipe's labelled pictures, agreement with the source's boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeai.manifest import Manifest


@dataclass(frozen=True)
class ExportBench:
    recipe: str
    source_bytes: int
    evaluation_pictures: int
    manifests: list[Manifest]

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
                "map50": m.accuracy["map50"],
                "source_map50": m.accuracy["reference_map50"],
                "box_agreement": m.accuracy.get("box_agreement"),
                "usable": m.usable,
                "profiles": m.profiles,
            }
            for m in self.manifests
        ]

    def as_dict(self) -> dict[str, object]:
        return {
            "recipe": self.recipe,
            "source_bytes": self.source_bytes,
            "evaluation_pictures": self.evaluation_pictures,
            "artifacts": self.rows(),
        }

    def markdown(self) -> str:
        lines = [
            f"### export: {self.recipe}, each artifact against its source in the same run "
            f"(mAP@0.5 on {self.evaluation_pictures} labelled pictures)",
            "",
            "| artifact | size MB | x smaller | ms per frame | source ms | speed-up | mAP@0.5 "
            "| source mAP | box agreement | gate |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in self.rows():
            lines.append(
                f"| {row['artifact']} ({row['format']} {row['precision']}) | {row['size_mb']} | "
                f"{row['smaller_than_source']} | {row['latency_ms']} | {row['source_latency_ms']} "
                f"| {row['speedup']}x | {row['map50']:.3f} | {row['source_map50']:.3f} | "
                f"{row['box_agreement']} | {'passed' if row['usable'] else 'FAILED'} |"
            )
        return "\n".join(lines) + "\n"


def speedup(manifest: Manifest) -> float | None:
    if not manifest.latency_ms or not manifest.reference_latency_ms:
        return None
    return round(manifest.reference_latency_ms / manifest.latency_ms, 2)
