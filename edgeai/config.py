"""The edgeai config file: one YAML file, validated strictly, doing no I/O beyond reading it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgeai.paths import LOCAL_CONFIG, default_model_store
from edgeai.yamlfile import load_yaml_model


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSettings(Strict):
    store: Path | None = Field(
        default=None,
        description="Folder of the model store; default $EDGEAI_HOME/models",
    )

    def store_path(self) -> Path:
        return (self.store or default_model_store()).expanduser()


class AudioSettings(Strict):
    input_device: str | int | None = Field(
        default=None, description="Microphone: a name (substring) or index; null = system default"
    )
    output_device: str | int | None = Field(
        default=None, description="Speaker: a name (substring) or index; null = system default"
    )


class CameraSettings(Strict):
    device: str = Field(
        default="/dev/video0", min_length=1, description="V4L2 device path, or a stream URL"
    )


class WakeWordSettings(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$", description="e.g. hey_jarvis")
    model: Path | None = Field(
        default=None,
        description="Head ONNX file; default <name>.onnx in $EDGEAI_HOME/wakewords, then bundled",
    )
    threshold: float | None = Field(
        default=None, gt=0, lt=1, description="Default: the threshold in the head's manifest"
    )
    refractory_s: float = Field(
        default=2.0, ge=0, le=30, description="No second detection of this word for this long"
    )


class WakeSettings(Strict):
    words: list[WakeWordSettings] = Field(
        default=[WakeWordSettings(name="hey_jarvis")], min_length=1
    )


class VadSettings(Strict):
    start_threshold: float = Field(
        default=0.5, gt=0, lt=1, description="Speech probability that counts a frame as speech"
    )
    end_threshold: float = Field(
        default=0.35,
        gt=0,
        lt=1,
        description="Below this a frame is silence; the gap stops flapping",
    )
    min_speech_ms: int = Field(
        default=96, ge=32, le=2000, description="Speech must last this long to start an utterance"
    )
    trailing_silence_ms: int = Field(
        default=500,
        ge=100,
        le=5000,
        description="Silence that ends an utterance: shorter answers sooner, cuts slow speakers",
    )
    min_utterance_ms: int = Field(
        default=250, ge=0, le=5000, description="Shorter utterances are dropped as noise"
    )
    max_utterance_s: float = Field(
        default=15.0, ge=1, le=120, description="Cut here so a stuck-open mic cannot hang a turn"
    )
    pre_roll_ms: int = Field(
        default=300, ge=0, le=2000, description="Audio kept before the start: the first syllable"
    )
    no_speech_timeout_s: float = Field(
        default=5.0, ge=0.5, le=60, description="After the wake word, give up if nothing is said"
    )


class VoiceSettings(Strict):
    follow_up_s: float = Field(
        default=5.0, ge=0, le=30, description="After a reply, listen this long without a wake word"
    )
    max_sentences: int = Field(default=3, ge=1, le=10, description="Spoken answers are capped")
    llm_max_tokens: int = Field(default=80, ge=8, le=1024, description="Cap on one LLM answer")
    history_turns: int = Field(
        default=3, ge=0, le=20, description="Earlier exchanges the LLM remembers"
    )
    timers_file: Path | None = Field(
        default=None, description="Where timers survive restarts; default $EDGEAI_HOME/timers.json"
    )


class Config(Strict):
    profile: str = Field(
        default="auto",
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="A device profile name, or auto to detect it",
    )
    models: ModelSettings = ModelSettings()
    audio: AudioSettings = AudioSettings()
    camera: CameraSettings = CameraSettings()
    wake: WakeSettings = WakeSettings()
    vad: VadSettings = VadSettings()
    voice: VoiceSettings = VoiceSettings()
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def load_config(path: Path | None) -> tuple[Config, Path | None]:
    """The config at `path`; without one, ./edgeai.yaml if present, else the defaults.

    Returns the config and the file it came from (None for the built-in defaults).
    """
    if path is None:
        if not LOCAL_CONFIG.is_file():
            return Config(), None
        path = LOCAL_CONFIG
    return load_yaml_model(path, Config), path
