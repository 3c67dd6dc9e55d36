"""Export an LLM recipe: Hugging Face checkpoint -> f16 GGUF -> Q8_0 / Q4_K_M, and OpenVINO int4.

The f16 GGUF made by llama.cpp's converter is the GGUF artifacts' reference: each quantization's
perplexity on the recipe's text is compared with it, and generation speed is measured taking
turns with it, in a separate process (llama.cpp aborts the process on some malformed models).
The OpenVINO artifact is compared with the checkpoint itself (see llm_openvino).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from edgeai.errors import ExportError, last_error_line
from edgeai.export import llama_cpp_tools, llm_openvino
from edgeai.export.common import (
    ExportContext,
    Measured,
    Source,
    artifact_manifest,
    build_artifact,
    checked_source,
    chosen_targets,
    converted,
    main_file_first,
    run_targets,
)
from edgeai.export.recipe import LlmRecipe, LlmTarget
from edgeai.models.manifest import Manifest

TOOLS = ("llama-cpp-python", "torch", "transformers", "optimum-intel", "nncf")
ARTIFACT_FILE = "model.gguf"


def export_llm(
    recipe: LlmRecipe, context: ExportContext, profile: str | None = None
) -> list[Manifest]:
    """Build the recipe's targets (only those meant for `profile`, when given)."""
    targets = chosen_targets(recipe.name, recipe.targets, context.profiles, profile)
    source = checked_source(recipe.name, recipe.source, context)
    checkpoint = source.path.parent
    tools = llama_cpp_tools.converter(context.cache)
    architecture = llama_cpp_tools.check_checkpoint(tools, checkpoint)
    threads = context.host.roles["llm"].threads
    with tempfile.TemporaryDirectory(prefix=".scratch-", dir=_scratch_root(context)) as scratch:
        reference, text = Path(scratch) / "f16.gguf", Path(scratch) / "evaluation.txt"

        def prepare() -> None:
            converted(
                f"{recipe.name}: conversion of {checkpoint} to GGUF",
                lambda: llama_cpp_tools.convert_to_gguf(tools, checkpoint, reference),
            )
            text.write_text(recipe.evaluation_text)

        return run_targets(
            recipe.name,
            targets,
            f"{architecture} to f16 GGUF",
            prepare,
            lambda target, _: _build_target(
                recipe, target, context, source, reference, text, threads
            ),
        )


def _scratch_root(context: ExportContext) -> Path:
    """Intermediate files on the artifacts' filesystem: a 1 GB f16 model may not fit in /tmp."""
    context.out_root.mkdir(parents=True, exist_ok=True)
    return context.out_root


def _build_target(
    recipe: LlmRecipe,
    target: LlmTarget,
    context: ExportContext,
    source: Source,
    reference: Path,
    text: Path,
    threads: int,
) -> Manifest:
    checkpoint = source.path.parent
    label = f"{recipe.name}/{target.name}"

    def convert(work: Path, _: Path) -> Path:
        if target.format == "openvino":
            return llm_openvino.export_int4(checkpoint, work)
        model_file = work / ARTIFACT_FILE
        if target.precision == "f16":
            shutil.copyfile(reference, model_file)
            return model_file
        return llama_cpp_tools.quantize(reference, model_file, target.precision, threads)

    def measure(model_file: Path, work: Path) -> Manifest:
        if target.format == "openvino":
            probe = llm_openvino.measure(checkpoint, work, recipe.evaluation_text)
        else:
            probe = _probe(reference, model_file, text, threads, label)
        reference_ppl = probe["reference_perplexity"]
        return artifact_manifest(
            recipe,
            source,
            target,
            role="llm",
            engine="openvino" if target.format == "openvino" else "llama_cpp",
            files=main_file_first(model_file, work),
            measured=Measured(
                metric="perplexity",
                reference=reference_ppl,
                value=probe["perplexity"],
                max_drop=reference_ppl * recipe.gate.max_perplexity_increase,
                higher_is_better=False,
                latency_ms=probe["ms_per_token"],
                reference_latency_ms=probe["reference_ms_per_token"],
                accuracy={
                    "perplexity": probe["perplexity"],
                    "reference_perplexity": reference_ppl,
                    "evaluation_tokens": probe["tokens"],
                },
            ),
            tools=TOOLS,
            replaces=recipe.replaces,
        )

    return build_artifact(context, recipe, target, convert, measure)


def _probe(
    reference: Path, candidate: Path, text: Path, threads: int, label: str
) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "edgeai.export.llm_probe", str(reference), str(candidate),
         str(text), str(threads)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise ExportError(
            f"{label}: llama.cpp could not run the model (exit {done.returncode}): "
            f"{last_error_line(done.stderr)}"
        )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
