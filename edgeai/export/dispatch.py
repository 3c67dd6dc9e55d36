"""One entry for every model recipe kind: `edgeai export` and `edgeai bench export` share it."""

from __future__ import annotations

from edgeai.export.common import ExportContext
from edgeai.export.recipe import ClassifierRecipe, DetectorRecipe, LlmRecipe, SttRecipe, TtsRecipe
from edgeai.models.manifest import Manifest

ModelRecipe = ClassifierRecipe | DetectorRecipe | LlmRecipe | SttRecipe | TtsRecipe


def export_recipe(
    recipe: ModelRecipe, context: ExportContext, profile: str | None = None
) -> list[Manifest]:
    """Build the recipe's targets (only those meant for `profile`, when given)."""
    if isinstance(recipe, DetectorRecipe):
        from edgeai.export.detector import export_detector

        return export_detector(recipe, context, profile)
    if isinstance(recipe, ClassifierRecipe):
        from edgeai.export.classifier import export_classifier

        return export_classifier(recipe, context, profile)
    if isinstance(recipe, TtsRecipe):
        from edgeai.export.tts import export_tts

        return export_tts(recipe, context, profile)
    if isinstance(recipe, SttRecipe):
        from edgeai.export.stt import export_stt

        return export_stt(recipe, context, profile)
    from edgeai.export.llm import export_llm

    return export_llm(recipe, context, profile)


def evaluation_label(recipe: ModelRecipe) -> str:
    """What the gate was measured on, for tables."""
    if isinstance(recipe, DetectorRecipe):
        return f"mAP@0.5 on {recipe.evaluation.synthetic} labelled pictures"
    if isinstance(recipe, ClassifierRecipe):
        return "top-1 agreement with the checkpoint on pictures"
    if isinstance(recipe, TtsRecipe):
        return f"round-trip word error rate on {len(recipe.sentences)} spoken sentences"
    if isinstance(recipe, SttRecipe):
        return f"word error rate on {len(recipe.sentences) * len(recipe.voices)} spoken clips"
    return "perplexity on the recipe's text"
