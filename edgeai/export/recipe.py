"""Export recipes: one YAML file in `export/` says what to convert, into what, and how to check it.

`kind` picks the toolchain: `detector` (a YOLOv8-style ONNX detector to ONNX fp32/fp16, static
int8 QDQ, OpenVINO IR fp16 and NNCF int8), `classifier` (a Hugging Face image classifier to the
same formats), `stt` (a Whisper checkpoint to CTranslate2, ONNX and
OpenVINO IR), `tts` (a Piper voice to ONNX fp16 and int8, OpenVINO IR), `llm` (a Hugging Face
checkpoint to GGUF f16, Q8_0 and Q4_K_M, OpenVINO int4) or `wakeword` (the wake word trainer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from edgeai.errors import ConfigError
from edgeai.export.wakeword.recipe import WakeWordRecipe
from edgeai.models.catalog import FILE_NAME
from edgeai.paths import bundled_data_dir
from edgeai.synthetic.people_images import POSTURES
from edgeai.yamlfile import load_yaml_model

NAME = r"^[a-z0-9][a-z0-9._-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubFile(Strict):
    """One file of a Hugging Face checkpoint; sha256 and size where they could be verified,
    else it is pinned by the revision alone."""

    path: str = Field(pattern=FILE_NAME.pattern, description="File name at the repository's root")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    size_bytes: int | None = Field(default=None, gt=0, description="Exact size, when known")


class HubSource(Strict):
    """A checkpoint on the Hugging Face hub (or the mirror HF_ENDPOINT names), fetched once."""

    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name on the hub")
    revision: str = Field(
        pattern=r"^[0-9a-f]{40}$", description="A commit hash: a branch name could change"
    )
    files: list[HubFile] = Field(
        min_length=1,
        description="The weights first (the source's sha256 pins them), then the "
        "configuration and tokenizer files the converters read",
    )

    @model_validator(mode="after")
    def _weights_pinned_once(self) -> HubSource:
        names = [f.path for f in self.files]
        if len(set(names)) != len(names):
            raise ValueError("files: names must be unique")
        weights = self.files[0]
        if weights.sha256 is not None:
            raise ValueError(f"files: {weights.path} (the weights) is pinned by source.sha256")
        if weights.size_bytes is None:
            raise ValueError(f"files: {weights.path} (the weights) needs its size_bytes")
        unsized = [f.path for f in self.files if f.sha256 is not None and f.size_bytes is None]
        if unsized:
            raise ValueError(f"files: {unsized} have a sha256 but no size_bytes")
        return self

    @property
    def label(self) -> str:
        return f"huggingface:{self.repo}@{self.revision[:10]}"


class SourceSpec(Strict):
    """The model to convert: a catalog model (pulled into the store), a file, or a checkpoint
    on the Hugging Face hub."""

    model: str | None = Field(default=None, description="Catalog name")
    path: Path | None = Field(default=None, description="A local file instead of a catalog model")
    huggingface: HubSource | None = Field(default=None, description="A checkpoint on the hub")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="Pinned: a changed source is refused, not exported (a hub checkpoint: of "
        "its weights, the first of its files)",
    )
    licence: str | None = Field(
        default=None,
        description="SPDX id of a file's or checkpoint's weights (a catalog model has its own)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SourceSpec:
        given = [self.model, self.path, self.huggingface]
        if sum(value is not None for value in given) != 1:
            raise ValueError(
                "give exactly one of model (a catalog name), path (a file) or huggingface "
                "(a checkpoint on the hub)"
            )
        return self


class ImageSet(Strict):
    """Pictures for calibration or evaluation: generated with exact labels, or a folder."""

    synthetic: int | None = Field(
        default=None, ge=4, le=5000, description="How many labelled people pictures to generate"
    )
    images: Path | None = Field(
        default=None, description="A folder of .jpg/.png pictures (calibration only: no labels)"
    )
    seed: int = Field(default=0, description="Generated sets with different seeds are disjoint")
    count: int = Field(default=64, ge=4, description="At most this many pictures from a folder")

    @model_validator(mode="after")
    def _one_kind(self) -> ImageSet:
        if (self.synthetic is None) == (self.images is None):
            raise ValueError("give exactly one of synthetic (a count) or images (a folder)")
        return self


class Target(Strict):
    """One artifact a recipe makes; its format and precision are the kind's own."""

    name: str = Field(pattern=NAME, description="The artifact's folder name")
    profiles: list[str] = Field(default=[], description="Device profiles that should load it")


class HeldOutPictures(Strict):
    """Labelled pictures of people and a place the calibration never saw (samples/heldout)."""

    pictures: int = Field(ge=4, le=5000, description="How many labelled pictures to compose")
    seed: int = Field(default=0, description="Which pictures")
    folder: Path | None = Field(
        default=None,
        description="Held-out material (background.jpg, people/*.png); default "
        "the bundled samples/heldout",
    )


