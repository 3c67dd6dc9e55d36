"""Exported artifacts and their manifests: what `edgeai export` made, and which one a role loads.

Every artifact is a folder `$EDGEAI_HOME/artifacts/<recipe>/<target>/` with its model files and
`manifest.json`: where it came from (with the source's sha256), its format and precision, the
profiles it is meant for, its size, the latency measured where it was exported, its accuracy
against the source and whether it passed its gate. The runtime reads only manifests: a role uses
an artifact made from the model the profile names, meant for that profile, that passed its gate
and whose files are intact; otherwise it uses the catalog model as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgeai.catalog import Catalog, Licence, ModelFile, Role
from edgeai.errors import IntegrityError, first_line
from edgeai.paths import user_data_dir
from edgeai.profiles import Profile, RoleAssignment
from edgeai.store import ModelStore
from edgeai.store.files import verify_file

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
ArtifactFormat = Literal["onnx", "openvino", "gguf", "ctranslate2", "ggml"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRecord(Strict):
    model: str | None = Field(description="Catalog name of the source, when it is one")
    file: str = Field(description="The file converted, as the recipe named it")
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
    role: Role
    source: SourceRecord
    replaces: str | None = Field(
        default=None, description="Catalog model whose role it takes (when not made from it)"
    )
    format: ArtifactFormat
    precision: str = Field(description="fp32, fp16, int8 (static QDQ), int8 (NNCF), q8_0 ...")
    engine: Literal["onnxruntime", "openvino", "llama_cpp", "ctranslate2", "whispercpp"]
    profiles: list[str] = Field(description="Device profiles this artifact is meant for")
    preference: int = Field(ge=0, description="Among usable artifacts for a profile, lowest wins")
    files: list[ModelFile] = Field(min_length=1, description="The first is the one to load")
    latency_ms: float | None = Field(description="Median per inference where it was exported")
    reference_latency_ms: float | None = Field(description="The source's, measured in the same run")
    accuracy: dict[str, float] = Field(description="Every figure measured, source and artifact")
    gate: Gate
    created: datetime
    tools: dict[str, str] = Field(description="Versions of the converters used")

    @property
    def name(self) -> str:
        return f"{self.recipe}/{self.target}"

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    @property
    def usable(self) -> bool:
        return self.gate.passed


@dataclass(frozen=True)
class Artifact:
    manifest: Manifest
    folder: Path

    @property
    def main_file(self) -> Path:
        return self.folder / self.manifest.files[0].name

    def verify(self) -> None:
        """IntegrityError unless every file has the size and sha256 its manifest records."""
        for expected in self.manifest.files:
            verify_file(self.folder / expected.name, expected)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n")


class ArtifactIndex:
    """Every artifact under a root folder, read from its manifest."""

    def __init__(self, artifacts: list[Artifact]) -> None:
        self._artifacts = artifacts

    @classmethod
    def load(cls, root: Path | None = None) -> ArtifactIndex:
        root = root or user_data_dir("artifacts")
        artifacts = []
        for path in sorted(root.glob(f"*/*/{MANIFEST}")):
            try:
                manifest = Manifest.model_validate(json.loads(path.read_text()))
            except (OSError, ValueError, ValidationError) as e:
                log.warning("%s: not a valid artifact manifest, ignored: %s", path, first_line(e))
                continue
            artifacts.append(Artifact(manifest, path.parent))
        return cls(artifacts)

    def __iter__(self) -> Iterator[Artifact]:
        return iter(self._artifacts)

    def pick(self, profile: str, role: Role, source_model: str) -> Artifact | None:
        """The preferred usable, intact artifact made from (or replacing) `source_model` for
        `profile`, or None."""
        candidates = sorted(
            (
                a
                for a in self._artifacts
                if a.manifest.usable
                and a.manifest.role == role
                and source_model in (a.manifest.source.model, a.manifest.replaces)
                and profile in a.manifest.profiles
            ),
            key=lambda a: a.manifest.preference,
        )
        for artifact in candidates:
            try:
                artifact.verify()
            except IntegrityError as e:
                log.warning("artifact %s skipped: %s", artifact.manifest.name, e)
                continue
            return artifact
        return None


def role_model(
    profile: Profile,
    role: Role,
    store: ModelStore,
    catalog: Catalog,
    artifacts: ArtifactIndex | None = None,
) -> tuple[Path, RoleAssignment]:
    """The file `role` loads and how: the profile's usable exported artifact of the model it
    names (one log line says which), else that catalog model from the store."""
    assignment = profile.roles[role]
    artifact = (artifacts or ArtifactIndex.load()).pick(profile.name, role, assignment.model)
    if artifact is None:
        return store.main_file(catalog.get(assignment.model)), assignment
    manifest = artifact.manifest
    log.info(
        "%s: exported artifact %s (%s %s, %s %.3f, source %.3f)",
        role,
        manifest.name,
        manifest.format,
        manifest.precision,
        manifest.gate.metric,
        manifest.gate.value,
        manifest.gate.reference,
    )
    return artifact.main_file, assignment.model_copy(update={"engine": manifest.engine})
