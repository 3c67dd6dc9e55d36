"""`edgeai config`: check a config file before the service reads it."""

from __future__ import annotations

from pathlib import Path

import click

from edgeai.cli.context import AppContext, pass_app
from edgeai.config import load_config
from edgeai.doctor import SECRETS_FIX, secrets_exposed


@click.group("config")
def config_group() -> None:
    """Validate configuration files."""


@config_group.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_app
def check(app: AppContext, file: Path) -> None:
    """Validate FILE: every problem is reported with its line and field (and the value found,
    unless it is a secret or an unknown setting); warns when FILE holds secrets that every
    local user can read."""
    config, _ = load_config(file)
    if config.profile != "auto":
        app.profiles.get(config.profile)  # an unknown profile name fails here, with suggestions
    exposed = secrets_exposed(config, file)
    if exposed is not None:
        click.echo(f"warning: {exposed}: {SECRETS_FIX.replace('FILE', str(file))}", err=True)
    click.echo(f"{file}: ok (profile {config.profile}, model store {config.models.store_path()})")
