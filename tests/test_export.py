"""The export toolchain: recipes, conversions, accuracy gates, manifests, and the runtime's pick."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from edgeai.cli.main import cli
from edgeai.config import Config
from edgeai.device.artifacts import ArtifactIndex, role_model
from edgeai.device.profiles import Profiles, RoleAssignment
from edgeai.errors import ConfigError, ExportError, ModelLoadError
from edgeai.export import onnx_convert
from edgeai.export.classifier import export_classifier
from edgeai.export.common import ExportContext
from edgeai.export.coverage import role_recipes
from edgeai.export.detection_metrics import box_agreement, mean_average_precision
from edgeai.export.detector import export_detector
from edgeai.export.hub_checkpoint import fetch_checkpoint
from edgeai.export.llm import export_llm
from edgeai.export.recipe import (
    ClassifierRecipe,
    DetectorRecipe,
    HubFile,
    HubSource,
    LlmRecipe,
    LlmTarget,
    SourceSpec,
    SttRecipe,
    SttTarget,
    TtsRecipe,
    TtsTarget,
    load_recipe,
    recipe_path,
)
from edgeai.export.stt import export_stt
from edgeai.export.tts import export_tts
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.models.catalog import Catalog
from edgeai.models.manifest import Gate
from edgeai.store import ModelStore
from edgeai.synthetic.people_images import FALLEN, UPRIGHT, labelled_people_images
from edgeai.vision.build import default_detector, load_detector
from edgeai.vision.detection import Box, Detection
from edgeai.vision.yolo import YoloDetector
from edgeai.voice.llm import LocalLLM
from edgeai.voice.stt import load_stt
from edgeai.voice.stt.whisper_cpp import WhisperCppSTT
from edgeai.voice.tts import PiperTTS
from tests.conftest import REPO, assert_png, speak
from tests.fakes import FakeServer

REAL_SOURCE_SHA = "eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7"


def det(label: str, x1: float, y1: float, x2: float, y2: float, score: float = 0.9) -> Detection:
    return Detection(label, score, Box(x1, y1, x2, y2))


# --- measures -------------------------------------------------------------------------------


def test_map_is_one_for_exact_boxes_and_falls_with_misses_and_false_boxes():
    truth = [[("person", Box(0, 0, 10, 20))], [("person", Box(50, 50, 70, 90))]]
    exact = [[det("person", 0, 0, 10, 20)], [det("person", 50, 50, 70, 90)]]
    assert mean_average_precision(exact, truth)[0] == pytest.approx(1.0)

    one_missed = [[det("person", 0, 0, 10, 20)], []]
    assert mean_average_precision(one_missed, truth)[0] == pytest.approx(0.5)

    # a confident box where nobody is, ranked above the right ones, costs precision
    false_first = [[det("person", 0, 0, 10, 20, 0.5), det("person", 100, 100, 120, 140)], exact[1]]
    assert 0.5 < mean_average_precision(false_first, truth)[0] < 1.0

    wrong_class = [[det("fall", 0, 0, 10, 20)], [det("fall", 50, 50, 70, 90)]]
    mean, per_class = mean_average_precision(wrong_class, truth)
    assert mean == 0.0 and per_class == {"person": 0.0}


def test_box_agreement_counts_matching_boxes_of_the_same_class():
    reference = [[det("a", 0, 0, 10, 10), det("a", 20, 20, 30, 30)]]
    assert box_agreement(reference, reference) == 1.0
    assert box_agreement([[det("a", 0, 0, 10, 10)]], reference) == pytest.approx(2 / 3)
    assert box_agreement([[det("b", 0, 0, 10, 10)]], [[det("a", 0, 0, 10, 10)]]) == 0.0
    assert box_agreement([[]], [[]]) == 1.0


def test_gate_says_by_how_much_an_artifact_fails():
    gate = Gate(metric="map50", reference=0.80, value=0.77, max_drop=0.01)
    assert not gate.passed and gate.shortfall == pytest.approx(0.02)
    assert Gate(metric="map50", reference=0.80, value=0.795, max_drop=0.01).passed
    wer = Gate(metric="wer", reference=0.10, value=0.12, max_drop=0.01, higher_is_better=False)
    assert not wer.passed and wer.shortfall == pytest.approx(0.01)


def test_labelled_pictures_are_repeatable_per_seed_and_boxes_lie_in_the_picture():
    first = list(labelled_people_images(12, seed=3))
    again = list(labelled_people_images(12, seed=3))
    other = list(labelled_people_images(12, seed=4))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a.image, b.image) for a, b in zip(first, other, strict=True))
    postures = {p for picture in first + other for p in picture.postures}
    assert postures == {UPRIGHT, FALLEN}
    for picture in first:
        assert picture.image.shape == (480, 640, 3)
        assert len(picture.boxes) == len(picture.postures)
        if len(picture.boxes):
            assert (picture.boxes[:, :2] >= 0).all() and (picture.boxes[:, 2] <= 640).all()
            assert (picture.boxes[:, 2:] > picture.boxes[:, :2]).all()


# --- recipes --------------------------------------------------------------------------------


def test_bundled_recipes_load_and_an_unknown_kind_names_the_supported_ones(tmp_path: Path):
    detector = load_recipe(recipe_path("yolov8-fall"))
    assert isinstance(detector, DetectorRecipe)
    assert detector.source.sha256 == REAL_SOURCE_SHA
    for name in ("wakeword-hey-jarvis", "wakeword-stop"):
        assert load_recipe(recipe_path(name)).kind == "wakeword"

    odd = tmp_path / "odd.yaml"
    odd.write_text("kind: segmenter\nname: x\n")
    with pytest.raises(
        ConfigError, match="'classifier', 'detector', 'llm', 'stt', 'tts', 'wakeword'"
    ):
        load_recipe(odd)
    with pytest.raises(ConfigError, match="no recipe 'nope'"):
        recipe_path("nope")

    both = tmp_path / "both.yaml"
    text = (REPO / "export" / "yolov8-fall.yaml").read_text()
    both.write_text(text.replace("  model: yolov8-fall-fp16\n", "  model: x\n  path: /m.onnx\n"))
    with pytest.raises(ConfigError, match="exactly one of model"):
        load_recipe(both)


# --- the mechanics of every conversion on a tiny random detector ----------------------------


def tiny_detector(path: Path, size: int = 64, weights: type = np.float32) -> str:
    """A random YOLO-shaped ONNX model: (1, 3, S, S) in, (1, 4 + 2, anchors) out, class names in
    its metadata. Returns its sha256."""
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.3, (8, 3, 3, 3)).astype(weights)
    w2 = rng.normal(0, 0.3, (6, 8, 1, 1)).astype(weights)
    anchors = (size // 2) ** 2
    nodes = [
        helper.make_node(
            "Conv",
            ["images", "w1"],
            ["c1"],
            "/model.0/conv/Conv",
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Sigmoid", ["c1"], ["s1"], "/model.0/act/Sigmoid"),
        helper.make_node("Mul", ["c1", "s1"], ["a1"], "/model.0/act/Mul"),
        helper.make_node("Conv", ["a1", "w2"], ["c2"], "/model.22/cv2.0/cv2.0.2/Conv"),
        helper.make_node("Reshape", ["c2", "shape"], ["flat"], "/model.22/Reshape"),
        helper.make_node("Sigmoid", ["flat"], ["squashed"], "/model.22/Sigmoid"),
        helper.make_node("Mul", ["squashed", "scale"], ["output0"], "/model.22/Mul"),
    ]
    scale = np.array([size, size, size / 2, size / 2, 1, 1], np.float32).reshape(1, 6, 1)
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 6, anchors])],
        [
            numpy_helper.from_array(w1, "w1"),
            numpy_helper.from_array(w2, "w2"),
            numpy_helper.from_array(np.array([1, 6, anchors], np.int64), "shape"),
            numpy_helper.from_array(scale, "scale"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, {"names": "{0: 'Normal', 1: 'Fall'}"})
    onnx.save(model, str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_recipe(path: Path, sha256: str, **changes: object) -> DetectorRecipe:
    data: dict[str, object] = {
        "kind": "detector",
        "name": "tiny",
        "source": {"path": str(path), "sha256": sha256},
        "classes": {"upright": "Normal", "fallen": "Fall"},
        "keep_float": [r"^/model\.22/(?!cv[23]\.)"],
        "calibration": {"synthetic": 4, "seed": 1},
        "evaluation": {"synthetic": 4, "seed": 2},
        "held_out": {"pictures": 4, "seed": 3},
        "gate": {"max_map_drop": 1.0},
        "targets": [
            {"name": "int8", "format": "onnx", "precision": "int8", "profiles": ["x86-cpu"]},
            {
                "name": "fp16",
                "format": "onnx",
                "precision": "fp16",
                "profiles": ["jetson-orin-nano"],
            },
            {"name": "fp32", "format": "onnx", "precision": "fp32"},
            {"name": "ov-fp16", "format": "openvino", "precision": "fp16", "profiles": ["x86-cpu"]},
            {
                "name": "ov-int8",
                "format": "openvino",
                "precision": "int8",
                "profiles": ["intel-core-ultra-npu"],
            },
        ],
    }
    data.update(changes)
    return DetectorRecipe.model_validate(data)


def context(store: ModelStore, catalog: Catalog, profiles: Profiles, out: Path) -> ExportContext:
    return ExportContext(store, catalog, profiles, profiles.get("x86-cpu"), out)


def test_every_conversion_of_a_tiny_detector_gets_a_manifest_and_loads(
    tmp_path: Path, catalog: Catalog, profiles: Profiles
):
    source = tmp_path / "tiny.onnx"
    recipe = tiny_recipe(source, tiny_detector(source))
    out = tmp_path / "artifacts"
    manifests = export_detector(recipe, context(ModelStore(tmp_path / "s"), catalog, profiles, out))

    assert [m.target for m in manifests] == ["int8", "fp16", "fp32", "ov-fp16", "ov-int8"]
    for m in manifests:
        folder = out / "tiny" / m.target
        written = json.loads((folder / "manifest.json").read_text())
        assert written["source"]["sha256"] == recipe.source.sha256
        assert written["gate"]["metric"] == "map50" and m.usable
        assert m.latency_ms and m.latency_ms > 0 and m.reference_latency_ms
        assert set(m.accuracy) >= {"map50", "reference_map50", "box_agreement"}
        assert set(m.accuracy) >= {"held_out_map50", "reference_held_out_map50"}
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["manifest.json", *(f.name for f in m.files)]
        )
        role = RoleAssignment(model="tiny", engine=m.engine, threads=1)
        loaded = load_detector(folder / m.files[0].name, role, profiles.get("x86-cpu"))
        assert isinstance(loaded, YoloDetector) and loaded.labels == ("Normal", "Fall")
    by_target = {m.target: m for m in manifests}
    assert by_target["ov-fp16"].files[0].name == "model.xml"
    assert [f.name for f in by_target["ov-fp16"].files] == ["model.xml", "model.bin"]
    assert by_target["ov-int8"].engine == "openvino" and by_target["int8"].engine == "onnxruntime"
    assert not list(out.glob("tiny/.partial-*"))

    index = ArtifactIndex.load(out)
    assert index.pick("x86-cpu", "detector", "anything") is None  # made from a file, not a model
    listed = CliRunner().invoke(cli, ["export", "list", "--out", str(out)])
    assert listed.exit_code == 0, listed.output
    assert "tiny/int8" in listed.output and "usable" in listed.output


def test_a_failing_gate_keeps_the_artifact_unused_and_says_by_how_much(tmp_path: Path):
    source = tmp_path / "tiny.onnx"
    sha = tiny_detector(source)
    recipe_file = tmp_path / "tiny.yaml"
    recipe = tiny_recipe(
        source,
        sha,
        targets=[{"name": "fp32", "format": "onnx", "precision": "fp32", "profiles": ["x86-cpu"]}],
    ).model_dump(mode="json")
    recipe_file.write_text(json.dumps(recipe))  # JSON is YAML
    out = tmp_path / "art"
    result = CliRunner().invoke(cli, ["export", str(recipe_file), "--out", str(out)])
    assert result.exit_code == 0, result.output  # a random model scores 0 and so does its copy

    # the same copy held to a reference it cannot reach: rewrite the manifest's figures
    manifest_path = out / "tiny" / "fp32" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["gate"].update(reference=0.9, value=0.5, max_drop=0.01)
    manifest_path.write_text(json.dumps(manifest))
    assert ArtifactIndex.load(out).pick("x86-cpu", "detector", "x") is None
    listed = CliRunner().invoke(cli, ["export", "list", "--out", str(out)])
    assert "short by 0.390" in listed.output and "NOT USABLE" in listed.output


def test_a_changed_source_a_missing_calibration_folder_and_a_failed_conversion_leave_nothing(
    tmp_path: Path, catalog: Catalog, profiles: Profiles
):
    source = tmp_path / "tiny.onnx"
    sha = tiny_detector(source)
    out = tmp_path / "artifacts"
    ctx = context(ModelStore(tmp_path / "s"), catalog, profiles, out)

    with pytest.raises(ExportError, match="the source changed"):
        export_detector(tiny_recipe(source, "0" * 64), ctx)

    no_pictures = tiny_recipe(source, sha, calibration={"images": str(tmp_path / "none")})
    with pytest.raises(ExportError, match=r"calibration: .*none has no \.jpg or \.png pictures"):
        export_detector(no_pictures, ctx)

    gone = tiny_recipe(source, sha, held_out={"pictures": 4, "folder": str(tmp_path / "gone")})
    with pytest.raises(ExportError, match=r"^held_out: \S*gone: held-out material missing"):
        export_detector(gone, ctx)

    with pytest.raises(ExportError, match="no target is meant for profile raspberry-pi-4"):
        export_detector(tiny_recipe(source, sha), ctx, profile="raspberry-pi-4")
    with pytest.raises(ExportError, match="unknown profile"):
        bad = tiny_recipe(
            source,
            sha,
            targets=[{"name": "a", "format": "onnx", "precision": "fp32", "profiles": ["toaster"]}],
        )
        export_detector(bad, ctx)

    half = tmp_path / "half.onnx"
    with pytest.raises(ModelLoadError, match=r"half\.onnx: not a loadable ONNX model"):
        export_detector(tiny_recipe(half, tiny_detector(half, weights=np.float16)), ctx)
    assert not out.exists()


def test_a_conversion_that_fails_midway_leaves_no_partial_artifact(
    tmp_path: Path, catalog: Catalog, profiles: Profiles, monkeypatch: pytest.MonkeyPatch
):
    def crashing_converter(fp32: Path, out: Path, fp16: bool) -> Path:
        (out / "model.xml").write_text("<half written")
        raise RuntimeError("converter crashed\nwith a long native trace")

    monkeypatch.setattr(onnx_convert, "openvino_ir", crashing_converter)
    source = tmp_path / "tiny.onnx"
    out = tmp_path / "artifacts"
    ctx = context(ModelStore(tmp_path / "s"), catalog, profiles, out)
    with pytest.raises(
        ExportError, match=r"^tiny/ov-fp16: conversion to openvino fp16 failed: converter crashed$"
    ):
        export_detector(tiny_recipe(source, tiny_detector(source)), ctx)
    assert sorted(p.name for p in (out / "tiny").iterdir()) == ["fp16", "fp32", "int8"]
    for done in ArtifactIndex.load(out):
        done.verify()


def test_a_model_that_is_not_a_yolo_detector_is_refused(
    tmp_path: Path, catalog: Catalog, profiles: Profiles
):
    path = tmp_path / "flat.onnx"
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(Exception, match=r"not a detector: input shape \[1, 10\]"):
        export_detector(
            tiny_recipe(path, sha), context(ModelStore(tmp_path), catalog, profiles, tmp_path / "a")
        )


# --- the real detector ----------------------------------------------------------------------


def test_real_detector_int8_is_small_agrees_with_its_source_and_the_profile_loads_it(
    model_store: ModelStore, catalog: Catalog, profiles: Profiles, tmp_path: Path
):
    recipe = load_recipe(recipe_path("yolov8-fall"))
    assert isinstance(recipe, DetectorRecipe)
    quick = recipe.with_counts(calibration=8, evaluation=12).model_copy(
        update={"gate": recipe.gate.model_copy(update={"max_map_drop": 0.1})}
    )
    out = tmp_path / "artifacts"
    (int8,) = export_detector(
        quick, context(model_store, catalog, profiles, out), profile="x86-cpu"
    )
    source_bytes = (model_store.main_file(catalog.get("yolov8-fall-fp16"))).stat().st_size
    assert int8.size_bytes * 3.5 < source_bytes
    assert int8.accuracy["box_agreement"] >= 0.8
    assert int8.usable

    # the runtime picks it for x86-cpu, and it finds the person the source finds
    detector = default_detector(
        Config().camera.min_score,
        profiles.get("x86-cpu"),
        model_store,
        catalog,
        ArtifactIndex.load(out),
    )
    assert isinstance(detector, YoloDetector)
    picture = next(p for p in labelled_people_images(20, seed=9) if UPRIGHT in p.postures)
    found = detector.detect(picture.image)
    truth = Box(*map(float, picture.boxes[list(picture.postures).index(UPRIGHT)]))
    assert any(d.box.iou(truth) > 0.5 for d in found)

    # a damaged artifact is skipped: the catalog model loads instead
    model = out / "yolov8-fall" / "int8" / "model.onnx"
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")
    assert ArtifactIndex.load(out).pick("x86-cpu", "detector", "yolov8-fall-fp16") is None
    shutil.rmtree(out)


def test_bench_export_smoke_run_writes_the_table_and_the_plot(tmp_path: Path):
    source = tmp_path / "tiny.onnx"
    recipe = tiny_recipe(source, tiny_detector(source)).model_dump(mode="json")
    recipe["targets"] = recipe["targets"][:1] + recipe["targets"][2:3]  # int8 and fp32
    recipe_file = tmp_path / "tiny.yaml"
    recipe_file.write_text(json.dumps(recipe))
    out = tmp_path / "bench"
    args = ["bench", "export", "--recipe", str(recipe_file), "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--calibration", "4", "--evaluation", "6"])
    assert result.exit_code == 0, result.output
    table = json.loads((out / "export.json").read_text())
    assert table["evaluation"] == "mAP@0.5 on 6 labelled pictures"
    assert [row["artifact"] for row in table["artifacts"]] == ["tiny/int8", "tiny/fp32"]
    assert table["artifacts"][1]["smaller_than_source"] == 1.0
    assert "| tiny/int8 (onnx int8) |" in (out / "export.md").read_text()
    assert_png(out / "export.png")
    assert (out / "artifacts" / "tiny" / "int8" / "manifest.json").is_file()
    assert not (tmp_path / "edgeai-home" / "artifacts").exists()  # the runtime's are untouched

    wake = CliRunner().invoke(cli, ["bench", "export", "--recipe", "wakeword-hey-jarvis"])
    assert wake.exit_code != 0 and "edgeai bench wake" in wake.output


# --- the real Piper voice -------------------------------------------------------------------


def test_piper_voice_int8_passes_its_round_trip_gate_and_the_voice_loop_would_load_it(
    model_store: ModelStore, catalog: Catalog, profiles: Profiles, tmp_path: Path
):
    recipe = load_recipe(recipe_path("piper-joe"))
    assert isinstance(recipe, TtsRecipe)
    openvino = {
        "name": "openvino",
        "format": "openvino",
        "precision": "fp16",
        "profiles": ["jetson-orin-nano"],
    }
    quick = recipe.model_copy(
        update={
            "sentences": recipe.sentences[:3],
            "targets": [recipe.targets[0], TtsTarget.model_validate(openvino)],
            # one word of these 23 is 4.3 points: the bundled 16 sentences hold it to 2
            "gate": recipe.gate.model_copy(update={"max_wer_increase": 0.1}),
        }
    )
    out = tmp_path / "artifacts"
    int8, ov = export_tts(quick, context(model_store, catalog, profiles, out))
    source_bytes = model_store.main_file(catalog.get("piper-en-us-joe-medium")).stat().st_size
    assert int8.size_bytes < source_bytes / 3  # the config JSON is in the sum, and it is small
    assert [f.name for f in int8.files] == ["model.onnx", "model.onnx.json"]
    assert int8.gate.metric == "wer" and not int8.gate.higher_is_better
    assert int8.accuracy["wer"] <= 0.2 and int8.usable

    path, role = role_model(
        profiles.get("x86-cpu"), "tts", model_store, catalog, ArtifactIndex.load(out)
    )
    assert path == out / "piper-joe" / "int8" / "model.onnx" and role.engine == "onnxruntime"
    audio = np.concatenate(list(PiperTTS(path, 1).synthesize("The door is open.")))
    assert len(audio) > 8000 and np.abs(audio).max() > 1000
    # the OpenVINO IR (with its weights file and the voice config) speaks through the same voice
    assert [f.name for f in ov.files] == ["model.xml", "model.bin", "model.xml.json"]
    path, role = role_model(
        profiles.get("jetson-orin-nano"), "tts", model_store, catalog, ArtifactIndex.load(out)
    )
    assert path.suffix == ".xml" and role.engine == "openvino" and ov.usable
    audio = np.concatenate(list(PiperTTS(path, 1, role.engine).synthesize("The door is open.")))
    assert len(audio) > 8000 and np.abs(audio).max() > 1000
    # another profile has no artifact of its own: the catalog voice
    path, _ = role_model(
        profiles.get("jetson-agx-orin"), "tts", model_store, catalog, ArtifactIndex.load(out)
    )
    assert path == model_store.main_file(catalog.get("piper-en-us-joe-medium"))


def test_a_tts_recipe_needs_the_voice_config_beside_the_model(
    tmp_path: Path, model_store: ModelStore, catalog: Catalog, profiles: Profiles
):
    voice = tmp_path / "voice.onnx"
    shutil.copyfile(model_store.main_file(catalog.get("piper-en-us-joe-medium")), voice)
    recipe = TtsRecipe.model_validate(
        {
            "kind": "tts",
            "name": "lonely",
            "source": {
                "path": str(voice),
                "sha256": hashlib.sha256(voice.read_bytes()).hexdigest(),
            },
            "sentences": ["one", "two", "three"],
            "targets": [{"name": "int8", "precision": "int8"}],
        }
    )
    with pytest.raises(ExportError, match=r"voice\.onnx\.json: the voice's config is missing"):
        export_tts(recipe, context(model_store, catalog, profiles, tmp_path / "out"))
    assert not (tmp_path / "out").exists()


# --- LLM: a tiny random Llama checkpoint through llama.cpp's converter and quantizer ---------

EXPORT_TOOLS = REPO / ".cache" / "export-tools"
"""llama.cpp's converter, fetched once from the llama-cpp-python sdist and kept between runs."""
EVALUATION_TEXT = " ".join(
    ["Someone is standing at the front door.", "Set a timer for ten minutes.",
     "The quick brown fox jumps over the lazy dog.", "What time is it now?"] * 4
)  # fmt: skip


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Hugging Face Llama checkpoint with random weights and a SentencePiece tokenizer (with
    byte fallback, which llama.cpp's vocabulary loader needs); returns its weights file."""
    import sentencepiece
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    corpus = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    corpus.write_text((EVALUATION_TEXT + "\n") * 20)
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / "tokenizer"), vocab_size=384,
        model_type="bpe", byte_fallback=True, bos_id=1, eos_id=2, unk_id=0, pad_id=-1,
        minloglevel=2,
    )  # fmt: skip
    (folder / "tokenizer.vocab").unlink()
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=384, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
        bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    return folder / "model.safetensors"


