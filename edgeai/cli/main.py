"""Entry point: the `edgeai` command group and its error handling."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from edgeai import __version__
from edgeai.cli.bench import bench_group
from edgeai.cli.config import config_group
from edgeai.cli.demo import demo
from edgeai.cli.doctor import doctor
from edgeai.cli.export import export_group
from edgeai.cli.listen import listen
from edgeai.cli.models import models_group
from edgeai.cli.profile import profile_group
from edgeai.cli.run import run
from edgeai.cli.vision import detect, watch
from edgeai.cli.voice import chat, say, transcribe
from edgeai.cli.wyoming import wyoming
from edgeai.errors import EdgeAIError
from edgeai.logs import configure_logging
from edgeai.runtime.context import AppContext
from edgeai.runtime.memory import tune_allocator


class EdgeAIGroup(click.Group):
    """Turns an EdgeAIError anywhere below into click's one-line `Error: ...` and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EdgeAIError as e:
            raise click.ClickException(str(e)) from None


@click.group(cls=EdgeAIGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgeai")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="EDGEAI_CONFIG",
    help="Config file (default: ./edgeai.yaml if present, else built-in defaults).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v, -vv).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """edgeai: a private, offline voice and vision assistant for small computers."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    configure_logging(level)
    ctx.obj = AppContext(config_path, verbose)


cli.add_command(models_group)
cli.add_command(profile_group)
cli.add_command(config_group)
cli.add_command(doctor)
cli.add_command(export_group)
cli.add_command(listen)
cli.add_command(bench_group)
for command in (transcribe, say, chat, detect, watch, demo, run, wyoming):
    cli.add_command(command)


def main() -> None:
    tune_allocator()  # every command: benchmarks and the demo hold the same models
    cli()
