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
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from edgeai.device.profiles import Profile, RoleAssignment
from edgeai.errors import IntegrityError, first_line
from edgeai.models.catalog import Catalog, Role
from edgeai.models.manifest import MANIFEST, Manifest
from edgeai.paths import user_data_dir
from edgeai.store import ModelStore
from edgeai.store.files import verify_file

log = logging.getLogger(__name__)

RUNTIME_ENGINES: dict[Role, tuple[str, ...]] = {
    "wake": ("onnxruntime",),
    "vad": ("onnxruntime",),
    "stt": ("ctranslate2", "whispercpp", "onnxruntime", "openvino"),
    "llm": ("llama_cpp",),
    "tts": ("onnxruntime", "openvino"),
    "detector": ("onnxruntime", "openvino"),
}
"""What the runtime can load for each role: an artifact needing another engine is left alone."""


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

    def pick(
        self, profile: str, role: Role, source_model: str, engines: Collection[str] | None = None
    ) -> Artifact | None:
        """The preferred usable, intact artifact made from (or replacing) `source_model` for
        `profile` (and runnable by one of `engines`, when given), or None."""
        candidates = sorted(
            (
                a
                for a in self._artifacts
                if a.manifest.usable
                and a.manifest.role == role
                and source_model in (a.manifest.source.model, a.manifest.replaces)
                and profile in a.manifest.profiles
                and (engines is None or a.manifest.engine in engines)
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
    index = artifacts or ArtifactIndex.load()
    artifact = index.pick(profile.name, role, assignment.model, RUNTIME_ENGINES[role])
    if artifact is None:
        return store.main_file(catalog.get(assignment.model)), assignment
    manifest = artifact.manifest
    gate = manifest.gate
    log.info(
        "%s: exported artifact %s (%s %s%s)",
        role,
        manifest.name,
        manifest.format,
        manifest.precision,
        f", {gate.metric} {gate.value:.3f}, source {gate.reference:.3f}" if gate else "",
    )
    engine = manifest.engine or assignment.engine
    return artifact.main_file, assignment.model_copy(update={"engine": engine})