def llm_recipe(weights: Path, **changes: object) -> LlmRecipe:
    data: dict[str, object] = {
        "kind": "llm",
        "name": "tiny-llm",
        "source": {
            "path": str(weights),
            "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        },
        "replaces": "smollm2-135m-instruct-q4_1",
        "evaluation_text": EVALUATION_TEXT,
        "targets": [
            {"name": "q8_0", "precision": "q8_0", "profiles": ["x86-cpu"]},
            {"name": "q4_k_m", "precision": "q4_k_m", "profiles": ["raspberry-pi-4"]},
            {"name": "f16", "precision": "f16"},
            {
                "name": "openvino-int4",
                "format": "openvino",
                "precision": "int4",
                "profiles": ["x86-cpu"],
            },
        ],
    }
    data.update(changes)
    return LlmRecipe.model_validate(data)


def test_an_unsupported_architecture_is_refused_with_the_supported_ones(
    tiny_llm: Path, catalog: Catalog, profiles: Profiles, tmp_path: Path
):
    checkpoint = tmp_path / "odd"
    shutil.copytree(tiny_llm.parent, checkpoint)
    config = json.loads((checkpoint / "config.json").read_text())
    (checkpoint / "config.json").write_text(
        json.dumps({**config, "architectures": ["FooForCausalLM"]})
    )
    ctx = replace(
        context(ModelStore(tmp_path / "s"), catalog, profiles, tmp_path / "a"), cache=EXPORT_TOOLS
    )
    with pytest.raises(
        ExportError, match=r"FooForCausalLM is not supported .*supported: .*LlamaForCausalLM"
    ):
        export_llm(llm_recipe(checkpoint / "model.safetensors"), ctx)
    assert not (tmp_path / "a" / "tiny-llm").exists()


# --- STT: a tiny random Whisper checkpoint to CTranslate2, ONNX and OpenVINO ----------------


def tiny_whisper_checkpoint(
    folder: Path, openai_layout: bool = False, ffn_dim: int | None = None, says_nothing: bool = True
) -> Path:
    """A Hugging Face Whisper checkpoint with random weights, a byte-level tokenizer with
    Whisper's special tokens, and a feature extractor; returns its weights file.

    `openai_layout`: OpenAI's English vocabulary size and special-token ids, feed-forward layers
    4x the width, which whisper.cpp's loader assumes (a bigger vocabulary of filler tokens);
    `ffn_dim` overrides the feed-forward width. `says_nothing`: every decoder's first token is
    the end of text (see below); without it the model writes its own particular junk.
    """
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    end = "<|endoftext|>"
    alphabet = list(bytes_to_unicode().values())
    tokens = alphabet + [a + b for a in alphabet for b in alphabet][: 50256 - len(alphabet)]
    vocab = {token: i for i, token in enumerate(tokens if openai_layout else alphabet)}
    if openai_layout:
        vocab[end] = len(vocab)  # 50256, as in OpenAI's vocabulary
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = WhisperTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"),
        unk_token=end, bos_token=end, eos_token=end, pad_token=end,
    )  # fmt: skip
    languages = [f"<|lang{i}|>" for i in range(99)] if openai_layout else ["<|en|>"]
    specials = ["<|startoftranscript|>", *languages, "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]  # fmt: skip
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in [end, *specials]}
    torch.manual_seed(0)
    ffn = ffn_dim or (256 if openai_layout else 128)
    config = WhisperConfig(
        vocab_size=51864 if openai_layout else len(tokenizer), num_mel_bins=80, d_model=64,
        encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=ffn, decoder_ffn_dim=ffn,
        max_source_positions=1500, max_target_positions=448,
        decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=ids[end], pad_token_id=ids[end], bos_token_id=ids[end],
    )  # fmt: skip
    model = WhisperForConditionalGeneration(config)
    # Random weights decode to different junk in each backend; make every backend's first token
    # the end of text (the final norm always outputs v, only the end-of-text embedding is v), so
    # all transcribe "" and the gate compares like with like.
    if says_nothing:
        with torch.no_grad():
            direction = torch.randn(config.d_model)
            model.model.decoder.layer_norm.weight.zero_()
            model.model.decoder.layer_norm.bias.copy_(direction)
            model.model.decoder.embed_tokens.weight.zero_()
            model.model.decoder.embed_tokens.weight[ids[end]] = direction
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids[end],
        pad_token_id=ids[end], no_timestamps_token_id=ids["<|notimestamps|>"],
        is_multilingual=False, begin_suppress_tokens=[], suppress_tokens=[],
        forced_decoder_ids=[[1, ids["<|notimestamps|>"]]],
    )  # fmt: skip
    model.save_pretrained(folder, safe_serialization=True)
    WhisperProcessor(WhisperFeatureExtractor(), tokenizer).save_pretrained(folder)
    return folder / "model.safetensors"