class DetectorGate(Strict):
    max_map_drop: float = Field(
        default=0.01, ge=0, le=1, description="mAP@0.5 an artifact may lose against its source"
    )


class ImageModelTarget(Target):
    format: Literal["onnx", "openvino"]
    precision: Literal["fp32", "fp16", "int8"]
    engine: Literal["onnxruntime", "openvino"] | None = Field(
        default=None, description="Default: onnxruntime for ONNX, openvino for IR"
    )

    @property
    def runtime_engine(self) -> Literal["onnxruntime", "openvino"]:
        if self.engine is not None:
            return self.engine
        return "onnxruntime" if self.format == "onnx" else "openvino"


PictureRecipe = TypeVar("PictureRecipe", bound="OnPictures")


class OnPictures(Strict):
    """A recipe calibrated and evaluated on pictures."""

    calibration: ImageSet
    evaluation: ImageSet

    def with_counts(
        self: PictureRecipe, calibration: int | None, evaluation: int | None
    ) -> PictureRecipe:
        """The same recipe on fewer (or more) generated pictures: quick runs, smoke tests."""
        changes: dict[str, ImageSet] = {}
        if calibration is not None:
            changes["calibration"] = self.calibration.model_copy(
                update={"synthetic": calibration, "images": None}
            )
        if evaluation is not None:
            changes["evaluation"] = self.evaluation.model_copy(update={"synthetic": evaluation})
        return self.model_copy(update=changes)


class DetectorRecipe(OnPictures):
    kind: Literal["detector"]
    name: str = Field(pattern=NAME)
    source: SourceSpec
    classes: dict[str, str] = Field(
        description="Labelled posture (upright, fallen) -> the model's class name"
    )
    keep_float: list[str] = Field(
        default=[],
        description="Regular expressions of node names left in float by int8 quantization",
    )
    held_out: HeldOutPictures | None = Field(
        default=None,
        description="Also gate on these: the drop on them must stay within max_map_drop too",
    )
    gate: DetectorGate = DetectorGate()
    targets: list[ImageModelTarget] = Field(min_length=1)

    def with_counts(self, calibration: int | None, evaluation: int | None) -> DetectorRecipe:
        """As for any recipe on pictures; the held-out pictures follow the evaluation count."""
        quick = super().with_counts(calibration, evaluation)
        if evaluation is None or quick.held_out is None:
            return quick
        held_out = quick.held_out.model_copy(update={"pictures": evaluation})
        return quick.model_copy(update={"held_out": held_out})

    @model_validator(mode="after")
    def _consistent(self) -> DetectorRecipe:
        if self.evaluation.synthetic is None:
            raise ValueError("evaluation: needs labelled pictures: give synthetic: COUNT")
        unknown = sorted(set(self.classes) - set(POSTURES))
        if unknown:
            raise ValueError(f"classes: unknown posture {unknown}; known: {list(POSTURES)}")
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ValueError("targets: names must be unique")
        return self


class ClassifierGate(Strict):
    max_agreement_drop: float = Field(
        default=0.02, ge=0, le=1, description="Share of pictures whose top-1 class may change"
    )


class TorchScriptInput(Strict):
    """How pictures reach a TorchScript classifier; the defaults are torchvision's ImageNet
    preprocessing (a square, RGB, normalized per channel)."""

    size: int = Field(default=224, ge=16, le=2048, description="Side of the square input, pixels")
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)


TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts")


class ClassifierRecipe(OnPictures):
    """An image classifier to the same formats as a detector, gated on top-1 agreement with
    the source: a Hugging Face image-classification checkpoint (any architecture transformers
    and optimum export), or a TorchScript file (a torchvision model, `torch.jit.script`-ed)."""

    kind: Literal["classifier"]
    name: str = Field(pattern=NAME)
    source: SourceSpec = Field(
        description="A checkpoint's weights file (its folder is the checkpoint), or a "
        "TorchScript file (.pt, .pth, .ts)"
    )
    torchscript_input: TorchScriptInput = Field(
        default=TorchScriptInput(), description="Input of a TorchScript source"
    )
    keep_float: list[str] = Field(
        default=[], description="Regular expressions of node names left in float by int8"
    )
    gate: ClassifierGate = ClassifierGate()
    targets: list[ImageModelTarget] = Field(min_length=1)


class WerGate(Strict):
    """For speech artifacts (a voice, through a round trip; a transcriber, directly)."""

    max_wer_increase: float = Field(
        default=0.02, ge=0, le=1, description="Word error rate an artifact may add to the source's"
    )


class TtsTarget(Target):
    format: Literal["onnx", "openvino"] = "onnx"
    precision: Literal["fp32", "fp16", "int8"]

    @model_validator(mode="after")
    def _format_has_precision(self) -> TtsTarget:
        if self.format == "openvino" and self.precision == "int8":
            raise ValueError("a Piper voice is made for OpenVINO in fp32 or fp16, not int8")
        return self


