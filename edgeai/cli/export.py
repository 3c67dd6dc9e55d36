"""`edgeai export`: build artifacts (needs the export extra: pip install 'edgeai[export]')."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgeai.cli.context import emit, json_option, pass_app
from edgeai.device.artifacts import ArtifactIndex
from edgeai.errors import EdgeAIError, ExportError
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.models.manifest import Manifest
from edgeai.paths import user_data_dir
from edgeai.runtime.context import AppContext
from edgeai.yamlfile import load_yaml_model

if TYPE_CHECKING:
    from edgeai.export.coverage import RoleRecipe

RECIPE_COMMAND = "recipe"


class RecipeGroup(click.Group):
    """`edgeai export RECIPE ...` runs a recipe; `edgeai export wakeword|list ...` as named."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return RECIPE_COMMAND, self.commands[RECIPE_COMMAND], args
        return super().resolve_command(ctx, args)


@click.group("export", cls=RecipeGroup)
def export_group() -> None:
    """Build model artifacts: edgeai export RECIPE [--profile P].

    RECIPE is a YAML file or the name of a bundled recipe in export/ (whisper-tiny-en,
    smollm2-135m, yolov8-fall, piper-joe, wakeword-hey-jarvis, wakeword-stop; `edgeai export
    list` shows which role each serves). Each artifact gets a folder under
    $EDGEAI_HOME/artifacts with its manifest; one that fails its accuracy gate is kept but not
    used, and the command says by how much it failed.
    """


EXPORT_MODULES = ("onnx", "nncf", "optimum", "transformers", "torch")


def has_export_extra(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules or EXPORT_MODULES)


def require_export_extra(*modules: str) -> None:
    if not has_export_extra(*modules):
        raise EdgeAIError("exporting needs the export extra: pip install 'edgeai[export]'")


@export_group.command(RECIPE_COMMAND)
@click.argument("recipe")
@click.option("--profile", help="Build only the targets meant for this device profile.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Artifacts folder (default $EDGEAI_HOME/artifacts).",
)
@json_option
@pass_app
def run_recipe(
    app: AppContext, /, recipe: str, profile: str | None, out: Path | None, as_json: bool
) -> None:
    """Run RECIPE (a YAML file or a bundled recipe's name)."""
    from edgeai.export.recipe import load_recipe, recipe_path

    spec = load_recipe(recipe_path(recipe))
    if isinstance(spec, WakeWordRecipe):
        _train_wakeword(app, spec, None, as_json)
        return
    require_export_extra()
    from edgeai.export.common import ExportContext
    from edgeai.export.dispatch import export_recipe

    root = out or user_data_dir("artifacts")
    context = ExportContext(app.store, app.catalog, app.profiles, app.active_profile(), root)
    manifests = export_recipe(spec, context, profile)
    emit([m.model_dump(mode="json") for m in manifests], as_json, lambda: _print(manifests))
    failed = [m for m in manifests if not m.usable]
    if failed:
        raise ExportError(
            f"{len(failed)} of {len(manifests)} artifacts failed their gate and will not be used: "
            + "; ".join(f"{m.name}: {_gate_text(m)}" for m in failed)
        )


@export_group.command("list")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Artifacts folder.")
@json_option
@pass_app
def list_artifacts(app: AppContext, /, out: Path | None, as_json: bool) -> None:
    """The bundled recipe for each role of the default models (or why a model has none), then
    the artifacts built so far, with their gates and the profiles that load them."""
    from edgeai.export.coverage import role_recipes

    recipes = role_recipes(app.profiles)
    manifests = [artifact.manifest for artifact in ArtifactIndex.load(out)]

    def render() -> None:
        _print_recipes(recipes)
        _print(manifests)

    emit(
        {
            "recipes": [dataclasses.asdict(row) for row in recipes],
            "artifacts": [m.model_dump(mode="json") for m in manifests],
        },
        as_json,
        render,
    )


def _print_recipes(recipes: list[RoleRecipe]) -> None:
    click.echo("recipes (export/), by role of the default models:")
    for row in recipes:
        name = row.recipe or "-"
        served = f"  profiles: {', '.join(row.profiles)}" if row.profiles else ""
        click.echo(f"  {row.role:<9} {row.model:<27} {name:<20} {row.note}{served}")
    click.echo("artifacts:")


def _print(manifests: list[Manifest]) -> None:
    if not manifests:
        click.echo("no artifacts yet: edgeai export RECIPE")
    for m in manifests:
        speed = (
            f"{m.latency_ms:.0f} ms ({m.reference_latency_ms / m.latency_ms:.2f}x the source)"
            if m.latency_ms and m.reference_latency_ms
            else "latency not measured"
        )
        state = "usable" if m.usable else "NOT USABLE"
        click.echo(
            f"{m.name:<28} {m.format:<8} {m.precision:<5} {m.size_bytes / 1e6:7.1f} MB  {speed}  "
            f"{_gate_text(m)}  {state}  profiles: {', '.join(m.profiles) or '-'}"
        )


