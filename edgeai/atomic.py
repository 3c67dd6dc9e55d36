"""Files and folders that appear complete or not at all: written beside the final place, then
renamed over it. The one way edgeai writes anything a reader or a restart depends on."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def replace_dir(new: Path, final: Path) -> None:
    """Swap `new` in for `final` with renames, so readers see the old or the new folder."""
    old = final.with_name(f".old-{final.name}")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """A scratch folder beside `final` that replaces it when the block ends without an error.

    On any error (a failed conversion, a full disk, Ctrl-C) the scratch folder is removed and
    `final` is left as it was: nothing half-written is ever where a reader looks.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".partial-{final.name}-", dir=final.parent))
    try:
        yield scratch
        scratch.chmod(0o755)  # mkdtemp makes it private; models are not secrets
        replace_dir(scratch, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def partial_path(final: Path) -> Path:
    """Where `final` is written before it is complete: hidden, beside it (same file system)."""
    return final.with_name(f".{final.name}.partial")


def commit(partial: Path, final: Path, durable: bool = False) -> None:
    """Rename the finished `partial` over `final`. `durable`: its bytes and the rename reach
    the disk before this returns (state that must survive a power cut: timers, events)."""
    if durable:
        with partial.open("rb+") as f:
            os.fsync(f.fileno())
    partial.replace(final)
    if durable:
        folder = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


@contextmanager
def partial_file(final: Path, durable: bool = False) -> Iterator[Path]:
    """A path to write `final`'s content to; it replaces `final` when the block ends without an
    error and is removed when it does not, so a reader sees the old file or the new one."""
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(final)
    try:
        yield partial
        commit(partial, final, durable)
    finally:
        partial.unlink(missing_ok=True)


def write_atomically(final: Path, data: bytes, durable: bool = False) -> None:
    with partial_file(final, durable) as partial:
        partial.write_bytes(data)
