"""What the commands share: the application context (edgeai.runtime), passed to each command,
and how data is printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from edgeai.runtime.context import AppContext

pass_app = click.make_pass_decorator(AppContext)


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    """Print `data` as JSON for machines, or call `render` for people."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        render()


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
