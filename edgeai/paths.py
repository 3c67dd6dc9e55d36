"""Where edgeai keeps its state and finds its bundled data."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_USER_HOME = Path("~/.local/share/edgeai")
SERVICE_CONFIG = Path("/etc/edgeai/edgeai.yaml")
LOCAL_CONFIG = Path("edgeai.yaml")

_PACKAGE_DIR = Path(__file__).resolve().parent


def edgeai_home() -> Path:
    """`$EDGEAI_HOME`, else the per-user data directory."""
    return Path(os.environ.get("EDGEAI_HOME") or DEFAULT_USER_HOME).expanduser()


def default_model_store() -> Path:
    return edgeai_home() / "models"


def bundled_data_dir(name: str) -> Path:
    """A data folder shipped with edgeai (`models`, `device_profiles`).

    A wheel carries it under `edgeai/_data/`; a source checkout (editable install) has it at the
    repository root.
    """
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def user_data_dir(name: str) -> Path:
    """Where a user adds their own catalog entries or device profiles without editing edgeai."""
    return edgeai_home() / name
