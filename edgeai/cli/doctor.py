"""`edgeai doctor`: one line per check, OK or what to do."""

from __future__ import annotations

import click

from edgeai.cli.context import emit, json_option, pass_app
from edgeai.doctor import Level, run_checks
from edgeai.runtime.context import AppContext

MARKS = {Level.OK: "ok  ", Level.WARN: "WARN", Level.FAIL: "FAIL"}


@click.command("doctor")
@json_option
@pass_app
def doctor(app: AppContext, as_json: bool) -> None:
    """Check Python, packages, config, profile, model store, audio, echo cancellation (plays a
    second of quiet noise to measure the speaker-to-microphone delay), camera and accelerators."""
    checks = run_checks(app.config, app.config_source, app.host, app.catalog, app.profiles)
    data = [
        {"topic": c.topic, "level": c.level.value, "detail": c.detail, "fix": c.fix} for c in checks
    ]

    def render() -> None:
        for c in checks:
            fix = f"  -> {c.fix}" if c.fix and c.level is not Level.OK else ""
            click.echo(f"{MARKS[c.level]} {c.topic}: {c.detail}{fix}")

    emit(data, as_json, render)
    failed = [c.topic for c in checks if c.level is Level.FAIL]
    if failed:
        raise click.ClickException(f"{len(failed)} checks failed: {', '.join(failed)}")
