"""Built heads in, one head out: builds that differ in seed and data miss different phrases.

Two ways to combine them:
- `mean`: the mean of their scores, which misses fewer at the same false accepts (README, "The
  bundled head is the mean of two builds");
- `either`: fires when any member would at its own threshold (each score's logit less its
  threshold's, the largest, through a sigmoid: 0.5 is "some member at its threshold"). Heads
  trained on different conditions (talk-over, the canceller's output) hear different words
  during playback, and a mean of them hears fewer than the best one.

The threshold is chosen by the trainer's own rule on the first member's dev set, which no
member trained on."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import onnx
from tqdm import tqdm

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.ears.wake.evaluate import REFRACTORY_S, evaluate, head_spec
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.ears.wake.heads import WakeHead
from edgeai.errors import EdgeAIError
from edgeai.export.wakeword.look_choice import manifest_fields, with_second_look
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.export.wakeword.trainer import (
    DEV_SEED_OFFSET,
    FRONTEND,
    dev_metrics,
    stream_features,
    threshold_for_stream,
)
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStore
from edgeai.synthetic import wake_data as dataset
from edgeai.synthetic.speech import Synthesizer

SHARED = ("phrase", "kind", "format", "input", "frontend")
"""Manifest fields every member must agree on: one phrase, heard through one front end."""


class Combination(str, Enum):
    MEAN = "mean"
    EITHER = "either"


LOGIT_CLIP = 1e-6
"""Member scores are clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP] before their logit (float32)."""


@dataclass(frozen=True)
class Member:
    head: Path
    manifest: dict[str, object]
    recipe: WakeWordRecipe


def load_member(head: Path) -> Member:
    """A built head and the manifest the trainer wrote beside it, checked before ONNX sees it."""
    manifest_path = head.with_suffix(".json")
    if head.suffix != ".onnx" or not head.is_file():
        raise EdgeAIError(f"{head}: not a head file; expected a built NAME.onnx")
    if not manifest_path.is_file():
        raise EdgeAIError(f"{head}: no {manifest_path.name} beside it; expected the trainer's")
    try:
        manifest = json.loads(manifest_path.read_text())
        recipe = WakeWordRecipe.model_validate(manifest["recipe"])
    except (ValueError, KeyError, TypeError) as error:
        raise EdgeAIError(
            f"{manifest_path}: not a trainer's manifest with its recipe ({error})"
        ) from None
    missing = [field for field in ("name", *SHARED) if field not in manifest]
    if missing:
        raise EdgeAIError(f"{manifest_path}: no {', '.join(missing)}; expected the trainer's")
    return Member(head, manifest, recipe)


def check_members(members: Sequence[Member]) -> None:
    if len(members) < 2:
        raise EdgeAIError(f"a mean needs at least 2 heads, got {len(members)}")
    first = members[0]
    for member in members[1:]:
        for field in SHARED:
            if member.manifest[field] != first.manifest[field]:
                raise EdgeAIError(
                    f"{member.head}: {field} {member.manifest[field]!r} differs from "
                    f"{first.head}'s {first.manifest[field]!r}; a mean needs one of each"
                )
    if first.recipe.max_false_accepts_per_hour is None:
        raise EdgeAIError(
            f"{first.head}: its recipe sets no max_false_accepts_per_hour, the rule that "
            "chooses the mean's threshold"
        )


def mean_graph(heads: Sequence[Path]) -> onnx.ModelProto:
    """One ONNX model: the heads side by side on the same input, their scores averaged."""
    from onnx import helper

    models = _read_heads(heads)
    shared_input, output, nodes, initializers, scores = _side_by_side(models)
    nodes.append(helper.make_node("Mean", scores, [output.name]))
    return _model(models[0], nodes, initializers, shared_input, output, "mean_of_heads")


def either_graph(heads: Sequence[Path], thresholds: Sequence[float]) -> onnx.ModelProto:
    """One ONNX model: the heads side by side on the same input, scoring
    sigmoid(max_i(logit(score_i) - logit(threshold_i))), so it reaches 0.5 exactly when some
    member reaches its own threshold, and higher the further the surest member is above it."""
    from onnx import helper, numpy_helper

    models = _read_heads(heads)
    shared_input, output, nodes, initializers, scores = _side_by_side(models)
    low, high, one = "either_low", "either_high", "either_one"
    for name, value in ((low, LOGIT_CLIP), (high, 1 - LOGIT_CLIP), (one, 1.0)):
        initializers.append(numpy_helper.from_array(np.array(value, np.float32), name))
    shifted = []
    for index, (score, threshold) in enumerate(zip(scores, thresholds, strict=True)):
        shift = f"either_shift{index}"
        initializers.append(
            numpy_helper.from_array(
                np.array(np.log(threshold / (1 - threshold)), np.float32), shift
            )
        )
        p = f"either{index}_"
        nodes += [
            helper.make_node("Clip", [score, low, high], [p + "clipped"]),
            helper.make_node("Sub", [one, p + "clipped"], [p + "rest"]),
            helper.make_node("Div", [p + "clipped", p + "rest"], [p + "odds"]),
            helper.make_node("Log", [p + "odds"], [p + "logit"]),
            helper.make_node("Sub", [p + "logit", shift], [p + "shifted"]),
        ]
        shifted.append(p + "shifted")
    nodes += [
        helper.make_node("Max", shifted, ["either_best"]),
        helper.make_node("Sigmoid", ["either_best"], [output.name]),
    ]
    return _model(models[0], nodes, initializers, shared_input, output, "either_of_heads")


def _read_heads(heads: Sequence[Path]) -> list[onnx.ModelProto]:
    try:
        return [onnx.load(str(path)) for path in heads]
    except Exception as error:  # onnx raises its own DecodeError, protobuf's, or OSError
        raise EdgeAIError(f"a head could not be read as ONNX: {error}") from None


def _side_by_side(
    models: Sequence[onnx.ModelProto],
) -> tuple[
    onnx.ValueInfoProto,
    onnx.ValueInfoProto,
    list[onnx.NodeProto],
    list[onnx.TensorProto],
    list[str],
]:
    """The members' graphs, each name prefixed, fed the first one's input: (that input, the
    first one's output to produce, the nodes, the initializers, each member's score name)."""
    from onnx import compose, helper

    shared_input, output = models[0].graph.input[0], models[0].graph.output[0]
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    scores: list[str] = []
    for index, model in enumerate(models):
        graph = compose.add_prefix(model, f"member{index}_").graph
        nodes.append(helper.make_node("Identity", [shared_input.name], [graph.input[0].name]))
        nodes.extend(graph.node)
        initializers.extend(graph.initializer)
        scores.append(graph.output[0].name)
    return shared_input, output, nodes, initializers, scores


def _model(
    first: onnx.ModelProto,
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
    shared_input: onnx.ValueInfoProto,
    output: onnx.ValueInfoProto,
    name: str,
) -> onnx.ModelProto:
    from onnx import helper

    graph = helper.make_graph(nodes, name, [shared_input], [output], initializers)
    merged = helper.make_model(graph, opset_imports=first.opset_import)
    merged.ir_version = first.ir_version
    onnx.checker.check_model(merged)
    return merged


def stream_scores(head: WakeHead, features: np.ndarray, progress: str) -> np.ndarray:
    """The head's score at every block of a stream's embeddings (see `stream_features`)."""
    window = head.window
    return np.array(
        [
            head.score(features[end - window + 1 : end + 1])
            for end in tqdm(
                range(window, len(features)),
                desc=progress,
                unit="block",
                disable=None,
                mininterval=1.0,
            )
        ]
    )


def build_mean(
    heads: Sequence[Path],
    store: ModelStore,
    catalog: Catalog,
    out: Path,
    combine: Combination = Combination.MEAN,
) -> dict[str, object]:
    """Write <out>/<name>.onnx and .json (the first member's name) atomically: the combined
    head, its threshold by the first member's false-accept rule on its dev set, measured there."""
    members = [load_member(Path(head)) for head in heads]
    check_members(members)
    first = members[0]
    started = time.monotonic()
    paths = [m.head for m in members]
    if combine is Combination.EITHER:
        merged = either_graph(paths, [member_threshold(m) for m in members])
    else:
        merged = mean_graph(paths)
    frontend = WakeFrontend(store.require(catalog.get(FRONTEND)))
    dev = dataset.dev_set(
        Synthesizer(None), first.recipe.phrase, first.recipe.dev_positives,
        first.recipe.dev_negative_minutes * 60, seed=first.recipe.seed + DEV_SEED_OFFSET,
    )  # fmt: skip
    name = first.recipe.name
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".wakeword-") as workdir:
        head = Path(workdir) / f"{name}.onnx"
        onnx.save(merged, str(head))
        scorer = WakeHead(head_spec(name, head, 0.5))
        stream = stream_scores(scorer, stream_features(frontend, dev.ordinary), "dev negatives")
        per_hour = first.recipe.max_false_accepts_per_hour
        assert per_hour is not None  # check_members
        hours = len(dev.ordinary) / SAMPLE_RATE_HZ / 3600
        threshold = threshold_for_stream(stream, hours, per_hour)
        spec, look = with_second_look(
            frontend, store, catalog, head_spec(name, head, threshold),
            [m.recipe for m in members], dev.ordinary,
        )  # fmt: skip
        metrics = evaluate(frontend, spec, dev)
        manifest = {
            **{field: first.manifest[field] for field in ("name", *SHARED)},
            "precision": "fp32",
            "threshold": threshold,
            "threshold_rule": f"at most {per_hour} false accepts per hour on the dev set",
            "refractory_s": REFRACTORY_S,
            f"{combine.value}_of": [_member_summary(m) for m in members],
            **manifest_fields(look),
            "dev": dev_metrics(metrics),
            "build_seconds": round(time.monotonic() - started),
            "licence": "Apache-2.0 (trained here from synthetic speech)",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (Path(workdir) / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
        for suffix in (".onnx", ".json"):
            (Path(workdir) / f"{name}{suffix}").replace(out / f"{name}{suffix}")
    return manifest


def member_threshold(member: Member) -> float:
    """The threshold the member's own build chose: `either` calibrates each score by it."""
    threshold = member.manifest.get("threshold")
    if not isinstance(threshold, float) or not 0 < threshold < 1:
        raise EdgeAIError(
            f"{member.head.with_suffix('.json')}: threshold {threshold!r}; expected the "
            "trainer's, a number between 0 and 1"
        )
    return threshold


def _member_summary(member: Member) -> dict[str, object]:
    """What the mean's manifest keeps of a member: how to rebuild it and how it measured."""
    dev = member.manifest.get("dev")
    return {
        "recipe": member.recipe.model_dump(mode="json", exclude={"out"}),
        "threshold": member.manifest.get("threshold"),
        "created": member.manifest.get("created"),
        "training": member.manifest.get("training"),
        "dev": {k: dev.get(k) for k in ("false_reject_rate", "false_accepts_per_hour")}
        if isinstance(dev, dict)
        else None,
    }
