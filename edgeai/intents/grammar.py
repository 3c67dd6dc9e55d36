"""A deterministic grammar: patterns with named slots, tried in order, first match wins.

Input is a transcript; it is normalized (lower case, no punctuation, "what's" -> "what is")
before matching, so patterns stay simple.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edgeai.intents.numbers import NUMBER, parse_number

UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600}
_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)"
DURATION = rf"(?:{NUMBER}\s+{_UNIT}(?:\s+and\s+a\s+half)?(?:\s*(?:and\s+)?{NUMBER}\s+{_UNIT})*|half\s+an?\s+hour|an?\s+{_UNIT}\s+and\s+a\s+half)"
NAME = r"(?:[a-z]+(?:\s[a-z]+)?)"


@dataclass(frozen=True)
class IntentMatch:
    intent: str
    slots: dict[str, str | int] = field(default_factory=dict)


# (intent, pattern); slots are the pattern's named groups. Order matters: specific first.
RULES: list[tuple[str, str]] = [
    ("timer.cancel_all", r"(?:cancel|stop|delete|clear) all(?: the| my)? timers"),
    ("timer.cancel", rf"(?:cancel|stop|delete)(?: the| my)?(?: (?P<name>{NAME}))? timer"),
    (
        "timer.list",
        r"(?:list|what are)(?: my| the)? timers|how (?:much|long)(?: time)? is left(?: on(?: the| my)? (?P<name>[a-z ]+?) timer)?|what timers are (?:running|set)",
    ),
    (
        "timer.set",
        rf"(?:set|start|make)? ?(?:a |an |the )?(?P<duration>{DURATION}) (?:(?P<name>{NAME}) )?timer",
    ),
    (
        "timer.set",
        rf"(?:set|start|make)? ?(?:a |an |the )?(?:(?P<name>{NAME}) )?timer (?:for|of) (?P<duration>{DURATION})",
    ),
    ("time", r"what time is it|what is the time|tell me the time|what is the current time"),
    (
        "date",
        r"what(?: is|s)? (?:the |today s )?date(?: today)?|what day is (?:it|today)|what is today",
    ),
    (
        "camera.describe",
        r"what do you see|what can you see|who is at the door|what is on the camera|is (?:there )?anyone (?:there|at the door)",
    ),
    ("volume.set", rf"(?:set (?:the )?)?volume (?:to )?(?P<level>{NUMBER})(?: percent)?"),
    ("volume.up", r"(?:turn (?:it|the volume) up|volume up|louder|speak up)"),
    ("volume.down", r"(?:turn (?:it|the volume) down|volume down|quieter|softer)"),
    ("volume.mute", r"mute|be quiet|silence"),
    ("stop", r"stop|cancel|never ?mind|forget it|that s all|shut up"),
]

_COMPILED = [
    (intent, re.compile(rf"^(?:please |hey )?(?:{pattern})(?: please)?$"))
    for intent, pattern in RULES
]
_CONTRACTIONS = {"what's": "what is", "it's": "it is", "who's": "who is", "that's": "that s"}


def normalize(text: str) -> str:
    text = text.lower().strip()
    for short, long in _CONTRACTIONS.items():
        text = text.replace(short, long)
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def match(text: str) -> IntentMatch | None:
    """The first rule that matches the whole (normalized) transcript, with its slots."""
    normalized = normalize(text)
    for intent, pattern in _COMPILED:
        found = pattern.match(normalized)
        if found is None:
            continue
        slots: dict[str, str | int] = {}
        for key, value in found.groupdict().items():
            if value is None:
                continue
            if key == "duration":
                seconds = parse_duration(value)
                if seconds is None:
                    break
                slots["seconds"] = seconds
            elif key == "level":
                level = parse_number(value)
                if level is None:
                    break
                slots["level"] = level
            else:
                slots[key] = value.strip()
        else:
            return IntentMatch(intent, slots)
    return None


def parse_duration(text: str) -> int | None:
    """Seconds in "1 hour and 20 minutes", "ninety seconds", "an hour and a half" ..."""
    text = normalize(text)
    if re.fullmatch(r"half an? hour", text):
        return 1800
    total = 0
    for amount, unit, half in re.findall(rf"({NUMBER})\s+({_UNIT})(\s+and\s+a\s+half)?", text):
        value = parse_number(amount)
        if value is None:
            return None
        seconds = UNIT_SECONDS[_unit_name(unit)]
        total += value * seconds + (seconds // 2 if half else 0)
    return total or None


def _unit_name(unit: str) -> str:
    for name in UNIT_SECONDS:
        if unit.startswith(name[:3]) or (name == "hour" and unit.startswith("hr")):
            return name
    raise ValueError(unit)
