"""`edgeai export wakeword-mean`: one head scoring the mean of built heads, its threshold by the
trainer's rule, on tiny hand-made heads (the mechanics, not the accuracy)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from edgeai.cli.main import cli
from edgeai.ears.wake.evaluate import head_spec
from edgeai.ears.wake.frontend import EMBEDDING_DIM
from edgeai.ears.wake.heads import WakeHead
from edgeai.errors import EdgeAIError
from edgeai.export.wakeword.mean import (
    Combination,
    build_mean,
    either_graph,
    load_member,
    mean_graph,
)
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.export.wakeword.train import WINDOW
from edgeai.models.catalog import Catalog


def tiny_head(folder: Path, seed: int, phrase: str = "hey computer", **recipe: object) -> Path:
    """A head the runtime loads: sigmoid of a random linear score of its window of embeddings,
    with a trainer-shaped manifest beside it."""
    rng = np.random.default_rng(seed)
    weights = (rng.standard_normal((WINDOW * EMBEDDING_DIM, 1)) * 0.003).astype(np.float32)
    bias = np.array([float(rng.uniform(-1, 1))], np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["embeddings"], ["flat"]),
            helper.make_node("MatMul", ["flat", "weights"], ["linear"]),
            helper.make_node("Add", ["linear", "bias"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["score"]),
        ],
        "tiny_head",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, [1, WINDOW, 96])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1, 1])],
        [numpy_helper.from_array(weights, "weights"), numpy_helper.from_array(bias, "bias")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    spec = WakeWordRecipe(phrase=phrase, seed=seed, **recipe)  # type: ignore[arg-type]
    head = folder / f"{spec.name}.onnx"
    onnx.save(model, str(head))
    manifest = {
        "name": spec.name, "phrase": phrase, "kind": "openwakeword-head", "format": "onnx",
        "input": {"name": "embeddings", "shape": [1, WINDOW, 96]},
        "frontend": "openwakeword-frontend", "threshold": 0.5,
        "recipe": spec.model_dump(mode="json", exclude={"out"}),
        "dev": {"false_reject_rate": 0.1, "false_accepts_per_hour": 1.0},
        "created": "2026-12-07T00:00:00Z",
    }  # fmt: skip
    head.with_suffix(".json").write_text(json.dumps(manifest))
    return head


def test_the_mean_head_scores_the_mean_of_its_members(tmp_path: Path):
    heads = [tiny_head(tmp_path / name, seed) for name, seed in (("a", 1), ("b", 2), ("c", 3))]
    merged = tmp_path / "mean.onnx"
    onnx.save(mean_graph(heads), str(merged))

    def score(path: Path, window: np.ndarray) -> float:
        return WakeHead(head_spec("w", path, 0.5)).score(window)

    rng = np.random.default_rng(0)
    for _ in range(3):
        window = rng.standard_normal((WINDOW, EMBEDDING_DIM)).astype(np.float32)
        members = [score(head, window) for head in heads]
        assert len(set(members)) == 3  # the members differ, so a wrong mean would show
        assert score(merged, window) == pytest.approx(np.mean(members), abs=1e-6)


def test_the_either_head_fires_exactly_when_some_member_reaches_its_own_threshold(tmp_path: Path):
    heads = [tiny_head(tmp_path / name, seed) for name, seed in (("a", 1), ("b", 2), ("c", 3))]
    thresholds = [0.3, 0.5, 0.9]
    merged = tmp_path / "either.onnx"
    onnx.save(either_graph(heads, thresholds), str(merged))

    def score(path: Path, window: np.ndarray) -> float:
        return WakeHead(head_spec("w", path, 0.5)).score(window)

    rng = np.random.default_rng(0)
    fired = {True: 0, False: 0}
    for _ in range(60):
        window = (rng.standard_normal((WINDOW, EMBEDDING_DIM)) * 3).astype(np.float32)
        members = [score(head, window) for head in heads]
        pairs = list(zip(members, thresholds, strict=True))
        any_member = any(s >= t for s, t in pairs)
        either = score(merged, window)
        assert (either >= 0.5) == any_member
        fired[any_member] += 1
        best = max(np.log(s / (1 - s)) - np.log(t / (1 - t)) for s, t in pairs)
        assert either == pytest.approx(1 / (1 + np.exp(-best)), abs=1e-5)
    assert fired[True] and fired[False]  # both sides of the threshold were tried


def test_an_either_head_names_its_members_and_refuses_one_without_a_threshold(
    model_store, tmp_path: Path
):
    tiny = {"dev_positives": 20, "dev_negative_minutes": 0.5, "max_false_accepts_per_hour": 120,
            "second_look_positives": 0}  # fmt: skip
    heads = [tiny_head(tmp_path / "a", 1, **tiny), tiny_head(tmp_path / "b", 2, **tiny)]
    manifest = build_mean(heads, model_store, Catalog.load(), tmp_path / "out", Combination.EITHER)
    assert [m["recipe"]["seed"] for m in manifest["either_of"]] == [1, 2]  # type: ignore[index]
    assert "mean_of" not in manifest
    broken = json.loads(heads[1].with_suffix(".json").read_text())
    broken["threshold"] = "high"
    heads[1].with_suffix(".json").write_text(json.dumps(broken))
    with pytest.raises(EdgeAIError, match=r"hey_computer\.json: threshold 'high'; expected"):
        build_mean(heads, model_store, Catalog.load(), tmp_path / "other", Combination.EITHER)
    assert not (tmp_path / "other").exists()


def test_a_mean_writes_a_head_whose_threshold_keeps_the_rule_on_the_dev_set(
    model_store, tmp_path: Path
):
    tiny = {"dev_positives": 20, "dev_negative_minutes": 0.5, "max_false_accepts_per_hour": 120,
            "second_look_positives": 4}  # fmt: skip
    heads = [tiny_head(tmp_path / "a", 1, kokoro=0.1, **tiny), tiny_head(tmp_path / "b", 2, **tiny)]
    out = tmp_path / "out"

    manifest = build_mean(heads, model_store, Catalog.load(), out)

    assert sorted(p.name for p in out.iterdir()) == ["hey_computer.json", "hey_computer.onnx"]
    assert json.loads((out / "hey_computer.json").read_text()) == manifest
    assert [m["recipe"]["seed"] for m in manifest["mean_of"]] == [1, 2]  # type: ignore[index]
    threshold = manifest["threshold"]
    assert isinstance(threshold, float) and 0.2 < threshold < 0.999  # the rule decided, no clamp
    dev = manifest["dev"]
    assert isinstance(dev, dict)
    assert dev["positives"] == 20
    # chosen on scores streamed here, measured by the runtime's detector: they must agree
    assert dev["false_accepts"] <= int(120 * dev["negative_hours"])
    # its second look is chosen on the family neither member trained on (one trained on Kokoro)
    tuning = manifest["second_look_tuning"]
    assert isinstance(tuning, dict)
    assert (tuning["families"], tuning["positives"]) == (["SVOX Pico"], 4)


def test_heads_of_different_phrases_or_without_manifests_are_refused_by_name(tmp_path: Path):
    first = tiny_head(tmp_path / "a", 1)
    second = tiny_head(tmp_path / "c", 3)
    with pytest.raises(EdgeAIError, match="sets no max_false_accepts_per_hour"):
        build_mean([first, second], None, Catalog.load(), tmp_path / "out")  # type: ignore[arg-type]
    other = tiny_head(tmp_path / "b", 2, phrase="hey robot")
    with pytest.raises(EdgeAIError, match=r"phrase 'hey robot' differs"):
        build_mean([first, other], None, Catalog.load(), tmp_path / "out")  # type: ignore[arg-type]
    with pytest.raises(EdgeAIError, match="at least 2 heads"):
        build_mean([first], None, Catalog.load(), tmp_path / "out")  # type: ignore[arg-type]
    manifest = json.loads(other.with_suffix(".json").read_text())
    del manifest["frontend"], manifest["input"]
    other.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(EdgeAIError, match=r"hey_robot\.json: no input, frontend; expected"):
        load_member(other)
    other.with_suffix(".json").unlink()
    with pytest.raises(EdgeAIError, match=r"no hey_robot\.json beside it"):
        load_member(other)
    assert not (tmp_path / "out").exists()


def test_export_wakeword_mean_refuses_a_file_that_is_not_a_head_in_one_line(tmp_path: Path):
    first = tiny_head(tmp_path / "a", 1, max_false_accepts_per_hour=0.5)
    junk = tmp_path / "b" / "hey_computer.onnx"
    junk.parent.mkdir()
    junk.write_bytes(b"not a model")
    junk.with_suffix(".json").write_text(first.with_suffix(".json").read_text())

    result = CliRunner().invoke(cli, ["export", "wakeword-mean", str(first), str(junk)])

    assert result.exit_code != 0
    assert "could not be read as ONNX" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
