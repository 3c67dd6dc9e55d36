"""`edgeai config`: check a config file before the service reads it."""

from __future__ import annotations

from pathlib import Path

import click

from edgeai.cli.context import pass_app
from edgeai.config import load_config
from edgeai.runtime.context import AppContext


@click.group("config")
def config_group() -> None:
    """Validate configuration files."""


@config_group.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_app
def check(app: AppContext, file: Path) -> None:
    """Validate FILE: every problem is reported with its line, field and the value found."""
    config, _ = load_config(file)
    if config.profile != "auto":
        app.profiles.get(config.profile)  # an unknown profile name fails here, with suggestions
    click.echo(f"{file}: ok (profile {config.profile}, model store {config.models.store_path()})")
