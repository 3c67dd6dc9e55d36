"""The model store against a local fake hub and a local PyPI index driven by the real pip."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from edgeai.errors import DiskFullError, IntegrityError, ModelStoreError
from edgeai.models.catalog import ModelFile
from edgeai.models.manifest import Manifest
from edgeai.store import ModelStatus, ModelStore
from edgeai.store.files import write_verified
from tests.conftest import entry
from tests.fakes import FakeServer, add_to_index, closed_port, make_wheel

REVISION = "0123456789abcdef0123456789abcdef01234567"
WEIGHTS = os.urandom(300_000)
CONFIG = b'{"sample_rate": 16000}'


def hf_source(files: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "type": "huggingface",
        "repo": "acme/tiny-vad",
        "revision": REVISION,
        "files": files or {"model.onnx": "onnx/model.onnx", "config.json": "config.json"},
    }


def pypi_source() -> dict[str, Any]:
    return {
        "type": "pypi",
        "package": "tiny-vad-weights",
        "version": "1.0",
        "files": {"model.onnx": "tiny_vad/model.onnx", "config.json": "tiny_vad/config.json"},
    }


def publish_on_hub(hub: FakeServer, weights: bytes = WEIGHTS) -> None:
    hub.files[f"/acme/tiny-vad/resolve/{REVISION}/onnx/model.onnx"] = weights
    hub.files[f"/acme/tiny-vad/resolve/{REVISION}/config.json"] = CONFIG


def publish_on_index(index: FakeServer) -> None:
    files = {"tiny_vad/model.onnx": WEIGHTS, "tiny_vad/config.json": CONFIG}
    add_to_index(index, "tiny-vad-weights", *make_wheel("tiny-vad-weights", "1.0", files))


FILES = {"model.onnx": WEIGHTS, "config.json": CONFIG}


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != ".lock")


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "store")


def test_pull_from_hub_writes_verified_files_and_a_manifest(store: ModelStore, use_hub: FakeServer):
    publish_on_hub(use_hub)
    model = entry("tiny-vad", FILES, [hf_source()])

    result = store.pull(model, profiles=["x86-cpu"])

    assert result.source == f"huggingface:acme/tiny-vad@{REVISION[:10]}"
    assert (result.path / "model.onnx").read_bytes() == WEIGHTS
    assert (result.path / "config.json").read_bytes() == CONFIG
    manifest = Manifest.model_validate_json((result.path / "manifest.json").read_text())
    assert manifest.source.origin == result.source and manifest.profiles == ["x86-cpu"]
    assert manifest.files == model.files and manifest.engine == "onnxruntime"
    assert manifest.gate is None and manifest.usable
    assert store.status(model) is ModelStatus.PRESENT
    assert store.verify(model) == []
    assert leftovers(store.root) == ["tiny-vad"]


def test_second_pull_finds_the_model_present_and_downloads_nothing(store, use_hub):
    publish_on_hub(use_hub)
    model = entry("tiny-vad", FILES, [hf_source()])
    store.pull(model)
    requests_after_first = len(use_hub.requests)

    (store.model_dir(model) / "manifest.json").unlink()  # as if pulled by an older edgeai
    assert store.pull(model).source is None
    assert len(use_hub.requests) == requests_after_first
    assert (store.model_dir(model) / "manifest.json").is_file()


def test_sha256_mismatch_deletes_the_file_and_names_expected_and_got(store, use_hub):
    tampered = bytes(len(WEIGHTS))  # right size, wrong bytes
    publish_on_hub(use_hub, weights=tampered)
    model = entry("tiny-vad", FILES, [hf_source()])

    with pytest.raises(ModelStoreError) as error:
        store.pull(model)

    message = str(error.value)
    assert "sha256 mismatch" in message
    assert f"expected {model.files[0].sha256}" in message
    assert "got " in message and "\n" not in message
    assert leftovers(store.root) == []


def test_interrupted_download_leaves_nothing_and_the_next_source_is_tried(
    store, use_hub, index: FakeServer
):
    publish_on_hub(use_hub)
    use_hub.truncate.add(f"/acme/tiny-vad/resolve/{REVISION}/onnx/model.onnx")
    publish_on_index(index)
    model = entry("tiny-vad", FILES, [hf_source(), pypi_source()])

    result = store.pull(model)

    assert result.source == "pypi:tiny-vad-weights==1.0"
    assert store.verify(model) == []
    assert leftovers(store.root) == ["tiny-vad"]


def test_unreachable_sources_give_one_error_naming_each(store, monkeypatch, index):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    model = entry("tiny-vad", FILES, [hf_source(), pypi_source()])  # not on the index either

    with pytest.raises(ModelStoreError) as error:
        store.pull(model)

    message = str(error.value)
    assert message.startswith("could not pull tiny-vad:")
    assert "huggingface:acme/tiny-vad" in message and "ConnectError" in message
    assert "pypi:tiny-vad-weights==1.0: pip download failed" in message
    assert "\n" not in message
    assert leftovers(store.root) == []


def test_pull_from_a_wheel_reads_files_out_of_it(store, index):
    publish_on_index(index)
    model = entry("tiny-vad", FILES, [pypi_source()])

    result = store.pull(model)

    assert (result.path / "model.onnx").read_bytes() == WEIGHTS
    assert sorted(p.name for p in result.path.iterdir()) == [
        "config.json", "manifest.json", "model.onnx",
    ]  # fmt: skip
    assert any(r.startswith("/files/tiny_vad_weights-1.0") for r in index.requests)


def test_a_file_split_across_two_wheels_is_joined_in_order_and_checked_whole(store, index):
    half = len(WEIGHTS) // 2
    first = {"tiny_vad_1/model.onnx.part1": WEIGHTS[:half]}
    second = {"tiny_vad_2/model.onnx.part2": WEIGHTS[half:], "tiny_vad_2/config.json": CONFIG}
    add_to_index(index, "tiny-vad-1", *make_wheel("tiny-vad-1", "1.0", first))
    add_to_index(index, "tiny-vad-2", *make_wheel("tiny-vad-2", "1.0", second))
    source = {
        "type": "pypi", "package": "tiny-vad-1", "version": "1.0",
        "also": [{"package": "tiny-vad-2", "version": "1.0"}],
        "files": {
            "model.onnx": ["tiny_vad_1/model.onnx.part1", "tiny_vad_2/model.onnx.part2"],
            "config.json": "tiny_vad_2/config.json",
        },
    }  # fmt: skip
    result = store.pull(entry("tiny-vad", FILES, [source]))
    assert result.source == "pypi:tiny-vad-1==1.0+tiny-vad-2==1.0"
    assert (result.path / "model.onnx").read_bytes() == WEIGHTS
    assert (result.path / "config.json").read_bytes() == CONFIG

    swapped = {
        **source,
        "files": {**source["files"], "model.onnx": source["files"]["model.onnx"][::-1]},
    }
    with pytest.raises(ModelStoreError, match="sha256 mismatch"):
        ModelStore(store.root / "other").pull(entry("tiny-vad", FILES, [swapped]))


def test_wheel_without_the_file_is_a_clear_error(store, index):
    add_to_index(index, "tiny-vad-weights", *make_wheel("tiny-vad-weights", "1.0", {}))
    model = entry("tiny-vad", FILES, [pypi_source()])

    with pytest.raises(ModelStoreError, match=r"has no file tiny_vad/(model\.onnx|config\.json)"):
        store.pull(model)
    assert leftovers(store.root) == []


def test_offline_never_touches_the_network(store, use_hub):
    publish_on_hub(use_hub)
    model = entry("tiny-vad", FILES, [hf_source()])

    with pytest.raises(ModelStoreError, match="--offline forbids downloading"):
        store.pull(model, offline=True)
    assert use_hub.requests == []

    store.pull(model)
    requests = len(use_hub.requests)
    assert store.pull(model, offline=True).source is None
    assert len(use_hub.requests) == requests


def test_damaged_model_is_reported_and_replaced_by_pull(store, use_hub):
    publish_on_hub(use_hub)
    model = entry("tiny-vad", FILES, [hf_source()])
    store.pull(model)
    weights = store.model_dir(model) / "model.onnx"
    weights.write_bytes(WEIGHTS[:-1] + bytes([WEIGHTS[-1] ^ 1]))  # same size, one bit flipped

    assert store.status(model) is ModelStatus.PRESENT  # sizes still match
    assert any("sha256 mismatch" in p for p in store.verify(model))

    weights.write_bytes(b"short")
    assert store.status(model) is ModelStatus.DAMAGED

    store.pull(model)
    assert store.verify(model) == []


def test_not_enough_disk_space_fails_before_downloading(store, use_hub, monkeypatch):
    publish_on_hub(use_hub)
    model = entry("tiny-vad", FILES, [hf_source()])
    total, used, _ = shutil.disk_usage(store.root.parent)
    fake_usage = shutil._ntuple_diskusage(total, used, 1024)  # type: ignore[attr-defined]
    monkeypatch.setattr(shutil, "disk_usage", lambda _: fake_usage)

    with pytest.raises(DiskFullError, match=r"not enough space .* need \d+ MiB, 0 MiB free"):
        store.pull(model)
    assert use_hub.requests == []


def test_disk_filling_up_mid_write_removes_the_partial_file(tmp_path: Path):
    expected = ModelFile(name="model.onnx", sha256="0" * 64, size_bytes=10)

    def chunks():
        yield b"12345"
        raise OSError(errno.ENOSPC, "No space left on device")

    dest = tmp_path / "model.onnx"
    with pytest.raises(DiskFullError, match="disk full while writing"):
        write_verified(chunks(), dest, expected, label="test")
    assert not dest.exists()


def test_a_source_sending_more_than_expected_is_cut_off(tmp_path: Path):
    expected = ModelFile(name="model.onnx", sha256="0" * 64, size_bytes=4)
    dest = tmp_path / "model.onnx"
    with pytest.raises(IntegrityError, match="more than the expected 4 bytes"):
        write_verified(iter([b"123", b"456"]), dest, expected, label="test")
    assert not dest.exists()


def test_leftovers_of_a_killed_pull_are_cleaned_up(store, use_hub):
    publish_on_hub(use_hub)
    (store.root / ".pull-tiny-vad-abc123").mkdir(parents=True)
    (store.root / ".pull-tiny-vad-abc123" / "model.onnx").write_bytes(b"half")

    store.pull(entry("tiny-vad", FILES, [hf_source()]))

    assert leftovers(store.root) == ["tiny-vad"]


def test_a_model_is_hashed_before_it_loads_and_again_only_when_it_changes(
    store, use_hub, monkeypatch
):
    import edgeai.store.verified as verified

    publish_on_hub(use_hub)
    model = entry("tiny-vad", FILES, [hf_source()])
    store.pull(model)
    hashed: list[str] = []
    real = verified.verify_file

    def counting(path: Path, expected: ModelFile) -> None:
        hashed.append(path.name)
        real(path, expected)

    monkeypatch.setattr(verified, "verify_file", counting)
    assert store.require(model) == store.model_dir(model)
    assert sorted(hashed) == ["config.json", "model.onnx"]
    ModelStore(store.root).require(model)  # a restart: the record on disk is trusted
    assert len(hashed) == 2
    weights = store.model_dir(model) / "model.onnx"
    stamp = weights.stat()
    weights.write_bytes(WEIGHTS[:-1] + bytes([WEIGHTS[-1] ^ 1]))  # same size, one bit flipped
    os.utime(weights, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # and the old mtime
    with pytest.raises(ModelStoreError, match=r"tiny-vad in the store is damaged.*sha256"):
        ModelStore(store.root).require(model)
    assert hashed[-1] == "model.onnx"
    store.pull(model)
    assert ModelStore(store.root).require(model) == store.model_dir(model)


def test_an_sdist_is_refused_unless_its_sha256_is_the_pinned_one(tmp_path: Path, monkeypatch):
    import tarfile

    from edgeai.errors import ExportError
    from edgeai.export import sdist

    archive = tmp_path / "pywhispercpp-1.5.1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(__file__, arcname="pywhispercpp-1.5.1/whisper.cpp/models/convert.py")
    monkeypatch.setattr(sdist, "pip_download", lambda *args, **kwargs: archive)
    with pytest.raises(ExportError, match=r"sha256 .* expected .*: refused, not opened"):
        sdist.sdist_tree("pywhispercpp", "whisper.cpp/", ("models/",), tmp_path, "x.py")
    assert not list(tmp_path.glob("pywhispercpp-1.5.1-*/models"))


def test_sdist_members_that_climb_out_are_refused_and_links_skipped(tmp_path: Path):
    import io
    import tarfile

    from edgeai.errors import ExportError
    from edgeai.export.sdist import _extract

    def archive(*members: tarfile.TarInfo) -> Path:
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.tar"
        with tarfile.open(path, "w") as tar:
            for member in members:
                tar.addfile(member, io.BytesIO(b"x" * member.size))
        return path

    def file(name: str) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = 1
        return info

    link = tarfile.TarInfo("p/vendor/tools/link.py")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    into = tmp_path / "into"
    into.mkdir()
    _extract(archive(file("p/vendor/tools/ok.py"), link), "vendor/", ("tools/",), into)
    assert sorted(p.name for p in (into / "tools").iterdir()) == ["ok.py"]
    climbing = archive(file("p/vendor/tools/../../../escaped.py"))
    with pytest.raises(ExportError, match="points outside"):
        _extract(climbing, "vendor/", ("tools/",), into)
    assert not (tmp_path / "escaped.py").exists()
