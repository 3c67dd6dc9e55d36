"""Graphs cut out of a model file, for onnxruntime to open as files of their own.

Cutting needs the onnx package, and importing it costs a service 16 MiB for good; a session
opened from bytes keeps those bytes (the whole model again) for as long as it lives. So a cut is
made by a child process running a script that imports only the stdlib and onnx, written to
files, and kept in the model store under the source's sha256: made once per model, not at every
start (cutting the 45 MB detector took 15 s at load 9 on the 2-core machine; hashing it, 0.8 s).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from edgeai.atomic import partial_file
from edgeai.store.files import hash_file

log = logging.getLogger(__name__)


def cut_in_child(script: Path, source: Path, outs: Sequence[Path], what: str, refused: int) -> bool:
    """Run `script source out...` (it writes the cut graphs to `outs`); False when the graph is
    not the kind `script` cuts (it exits with `refused`: no fault, the model is used whole), or
    the cut failed (logged, naming `what` was to be cut)."""
    child = subprocess.run(
        [sys.executable, str(script), str(source), *map(str, outs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode not in (0, refused):
        why = (child.stderr.strip().splitlines() or ["no message"])[-1]
        log.warning("%s: cannot cut %s (%s); the model runs whole", source.name, what, why)
    return child.returncode == 0


def cached_cut(
    script: Path,
    source: Path,
    suffixes: Sequence[str],
    scratch: Path,
    cache: Path | None,
    what: str,
    refused: int,
) -> list[Path] | None:
    """The files of `source` cut by `script`, one per suffix: in `cache`, named by the source's
    sha256 and the suffix (cut in the folder `scratch` and copied there first when they are
    not), or in `scratch` without a cache or when the cache cannot be written (logged); None
    when the graph cannot be cut."""
    outs = [scratch / f"{source.stem}{suffix}" for suffix in suffixes]
    if cache is None:
        return outs if cut_in_child(script, source, outs, what, refused) else None
    digest = hash_file(source)[1]
    kept = [cache / f"{digest}{suffix}" for suffix in suffixes]
    if all(path.is_file() for path in kept):
        return kept
    if not cut_in_child(script, source, outs, what, refused):
        return None
    try:
        for out, path in zip(outs, kept, strict=True):
            with partial_file(path) as partial:
                shutil.copyfile(out, partial)
    except OSError as e:
        log.warning("%s: cut graphs not kept in %s (%s): cut again next start", source, cache, e)
        return outs
    return kept
