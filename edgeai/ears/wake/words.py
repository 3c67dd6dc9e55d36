"""Find a configured wake word's head file and threshold."""

from __future__ import annotations

import json
from pathlib import Path

from edgeai.config import WakeWordSettings
from edgeai.ears.wake.heads import WakeWordSpec
from edgeai.errors import ConfigError
from edgeai.paths import bundled_data_dir, user_data_dir

DEFAULT_THRESHOLD = 0.5


def resolve_wake_word(settings: WakeWordSettings) -> WakeWordSpec:
    """The head at `model`, else `<name>.onnx` in the user's wakewords folder, then the bundle.

    The threshold comes from the config, else the head's manifest (`<name>.json` beside it).
    """
    if settings.model is not None:
        model = settings.model.expanduser()
    else:
        candidates = [
            directory / f"{settings.name}.onnx"
            for directory in (user_data_dir("wakewords"), bundled_data_dir("wakewords"))
        ]
        found = [path for path in candidates if path.is_file()]
        if not found:
            raise ConfigError(
                f"wake word {settings.name!r}: no head at {' or '.join(map(str, candidates))}; "
                f'train one with `edgeai export wakeword "{settings.name.replace("_", " ")}"`'
            )
        model = found[0]
    threshold = settings.threshold or _manifest_threshold(model) or DEFAULT_THRESHOLD
    return WakeWordSpec(settings.name, model, threshold, settings.refractory_s)


def _manifest_threshold(model: Path) -> float | None:
    manifest = model.with_suffix(".json")
    if not manifest.is_file():
        return None
    try:
        value = json.loads(manifest.read_text()).get("threshold")
    except (json.JSONDecodeError, AttributeError) as e:
        raise ConfigError(f"{manifest}: not a wake word manifest: {e}") from None
    if not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError(f"{manifest}: threshold must be a number between 0 and 1, got {value!r}")
    return float(value)
