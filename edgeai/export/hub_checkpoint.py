"""A recipe's Hugging Face checkpoint, fetched once into `<root>/<owner>--<name>/<revision>/`.

Every file comes from the pinned revision. A file the recipe gives a sha256 (the weights
always) is checked while it streams and again before an earlier fetch is reused; one pinned by
the revision alone is held to its size when the recipe knows it, else to UNPINNED_MAX_BYTES
(configuration and tokenizer files are small). The folder appears only once every file is in.
"""

from __future__ import annotations

from pathlib import Path

from edgeai.atomic import staged_dir
from edgeai.errors import ExportError, IntegrityError, ModelStoreError
from edgeai.export.recipe import HubFile, HubSource
from edgeai.models.catalog import ModelFile
from edgeai.store.files import CHUNK_BYTES, verify_file, write_capped, write_verified
from edgeai.store.huggingface import answer, hub_client, hub_url

UNPINNED_MAX_BYTES = 64 << 20


def fetch_checkpoint(hub: HubSource, weights_sha256: str, root: Path, label: str) -> Path:
    """The checkpoint's folder, fetched unless an earlier fetch left it complete and intact."""
    folder = root / hub.repo.replace("/", "--") / hub.revision
    pins = {
        f.path: _pin(f, weights_sha256 if i == 0 else f.sha256) for i, f in enumerate(hub.files)
    }
    if _complete(folder, pins):
        return folder
    try:
        _fetch(hub, pins, folder)
    except ModelStoreError as e:  # a refused answer, a broken connection, a changed file
        raise ExportError(f"{label}: fetching {hub.label} failed: {e}") from None
    return folder


def _fetch(hub: HubSource, pins: dict[str, ModelFile | None], folder: Path) -> None:
    label = hub.repo
    with staged_dir(folder) as work, hub_client() as client:
        for file in hub.files:
            expected = pins[file.path]
            with answer(client, hub_url(hub.repo, hub.revision, file.path)) as response:
                chunks = response.iter_bytes(CHUNK_BYTES)
                if expected is not None:
                    write_verified(chunks, work / file.path, expected, label)
                    continue
                size, _ = write_capped(
                    chunks,
                    work / file.path,
                    file.size_bytes or UNPINNED_MAX_BYTES,
                    f"{label} {file.path}",
                    file.size_bytes,
                )
                if file.size_bytes is not None and size != file.size_bytes:
                    raise IntegrityError(
                        f"{file.path}: size mismatch: expected {file.size_bytes} bytes, got {size}"
                    )


def _pin(file: HubFile, sha256: str | None) -> ModelFile | None:
    if sha256 is None or file.size_bytes is None:
        return None
    return ModelFile(name=file.path, sha256=sha256, size_bytes=file.size_bytes)


def _complete(folder: Path, pins: dict[str, ModelFile | None]) -> bool:
    if not all((folder / name).is_file() for name in pins):
        return False
    try:
        for name, expected in pins.items():
            if expected is not None:
                verify_file(folder / name, expected)
    except IntegrityError:
        return False  # damaged since: fetched again, in place of the old folder
    return True
