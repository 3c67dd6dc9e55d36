"""Writing and checking model files: streamed, hashed on the fly, never left half-written."""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

from edgeai.errors import DiskFullError, IntegrityError
from edgeai.models.catalog import ModelFile

CHUNK_BYTES = 1 << 20


def write_verified(chunks: Iterable[bytes], dest: Path, expected: ModelFile, label: str) -> None:
    """Stream `chunks` into `dest`, checking size and sha256 against `expected`.

    Stops reading as soon as more bytes arrive than expected; on any failure `dest` is removed.
    """
    size, sha256 = write_capped(
        chunks, dest, expected.size_bytes, f"{label} {expected.name}", expected.size_bytes
    )
    try:
        check_digest(expected, size, sha256)
    except IntegrityError:
        dest.unlink(missing_ok=True)
        raise


def write_capped(
    chunks: Iterable[bytes], dest: Path, limit: int, label: str, total: int | None = None
) -> tuple[int, str]:
    """Stream `chunks` into `dest`, refusing more than `limit` bytes; the (size, sha256)
    written. On any failure `dest` is removed. `total`: the expected size, for the progress bar."""
    digest = hashlib.sha256()
    written = 0
    try:
        with _disk_full_as_error(dest), dest.open("wb") as out, _progress(total, label) as bar:
            for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise IntegrityError(f"{dest.name}: more than the expected {limit} bytes")
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return written, digest.hexdigest()


def check_digest(expected: ModelFile, size: int, sha256: str) -> None:
    if size != expected.size_bytes:
        raise IntegrityError(
            f"{expected.name}: size mismatch: expected {expected.size_bytes} bytes, got {size}"
        )
    if sha256 != expected.sha256:
        raise IntegrityError(
            f"{expected.name}: sha256 mismatch: expected {expected.sha256}, got {sha256}"
        )


def hash_file(path: Path) -> tuple[int, str]:
    """(size, sha256) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def verify_file(path: Path, expected: ModelFile) -> None:
    """IntegrityError unless `path` has exactly the expected size and sha256."""
    if not path.is_file():
        raise IntegrityError(f"{expected.name}: missing")
    if path.stat().st_size != expected.size_bytes:  # cheap check before hashing
        raise IntegrityError(
            f"{expected.name}: size mismatch: expected {expected.size_bytes} bytes, "
            f"got {path.stat().st_size}"
        )
    check_digest(expected, *hash_file(path))


@contextmanager
def _progress(total: int | None, label: str) -> Iterator[tqdm[NoReturn]]:
    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=label,
        disable=None,  # only on a terminal
        leave=False,
    ) as bar:
        yield bar


@contextmanager
def _disk_full_as_error(dest: Path) -> Iterator[None]:
    try:
        yield
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(f"disk full while writing {dest}: free some space") from None
        raise
