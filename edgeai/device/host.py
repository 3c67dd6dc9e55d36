"""What this machine is, read from the filesystem and the installed engines.

Everything is read below a root folder so tests can point it at a fake filesystem; the engines
are only asked when the root is the real one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

REAL_ROOT = Path("/")


@dataclass(frozen=True)
class HostFacts:
    arch: str | None
    """x86_64 or aarch64, from /proc/cpuinfo; None if it cannot tell."""
    cpu_model: str
    cpu_flags: frozenset[str]
    cpu_count: int
    memory_mb: int | None
    device_tree_model: str | None
    """/proc/device-tree/model: set on Raspberry Pi and Jetson boards."""
    tegra_release: str | None
    """First line of /etc/nv_tegra_release (NVIDIA L4T)."""
    intel_npu: bool
    nvidia_gpu: bool
    sound_cards: list[str] = field(default_factory=list)
    video_devices: list[str] = field(default_factory=list)
    openvino_devices: list[str] = field(default_factory=list)
    onnxruntime_providers: list[str] = field(default_factory=list)
    llama_gpu_offload: bool = False
    """llama.cpp was built with a GPU backend (CUDA, Metal, Vulkan ...)."""
    cuda_devices: int = 0
    """CUDA devices CTranslate2 (faster-whisper) can use."""


def probe(root: Path = REAL_ROOT, ask_engines: bool = True) -> HostFacts:
    """The machine's facts. `ask_engines=False` leaves the accelerator lists empty and imports
    no engine (OpenVINO alone costs 38 MiB resident): for a profile that runs on the CPU."""
    cpuinfo = _read(root / "proc/cpuinfo") or ""
    real = root.resolve() == REAL_ROOT and ask_engines
    return HostFacts(
        arch=_arch(cpuinfo),
        cpu_model=_cpuinfo_field(cpuinfo, "model name") or _cpuinfo_field(cpuinfo, "Model") or "",
        cpu_flags=frozenset(
            (_cpuinfo_field(cpuinfo, "flags") or _cpuinfo_field(cpuinfo, "Features") or "").split()
        ),
        cpu_count=sum(1 for line in cpuinfo.splitlines() if line.startswith("processor")),
        memory_mb=_memory_mb(_read(root / "proc/meminfo") or ""),
        device_tree_model=_first_line(_read(root / "proc/device-tree/model")),
        tegra_release=_first_line(_read(root / "etc/nv_tegra_release")),
        intel_npu=bool(list((root / "dev/accel").glob("accel*")))
        or (root / "sys/bus/pci/drivers/intel_vpu").exists(),
        nvidia_gpu=(root / "dev/nvidia0").exists() or (root / "dev/nvhost-gpu").exists(),
        sound_cards=_sound_cards(_read(root / "proc/asound/cards") or ""),
        video_devices=sorted(str(p) for p in (root / "dev").glob("video*")),
        openvino_devices=openvino_devices() if real else [],
        onnxruntime_providers=onnxruntime_providers() if real else [],
        llama_gpu_offload=llama_gpu_offload() if real else False,
        cuda_devices=ctranslate2_cuda_devices() if real else 0,
    )


def openvino_devices() -> list[str]:
    """OpenVINO's available devices (CPU, GPU, NPU ...), or [] where OpenVINO is missing."""
    try:
        import openvino
    except ImportError:
        return []
    try:
        return list(openvino.Core().available_devices)
    except RuntimeError as e:  # a broken driver plugin must not stop detection
        log.warning("OpenVINO could not list its devices: %s", e)
        return []


def onnxruntime_providers() -> list[str]:
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def llama_gpu_offload() -> bool:
    try:
        import llama_cpp
    except ImportError:
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


def ctranslate2_cuda_devices() -> int:
    try:
        import ctranslate2
    except ImportError:
        return 0
    return int(ctranslate2.get_cuda_device_count())


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace").replace("\x00", "")
    except OSError:
        return None


def _first_line(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    return text.strip().splitlines()[0].strip()


def _cpuinfo_field(cpuinfo: str, name: str) -> str | None:
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == name:
            return value.strip()
    return None


def _arch(cpuinfo: str) -> str | None:
    # x86 kernels list "flags", arm64 kernels list "Features" and "CPU implementer"
    if _cpuinfo_field(cpuinfo, "flags") is not None:
        return "x86_64"
    if _cpuinfo_field(cpuinfo, "CPU implementer") is not None:
        return "aarch64"
    return None


def _memory_mb(meminfo: str) -> int | None:
    total = _cpuinfo_field(meminfo, "MemTotal")  # "16318412 kB"
    if not total or not total.split()[0].isdigit():
        return None
    return int(total.split()[0]) // 1024


def _sound_cards(cards: str) -> list[str]:
    # " 0 [PCH            ]: HDA-Intel - HDA Intel PCH" ; "--- no soundcards ---" when empty
    names = []
    for line in cards.splitlines():
        head, sep, description = line.partition("]:")
        if sep and head.strip()[:1].isdigit():
            names.append(description.strip())
    return names
