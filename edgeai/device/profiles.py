"""Device profiles: what a class of device has, and which model and engine each role uses there.

Profiles are YAML files in `device_profiles/` (bundled) and `$EDGEAI_HOME/device_profiles/`;
a new device is a new file, not new code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgeai.errors import ConfigError, ProfileError
from edgeai.models.catalog import Catalog, Role, unknown_name_message
from edgeai.paths import bundled_data_dir, user_data_dir
from edgeai.yamlfile import load_yaml_model

ROLES: tuple[Role, ...] = ("wake", "vad", "stt", "llm", "tts", "detector")
Engine = Literal["onnxruntime", "openvino", "llama_cpp", "ctranslate2", "whispercpp"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectRules(Strict):
    """Facts a machine must show for this profile to fit; every rule given must hold."""

    priority: int = Field(
        default=0, description="Among fitting profiles the highest wins; specific beats generic"
    )
    arch: Literal["x86_64", "aarch64"] | None = None
    device_tree_model: str | None = Field(
        default=None, description="Substring of /proc/device-tree/model (case-insensitive)"
    )
    tegra: bool | None = Field(default=None, description="/etc/nv_tegra_release exists")
    intel_npu: bool | None = Field(
        default=None, description="An Intel NPU is present (/dev/accel or the intel_vpu driver)"
    )
    cpu_flags: list[str] = Field(default=[], description="CPU flags that must all be present")


class Accelerator(Strict):
    kind: Literal["gpu", "npu"]
    name: str
    tops_int8: float | None = Field(default=None, ge=0, description="Vendor's peak INT8 TOPS")
    device_groups: list[str] = Field(
        default=[],
        description="Its device nodes as systemd DeviceAllow= groups (char-<name in "
        "/proc/devices>, wildcards allowed): the service unit opens only these and sound/video",
    )


class Hardware(Strict):
    cpu_cores: int = Field(ge=1)
    memory_mb: int = Field(ge=256, description="Smallest memory option of this device class")
    accelerators: list[Accelerator] = []


class OnnxRuntimeSettings(Strict):
    providers: list[str] = Field(
        default=["CPUExecutionProvider"], min_length=1, description="In order of preference"
    )


class OpenVinoSettings(Strict):
    device: str = Field(default="CPU", description="OpenVINO device for models placed on it")


class LlamaCppSettings(Strict):
    n_gpu_layers: int = Field(default=0, ge=-1, description="-1 offloads every layer")


class Engines(Strict):
    onnxruntime: OnnxRuntimeSettings = OnnxRuntimeSettings()
    openvino: OpenVinoSettings = OpenVinoSettings()
    llama_cpp: LlamaCppSettings = LlamaCppSettings()


class RoleAssignment(Strict):
    model: str = Field(description="Catalog name of the artifact this role loads")
    engine: Engine
    device: Literal["cpu", "gpu", "npu"] = "cpu"
    threads: int = Field(ge=1, le=64, description="Intra-op threads; small models run on one")


class CameraDefaults(Strict):
    width: int = Field(ge=64, le=7680)
    height: int = Field(ge=64, le=4320)
    fps: int = Field(ge=1, le=120)


class AudioDefaults(Strict):
    sample_rate_hz: Literal[16000] = Field(
        default=16000, description="Rate inside the runtime; sources resample at the edge"
    )
    frame_ms: int = Field(default=80, ge=10, le=200, description="Capture block length")


class VoiceDefaults(Strict):
    stt_window_s: float | None = Field(
        default=None,
        ge=10,
        le=30,
        description="Whisper encoder window where voice.stt_window_s is null (null: 30 s): "
        "shorter is faster on a slow CPU",
    )


class Profile(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    detect: DetectRules
    hardware: Hardware
    engines: Engines = Engines()
    roles: dict[Role, RoleAssignment]
    camera: CameraDefaults
    audio: AudioDefaults = AudioDefaults()
    voice: VoiceDefaults = VoiceDefaults()

    def stt_window_s(self, configured: float | None) -> float | None:
        """The Whisper window to encode: the config's when set, else this profile's."""
        return configured if configured is not None else self.voice.stt_window_s

    def default_models(self) -> list[str]:
        return sorted({assignment.model for assignment in self.roles.values()})


class Profiles:
    """All profiles by name, checked against the catalog they point into."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self._profiles = {p.name: p for p in profiles}

    @classmethod
    def load(cls, catalog: Catalog, directories: Iterable[Path] | None = None) -> Profiles:
        if directories is None:
            directories = [bundled_data_dir("device_profiles"), user_data_dir("device_profiles")]
        profiles = []
        for directory in directories:
            for path in sorted(directory.glob("*.yaml")):
                profile = load_yaml_model(path, Profile)
                _check_profile(path, profile, catalog)
                profiles.append(profile)
        return cls(profiles)

    def __iter__(self) -> Iterator[Profile]:
        return iter(self._profiles[name] for name in sorted(self._profiles))

    def get(self, name: str) -> Profile:
        try:
            return self._profiles[name]
        except KeyError:
            raise ProfileError(
                unknown_name_message("profile", name, sorted(self._profiles))
            ) from None


def _check_profile(path: Path, profile: Profile, catalog: Catalog) -> None:
    if profile.name != path.stem:
        raise ConfigError(f"{path}: name {profile.name!r} must match the file name")
    missing = [role for role in ROLES if role not in profile.roles]
    if missing:
        raise ConfigError(f"{path}: roles: every role needs a model; missing {', '.join(missing)}")
    for role, assignment in profile.roles.items():
        if assignment.model not in catalog:
            raise ConfigError(
                f"{path}: roles.{role}.model: "
                + unknown_name_message("model", assignment.model, catalog.names)
            )
        entry_role = catalog.get(assignment.model).role
        if entry_role != role:
            raise ConfigError(
                f"{path}: roles.{role}.model: {assignment.model!r} is a {entry_role} model, "
                f"expected a {role} model"
            )
