"""The edgeai config file: one YAML file, validated strictly, doing no I/O beyond reading it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgeai.paths import LOCAL_CONFIG, default_model_store
from edgeai.yamlfile import load_yaml_model


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSettings(Strict):
    store: Path | None = Field(
        default=None,
        description="Folder of the model store; default $EDGEAI_HOME/models",
    )

    def store_path(self) -> Path:
        return (self.store or default_model_store()).expanduser()


class AudioSettings(Strict):
    input_device: str | int | None = Field(
        default=None, description="Microphone: a name (substring) or index; null = system default"
    )
    output_device: str | int | None = Field(
        default=None, description="Speaker: a name (substring) or index; null = system default"
    )


class CameraSettings(Strict):
    device: str = Field(
        default="/dev/video0", min_length=1, description="V4L2 device path, or a stream URL"
    )


class Config(Strict):
    profile: str = Field(
        default="auto",
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="A device profile name, or auto to detect it",
    )
    models: ModelSettings = ModelSettings()
    audio: AudioSettings = AudioSettings()
    camera: CameraSettings = CameraSettings()
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def load_config(path: Path | None) -> tuple[Config, Path | None]:
    """The config at `path`; without one, ./edgeai.yaml if present, else the defaults.

    Returns the config and the file it came from (None for the built-in defaults).
    """
    if path is None:
        if not LOCAL_CONFIG.is_file():
            return Config(), None
        path = LOCAL_CONFIG
    return load_yaml_model(path, Config), path
