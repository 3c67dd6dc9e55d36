"""Find a configured wake word's head file and threshold."""

from __future__ import annotations

import json
from pathlib import Path

from edgeai.config import WakeWordSettings
from edgeai.ears.wake.heads import SecondLookSpec, WakeWordSpec
from edgeai.errors import ConfigError
from edgeai.paths import bundled_data_dir, user_data_dir

DEFAULT_THRESHOLD = 0.5


def resolve_wake_word(settings: WakeWordSettings) -> WakeWordSpec:
    """The head at `model`, else `<name>.onnx` in the user's wakewords folder, then the bundle.

    The threshold comes from the config, else the head's manifest (`<name>.json` beside it).
    The manifest's second look was chosen with the manifest's threshold, so it comes only with
    that threshold, and not when the config turns it off.
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
    path = model.with_suffix(".json")
    manifest = _manifest(path)
    threshold = settings.threshold or _threshold(manifest, path) or DEFAULT_THRESHOLD
    with_look = settings.second_look and settings.threshold is None  # its threshold's look
    second_look = _second_look(manifest, path) if with_look else None
    return WakeWordSpec(settings.name, model, threshold, settings.refractory_s, second_look)


def _manifest(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not a wake word manifest: {e}") from None
    if not isinstance(manifest, dict):
        raise ConfigError(f"{path}: not a wake word manifest: expected an object")
    return manifest


def _threshold(manifest: dict[str, object], path: Path) -> float | None:
    value = manifest.get("threshold")
    if value is None:
        return None
    if not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError(f"{path}: threshold must be a number between 0 and 1, got {value!r}")
    return float(value)


def _second_look(manifest: dict[str, object], path: Path) -> SecondLookSpec | None:
    value = manifest.get("second_look")
    if value is None:
        return None
    fields = {"low": (0.0, 1.0), "threshold": (0.0, 1.0), "lengthen": (1.0, 2.0)}
    if not isinstance(value, dict) or set(value) != set(fields):
        raise ConfigError(
            f"{path}: second_look must be an object with {', '.join(fields)}, got {value!r}"
        )
    for key, (above, at_most) in fields.items():
        number = value[key]
        if not isinstance(number, (int, float)) or not above < number <= at_most:
            raise ConfigError(
                f"{path}: second_look.{key} must be a number over "
                f"{above:g} and at most {at_most:g}, got {number!r}"
            )
    return SecondLookSpec(float(value["low"]), float(value["threshold"]), float(value["lengthen"]))
