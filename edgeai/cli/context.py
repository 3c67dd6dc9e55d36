"""What the commands share: the config, catalog and profiles, each loaded on first use."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from edgeai.catalog import Catalog
from edgeai.config import Config, load_config
from edgeai.detect import detect_profile
from edgeai.hostfacts import HostFacts, probe
from edgeai.profiles import Profile, Profiles
from edgeai.store import ModelStore


class AppContext:
    def __init__(self, config_path: Path | None) -> None:
        self._config_path = config_path

    @cached_property
    def _loaded(self) -> tuple[Config, Path | None]:
        return load_config(self._config_path)

    @property
    def config(self) -> Config:
        return self._loaded[0]

    @property
    def config_source(self) -> Path | None:
        return self._loaded[1]

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog.load()

    @cached_property
    def profiles(self) -> Profiles:
        return Profiles.load(self.catalog)

    @cached_property
    def store(self) -> ModelStore:
        return ModelStore(self.config.models.store_path())

    @cached_property
    def host(self) -> HostFacts:
        """What this machine is: probed once (it imports the engines and asks them)."""
        return probe()

    def active_profile(self) -> Profile:
        """The profile named in the config, or the detected one for `auto`."""
        if self.config.profile != "auto":
            return self.profiles.get(self.config.profile)
        return detect_profile(self.host, self.profiles).profile


pass_app = click.make_pass_decorator(AppContext)


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    """Print `data` as JSON for machines, or call `render` for people."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        render()


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
