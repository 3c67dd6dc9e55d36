"""`edgeai wyoming`: the Wyoming server on its own, without microphone or camera loops. For a
bigger machine on the LAN that serves speech-to-text, text-to-speech and the assistant to
smaller ones (their `remote:` settings) or to Home Assistant."""

from __future__ import annotations

import signal

import click
from pydantic import ValidationError

from edgeai.cli.context import pass_app
from edgeai.config import WyomingSettings
from edgeai.runtime.compose import standalone_wyoming_stages
from edgeai.runtime.context import AppContext
from edgeai.runtime.models import load_voice_models_for
from edgeai.wyoming.server import WyomingServer

STOP = {signal.SIGTERM, signal.SIGINT}


@click.command("wyoming")
@click.option("--host", help="Address to listen on (default: the config's wyoming.host).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port; 0 picks a free one.")
@click.option(
    "--allow",
    multiple=True,
    help="A client address or network allowed besides this machine (repeatable).",
)
@pass_app
def wyoming(app: AppContext, host: str | None, port: int | None, allow: tuple[str, ...]) -> None:
    """Serve wake word, speech-to-text, text-to-speech and the assistant over Wyoming."""
    config = app.config
    overrides: dict[str, object] = {"enabled": True}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if allow:
        overrides["allow"] = list(allow)
    try:
        settings = WyomingSettings.model_validate(config.wyoming.model_dump() | overrides)
    except ValidationError as e:
        problem = e.errors()[0]
        where = f"--{problem['loc'][0]} {problem['input']}" if problem["loc"] else "wyoming"
        raise click.UsageError(f"{where}: {problem['msg'].removeprefix('Value error, ')}") from None
    app.use_service_log_level()
    profile = app.active_profile()
    stages = standalone_wyoming_stages(app, profile, load_voice_models_for(app, profile))
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP)
    server = WyomingServer(settings, stages)
    server.start()
    click.echo(f"Wyoming server on tcp://{settings.host}:{server.port}", err=False)
    try:
        signal.sigwait(STOP)
    finally:
        server.stop()