def stt_recipe(weights: Path, targets: list[dict[str, object]]) -> SttRecipe:
    return SttRecipe.model_validate(
        {
            "kind": "stt",
            "name": "tiny-whisper",
            "source": {
                "path": str(weights),
                "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
            },
            "replaces": "whisper-tiny-en-ct2",
            "sentences": ["Set a timer for ten minutes.", "What time is it?", "Turn it off."],
            "voices": ["en-us+m3"],
            "targets": targets,
        }
    )


@pytest.mark.parametrize("engine", ["onnxruntime", "openvino"])
def test_the_runtimes_whisper_decodes_token_for_token_as_optimum_does(engine: str, tmp_path: Path):
    """Random weights write a particular junk; the runtime's own decoder loop must write the
    same tokens as optimum's generate on the same export (ONNX, or optimum-intel's OpenVINO IR
    with its stateful decoder), clip for clip."""
    from transformers import WhisperProcessor

    from edgeai.audio.convert import int16_to_float
    from edgeai.export import whisper_convert
    from edgeai.voice.stt.optimum_whisper import MAX_NEW_TOKENS, OptimumWhisperSTT

    for folder in ("checkpoint", "export", "scratch"):
        (tmp_path / folder).mkdir()
    checkpoint = tiny_whisper_checkpoint(tmp_path / "checkpoint", says_nothing=False).parent
    # one thread each side: the same kernels, summing in the same order (random weights put
    # near-ties among the logits, where a different order could flip a token)
    if engine == "onnxruntime":
        import onnxruntime
        from optimum.onnxruntime import ORTModelForSpeechSeq2Seq

        encoder = whisper_convert.onnx(checkpoint, tmp_path / "export", False, tmp_path / "scratch")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        optimum = ORTModelForSpeechSeq2Seq.from_pretrained(
            str(encoder.parent), session_options=options
        )
    else:
        from optimum.intel import OVModelForSpeechSeq2Seq

        encoder = whisper_convert.openvino_int8(checkpoint, tmp_path / "export")
        optimum = OVModelForSpeechSeq2Seq.from_pretrained(
            str(encoder.parent), ov_config={"INFERENCE_NUM_THREADS": 1}
        )
    processor = WhisperProcessor.from_pretrained(str(encoder.parent))
    ours = OptimumWhisperSTT(encoder, 1, engine)
    noise = (np.random.default_rng(3).standard_normal(24000) * 3000).astype(np.int16)
    for clip in (speak("set a timer for ten minutes"), noise):
        features = processor(
            int16_to_float(clip), sampling_rate=16000, return_tensors="pt"
        ).input_features
        generated = optimum.generate(features, max_new_tokens=MAX_NEW_TOKENS)[0].tolist()
        settings = optimum.generation_config
        prompt = [settings.decoder_start_token_id, settings.no_timestamps_token_id]
        if generated[:2] == prompt:  # optimum-intel returns the prompt too, optimum does not
            generated = generated[2:]
        expected = [t for t in generated if t != settings.eos_token_id]
        assert len(expected) > 5  # a real sequence of tokens, not the empty answer
        assert ours.tokens(clip) == expected
    encoder.unlink()
    with pytest.raises(ModelLoadError, match=f"not an optimum Whisper export .no {encoder.name}"):
        OptimumWhisperSTT(encoder, 1, engine)


