"""Folders that appear complete or not at all: build beside the final place, then rename."""

from __future__ import annotations

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
