"""Which bundled recipe (export/) serves each role of the default models, and why a default
model has none: `edgeai export list` shows it, and a test keeps every default model covered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edgeai.config import WakeSettings
from edgeai.device.profiles import Profiles
from edgeai.export.recipe import (
    ClassifierRecipe,
    DetectorRecipe,
    LlmRecipe,
    SttRecipe,
    TtsRecipe,
    load_recipe,
)
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.models.catalog import Role
from edgeai.paths import bundled_data_dir

NO_EXPORT_PATH = {
    "openwakeword-frontend": "no export path: openWakeWord's mel spectrogram and embedding "
    "graphs are used as shipped (1.4 ms per 80 ms of audio); the heads on top of them are the "
    "wakeword recipes",
    "silero-vad": "no export path: Silero VAD is used as shipped (a 2 MB fp32 ONNX graph "
    "taking 0.12 ms per 32 ms chunk on one core)",
}
"""Default models deliberately without a recipe, and why."""

RecipeRole = Role | Literal["stop", "classifier"]
ROLE_ORDER: tuple[RecipeRole, ...] = ("wake", "stop", "vad", "stt", "llm", "tts", "detector")


@dataclass(frozen=True)
class RoleRecipe:
    role: RecipeRole
    """wake, stop (the barge-in word), vad, stt, llm, tts or detector."""
    model: str
    """The default model the recipe rebuilds or replaces (a wake word: its head)."""
    recipe: str | None
    """The bundled recipe's name; None where the model has no export path."""
    note: str
    """What the recipe makes, or why there is none."""
    profiles: tuple[str, ...] = ()
    """Profiles whose roles load what the recipe makes (a wake word head: every profile)."""


def bundled_recipes() -> dict[str, Path]:
    return {p.stem: p for p in sorted(bundled_data_dir("export").glob("*.yaml"))}


def role_recipes(profiles: Profiles) -> list[RoleRecipe]:
    """A row for each bundled recipe, then one for each default model no recipe serves."""
    everyone = tuple(p.name for p in profiles)
    rows = [_row(name, path, everyone) for name, path in bundled_recipes().items()]
    served = {row.model for row in rows}
    for profile in profiles:
        for role, assignment in profile.roles.items():
            if assignment.model in served:
                continue
            served.add(assignment.model)
            note = NO_EXPORT_PATH.get(assignment.model, "no recipe")
            rows.append(RoleRecipe(role, assignment.model, None, note))
    order = {role: i for i, role in enumerate(ROLE_ORDER)}
    return sorted(rows, key=lambda row: order.get(row.role, len(order)))


def _row(name: str, path: Path, everyone: tuple[str, ...]) -> RoleRecipe:
    recipe = load_recipe(path)
    if isinstance(recipe, WakeWordRecipe):
        wake = WakeSettings()
        stop = recipe.name in {w.name for w in wake.stop_words}
        role: RecipeRole = "stop" if stop else "wake"
        return RoleRecipe(role, recipe.name, name, f"the {recipe.phrase!r} head", everyone)
    served = tuple(dict.fromkeys(p for t in recipe.targets for p in t.profiles))
    formats = ", ".join(f"{t.format} {t.precision}" for t in recipe.targets)
    if isinstance(recipe, DetectorRecipe | TtsRecipe):
        role = "detector" if isinstance(recipe, DetectorRecipe) else "tts"
        return RoleRecipe(role, recipe.source.model or name, name, formats, served)
    if isinstance(recipe, ClassifierRecipe):
        return RoleRecipe("classifier", name, name, formats, served)
    role = "stt" if isinstance(recipe, SttRecipe) else "llm"
    assert isinstance(recipe, SttRecipe | LlmRecipe)
    return RoleRecipe(role, recipe.replaces or name, name, formats, served)