def test_a_whisper_checkpoint_becomes_whisper_cpp_ggml_f16_and_q8_0_the_runtime_loads(
    catalog: Catalog, profiles: Profiles, tmp_path: Path
):
    weights = tiny_whisper_checkpoint(tmp_path, openai_layout=True)
    recipe = stt_recipe(
        weights,
        [
            {"name": "ggml-q8_0", "format": "ggml", "precision": "int8", "profiles": ["x86-cpu"]},
            {"name": "ggml-f16", "format": "ggml", "precision": "fp16"},
        ],
    )
    out = tmp_path / "artifacts"
    store = ModelStore(tmp_path / "s")
    q8, f16 = export_stt(
        recipe, replace(context(store, catalog, profiles, out), cache=EXPORT_TOOLS)
    )
    assert q8.files[0].name == "ggml-model-q8_0.bin" and q8.engine == "whispercpp"
    assert q8.files[0].size_bytes < 0.75 * f16.files[0].size_bytes  # the big embedding, int8
    for manifest in (q8, f16):
        assert manifest.gate.metric == "wer" and manifest.usable, manifest.gate

    # the runtime's whisper.cpp backend is what the voice loop loads for x86-cpu now
    path, role = role_model(profiles.get("x86-cpu"), "stt", store, catalog, ArtifactIndex.load(out))
    assert path == out / "tiny-whisper" / "ggml-q8_0" / "ggml-model-q8_0.bin"
    assert role.engine == "whispercpp"
    load_stt(role.engine, path, 1).warm_up()


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ({"format": "ggml", "precision": "fp32"}, "whisper.cpp aborts on f32 files"),
        ({"format": "ctranslate2", "precision": "q5_0"}, "q5_0 is a ggml"),
    ],
)
def test_speech_targets_whisper_cpp_cannot_run_are_refused_in_the_recipe(
    target: dict[str, str], problem: str
):
    with pytest.raises(ValueError, match=problem):
        SttTarget.model_validate({"name": "x", **target})


