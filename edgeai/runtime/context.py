"""What every entry point shares: the config, catalog, profiles, model store and host facts,
each loaded on first use."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

from edgeai.config import Config, load_config
from edgeai.device.detection import detect_profile
from edgeai.device.host import HostFacts, probe
from edgeai.device.profiles import Profile, Profiles
from edgeai.logs import configure_logging
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStore

LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}  # fmt: skip


class AppContext:
    def __init__(self, config_path: Path | None, verbosity: int = 0) -> None:
        self._config_path = config_path
        self.verbosity = verbosity
        """-v count on the command line: 1 for INFO, 2 for DEBUG."""

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

    def placement_facts(self, profile: Profile) -> HostFacts:
        """What placing `profile` needs to know: the engines are asked (and imported) only
        when one of its roles wants an accelerator."""
        if self.config.profile == "auto" or any(r.device != "cpu" for r in profile.roles.values()):
            return self.host
        return probe(ask_engines=False)

    def with_config(self, config: Config) -> AppContext:
        """The same context running `config` instead (a benchmark's own timers file, say)."""
        derived = AppContext(self._config_path, self.verbosity)
        derived.__dict__["_loaded"] = (config, self.config_source)
        for shared in ("catalog", "profiles", "host"):
            if shared in self.__dict__:
                derived.__dict__[shared] = self.__dict__[shared]
        return derived

    def active_profile(self) -> Profile:
        """The profile named in the config, or the detected one for `auto`."""
        if self.config.profile != "auto":
            return self.profiles.get(self.config.profile)
        return detect_profile(self.host, self.profiles).profile

    def use_service_log_level(self) -> None:
        """Long-running commands log at the config's `log_level` (what reaches the journal);
        -v and -vv still raise it."""
        flags = {0: logging.WARNING, 1: logging.INFO}.get(self.verbosity, logging.DEBUG)
        configure_logging(min(LOG_LEVELS[self.config.log_level], flags))
