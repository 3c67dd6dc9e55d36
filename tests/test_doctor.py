"""`edgeai doctor` checks against fake machines: each line OK, or what to do."""

from __future__ import annotations

from pathlib import Path

from edgeai.config import Config
from edgeai.device.host import probe
from edgeai.device.profiles import Profiles
from edgeai.doctor import Check, Level, run_checks
from edgeai.errors import ConfigError
from edgeai.models.catalog import Catalog, ModelFile
from edgeai.models.manifest import Gate, catalog_manifest, write_manifest
from edgeai.store.files import hash_file
from tests.test_profiles import MACHINES, fake_root


def checks_for(tmp_path: Path, machine: dict[str, str | bytes], config: Config) -> dict[str, Check]:
    catalog = Catalog.load()
    facts = probe(fake_root(tmp_path, machine))
    return {c.topic: c for c in run_checks(config, None, facts, catalog, Profiles.load(catalog))}


def test_jetson_without_the_gpu_build_of_onnxruntime_is_warned(tmp_path: Path):
    checks = checks_for(tmp_path, MACHINES["jetson-orin-nano"], Config())
    assert checks["profile"].detail.startswith("jetson-orin-nano")
    cuda = checks["onnxruntime CUDAExecutionProvider"]
    assert cuda.level is Level.WARN
    assert "onnxruntime-gpu" in cuda.fix


def test_npu_box_without_openvino_npu_device_is_warned(tmp_path: Path):
    checks = checks_for(tmp_path, MACHINES["intel-core-ultra-npu"], Config())
    assert checks["openvino NPU"].level is Level.WARN
    assert "linux-npu-driver" in checks["openvino NPU"].fix
    assert checks["cpu"].level is Level.OK  # it has AVX2


def test_unknown_board_fails_the_profile_check_with_a_fix(tmp_path: Path):
    machine = {"proc/cpuinfo": MACHINES["raspberry-pi-5"]["proc/cpuinfo"]}
    checks = checks_for(tmp_path, machine, Config())
    assert checks["profile"].level is Level.FAIL
    assert "profile:" in checks["profile"].fix
    assert not [t for t in checks if t.startswith("model ") and t != "model store"]


def test_sound_card_and_camera_found(tmp_path: Path):
    machine = {
        **MACHINES["raspberry-pi-5"],
        "proc/asound/cards": " 0 [Device         ]: USB-Audio - USB PnP Sound Device\n",
    }
    camera = tmp_path / "video0"
    camera.write_bytes(b"")
    checks = checks_for(
        tmp_path, machine, Config.model_validate({"camera": {"device": str(camera)}})
    )
    assert checks["audio"] == Check("audio", Level.OK, "USB-Audio - USB PnP Sound Device")
    assert checks["camera"].level is Level.OK


def test_missing_camera_is_a_warning_naming_the_device(tmp_path: Path):
    checks = checks_for(tmp_path, MACHINES["raspberry-pi-5"], Config())
    assert checks["camera"].level is Level.WARN
    assert "no camera at /dev/video0" in checks["camera"].detail