def test_a_ggml_file_whisper_cpp_would_crash_on_is_refused_first(tmp_path: Path):
    """pywhispercpp takes the process down on each of these; the check refuses them first."""
    from edgeai.export import whisper_cpp_tools

    tools = whisper_cpp_tools.sources(EXPORT_TOOLS)
    converted = {}
    for name, layout in (
        ("small-vocabulary", {}),
        ("narrow", {"openai_layout": True, "ffn_dim": 128}),
    ):
        folder, scratch = tmp_path / name, tmp_path / f"{name}-scratch"
        folder.mkdir()
        scratch.mkdir()
        checkpoint = tiny_whisper_checkpoint(folder, **layout).parent  # type: ignore[arg-type]
        converted[name] = whisper_cpp_tools.convert(
            tools, checkpoint, tmp_path / f"{name}.bin", scratch
        )
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(converted["narrow"].read_bytes()[:-100])
    (tmp_path / "text.bin").write_text("not a model")
    for path, problem in (
        (converted["small-vocabulary"], "vocabulary below 51864"),
        (converted["narrow"], "feed-forward 4x the width"),
        (truncated, "truncated"),
        (tmp_path / "text.bin", "magic"),
        (tmp_path / "missing.bin", "not found"),
    ):
        with pytest.raises(ModelLoadError, match=problem):
            WhisperCppSTT(path, 1)


