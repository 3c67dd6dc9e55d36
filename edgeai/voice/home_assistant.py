"""Home Assistant's conversation API: device control with the user's own entities, areas and
aliases. edgeai sends the transcript to POST /api/conversation/process with a long-lived
access token and speaks Home Assistant's reply; it never switches anything itself.

A Home Assistant that cannot be reached (refused, timed out, a refused token, a reply that is
not its conversation result) is said so once per request and left alone for `retry_after_s`, so
a dead server does not cost a timeout per turn; nothing is handed to the LLM to pretend. One
that answers with an error status (2024.3 answers 500 to "what's the weather like" without a
weather entity) is up: that request failed, and the user hears so."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from edgeai.config import HomeAssistantSettings
from edgeai.voice.fallback import Circuit

log = logging.getLogger(__name__)

UNREACHABLE = "I can't reach Home Assistant right now."
REFUSED_TOKEN = "Home Assistant did not accept my access token."
SERVER_ERROR = "Home Assistant could not handle that."
DONE = "Done."
"""Said when Home Assistant acted but gave no words for it."""


class Outcome(Enum):
    """What became of a request sent to Home Assistant."""

    DONE = "done"
    """Home Assistant acted (wholly or in part): its reply says what it did."""
    ANSWERED = "answered"
    """A question about the home, answered ("is the kitchen light on?")."""
    FAILED = "failed"
    """Understood but not done (an error in Home Assistant); its reply says so."""
    NO_TARGET = "no target"
    """A sentence shaped like a request of the home, naming nothing in it: "turn on the
    garage lights" without such lights, but also "tell me a fun fact about cats" (Home
    Assistant reads "a fun fact about cats" as a device name). The LLM may answer it, and if
    it claims an action Home Assistant's reply is spoken instead."""
    NOT_UNDERSTOOD = "not understood"
    """Not a request Home Assistant knows: it is free to go to the LLM."""
    UNREACHABLE = "unreachable"
    """No answer: the user hears so, and nothing else answers in its place."""


@dataclass(frozen=True)
class HomeAnswer:
    outcome: Outcome
    speech: str
    conversation_id: str | None = None


# Home Assistant's conversation result (homeassistant.helpers.intent.IntentResponse.as_dict,
# wrapped by conversation.ConversationResult.as_dict); fields added by later releases are
# ignored.
class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Plain(_Loose):
    speech: str


class _Speech(_Loose):
    plain: _Plain | None = None


class _Target(_Loose):
    name: str
    type: str
    id: str | None = None


class _Data(_Loose):
    code: str | None = None
    """The error code when response_type is error (no_intent_match, no_valid_targets, ...)."""
    targets: list[_Target] = []
    success: list[_Target] = []
    failed: list[_Target] = []


class _IntentResponse(_Loose):
    response_type: Literal["action_done", "partial_action_done", "query_answer", "error"]
    speech: _Speech
    language: str | None = None
    data: _Data = _Data()


class _ConversationResult(_Loose):
    response: _IntentResponse
    conversation_id: str | None = None

    def answer(self) -> HomeAnswer:
        response = self.response
        speech = response.speech.plain.speech.strip() if response.speech.plain else ""
        if response.response_type == "error":
            outcome = _ERRORS.get(response.data.code or "", Outcome.FAILED)
        elif response.response_type == "query_answer":
            outcome = Outcome.ANSWERED
        else:
            outcome = Outcome.DONE
            speech = speech or DONE
        return HomeAnswer(outcome, speech, self.conversation_id)


_ERRORS = {"no_intent_match": Outcome.NOT_UNDERSTOOD, "no_valid_targets": Outcome.NO_TARGET}
"""Home Assistant's error codes (IntentResponseErrorCode) that are not failures."""


class HomeAssistantError(Exception):
    """Home Assistant gave no conversation result; `spoken` is what the user hears."""

    def __init__(self, message: str, spoken: str = UNREACHABLE) -> None:
        super().__init__(message)
        self.spoken = spoken


