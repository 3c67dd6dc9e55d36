"""The timeline of one voice turn: when each stage finished, in seconds of stream time."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

from edgeai.messages import EndpointReason


class TurnEnd(Enum):
    """How a turn ended: the one place that says it (the loop, metrics, events, timelines)."""

    ANSWERED = "answered"
    """The reply was spoken to its end (or there was nothing to say)."""
    CANCELLED = "cancelled"
    """Barge-in, a stop word or the service's stop cut the reply short."""
    STOPPED = "stopped"
    """The user asked it to stop: nothing more to say, no follow-up listening."""
    FAILED = "failed"
    """A stage raised: an apology was spoken, `failure` says why."""


@dataclass
class TurnTimeline:
    speech_end_s: float | None = None
    """The user stopped speaking (the VAD's last speech frame)."""
    endpoint_s: float | None = None
    """The trailing silence was long enough: the turn is the assistant's."""
    endpoint_reason: EndpointReason | None = None
    """Why the silence was judged long enough (None for an announcement)."""
    stt_done_s: float | None = None
    first_token_s: float | None = None
    """The LLM's first token (None when a local intent answered)."""
    first_audio_s: float | None = None
    last_audio_s: float | None = None
    transcript: str = ""
    reply: str = ""
    route: str = ""
    """Who answered: a local intent's name, 'home assistant <outcome>' (done, answered,
    failed, unreachable), 'llm', 'llm tool <intent>', 'not understood', 'wake phrase only' (nothing
    said: the request is listened for) or 'announcement'."""
    end: TurnEnd = TurnEnd.ANSWERED
    failure: str | None = None
    """Why the turn failed (`end` is FAILED)."""
    replaced_claim: bool = False
    """The LLM's reply claimed an action or a camera fact no intent gave it; an honest line
    was spoken instead."""
    speculative_stt: bool = False
    """Speech-to-text ran during the trailing silence and its result was used."""
    early_answer: bool = False
    """The LLM's answer was started during the trailing silence (vad.early_answer) and used."""
    typed: bool = False
    """A typed request (the web page, POST /ask): `speech_end_s` is when it was asked, the
    reply was shown, not spoken."""
    arbitration_wait_s: float | None = None
    """How long the turn waited for the home's devices to agree who answers (None: no
    arbitration)."""

    @property
    def latency_s(self) -> float | None:
        """End of the user's speech to the first reply audio: what the user waits."""
        if self.first_audio_s is None or self.speech_end_s is None:
            return None
        return self.first_audio_s - self.speech_end_s

    def as_dict(self) -> dict[str, object]:
        reason = None if self.endpoint_reason is None else self.endpoint_reason.value
        return {
            **asdict(self),
            "end": self.end.value,
            "endpoint_reason": reason,
            "latency_s": self.latency_s,
        }

    def describe(self) -> str:
        """One line per stage, relative to the end of speech."""
        origin = self.speech_end_s or 0.0
        stages = [
            ("end of speech", self.speech_end_s), (self._endpoint_stage, self.endpoint_s),
            ("STT done", self.stt_done_s), ("first LLM token", self.first_token_s),
            ("first audio out", self.first_audio_s), ("last audio out", self.last_audio_s),
        ]  # fmt: skip
        shown = [(name, t) for name, t in stages if t is not None]
        width = max((len(name) for name, _ in shown), default=0)
        lines = [f"  {name:<{width}} {'+' if t >= origin else ''}{(t - origin) * 1000:6.0f} ms"
                 for name, t in shown]  # fmt: skip
        return "\n".join(lines)

    @property
    def _endpoint_stage(self) -> str:
        reason = self.endpoint_reason
        return "VAD endpoint" if reason is None else f"VAD endpoint ({reason.value})"
