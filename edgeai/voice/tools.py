"""LLM tool calls: only the local intents, validated against their schemas, never executed."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgeai.intents.grammar import IntentMatch


class _Call(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SetTimer(_Call):
    tool: Literal["set_timer"]
    seconds: int = Field(ge=1, le=24 * 3600)
    name: str | None = Field(default=None, pattern=r"^[a-z ]{1,30}$")


class CancelTimer(_Call):
    tool: Literal["cancel_timer"]
    name: str | None = Field(default=None, pattern=r"^[a-z ]{1,30}$")


class NoArguments(_Call):
    tool: Literal["get_time", "get_date", "list_timers", "describe_camera"]


_INTENT_OF = {
    "get_time": "time", "get_date": "date", "list_timers": "timer.list",
    "describe_camera": "camera.describe", "set_timer": "timer.set", "cancel_timer": "timer.cancel",
}  # fmt: skip


def looks_like_tool_call(text: str) -> bool:
    return text.lstrip().startswith("{")


def parse_tool_call(text: str) -> IntentMatch | None:
    """The intent a JSON tool call asks for, or None when it is not a valid call."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for schema in (SetTimer, CancelTimer, NoArguments):
        try:
            call = schema.model_validate(data)
        except ValidationError:
            continue
        slots: dict[str, str | int] = {
            key: value
            for key, value in call.model_dump(exclude={"tool"}).items()
            if value is not None
        }
        return IntentMatch(_INTENT_OF[call.tool], slots)
    return None
