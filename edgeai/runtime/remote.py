"""Stages on other machines, in front of the local models: which client speaks to each
(Wyoming or OpenAI-compatible), with the local model behind it as the fallback."""

from __future__ import annotations

import logging

from edgeai.config import Config
from edgeai.voice.build import VoiceModels
from edgeai.voice.fallback import (
    Circuit,
    FallbackLanguageModel,
    FallbackSpeechToText,
    FallbackTextToSpeech,
)
from edgeai.voice.llm import LanguageModel
from edgeai.voice.openai_compat import OpenAiChat, OpenAiSpeech, OpenAiTranscriber
from edgeai.voice.stt import SpeechToText
from edgeai.voice.tts import TextToSpeech
from edgeai.wyoming.client import WyomingHandler, WyomingSpeechToText, WyomingTextToSpeech

log = logging.getLogger(__name__)


def with_remote_stages(models: VoiceModels, config: Config) -> VoiceModels:
    """The stages the config hands to machines on the LAN, each with its local model behind
    it; the others as they are."""
    remote = config.remote
    stt, llm, tts = models.stt, models.llm, models.tts
    if remote.stt is not None:
        far_stt: SpeechToText = (
            WyomingSpeechToText(remote.stt)
            if remote.stt.protocol == "wyoming"
            else OpenAiTranscriber(remote.stt)
        )
        stt = FallbackSpeechToText(far_stt, stt, Circuit("stt", remote.stt))
    if remote.tts is not None:
        rate = tts.sample_rate_hz  # remote audio is brought to the local voice's rate
        far_tts: TextToSpeech = (
            WyomingTextToSpeech(remote.tts, rate)
            if remote.tts.protocol == "wyoming"
            else OpenAiSpeech(remote.tts, rate)
        )
        tts = FallbackTextToSpeech(far_tts, tts, Circuit("tts", remote.tts))
    if remote.llm is not None:
        voice = config.voice
        far_llm: LanguageModel = (
            WyomingHandler(remote.llm)
            if remote.llm.protocol == "wyoming"
            else OpenAiChat(remote.llm, voice.llm_max_tokens)
        )
        llm = FallbackLanguageModel(far_llm, llm, Circuit("llm", remote.llm))
    for role, stage in remote.stages():
        log.info("%s: remote %s first, the local model as fallback", role, stage.url)
    return VoiceModels(stt, llm, tts)
