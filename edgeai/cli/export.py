"""`edgeai export`: build artifacts (needs the export extra: pip install 'edgeai[export]')."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from edgeai.cli.context import AppContext, emit, json_option, pass_app
from edgeai.errors import EdgeAIError
from edgeai.paths import user_data_dir
from edgeai.yamlfile import load_yaml_model


@click.group("export")
def export_group() -> None:
    """Build model artifacts: wake word heads."""


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
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("piper") is None:
        raise EdgeAIError(
            "the wake word trainer needs the export extra: pip install 'edgeai[export]'"
        )
    from edgeai.export.wakeword.recipe import WakeWordRecipe
    from edgeai.export.wakeword.trainer import build_wakeword

    if (phrase is None) == (recipe is None):
        raise click.UsageError("give a PHRASE or a --recipe, not both")
    base = load_yaml_model(recipe, WakeWordRecipe) if recipe else WakeWordRecipe(phrase=str(phrase))
    changes = {key: value for key, value in overrides.items() if value is not None}
    spec = base.model_copy(update=changes)
    target = out or spec.out or user_data_dir("wakewords")
    manifest = build_wakeword(spec, app.store, app.catalog, target)

    def render() -> None:
        dev = manifest["dev"]
        assert isinstance(dev, dict)
        click.echo(
            f"{target / spec.name}.onnx: threshold {manifest['threshold']}, "
            f"false rejects {dev['false_reject_rate']:.1%}, "
            f"false accepts {dev['false_accepts_per_hour']:.2f}/h "
            f"over {dev['negative_hours']:.2f} h, "
            + (
                f"delay p50 {dev['delay_ms_p50']:.0f} ms"
                if dev["delay_ms_p50"] is not None
                else "no detections"
            )
        )

    emit(manifest, as_json, render)