# --- image classifier: a tiny random ViT checkpoint ------------------------------------------


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Hugging Face ViT image classifier with random weights and its image processor."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    folder = tmp_path_factory.mktemp("tiny-vit")
    torch.manual_seed(0)
    config = ViTConfig(
        image_size=32, patch_size=8, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=256, num_labels=4,
    )  # fmt: skip
    ViTForImageClassification(config).save_pretrained(folder, safe_serialization=True)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder / "model.safetensors"


def test_an_image_classifier_becomes_onnx_and_openvino_gated_on_top1_agreement(
    tiny_classifier: Path, catalog: Catalog, profiles: Profiles, tmp_path: Path
):
    recipe = ClassifierRecipe.model_validate(
        {
            "kind": "classifier",
            "name": "tiny-vit",
            "source": {
                "path": str(tiny_classifier),
                "sha256": hashlib.sha256(tiny_classifier.read_bytes()).hexdigest(),
            },
            "calibration": {"synthetic": 8, "seed": 1},
            "evaluation": {"synthetic": 24, "seed": 2},
            "gate": {"max_agreement_drop": 0.25},
            "targets": [
                {"name": "fp32", "format": "onnx", "precision": "fp32"},
                {"name": "int8", "format": "onnx", "precision": "int8"},
                {"name": "openvino-int8", "format": "openvino", "precision": "int8"},
            ],
        }
    )
    out = tmp_path / "artifacts"
    fp32, int8, ov = export_classifier(
        recipe, context(ModelStore(tmp_path / "s"), catalog, profiles, out)
    )
    assert fp32.gate.metric == "top1_agreement" and fp32.accuracy["top1_agreement"] == 1.0
    assert fp32.role == "classifier" and fp32.accuracy["pictures"] == 24
    assert int8.size_bytes * 2 < fp32.size_bytes and int8.engine == "onnxruntime"
    assert [f.name for f in ov.files] == ["model.xml", "model.bin"] and ov.engine == "openvino"
    for manifest in (fp32, int8, ov):
        assert manifest.usable == manifest.gate.passed
        assert 0.0 <= manifest.accuracy["top1_agreement"] <= 1.0
    assert not list(out.glob(".scratch-*"))


def test_a_torchscript_classifier_like_torchvision_saves_becomes_onnx_gated_on_agreement(
    catalog: Catalog, profiles: Profiles, tmp_path: Path
):
    """torchvision itself does not load beside this CPU torch (its operators fail to register),
    so the source is what a user brings from where it does: `torch.jit.script(model)` saved."""
    import torch

    torch.manual_seed(0)
    network = torch.nn.Sequential(  # a MobileNet-like stem and head, 3 classes
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 3),
    ).eval()  # fmt: skip
    source = tmp_path / "tiny-cnn.pt"
    torch.jit.save(torch.jit.script(network), str(source))
    recipe = ClassifierRecipe.model_validate(
        {
            "kind": "classifier",
            "name": "tiny-cnn",
            "source": {
                "path": str(source),
                "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
            },
            "torchscript_input": {"size": 64},
            "calibration": {"synthetic": 8, "seed": 1},
            "evaluation": {"synthetic": 24, "seed": 2},
            "targets": [
                {"name": "fp32", "format": "onnx", "precision": "fp32"},
                {"name": "int8", "format": "onnx", "precision": "int8"},
            ],
        }
    )
    fp32, int8 = export_classifier(
        recipe, context(ModelStore(tmp_path / "s"), catalog, profiles, tmp_path / "artifacts")
    )
    assert fp32.accuracy["top1_agreement"] == 1.0 and fp32.usable  # the same network, exported
    assert fp32.source.file.endswith("tiny-cnn.pt") and int8.engine == "onnxruntime"
    assert int8.usable == int8.gate.passed