def _gate_text(m: Manifest) -> str:
    gate = m.gate
    if gate is None:
        return "no gate (a catalog model)"
    text = f"{gate.metric} {gate.value:.3f} vs {gate.reference:.3f}"
    if not gate.passed:
        text += f" (allowed drop {gate.max_drop:.3f}, short by {gate.shortfall:.3f})"
    return text


@export_group.command("wakeword")
@click.argument("phrase", required=False)
@click.option("--recipe", type=click.Path(path_type=Path, dir_okay=False), help="Recipe YAML.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option("--seed", type=int, help="Random seed (overrides the recipe).")
@click.option("--positives", type=int, help="Training clips of the phrase.")
@click.option("--negative-minutes", type=float, help="Minutes of training negatives.")
@click.option("--dev-positives", type=int, help="Dev clips of the phrase.")
@click.option("--dev-negative-minutes", type=float, help="Minutes of dev negatives.")
@json_option
@pass_app
def wakeword(
    app: AppContext,
    /,
    phrase: str | None,
    recipe: Path | None,
    out: Path | None,
    as_json: bool,
    **overrides: object,
) -> None:
    """Train a wake word head for PHRASE from synthetic speech, fully offline.

    Writes NAME.onnx and NAME.json (threshold, false-reject rate and false accepts per hour
    measured on a dev set kept apart from training) to --out, default $EDGEAI_HOME/wakewords.
    """
    if (phrase is None) == (recipe is None):
        raise click.UsageError("give a PHRASE or a --recipe, not both")
    base = load_yaml_model(recipe, WakeWordRecipe) if recipe else WakeWordRecipe(phrase=str(phrase))
    changes = {key: value for key, value in overrides.items() if value is not None}
    _train_wakeword(app, base.model_copy(update=changes), out, as_json)


def _train_wakeword(app: AppContext, spec: WakeWordRecipe, out: Path | None, as_json: bool) -> None:
    require_export_extra("torch", "piper")
    from edgeai.export.wakeword.trainer import build_wakeword

    target = out or spec.out or user_data_dir("wakewords")
    manifest = build_wakeword(spec, app.store, app.catalog, target)
    emit(manifest, as_json, lambda: _print_head(target / f"{spec.name}.onnx", manifest))


@export_group.command("wakeword-mean")
@click.argument("heads", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option(
    "--combine",
    type=click.Choice(["mean", "either"]),
    default="mean",
    show_default=True,
    help="mean: the mean of the scores; either: fires when any head would at its own threshold.",
)
@json_option
@pass_app
def wakeword_mean(
    app: AppContext, /, heads: tuple[Path, ...], out: Path | None, combine: str, as_json: bool
) -> None:
    """One head that combines built HEADS (each NAME.onnx with the trainer's NAME.json beside
    it, all for one phrase): builds that differ miss different phrases.

    Its threshold follows the first head's recipe (false accepts per hour on its dev set,
    which no member trained on). Writes NAME.onnx and NAME.json to --out, default
    $EDGEAI_HOME/wakewords.
    """
    from edgeai.export.wakeword.mean import Combination, build_mean

    target = out or user_data_dir("wakewords")
    manifest = build_mean(heads, app.store, app.catalog, target, Combination(combine))
    emit(manifest, as_json, lambda: _print_head(target / f"{manifest['name']}.onnx", manifest))


def _print_head(head: Path, manifest: dict[str, object]) -> None:
    dev = manifest["dev"]
    assert isinstance(dev, dict)
    click.echo(
        f"{head}: threshold {manifest['threshold']}, "
        f"false rejects {dev['false_reject_rate']:.1%}, "
        f"false accepts {dev['false_accepts_per_hour']:.2f}/h "
        f"over {dev['negative_hours']:.2f} h, "
        + (
            f"delay p50 {dev['delay_ms_p50']:.0f} ms"
            if dev["delay_ms_p50"] is not None
            else "no detections"
        )
    )
    look, tuning = manifest.get("second_look"), manifest.get("second_look_tuning")
    if isinstance(look, dict) and isinstance(tuning, dict):
        click.echo(
            f"second look: x{look['lengthen']:g} at {look['threshold']:g}; "
            f"{tuning['misses']} of {tuning['positives']} phrases of "
            f"{' and '.join(tuning['families'])} missed (head alone {tuning['misses_alone']})"
        )
    elif isinstance(tuning, dict):
        click.echo(f"second look: {manifest.get('second_look_rule')}")
