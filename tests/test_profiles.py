"""Device profiles: bundled ones load, point at real catalog models, and fit the right machines."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeai.device.detection import detect_profile
from edgeai.device.host import probe
from edgeai.device.profiles import ROLES, Profiles
from edgeai.errors import ConfigError, ProfileError
from edgeai.models.catalog import Catalog
from tests.conftest import REPO

ARM_CPUINFO = """\
processor	: 0
BogoMIPS	: 108.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer	: 0x41
CPU architecture: 8

processor	: 1
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer	: 0x41
"""

X86_CPUINFO = """\
processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Core(TM) Ultra 7 155H
flags		: fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx_vnni

processor	: 1
model name	: Intel(R) Core(TM) Ultra 7 155H
flags		: fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx_vnni
"""


def fake_root(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "root"
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    root.mkdir(exist_ok=True)
    return root


MACHINES = {
    "raspberry-pi-5": {
        "proc/cpuinfo": ARM_CPUINFO,
        "proc/device-tree/model": b"Raspberry Pi 5 Model B Rev 1.0\x00",
        "proc/meminfo": "MemTotal:        8245900 kB\n",
    },
    "raspberry-pi-4": {
        "proc/cpuinfo": ARM_CPUINFO,
        "proc/device-tree/model": b"Raspberry Pi 4 Model B Rev 1.5\x00",
    },
    "jetson-orin-nano": {
        "proc/cpuinfo": ARM_CPUINFO,
        "proc/device-tree/model": b"NVIDIA Jetson Orin Nano Developer Kit\x00",
        "etc/nv_tegra_release": "# R36 (release), REVISION: 4.0, GCID: 37537400, BOARD: generic, "
        "EABI: aarch64, DATE: Fri Sep 13 04:36:44 UTC 2024\n",
        "dev/nvhost-gpu": "",
    },
    "jetson-agx-orin": {
        "proc/cpuinfo": ARM_CPUINFO,
        "proc/device-tree/model": b"Jetson AGX Orin Developer Kit\x00",
        "etc/nv_tegra_release": "# R35 (release), REVISION: 4.1\n",
    },
    "intel-core-ultra-npu": {
        "proc/cpuinfo": X86_CPUINFO,
        "dev/accel/accel0": "",
    },
}


def test_the_six_bundled_profiles_load_with_every_role(profiles: Profiles, catalog: Catalog):
    names = [p.name for p in profiles]
    assert names == sorted(
        [
            "raspberry-pi-4", "raspberry-pi-5", "jetson-orin-nano", "jetson-agx-orin",
            "intel-core-ultra-npu", "x86-cpu",
        ]
    )  # fmt: skip
    for profile in profiles:
        assert set(profile.roles) == set(ROLES)
        for role, assignment in profile.roles.items():
            assert catalog.get(assignment.model).role == role


def test_x86_cpu_encodes_a_10_s_whisper_window_unless_the_config_says_otherwise(
    profiles: Profiles,
):
    x86 = profiles.get("x86-cpu")
    assert x86.stt_window_s(None) == 10
    assert x86.stt_window_s(30.0) == 30.0  # the config's own window wins
    assert profiles.get("raspberry-pi-5").stt_window_s(None) is None  # Whisper's 30 s


def test_every_bundled_profile_cites_its_source():
    for path in sorted((REPO / "device_profiles").glob("*.yaml")):
        comments = [line for line in path.read_text().splitlines() if line.startswith("#")]
        assert any("http" in line for line in comments) or path.stem == "x86-cpu", path


@pytest.mark.parametrize("expected", sorted(MACHINES))
def test_detect_on_fake_machines(tmp_path: Path, profiles: Profiles, expected: str):
    root = fake_root(tmp_path, MACHINES[expected])
    assert detect_profile(probe(root), profiles).profile.name == expected


def test_detect_explains_itself(tmp_path: Path, profiles: Profiles):
    root = fake_root(tmp_path, MACHINES["jetson-orin-nano"])
    reasons = detect_profile(probe(root), profiles).reasons
    assert "CPU architecture is aarch64" in reasons
    assert any("NVIDIA Jetson Orin Nano Developer Kit" in r for r in reasons)
    assert any(r.startswith("NVIDIA L4T release: # R36") for r in reasons)


def test_this_machine_is_a_generic_x86_cpu(profiles: Profiles):
    # the build machines are x86-64 boxes without an NPU or GPU
    assert detect_profile(probe(), profiles).profile.name == "x86-cpu"


def test_an_unknown_arm_board_fits_no_profile_and_says_so(tmp_path: Path, profiles: Profiles):
    root = fake_root(tmp_path, {"proc/cpuinfo": ARM_CPUINFO, "proc/device-tree/model": b"Pine64"})
    with pytest.raises(ProfileError, match=r"no device profile fits .*arch aarch64, model Pine64"):
        detect_profile(probe(root), profiles)


def test_probe_reads_the_facts(tmp_path: Path):
    root = fake_root(
        tmp_path,
        {
            **MACHINES["raspberry-pi-5"],
            "proc/asound/cards": " 0 [Device         ]: USB-Audio - USB PnP Sound Device\n"
            "                      C-Media Electronics Inc. USB PnP Sound Device at usb-xhci\n",
            "dev/video0": "",
        },
    )
    facts = probe(root)
    assert facts.arch == "aarch64"
    assert facts.cpu_count == 2
    assert facts.memory_mb == 8052
    assert facts.device_tree_model == "Raspberry Pi 5 Model B Rev 1.0"
    assert facts.sound_cards == ["USB-Audio - USB PnP Sound Device"]
    assert facts.video_devices == [str(root / "dev/video0")]
    assert facts.openvino_devices == []  # engines are only asked on the real machine


FPS_LINE = (REPO / "device_profiles/x86-cpu.yaml").read_text().splitlines().index("  fps: 15") + 1


def copy_profile(tmp_path: Path, name: str, change: tuple[str, str]) -> Path:
    directory = tmp_path / "profiles"
    directory.mkdir(exist_ok=True)
    text = (REPO / "device_profiles" / f"{name}.yaml").read_text()
    assert change[0] in text
    (directory / f"{name}.yaml").write_text(text.replace(*change))
    return directory


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("model: silero-vad,", "model: silero-vadd,"),
            "roles.vad.model: unknown model 'silero-vadd'; did you mean silero-vad",
        ),
        (
            ("model: silero-vad,", "model: whisper-tiny-en-ct2,"),
            "roles.vad.model: 'whisper-tiny-en-ct2' is a stt model, expected a vad model",
        ),
        (("  fps: 15", "  fps: fast"), f":{FPS_LINE}: camera.fps: Input should be a valid integer"),
        (("  detector: {", "  # detector: {"), "roles: every role needs a model; missing detector"),
        (("engine: llama_cpp", "engine: llama.cpp"), "roles.llm.engine: Input should be"),
    ],
)
def test_malformed_profile_is_one_precise_error(tmp_path, catalog, change, expected):
    directory = copy_profile(tmp_path, "x86-cpu", change)
    with pytest.raises(ConfigError) as error:
        Profiles.load(catalog, [directory])
    assert str(error.value).startswith(str(directory / "x86-cpu.yaml"))
    assert expected in str(error.value)


def test_unknown_profile_name_suggests(profiles: Profiles):
    with pytest.raises(ProfileError, match="unknown profile 'raspberry-pi'; did you mean"):
        profiles.get("raspberry-pi")