class HomeAssistant:
    """One Home Assistant's conversation API, behind a circuit breaker."""

    def __init__(self, settings: HomeAssistantSettings) -> None:
        self.settings = settings
        self.circuit = Circuit(
            "Home Assistant", settings, "the user hears that it cannot be reached"
        )
        self._http = httpx.Client(
            base_url=settings.url.rstrip("/"),
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"},
            timeout=httpx.Timeout(settings.timeout_s),
        )
        self._spoken_failure = UNREACHABLE

    def ask(self, text: str, conversation_id: str | None = None) -> HomeAnswer:
        """Home Assistant's answer to `text`; UNREACHABLE (at once while the circuit is
        down) when there is none."""
        if not self.circuit.open():
            return HomeAnswer(Outcome.UNREACHABLE, self._spoken_failure)
        try:
            response = self._process(text, conversation_id)
        except HomeAssistantError as e:
            self.circuit.failed(e)
            self._spoken_failure = e.spoken
            return HomeAnswer(Outcome.UNREACHABLE, e.spoken)
        self.circuit.answered()
        if isinstance(response, HomeAnswer):
            return response
        log.warning("Home Assistant failed on %.60r: %s", text, response)
        return HomeAnswer(Outcome.FAILED, SERVER_ERROR)

    def check(self) -> bool:
        """Whether Home Assistant answers with this token (GET /api/): said in the log at
        start, so a wrong address or token shows before the first request."""
        try:
            self._checked(self._request("GET", "/api/"))
        except HomeAssistantError as e:
            self.circuit.failed(e)
            self._spoken_failure = e.spoken
            return False
        log.info("Home Assistant at %s answers", self.settings.url)
        return True

    def state(self) -> dict[str, object]:
        """For /health: where it is and how requests went."""
        circuit = self.circuit
        return {
            "url": self.settings.url,
            "reachable": circuit.last_failure is None,
            "answers": circuit.remote_answers,
            "failures": circuit.failures,
            "last_failure": circuit.last_failure,
        }

    def close(self) -> None:
        self._http.close()

    def _process(self, text: str, conversation_id: str | None) -> HomeAnswer | str:
        """The answer, or what went wrong when Home Assistant answered with an error status
        (it is up: that one request failed)."""
        body: dict[str, str] = {"text": text, "language": self.settings.language}
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        if self.settings.agent_id is not None:
            body["agent_id"] = self.settings.agent_id
        response = self._request("POST", "/api/conversation/process", body)
        if response.status_code >= 500:
            return f"HTTP {response.status_code}: {response.text[:120]!r}"
        self._checked(response)
        try:
            return _ConversationResult.model_validate_json(response.content).answer()
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise HomeAssistantError(
                f"not a conversation result ({where}: {first['msg']}): {response.text[:120]!r}"
            ) from None

    def _request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> httpx.Response:
        try:
            return self._http.request(method, path, json=body)
        except httpx.TimeoutException:
            raise HomeAssistantError(f"no answer within {self.settings.timeout_s:g} s") from None
        except httpx.HTTPError as e:
            raise HomeAssistantError(str(e) or type(e).__name__) from None

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code in (401, 403):
            raise HomeAssistantError(
                f"HTTP {response.status_code}: the access token was refused; check "
                "home_assistant.token (a long-lived access token from your Home Assistant "
                "profile)",
                REFUSED_TOKEN,
            )
        if response.status_code != 200:
            raise HomeAssistantError(f"HTTP {response.status_code}: {response.text[:120]!r}")
        return response


def home_assistant(settings: HomeAssistantSettings | None) -> HomeAssistant | None:
    """The client for the config's Home Assistant, checked once in the background (a slow or
    silent address must not hold up the service's start or a reload); None when none is set."""
    if settings is None:
        return None
    client = HomeAssistant(settings)
    threading.Thread(target=client.check, name="home-assistant-check", daemon=True).start()
    return client