class TtsRecipe(Strict):
    """A Piper voice: each artifact speaks the sentences, the transcriber writes them down, and
    the word error rate against the text is compared with the source voice's."""

    kind: Literal["tts"]
    name: str = Field(pattern=NAME)
    source: SourceSpec
    transcriber: str = Field(
        default="whisper-tiny-en-ct2", description="Catalog speech-to-text model for the round trip"
    )
    sentences: list[str] = Field(min_length=3, description="What every artifact has to say")
    gate: WerGate = WerGate()
    targets: list[TtsTarget] = Field(min_length=1)


class LlmGate(Strict):
    max_perplexity_increase: float = Field(
        default=0.10, ge=0, description="Relative: 0.10 lets perplexity rise 10% over the f16"
    )


class LlmTarget(Target):
    format: Literal["gguf", "openvino"] = "gguf"
    precision: Literal["f16", "q8_0", "q4_k_m", "int4"]

    @model_validator(mode="after")
    def _format_has_precision(self) -> LlmTarget:
        allowed = {"gguf": ("f16", "q8_0", "q4_k_m"), "openvino": ("int4",)}[self.format]
        if self.precision not in allowed:
            raise ValueError(f"{self.format} is made in {', '.join(allowed)}, not {self.precision}")
        return self


class LlmRecipe(Strict):
    """A Hugging Face causal LM checkpoint to GGUF with llama.cpp's converter and quantizer (each
    quantization's perplexity on the evaluation text compared with the f16 GGUF's), and to
    OpenVINO IR with int4 weights (compared with the checkpoint run by transformers)."""

    kind: Literal["llm"]
    name: str = Field(pattern=NAME)
    source: SourceSpec = Field(
        description="The checkpoint's weights file (its folder is the checkpoint)"
    )
    replaces: str | None = Field(
        default=None, description="Catalog LLM whose role these artifacts take for their profiles"
    )
    evaluation_text: str = Field(min_length=200, description="Text to measure perplexity on")
    gate: LlmGate = LlmGate()
    targets: list[LlmTarget] = Field(min_length=1)


class SttTarget(Target):
    format: Literal["ctranslate2", "onnx", "openvino", "ggml"]
    precision: Literal["fp32", "fp16", "int8", "q5_0"] = Field(
        description="ggml (whisper.cpp): fp16, int8 (q8_0) or q5_0; q5_0 is ggml only"
    )

    @model_validator(mode="after")
    def _precision_fits_format(self) -> SttTarget:
        if self.precision == "q5_0" and self.format != "ggml":
            raise ValueError(f"precision q5_0 is a ggml (whisper.cpp) type, not {self.format}")
        if self.format == "ggml" and self.precision == "fp32":
            raise ValueError(
                "ggml fp32: whisper.cpp aborts on f32 files (its convolution needs f16 "
                "weights); use fp16, int8 or q5_0"
            )
        return self


class SttRecipe(Strict):
    """A Hugging Face Whisper checkpoint to CTranslate2, ONNX (encoder, decoder with past),
    OpenVINO IR and whisper.cpp ggml; each artifact transcribes the same spoken sentences as
    the source, and its word error rate may exceed the source's by at most the gate."""

    kind: Literal["stt"]
    name: str = Field(pattern=NAME)
    source: SourceSpec = Field(
        description="The checkpoint's weights file (its folder is the checkpoint)"
    )
    replaces: str | None = Field(
        default=None, description="Catalog STT model whose role these artifacts take"
    )
    sentences: list[str] = Field(min_length=3, description="Spoken by espeak-ng, then transcribed")
    voices: list[str] = Field(default=["en-us+m3", "en-gb+f3"], min_length=1)
    gate: WerGate = WerGate()
    targets: list[SttTarget] = Field(min_length=1)


class AnyRecipe(
    RootModel[
        Annotated[
            ClassifierRecipe | DetectorRecipe | LlmRecipe | SttRecipe | TtsRecipe | WakeWordRecipe,
            Field(discriminator="kind"),
        ]
    ]
):
    """Whichever recipe `kind` names; an unknown kind is refused with the supported ones."""


def recipe_path(name_or_path: str) -> Path:
    """A recipe file given as a path, or by name from the bundled `export/` folder."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    bundled = bundled_data_dir("export") / f"{name_or_path}.yaml"
    if not bundled.is_file():
        known = sorted(p.stem for p in bundled.parent.glob("*.yaml"))
        raise ConfigError(f"no recipe {name_or_path!r}: give a YAML file or one of {known}")
    return bundled


def load_recipe(
    path: Path,
) -> ClassifierRecipe | DetectorRecipe | LlmRecipe | SttRecipe | TtsRecipe | WakeWordRecipe:
    return load_yaml_model(path, AnyRecipe).root
