"""`edgeai bench`: measure on this machine; results as JSON and markdown in --out."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgeai.bench.wake import bench_wake
from edgeai.cli.context import AppContext, pass_app
from edgeai.wake.frontend import WakeFrontend
from edgeai.wake.words import resolve_wake_word


@click.group("bench")
def bench_group() -> None:
    """Benchmarks: wake word accuracy and cost."""


@bench_group.command("wake")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default="bench-results",
              show_default=True, help="Folder for wake.json and wake.md.")  # fmt: skip
@click.option(
    "--positives", type=int, default=300, show_default=True, help="Dev clips of the phrase."
)
@click.option("--negative-minutes", type=float, default=60.0, show_default=True,
              help="Minutes of speech and noise without the phrase.")  # fmt: skip
@click.option("--seed", type=int, default=2026, show_default=True, help="Draw of the dev set.")
@pass_app
def wake(app: AppContext, out: Path, positives: int, negative_minutes: float, seed: int) -> None:
    """False-reject rate, false accepts per hour, delay and CPU of each configured wake word.

    The dev set uses espeak-ng voices, sentences, near-miss phrases and noises that the
    trainer never uses for training.
    """
    profile = app.active_profile()
    wake_role, vad_role = profile.roles["wake"], profile.roles["vad"]
    frontend = WakeFrontend(app.store.require(app.catalog.get(wake_role.model)))
    vad_entry = app.catalog.get(vad_role.model)
    vad_model = app.store.require(vad_entry) / vad_entry.files[0].name
    out.mkdir(parents=True, exist_ok=True)
    results, markdown = [], []
    for word in app.config.wake.words:
        spec = resolve_wake_word(word)
        phrase = word.name.replace("_", " ")
        result = bench_wake(frontend, spec, vad_model, phrase, positives, negative_minutes, seed)
        results.append(result.as_dict())
        markdown.append(result.markdown())
        click.echo(result.markdown())
    (out / "wake.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "wake.md").write_text("\n".join(markdown))
    click.echo(f"written: {out / 'wake.json'}, {out / 'wake.md'}")