# --- the bundled recipes: every file valid, every default model's role served --------------


@pytest.mark.parametrize("path", sorted((REPO / "export").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_recipe_is_valid_and_pins_its_source(path: Path):
    recipe = load_recipe(path)
    if isinstance(recipe, WakeWordRecipe):
        assert recipe.name == path.stem.removeprefix("wakeword-").replace("-", "_")
        return
    assert recipe.name == path.stem
    hub = recipe.source.huggingface
    if hub is not None:  # a commit, the weights' size, and the files the converters read
        assert len(hub.revision) == 40 and hub.files[0].size_bytes
        assert {"config.json", "tokenizer.json"} <= {f.path for f in hub.files}


def test_export_list_shows_a_recipe_or_why_there_is_none_for_every_default_model(
    profiles: Profiles,
):
    rows = role_recipes(profiles)
    by_model = {row.model: row for row in rows}
    for profile in profiles:
        for role, assignment in profile.roles.items():
            row = by_model[assignment.model]
            assert row.role == role
            assert row.recipe is not None or row.note.startswith("no export path"), row
    recipes = {row.role: row.recipe for row in rows if row.recipe}
    assert recipes == {
        "wake": "wakeword-hey-jarvis", "stop": "wakeword-stop", "stt": "whisper-tiny-en",
        "llm": "smollm2-135m", "tts": "piper-joe", "detector": "yolov8-fall",
    }  # fmt: skip
    assert by_model["silero-vad"].recipe is None
    assert "x86-cpu" in by_model["whisper-tiny-en-ct2"].profiles

    listed = CliRunner().invoke(cli, ["export", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    shown = json.loads(listed.output)
    assert shown["artifacts"] == [] and len(shown["recipes"]) == len(rows)
    text = CliRunner().invoke(cli, ["export", "list"]).output
    assert "smollm2-135m" in text and "no export path: Silero VAD" in text


# --- the bundled Whisper and LLM recipes, end to end on a local hub with tiny checkpoints ---


def publish_checkpoint(hub: FakeServer, source: HubSource, folder: Path) -> HubSource:
    """The folder's files served as the recipe's repository at its revision; the recipe's
    source pointed at them (the tiny weights first, with their size), repository and revision
    kept."""
    weights = folder / "model.safetensors"
    others = sorted(p for p in folder.iterdir() if p.is_file() and p != weights)
    for path in [weights, *others]:
        hub.files[f"/{source.repo}/resolve/{source.revision}/{path.name}"] = path.read_bytes()
    files = [{"path": weights.name, "size_bytes": weights.stat().st_size}]
    files += [{"path": p.name} for p in others]
    return source.model_copy(update={"files": [HubFile.model_validate(f) for f in files]})


HubRecipe = TypeVar("HubRecipe", SttRecipe, LlmRecipe)


def on_hub(recipe: HubRecipe, hub: FakeServer, folder: Path) -> HubRecipe:
    assert recipe.source.huggingface is not None
    served = publish_checkpoint(hub, recipe.source.huggingface, folder)
    sha = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    source = recipe.source.model_copy(update={"huggingface": served, "sha256": sha})
    return recipe.model_copy(update={"source": source})


def test_the_bundled_whisper_recipe_fetches_its_checkpoint_and_builds_every_target(
    use_hub: FakeServer, catalog: Catalog, profiles: Profiles, tmp_path: Path
):
    bundled = load_recipe(recipe_path("whisper-tiny-en"))
    assert isinstance(bundled, SttRecipe)
    folder = tmp_path / "tiny"
    folder.mkdir()
    tiny_whisper_checkpoint(folder, openai_layout=True)  # whisper.cpp's layout, for ggml
    recipe = on_hub(bundled, use_hub, folder).model_copy(
        update={"sentences": bundled.sentences[:3], "voices": bundled.voices[:1]}
    )
    out = tmp_path / "artifacts"
    ctx = replace(
        context(ModelStore(tmp_path / "s"), catalog, profiles, out),
        cache=EXPORT_TOOLS,
        checkpoints=tmp_path / "checkpoints",
    )
    manifests = export_stt(recipe, ctx)
    assert [m.target for m in manifests] == [t.name for t in bundled.targets]
    for m in manifests:
        assert m.usable and m.gate.metric == "wer", m.gate
        assert m.latency_ms and m.reference_latency_ms
        assert m.source.origin == "huggingface:openai/whisper-tiny.en@87c7102498"
        assert (out / "whisper-tiny-en" / m.target / "manifest.json").is_file()
    by_target = {m.target: m for m in manifests}
    ct2, ov, onnx_int8 = by_target["ct2-int8"], by_target["openvino-int8"], by_target["onnx-int8"]
    assert [f.name for f in ct2.files][:1] == ["model.bin"]
    assert {"config.json", "tokenizer.json"} <= {f.name for f in ct2.files}
    assert {"encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx",
            "tokenizer.json", "generation_config.json"} <= {f.name for f in onnx_int8.files}  # fmt: skip
    assert ov.files[0].name == "openvino_encoder_model.xml" and ov.engine == "openvino"
    q5 = by_target["ggml-q5_0"]
    assert q5.files[0].name == "ggml-model-q5_0.bin" and q5.engine == "whispercpp"
    assert q5.size_bytes < by_target["ggml-q8_0"].size_bytes

    # each profile's voice loop takes its first target; the runtime runs every format, each
    # from its folder alone
    index = ArtifactIndex.load(out)
    path, role = role_model(profiles.get("x86-cpu"), "stt", ModelStore(tmp_path), catalog, index)
    assert path == out / "whisper-tiny-en" / "ct2-int8" / "model.bin"
    load_stt(role.engine, path, 1).warm_up()
    npu = profiles.get("intel-core-ultra-npu")
    path, role = role_model(npu, "stt", ModelStore(tmp_path), catalog, index)
    assert path == out / "whisper-tiny-en" / "openvino-int8" / ov.files[0].name
    load_stt(role.engine, path, 1).warm_up()
    load_stt(
        "onnxruntime", out / "whisper-tiny-en" / "onnx-int8" / "encoder_model.onnx", 1
    ).warm_up()
    load_stt("whispercpp", out / "whisper-tiny-en" / "ggml-q5_0" / q5.files[0].name, 1).warm_up()


def test_the_bundled_llm_recipe_fetches_its_checkpoint_and_builds_every_target(
    use_hub: FakeServer, tiny_llm: Path, catalog: Catalog, profiles: Profiles, tmp_path: Path
):
    """The bundled targets, and the f16 GGUF (the quantizations' reference) as one more."""
    bundled = load_recipe(recipe_path("smollm2-135m"))
    assert isinstance(bundled, LlmRecipe)
    recipe = on_hub(bundled, use_hub, tiny_llm.parent)
    f16_target = LlmTarget(name="f16", precision="f16")
    recipe = recipe.model_copy(update={"targets": [*recipe.targets, f16_target]})
    out = tmp_path / "artifacts"
    ctx = replace(
        context(ModelStore(tmp_path / "s"), catalog, profiles, out),
        cache=EXPORT_TOOLS,
        checkpoints=tmp_path / "checkpoints",
    )
    q4, q8, ov, f16 = export_llm(recipe, ctx)
    assert q4.size_bytes < q8.size_bytes < f16.size_bytes
    assert f16.size_bytes > 3.5 * q4.size_bytes * 0.9  # 16 bits against about 4.9 per weight
    for m in (q4, q8, ov, f16):
        assert m.usable and m.gate.metric == "perplexity" and not m.gate.higher_is_better
        assert m.accuracy["evaluation_tokens"] > 50
        assert m.replaces == "smollm2-135m-instruct-q4_1"
        assert m.source.origin == "huggingface:HuggingFaceTB/SmolLM2-135M-Instruct@12fd25f773"
    assert f16.gate.value == pytest.approx(f16.gate.reference)  # the f16 is the reference
    assert ov.engine == "openvino" and ov.files[0].name == "openvino_model.xml"
    assert {"openvino_model.bin", "openvino_tokenizer.xml", "openvino_detokenizer.xml"} <= {
        f.name for f in ov.files
    }
    assert not list(out.glob(".scratch-*"))
    # openvino-genai, the runtime this format is for, runs it end to end: tokenizer IR included
    import openvino_genai

    pipeline = openvino_genai.LLMPipeline(str(out / "smollm2-135m" / "openvino-int4"), "CPU")
    assert isinstance(pipeline.generate("The door", max_new_tokens=4), str)

    # the LLM role runs on llama.cpp: each profile takes its GGUF, which the runtime loads
    index = ArtifactIndex.load(out)
    path, role = role_model(profiles.get("x86-cpu"), "llm", ModelStore(tmp_path), catalog, index)
    assert path == out / "smollm2-135m" / "q8_0" / "model.gguf" and role.engine == "llama_cpp"
    LocalLLM(path, threads=1)
    pi4 = profiles.get("raspberry-pi-4")
    path, _ = role_model(pi4, "llm", ModelStore(tmp_path), catalog, index)
    assert path == out / "smollm2-135m" / "q4_k_m" / "model.gguf"


# --- the hub source: verified, fetched once, nothing half-fetched ---------------------------

CONFIG_BYTES = b'{"model_type": "tiny"}'
WEIGHT_BYTES = b"weights" * 1000
TINY_REVISION = "0123456789abcdef0123456789abcdef01234567"
TINY_REPO = f"/acme/tiny/resolve/{TINY_REVISION}"


@pytest.fixture
def tiny_repo(use_hub: FakeServer) -> FakeServer:
    """acme/tiny on the local hub: weights and a config."""
    use_hub.files[f"{TINY_REPO}/model.safetensors"] = WEIGHT_BYTES
    use_hub.files[f"{TINY_REPO}/config.json"] = CONFIG_BYTES
    return use_hub


def hub_recipe_source(config_sha: str | None = None) -> SourceSpec:
    config: dict[str, object] = {"path": "config.json"}
    if config_sha:
        config.update(sha256=config_sha, size_bytes=len(CONFIG_BYTES))
    return SourceSpec.model_validate(
        {
            "huggingface": {
                "repo": "acme/tiny",
                "revision": TINY_REVISION,
                "files": [{"path": "model.safetensors", "size_bytes": len(WEIGHT_BYTES)}, config],
            },
            "sha256": hashlib.sha256(WEIGHT_BYTES).hexdigest(),
        }
    )


def test_a_hub_checkpoint_is_verified_fetched_once_and_refetched_when_damaged(
    tiny_repo: FakeServer, tmp_path: Path
):
    spec = hub_recipe_source(hashlib.sha256(CONFIG_BYTES).hexdigest())
    assert spec.huggingface is not None
    folder = fetch_checkpoint(spec.huggingface, spec.sha256, tmp_path, "tiny")
    assert (folder / "model.safetensors").read_bytes() == WEIGHT_BYTES
    assert len(tiny_repo.requests) == 2

    assert fetch_checkpoint(spec.huggingface, spec.sha256, tmp_path, "tiny") == folder
    assert len(tiny_repo.requests) == 2  # intact: not fetched again
    (folder / "config.json").write_bytes(b'{"model_type": "evil"}')
    fetch_checkpoint(spec.huggingface, spec.sha256, tmp_path, "tiny")
    assert (folder / "config.json").read_bytes() == CONFIG_BYTES and len(tiny_repo.requests) == 4


def test_a_changed_or_missing_hub_file_leaves_no_checkpoint_and_names_the_file(
    tiny_repo: FakeServer, tmp_path: Path
):
    changed = hub_recipe_source("0" * 64)
    assert changed.huggingface is not None
    with pytest.raises(
        ExportError,
        match=r"^tiny: fetching huggingface:acme/tiny@0123456789 failed: config\.json: "
        "sha256 mismatch: expected 0000",
    ):
        fetch_checkpoint(changed.huggingface, changed.sha256, tmp_path, "tiny")
    del tiny_repo.files[f"{TINY_REPO}/config.json"]
    spec = hub_recipe_source()
    assert spec.huggingface is not None
    with pytest.raises(ExportError, match=r"config\.json answered HTTP 404"):
        fetch_checkpoint(spec.huggingface, spec.sha256, tmp_path, "tiny")
    assert list(tmp_path.rglob("*.safetensors")) == []

    with pytest.raises(ValueError, match="should match pattern"):  # no way out of the folder
        HubFile.model_validate({"path": "../x"})
    pinned_twice = {"path": "model.safetensors", "sha256": "0" * 64, "size_bytes": 1}
    with pytest.raises(ValueError, match=r"\(the weights\) is pinned by source.sha256"):
        HubSource.model_validate({"repo": "a/b", "revision": "0" * 40, "files": [pinned_twice]})
