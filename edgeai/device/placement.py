"""The scheduler's placement: which device and how many threads each role really gets here.

A profile says what a class of device should use (the detector on the NPU, the LLM on the GPU);
this checks each wish against what the engines report on this machine, and falls back to the CPU
with one log line where the accelerator is missing. Thread counts are capped at the cores there
are. The result is a profile the loaders can use as is.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from edgeai.device.host import HostFacts
from edgeai.device.profiles import Engine, Profile, RoleAssignment
from edgeai.models.catalog import Role

log = logging.getLogger(__name__)

GPU_PROVIDERS = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "ROCMExecutionProvider",
    "MIGraphXExecutionProvider",
)


@dataclass(frozen=True)
class Placement:
    role: Role
    model: str
    engine: Engine
    wanted: str
    device: str
    threads: int
    fallback: str | None = None
    """Why the role runs somewhere other than the profile asked; None if it runs there."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def device_available(engine: Engine, device: str, facts: HostFacts) -> bool:
    """Whether `engine` can run a model on `device` (cpu, gpu, npu) on this machine."""
    if device == "cpu":
        return True
    if engine == "openvino":
        return any(d.split(".")[0] == device.upper() for d in facts.openvino_devices)
    if device != "gpu":
        return False  # only OpenVINO reaches an NPU
    if engine == "onnxruntime":
        return any(p in facts.onnxruntime_providers for p in GPU_PROVIDERS)
    if engine == "llama_cpp":
        return facts.llama_gpu_offload
    if engine == "ctranslate2":
        return facts.cuda_devices > 0
    return False


def place(profile: Profile, facts: HostFacts) -> tuple[Profile, list[Placement]]:
    """The profile with every role on a device that exists here, and what was decided."""
    cores = max(1, facts.cpu_count or 1)
    roles: dict[Role, RoleAssignment] = {}
    placements = []
    for role, wish in profile.roles.items():
        device = wish.device if device_available(wish.engine, wish.device, facts) else "cpu"
        threads = min(wish.threads, cores)
        fallback = None
        if device != wish.device:
            fallback = f"no {wish.device.upper()} for {wish.engine} on this machine"
            log.warning("%s (%s) runs on the CPU: %s", role, wish.model, fallback)
        roles[role] = wish.model_copy(update={"device": device, "threads": threads})
        placements.append(
            Placement(role, wish.model, wish.engine, wish.device, device, threads, fallback)
        )
    engines = profile.engines
    if roles.get("llm") is not None and roles["llm"].device == "cpu":
        engines = engines.model_copy(
            update={"llama_cpp": engines.llama_cpp.model_copy(update={"n_gpu_layers": 0})}
        )
    return profile.model_copy(update={"roles": roles, "engines": engines}), placements
