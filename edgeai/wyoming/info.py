"""What the server tells a client that sends `describe`: its programs, models and voices."""

from __future__ import annotations

from typing import TypedDict

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

from edgeai import __version__

EDGEAI = Attribution(name="edgeai", url="https://github.com/edgeai/edgeai")
LANGUAGES = ["en"]


class _Artifact(TypedDict):
    name: str
    attribution: Attribution
    installed: bool
    description: str | None
    version: str | None


def _artifact(name: str, description: str) -> _Artifact:
    return _Artifact(
        name=name,
        attribution=EDGEAI,
        installed=True,
        description=description,
        version=__version__,
    )


def describe(stt_model: str, tts_voice: str, llm_model: str, wake_words: list[str]) -> Info:
    """Every stage this server answers, each streaming where Wyoming has a streaming form."""
    return Info(
        asr=[
            AsrProgram(
                **_artifact("edgeai-stt", "edgeai speech-to-text"),
                models=[AsrModel(**_artifact(stt_model, "Whisper"), languages=LANGUAGES)],
                supports_transcript_streaming=True,
            )
        ],
        tts=[
            TtsProgram(
                **_artifact("edgeai-tts", "edgeai text-to-speech"),
                voices=[TtsVoice(**_artifact(tts_voice, "Piper voice"), languages=LANGUAGES)],
                supports_synthesize_streaming=True,
            )
        ],
        handle=[
            HandleProgram(
                **_artifact("edgeai-assistant", "edgeai: local intents first, then the LLM"),
                models=[HandleModel(**_artifact(llm_model, "LLM"), languages=LANGUAGES)],
                supports_handled_streaming=True,
            )
        ],
        wake=[
            WakeProgram(
                **_artifact("edgeai-wake", "edgeai wake words (openWakeWord heads)"),
                models=[
                    WakeModel(
                        **_artifact(word, "openWakeWord head"),
                        languages=LANGUAGES,
                        phrase=word.replace("_", " "),
                    )
                    for word in wake_words
                ],
            )
        ],
    )
