"""`edgeai doctor`: is this machine ready to run edgeai, and if not, what to do about it."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import sys
from dataclasses import dataclass
from enum import Enum
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from packaging.requirements import Requirement

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.audio.microphone import import_sounddevice
from edgeai.config import Config
from edgeai.device.artifacts import RUNTIME_ENGINES, ArtifactIndex
from edgeai.device.detection import detect_profile
from edgeai.device.host import HostFacts
from edgeai.device.profiles import Profile, Profiles
from edgeai.ears.delay import PlayRecord, measure_echo_delay
from edgeai.ears.echo import load_audio_processing, load_linear_canceller
from edgeai.errors import AudioError, EdgeAIError
from edgeai.export.coverage import RoleRecipe, role_recipes
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStatus, ModelStore

MIN_PYTHON = (3, 10)
LOW_DISK_BYTES = 1 << 30
REMOTE_PROBE_S = 2.0


class Level(str, Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    topic: str
    level: Level
    detail: str
    fix: str = ""
    """What to do about a warning or failure."""


def run_checks(
    config: Config,
    config_path: Path | None,
    facts: HostFacts,
    catalog: Catalog,
    profiles: Profiles,
    play_record: PlayRecord | None = None,
) -> list[Check]:
    """`play_record` stands in for the speaker and microphone (default: the config's devices)."""
    checks = [_python(), *_packages(), _config(config, config_path)]
    profile, profile_check = _profile(config, facts, profiles)
    checks.append(profile_check)
    store = ModelStore(config.models.store_path())
    checks.append(_store(store.root))
    if profile is not None:
        checks.extend(_models(profile, catalog, store))
        try:
            recipes = role_recipes(profiles)
        except EdgeAIError as e:  # a damaged install: say so, and check the rest
            recipes = []
            checks.append(Check("export recipes", Level.WARN, str(e), "reinstall edgeai"))
        checks.extend(_artifacts(profile, ArtifactIndex.load(), recipes))
        checks.extend(_accelerators(profile, facts))
    checks.extend([_cpu(facts), _audio(facts), _echo(config, facts, play_record)])
    checks.append(_camera(config, facts))
    checks.extend(_remote_stages(config))
    checks.extend(_home_assistant(config))
    return checks


def _python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return Check("python", Level.FAIL, version, "install Python 3.10 or newer")
    return Check("python", Level.OK, f"{version} ({sys.executable})")


def _packages() -> list[Check]:
    """Each runtime requirement of the installed edgeai distribution, installed and in range."""
    checks = []
    for line in metadata.requires("edgeai") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an extra's requirement
        fix = f"pip install '{requirement}'"
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            checks.append(Check(f"package {requirement.name}", Level.FAIL, "not installed", fix))
            continue
        if requirement.specifier and version not in requirement.specifier:
            detail = f"{version} installed, {requirement.specifier} required"
            checks.append(Check(f"package {requirement.name}", Level.FAIL, detail, fix))
        else:
            checks.append(Check(f"package {requirement.name}", Level.OK, version))
    return checks


def _config(config: Config, path: Path | None) -> Check:
    if path is None:
        return Check("config", Level.OK, "no config file; built-in defaults")
    exposed = secrets_exposed(config, path)
    if exposed is not None:
        return Check("config", Level.WARN, exposed, SECRETS_FIX)
    return Check("config", Level.OK, f"{path} is valid")


SECRETS_FIX = "chown root:edgeai FILE && chmod 640 FILE"


def secrets_exposed(config: Config, path: Path) -> str | None:
    """Why `path` leaks its secrets, when it holds some and every local user may read it."""
    held = config.secrets_set()
    if not held or not path.stat().st_mode & stat.S_IROTH:
        return None
    return f"{path} holds {', '.join(held)} and every local user can read it"


def _profile(config: Config, facts: HostFacts, profiles: Profiles) -> tuple[Profile | None, Check]:
    try:
        if config.profile != "auto":
            profile = profiles.get(config.profile)
            return profile, Check("profile", Level.OK, f"{profile.name} (from the config)")
        detection = detect_profile(facts, profiles)
    except EdgeAIError as e:
        return None, Check("profile", Level.FAIL, str(e), "set `profile:` in the config")
    why = "; ".join(detection.reasons)
    return detection.profile, Check("profile", Level.OK, f"{detection.profile.name} ({why})")


def _store(root: Path) -> Check:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return Check("model store", Level.FAIL, f"{root}: {e.strerror}", "set models.store")
    if not os.access(root, os.W_OK):
        return Check("model store", Level.FAIL, f"{root} is not writable", "fix its owner")
    free = shutil.disk_usage(root).free
    detail = f"{root} ({free >> 20} MiB free)"
    if free < LOW_DISK_BYTES:
        return Check("model store", Level.WARN, detail, "free disk space: models need ~300 MiB")
    return Check("model store", Level.OK, detail)


def _models(profile: Profile, catalog: Catalog, store: ModelStore) -> list[Check]:
    checks = []
    for name in profile.default_models():
        status = store.status(catalog.get(name))
        if status is ModelStatus.PRESENT:
            checks.append(Check(f"model {name}", Level.OK, "present (sizes checked)"))
        else:
            fix = "run `edgeai models pull --defaults`"
            checks.append(Check(f"model {name}", Level.FAIL, status.value, fix))
    return checks


def _artifacts(profile: Profile, index: ArtifactIndex, recipes: list[RoleRecipe]) -> list[Check]:
    """Which exported artifact each role loads instead of its catalog model, or the export that
    would make the one this profile is meant to run (the int8 detector takes half the camera
    loop's CPU on x86-cpu); and artifacts meant for this profile that failed their accuracy gate
    (kept, never loaded)."""
    checks = []
    for role, assignment in profile.roles.items():
        chosen = index.pick(profile.name, role, assignment.model, RUNTIME_ENGINES[role])
        if chosen is not None:
            m = chosen.manifest
            detail = f"{m.name} ({m.format} {m.precision}) instead of {assignment.model}"
            checks.append(Check(f"artifact {role}", Level.OK, detail))
            continue
        if any(a.manifest.role == role and profile.name in a.manifest.profiles for a in index):
            continue  # made, but not usable: the gate's warning below says why
        for recipe in recipes:
            if recipe.model == assignment.model and profile.name in recipe.profiles:
                detail = (
                    f"none yet: the catalog {assignment.model} runs; `edgeai export "
                    f"{recipe.recipe} --profile {profile.name}` makes what {profile.name} loads "
                    "in its place"
                )
                checks.append(Check(f"artifact {role}", Level.OK, detail))
    for artifact in index:
        m = artifact.manifest
        if profile.name in m.profiles and m.gate is not None and not m.gate.passed:
            detail = (
                f"{m.name} failed its gate ({m.gate.metric} {m.gate.value} vs {m.gate.reference})"
            )
            fix = f"re-export it, or delete {artifact.folder}"
            checks.append(Check(f"artifact {m.role}", Level.WARN, detail, fix))
    return checks


def _accelerators(profile: Profile, facts: HostFacts) -> list[Check]:
    checks = []
    wanted = [p for p in profile.engines.onnxruntime.providers if p != "CPUExecutionProvider"]
    for provider in wanted:
        if provider in facts.onnxruntime_providers:
            checks.append(Check(f"onnxruntime {provider}", Level.OK, "available"))
        else:
            checks.append(
                Check(
                    f"onnxruntime {provider}",
                    Level.WARN,
                    "not available: models placed there run on the CPU",
                    "install the onnxruntime build for this device (onnxruntime-gpu on Jetson)",
                )
            )
    device = profile.engines.openvino.device
    if device != "CPU" and device not in facts.openvino_devices:
        checks.append(
            Check(
                f"openvino {device}",
                Level.WARN,
                f"not available (OpenVINO sees {', '.join(facts.openvino_devices) or 'nothing'})",
                "install the device driver (linux-npu-driver for the Intel NPU)",
            )
        )
    if not wanted and device == "CPU":
        seen = ", ".join(facts.openvino_devices) or "none"
        checks.append(Check("accelerators", Level.OK, f"none needed (OpenVINO devices: {seen})"))
    return checks


def _remote_stages(config: Config) -> list[Check]:
    """Can this machine reach the stages it hands to others? (A connection, nothing sent.)"""
    checks = []
    for role, stage in config.remote.stages():
        address = urlparse(stage.url)
        port = address.port or (443 if address.scheme == "https" else 80)
        topic = f"remote {role}"
        try:
            socket.create_connection((address.hostname, port), timeout=REMOTE_PROBE_S).close()
        except OSError as e:
            why = e.strerror or str(e) or "no answer"
            fix = "start it, or fix remote." + role + ".url; until then the local model answers"
            checks.append(Check(topic, Level.WARN, f"{stage.url}: {why}", fix))
            continue
        checks.append(Check(topic, Level.OK, f"{stage.url} reachable"))
    return checks


def _home_assistant(config: Config) -> list[Check]:
    """Does Home Assistant answer, and take the token? (GET /api/: nothing is switched.)"""
    from edgeai.voice.home_assistant import HomeAssistant

    settings = config.home_assistant
    if settings is None:
        return []
    home = HomeAssistant(settings)
    try:
        if home.check():
            return [Check("home assistant", Level.OK, f"{settings.url} answers, token accepted")]
    finally:
        home.close()
    fix = (
        "start it, or fix home_assistant.url or .token; until then device requests are "
        "answered that Home Assistant cannot be reached"
    )
    detail = f"{settings.url}: {home.circuit.last_failure}"
    return [Check("home assistant", Level.WARN, detail, fix)]


def _cpu(facts: HostFacts) -> Check:
    detail = f"{facts.cpu_model or 'unknown CPU'}, {facts.cpu_count} CPUs, {facts.arch}"
    if facts.arch == "x86_64" and "avx2" not in facts.cpu_flags:
        return Check("cpu", Level.WARN, f"{detail}, no AVX2", "expect slow inference")
    return Check("cpu", Level.OK, detail)


def _audio(facts: HostFacts) -> Check:
    if not facts.sound_cards:
        return Check(
            "audio",
            Level.WARN,
            "no sound card found (/proc/asound/cards)",
            "plug in a USB microphone and speaker, or use file sources",
        )
    return Check("audio", Level.OK, ", ".join(facts.sound_cards))


def _echo(config: Config, facts: HostFacts, play_record: PlayRecord | None) -> Check:
    """Is echo cancellation on, and how late does the speaker reach the microphone? (A second
    of quiet noise is played and recorded to tell.)"""
    settings = config.echo
    if not settings.enabled:
        return Check(
            "echo cancellation",
            Level.WARN,
            "off (echo.enabled: false): edgeai's own replies can wake or stop it",
            "set echo.enabled: true, or use headphones or an echo-cancelling microphone",
        )
    try:
        load_audio_processing(settings)
        load_linear_canceller()
    except (AudioError, RuntimeError) as e:
        fix = "apt-get install libspeexdsp1; pip install 'livekit>=1.2'"
        return Check("echo cancellation", Level.FAIL, str(e), fix)
    if play_record is None and not facts.sound_cards:
        return Check(
            "echo cancellation",
            Level.WARN,
            "on, but no speaker reference: no sound card, the microphone passes through",
            "plug in a USB speaker and microphone",
        )
    record = play_record or _play_record(config)
    try:
        delay = measure_echo_delay(record, settings.max_delay_ms / 1000)
    except AudioError as e:
        return Check("echo cancellation", Level.WARN, f"on; delay not measured: {e}", "")
    if delay is None:
        return Check(
            "echo cancellation",
            Level.WARN,
            "on, but the microphone did not hear the speaker: it passes through",
            "check the speaker's volume and audio.output_device (or headphones: nothing to do)",
        )
    return Check(
        "echo cancellation",
        Level.OK,
        f"on (WebRTC AEC3, speex for the wake words); speaker to microphone {delay.ms:.0f} ms",
    )


def _play_record(config: Config) -> PlayRecord:
    """The config's speaker and microphone, both at 16 kHz (PortAudio resamples if it must)."""

    def play_record(audio: np.ndarray) -> np.ndarray:
        sounddevice = import_sounddevice()
        devices = (config.audio.input_device, config.audio.output_device)
        try:
            recorded = sounddevice.playrec(
                audio, SAMPLE_RATE_HZ, channels=1, dtype="float32", device=devices, blocking=True
            )
        except (sounddevice.PortAudioError, ValueError) as e:
            raise AudioError(f"cannot play and record on {devices}: {e}") from None
        return np.asarray(recorded, np.float32).reshape(-1)

    return play_record


def _camera(config: Config, facts: HostFacts) -> Check:
    device = config.camera.device
    if "://" in device:
        return Check("camera", Level.OK, f"stream {device} (checked when the camera loop starts)")
    if Path(device).exists():
        return Check("camera", Level.OK, device)
    found = ", ".join(facts.video_devices) or "none"
    return Check(
        "camera",
        Level.WARN,
        f"no camera at {device} (video devices: {found})",
        "plug in a camera, or set camera.device to a stream URL or file",
    )