def test_unwritable_store_fails(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    config = Config.model_validate({"models": {"store": str(blocker / "models")}})
    checks = checks_for(tmp_path, MACHINES["raspberry-pi-5"], config)
    assert checks["model store"].level is Level.FAIL


def test_doctor_names_the_artifact_a_role_loads_and_warns_of_one_that_failed_its_gate(
    tmp_path: Path, edgeai_home: Path
):
    def artifact(target: str, value: float) -> None:
        folder = edgeai_home / "artifacts" / "voice" / target
        folder.mkdir(parents=True)
        (folder / "model.onnx").write_bytes(b"weights of " + target.encode())
        size, digest = hash_file(folder / "model.onnx")
        manifest = catalog_manifest(Catalog.load().get("piper-en-us-joe-medium"), None, [])
        write_manifest(
            folder,
            manifest.model_copy(
                update={
                    "recipe": "voice",
                    "target": target,
                    "profiles": ["raspberry-pi-5"],
                    "files": [ModelFile(name="model.onnx", sha256=digest, size_bytes=size)],
                    "gate": Gate(
                        metric="wer",
                        reference=0.08,
                        value=value,
                        max_drop=0.02,
                        higher_is_better=False,
                    ),
                }
            ),
        )

    artifact("int8", 0.09)
    artifact("int4", 0.30)
    catalog = Catalog.load()
    facts = probe(fake_root(tmp_path, MACHINES["raspberry-pi-5"]))
    checks = run_checks(Config(), None, facts, catalog, Profiles.load(catalog))
    assert [f"{c.level.value} {c.detail}" for c in checks if c.topic == "artifact tts"] == [
        "ok voice/int8 (onnx fp32) instead of piper-en-us-joe-medium",
        "warn voice/int4 failed its gate (wer 0.3 vs 0.08)",
    ]


def test_doctor_names_the_export_a_profile_is_meant_to_run_where_none_was_made(tmp_path: Path):
    checks = checks_for(tmp_path, MACHINES["raspberry-pi-5"], Config())
    detector = checks["artifact detector"]
    assert detector.level is Level.OK
    assert "`edgeai export yolov8-fall --profile raspberry-pi-5`" in detector.detail
    assert "the catalog yolov8-fall-fp16 runs" in detector.detail
    assert "artifact vad" not in checks, "Silero VAD has no export path"


def test_a_damaged_export_recipe_is_one_warning_and_the_other_checks_still_run(
    tmp_path: Path, monkeypatch
):
    from edgeai import doctor

    def damaged(profiles: Profiles) -> list[object]:
        raise ConfigError("export/yolov8-fall.yaml:3: targets: expected a list")

    monkeypatch.setattr(doctor, "role_recipes", damaged)
    checks = checks_for(tmp_path, MACHINES["raspberry-pi-5"], Config())
    assert checks["export recipes"].level is Level.WARN
    assert "yolov8-fall.yaml:3" in checks["export recipes"].detail
    assert "camera" in checks and "artifact detector" not in checks


def test_remote_stages_are_checked_for_a_listener(tmp_path: Path):
    import socket

    from tests.test_mqtt import free_port

    listening = socket.create_server(("127.0.0.1", 0))
    try:
        config = Config.model_validate(
            {
                "remote": {
                    "stt": {"url": f"tcp://127.0.0.1:{listening.getsockname()[1]}"},
                    "llm": {"url": f"http://127.0.0.1:{free_port()}/v1"},
                }
            }
        )
        checks = checks_for(tmp_path, MACHINES["raspberry-pi-5"], config)
    finally:
        listening.close()
    assert checks["remote stt"].level is Level.OK
    llm = checks["remote llm"]
    assert llm.level is Level.WARN and "refused" in llm.detail.lower()
    assert "local model answers" in llm.fix
    assert "remote tts" not in checks


def test_an_unreachable_home_assistant_is_warned(tmp_path: Path):
    from tests.test_mqtt import free_port

    url = f"http://127.0.0.1:{free_port()}"
    config = Config.model_validate(
        {"home_assistant": {"url": url, "token": "a-secret", "timeout_s": 1.0}}
    )
    check = checks_for(tmp_path, MACHINES["raspberry-pi-5"], config)["home assistant"]
    assert check.level is Level.WARN and check.detail.startswith(url)
    assert "home_assistant.url" in check.fix and "a-secret" not in check.detail


def test_a_config_holding_secrets_readable_by_every_user_is_warned(tmp_path: Path):
    from click.testing import CliRunner

    from edgeai.cli.main import cli
    from edgeai.config import load_config

    path = tmp_path / "edgeai.yaml"
    path.write_text("profile: x86-cpu\nmqtt:\n  password: hunter2\n")
    path.chmod(0o644)
    config, _ = load_config(path)
    machine = MACHINES["raspberry-pi-5"]
    catalog = Catalog.load()
    facts = probe(fake_root(tmp_path, machine))
    checks = {c.topic: c for c in run_checks(config, path, facts, catalog, Profiles.load(catalog))}
    warned = checks["config"]
    assert warned.level is Level.WARN and "mqtt.password" in warned.detail
    assert "hunter2" not in warned.detail and "chmod 640" in warned.fix
    checked = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert checked.exit_code == 0 and "every local user can read it" in checked.output
    path.chmod(0o640)
    checks = {c.topic: c for c in run_checks(config, path, facts, catalog, Profiles.load(catalog))}
    assert checks["config"].level is Level.OK
    assert "warning" not in CliRunner().invoke(cli, ["config", "check", str(path)]).output
