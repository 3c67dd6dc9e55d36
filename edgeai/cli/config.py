"""`edgeai config`: check a config file before the service reads it."""

from __future__ import annotations

from pathlib import Path

import click

from edgeai.cli.context import pass_app
from edgeai.config import load_config
from edgeai.device.detection import detect_profile
from edgeai.doctor import SECRETS_FIX, secrets_exposed
from edgeai.runtime.context import AppContext
from edgeai.service.unit import render_unit


@click.group("config")
def config_group() -> None:
    """Validate configuration files; render the systemd unit for one."""


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


@config_group.command("unit")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--template",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The unit template: systemd/edgeai.service of the checkout.",
)
@click.option("--bin", "edgeai_bin", required=True, help="The edgeai command the unit runs.")
@click.option("--profile", help="Device profile (default: FILE's profile; auto detects it here).")
@pass_app
def unit(app: AppContext, file: Path, template: Path, edgeai_bin: str, profile: str | None) -> None:
    """Print the systemd unit for FILE: the devices it may open (sound, video and the profile's
    accelerators) and the addresses it may talk to (loopback, LAN, mDNS, those FILE names)."""
    config, _ = load_config(file)
    name = profile or config.profile
    chosen = (
        app.profiles.get(name) if name != "auto" else detect_profile(app.host, app.profiles).profile
    )
    click.echo(render_unit(template.read_text(), edgeai_bin, config, chosen), nl=False)
