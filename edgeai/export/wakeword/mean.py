"""Built heads in, one head out that scores their mean: builds that differ in seed and data
miss different phrases, so their mean misses fewer at the same false accepts (README, "The
bundled head is the mean of two builds"). Its threshold is chosen by the trainer's own rule on
the first member's dev set, which no member trained on."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from tqdm import tqdm

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.ears.wake.evaluate import REFRACTORY_S, evaluate, head_spec
from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.ears.wake.heads import WakeHead
from edgeai.errors import EdgeAIError
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
    from onnx import compose, helper

    try:
        models = [onnx.load(str(path)) for path in heads]
    except Exception as error:  # onnx raises its own DecodeError, protobuf's, or OSError
        raise EdgeAIError(f"a head could not be read as ONNX: {error}") from None
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
    nodes.append(helper.make_node("Mean", scores, [output.name]))
    graph = helper.make_graph(nodes, "mean_of_heads", [shared_input], [output], initializers)
    merged = helper.make_model(graph, opset_imports=models[0].opset_import)
    merged.ir_version = models[0].ir_version
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
    heads: Sequence[Path], store: ModelStore, catalog: Catalog, out: Path
) -> dict[str, object]:
    """Write <out>/<name>.onnx and .json (the first member's name) atomically: the mean head,
    its threshold by the first member's false-accept rule on its dev set, measured there."""
    members = [load_member(Path(head)) for head in heads]
    check_members(members)
    first = members[0]
    started = time.monotonic()
    merged = mean_graph([m.head for m in members])
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
        metrics = evaluate(frontend, head_spec(name, head, threshold), dev)
        manifest = {
            **{field: first.manifest[field] for field in ("name", *SHARED)},
            "precision": "fp32",
            "threshold": threshold,
            "threshold_rule": f"at most {per_hour} false accepts per hour on the dev set",
            "refractory_s": REFRACTORY_S,
            "mean_of": [_member_summary(m) for m in members],
            "dev": dev_metrics(metrics),
            "build_seconds": round(time.monotonic() - started),
            "licence": "Apache-2.0 (trained here from synthetic speech)",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (Path(workdir) / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
        for suffix in (".onnx", ".json"):
            (Path(workdir) / f"{name}{suffix}").replace(out / f"{name}{suffix}")
    return manifest


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
