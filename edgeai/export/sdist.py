"""Tools that ship only in a package's source distribution (llama.cpp's and whisper.cpp's
converters and quantizer), taken from the sdist of the version installed, so tool and runtime
agree on the file format; extracted once into a cache folder, and run as subprocesses."""

from __future__ import annotations

import importlib.metadata
import logging
import subprocess
import tarfile
import tempfile
from pathlib import Path

from edgeai.atomic import staged_dir
from edgeai.errors import ExportError, SourceError, last_error_line
from edgeai.store.files import hash_file
from edgeai.store.pypi import pip_download

log = logging.getLogger(__name__)


SDIST_SHA256 = {
    ("llama-cpp-python", "0.3.36"): (
        "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
    ),
    ("pywhispercpp", "1.5.1"): "5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5",
}
"""The sdists of the pinned versions (pyproject.toml), as PyPI serves them: a fetched archive
with another digest is refused before it is opened."""


def sdist_tree(package: str, inside: str, parts: tuple[str, ...], cache: Path, expect: str) -> Path:
    """The files under `inside` (e.g. "vendor/llama.cpp/") of the installed `package`'s sdist
    whose paths start with one of `parts`, in a cache folder; `expect` must be among them."""
    version = importlib.metadata.version(package)
    pinned = SDIST_SHA256.get((package, version))
    if pinned is None:
        raise ExportError(
            f"no pinned sha256 for the {package} {version} sdist: install the version "
            "pyproject.toml pins, or add the new one's digest to edgeai/export/sdist.py"
        )
    folder = cache / f"{package}-{version}-{inside.strip('/').replace('/', '-')}"
    if (folder / expect).is_file():
        return folder
    log.warning("fetching %s from the %s %s sdist (once)", expect, package, version)
    cache.mkdir(parents=True, exist_ok=True)  # an sdist is large: not into a small /tmp
    with tempfile.TemporaryDirectory(dir=cache) as download, staged_dir(folder) as work:
        try:
            archive = pip_download(f"{package}=={version}", Path(download), sdist=True)
        except SourceError as e:
            raise ExportError(f"cannot fetch the {package} {version} sdist: {e}") from None
        _, digest = hash_file(archive)
        if digest != pinned:
            raise ExportError(
                f"{archive.name}: sha256 {digest}, expected {pinned}: refused, not opened"
            )
        _extract(archive, inside, parts, work)
        if not (work / expect).is_file():
            raise ExportError(f"{archive.name}: no {inside}{expect} inside")
    return folder


def _extract(archive: Path, inside: str, parts: tuple[str, ...], into: Path) -> None:
    """Regular files only, and only below `into`: a member whose path climbs out (`..`, an
    absolute path) is an error, links and devices are skipped."""
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            _, _, path = member.name.partition(inside)
            if not path or not path.startswith(parts) or not member.isfile():
                continue
            target = (into / path).resolve()
            if not target.is_relative_to(into.resolve()):
                raise ExportError(f"{archive.name}: member {member.name!r} points outside")
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())


def run_tool(command: list[str], what: str, cwd: Path | None = None) -> str:
    """What `command` wrote (stdout, then stderr, where these tools log); an ExportError
    naming `what` and the tool's error line when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    if done.returncode != 0:
        raise ExportError(f"{what} failed: {last_error_line(done.stderr + done.stdout)}")
    return done.stdout + done.stderr
