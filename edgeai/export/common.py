"""What every export kind shares: the checked source, the folder built aside, the converter
errors made one line, latency taken in turns, and the manifest's file list."""

from __future__ import annotations

import importlib.metadata
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol, TypeVar

from tqdm import tqdm

from edgeai.atomic import staged_dir
from edgeai.device.profiles import Profile, Profiles
from edgeai.errors import EdgeAIError, ExportError, first_line
from edgeai.export.hub_checkpoint import fetch_checkpoint
from edgeai.export.recipe import SourceSpec, Target
from edgeai.models.catalog import Catalog, Licence, ModelFile
from edgeai.models.manifest import (
    ArtifactRole,
    EngineName,
    Gate,
    Manifest,
    ModelFormat,
    SourceRecord,
    write_manifest,
)
from edgeai.paths import user_data_dir
from edgeai.store import ModelStore
from edgeai.store.files import hash_file

LATENCY_RUNS = 10


class ArtifactTarget(Protocol):
    """A recipe target of any kind: every kind has its own formats and precisions."""

    @property
    def name(self) -> str: ...
    @property
    def profiles(self) -> list[str]: ...
    @property
    def format(self) -> ModelFormat: ...
    @property
    def precision(self) -> str: ...


class Recipe(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def source(self) -> SourceSpec: ...
    @property
    def targets(self) -> Sequence[ArtifactTarget]: ...


TargetT = TypeVar("TargetT", bound=Target)
Prepared = TypeVar("Prepared")
Result = TypeVar("Result")


@dataclass(frozen=True)
class ExportContext:
    store: ModelStore
    catalog: Catalog
    profiles: Profiles
    host: Profile
    """The profile of this machine: its thread counts are used for latency figures."""
    out_root: Path
    cache: Path = field(default_factory=lambda: user_data_dir("cache"))
    """Tools fetched once and kept (llama.cpp's converter)."""
    checkpoints: Path = field(default_factory=lambda: user_data_dir("checkpoints"))
    """Hugging Face checkpoints a recipe names, fetched once and kept."""


@dataclass(frozen=True)
class Source:
    path: Path
    licence: Licence
    size_bytes: int


def checked_source(recipe: str, spec: SourceSpec, context: ExportContext) -> Source:
    """The source file (a hub checkpoint's weights, fetched first), refused unless its sha256
    is the recipe's."""
    if spec.model is not None:
        entry = context.catalog.get(spec.model)
        path = context.store.main_file(entry)
        licence = entry.licence
    else:
        if spec.huggingface is not None:
            hub = spec.huggingface
            folder = fetch_checkpoint(hub, spec.sha256, context.checkpoints, recipe)
            path = folder / hub.files[0].path
        else:
            assert spec.path is not None
            path = spec.path
        known = spec.licence is not None
        licence = Licence(spdx=spec.licence or "NOASSERTION", commercial_use=known)
    if not path.is_file():
        hint = f"; run: edgeai models pull {spec.model}" if spec.model else ""
        raise ExportError(f"{recipe}: source {path} not found{hint}")
    size, digest = hash_file(path)
    if digest != spec.sha256:
        raise ExportError(
            f"{recipe}: source {path} has sha256 {digest}, the recipe expects {spec.sha256}: "
            "the source changed; check it, then update the recipe"
        )
    return Source(path, licence, size)


def chosen_targets(
    recipe: str, targets: list[TargetT], profiles: Profiles, profile: str | None
) -> list[TargetT]:
    """The recipe's targets, or those meant for `profile`; unknown profile names refused."""
    known = {p.name for p in profiles}
    for target in targets:
        unknown = sorted(set(target.profiles) - known)
        if unknown:
            raise ExportError(
                f"{recipe}/{target.name}: unknown profile {unknown}; known: {sorted(known)}"
            )
    if profile is None:
        return list(targets)
    profiles.get(profile)  # an unknown name is refused with the known ones
    chosen = [t for t in targets if profile in t.profiles]
    if not chosen:
        raise ExportError(f"{recipe}: no target is meant for profile {profile}")
    return chosen


def build_artifact(
    context: ExportContext,
    recipe: Recipe,
    target: ArtifactTarget,
    convert: Callable[[Path, Path], Path],
    measure: Callable[[Path, Path], Manifest],
) -> Manifest:
    """One artifact, all or nothing: `convert(folder, scratch)` writes its files into a folder
    built beside its place and returns the file a loader opens; `measure(model_file, folder)`
    loads and judges it and returns its manifest, which is written beside it; only then does the
    folder replace `<out_root>/<recipe>/<target>`. Scratch files are not kept."""
    with staged_dir(context.out_root / recipe.name / target.name) as work:
        scratch = work / ".scratch"
        scratch.mkdir()
        model_file = converted(
            f"{recipe.name}/{target.name}: conversion to {target.format} {target.precision}",
            lambda: convert(work, scratch),
        )
        shutil.rmtree(scratch)
        manifest = measure(model_file, work)
        write_manifest(work, manifest)
    return manifest


def converted(label: str, convert: Callable[[], Result]) -> Result:
    """`convert()`, with whatever a converter raises made one ExportError line naming `label`."""
    try:
        return convert()
    except EdgeAIError:
        raise
    except Exception as e:  # converters raise anything from RuntimeError to protobuf errors
        raise ExportError(f"{label} failed: {first_line(e)}") from None


def latencies_side_by_side(
    reference: Callable[[], object], candidate: Callable[[], object], runs: int = LATENCY_RUNS
) -> tuple[float, float]:
    """Median milliseconds of both, taking turns, so a busy moment on a shared machine slows
    both alike."""
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for work, times in zip((reference, candidate), timings, strict=True):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(timings[0]), 1000 * statistics.median(timings[1])


def with_weights(main: Path) -> list[Path]:
    """The files of a model: OpenVINO IR keeps its weights in a .bin beside the .xml."""
    return [main, main.with_suffix(".bin")] if main.suffix == ".xml" else [main]


def main_file_first(main: Path, folder: Path) -> list[Path]:
    """Every file of a multi-file artifact, the one a loader opens first."""
    return [main, *sorted(p for p in folder.iterdir() if p.is_file() and p != main)]


def described(paths: list[Path]) -> list[ModelFile]:
    """Name, size and sha256 of each file, as the manifest lists them."""
    files = []
    for path in paths:
        size, digest = hash_file(path)
        files.append(ModelFile(name=path.name, sha256=digest, size_bytes=size))
    return files


def tool_versions(*packages: str) -> dict[str, str]:
    return {package: importlib.metadata.version(package) for package in packages}


@dataclass(frozen=True)
class Measured:
    """What an export measured of one artifact, against its source in the same run."""

    metric: str
    reference: float
    value: float
    max_drop: float
    higher_is_better: bool
    latency_ms: float
    reference_latency_ms: float
    accuracy: dict[str, float]


def artifact_manifest(
    recipe: Recipe,
    source: Source,
    target: ArtifactTarget,
    *,
    role: ArtifactRole,
    engine: EngineName,
    files: list[Path],
    measured: Measured,
    tools: tuple[str, ...],
    replaces: str | None = None,
) -> Manifest:
    """The manifest of one artifact; figures rounded as they are shown."""
    spec = recipe.source
    return Manifest(
        recipe=recipe.name,
        target=target.name,
        role=role,
        source=SourceRecord(
            model=spec.model,
            file=str(spec.path or source.path.name),
            origin=spec.huggingface.label if spec.huggingface else None,
            sha256=spec.sha256,
            size_bytes=source.size_bytes,
            licence=source.licence,
        ),
        replaces=replaces,
        format=target.format,
        precision=target.precision,
        engine=engine,
        profiles=target.profiles,
        preference=recipe.targets.index(target),
        files=described(files),
        latency_ms=round(measured.latency_ms, 2),
        reference_latency_ms=round(measured.reference_latency_ms, 2),
        accuracy={key: round(value, 4) for key, value in measured.accuracy.items()},
        gate=Gate(
            metric=measured.metric,
            reference=round(measured.reference, 4),
            value=round(measured.value, 4),
            max_drop=round(measured.max_drop, 4),
            higher_is_better=measured.higher_is_better,
        ),
        created=datetime.now(timezone.utc).replace(microsecond=0),
        tools=tool_versions(*tools),
    )


def run_targets(
    recipe: str,
    targets: list[TargetT],
    first_step: str,
    prepare: Callable[[], Prepared],
    build: Callable[[TargetT, Prepared], Manifest],
) -> list[Manifest]:
    """`prepare()` (the source on the evaluation data), then `build` each target, with one
    progress bar over the steps."""
    with tqdm(total=1 + len(targets), desc=f"export {recipe}", unit="step", disable=None) as bar:
        bar.set_postfix_str(first_step)
        prepared = prepare()
        bar.update()
        manifests = []
        for target in targets:
            bar.set_postfix_str(target.name)
            manifests.append(build(target, prepared))
            bar.update()
    return manifests
