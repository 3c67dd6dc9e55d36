"""Local intents matched by meaning: sentence templates with optional words, alternatives and
slot lists (Home Assistant's hassil), read from a data file and checked when it is loaded.

A transcript is normalized (lower case, contractions spelled out, no punctuation) and matched
whole against every template; of the matches whose free slots make sense (a duration that says
how long, a level that is a number), the one with the fewest free slots and the most literal
words wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from hassil import Intents, ListReference, RuleReference, parse_sentence, recognize_all
from hassil.expression import Expression as Template
from hassil.expression import Group
from hassil.recognize import RecognizeResult
from pydantic import BaseModel, ConfigDict, Field

from edgeai.errors import ConfigError
from edgeai.intents.numbers import ARTICLES, NUMBER, NUMBER_WORDS, parse_number
from edgeai.paths import bundled_data_dir
from edgeai.yamlfile import line_of, load_yaml_model

UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600}
UNITS_ABOVE_SECONDS_PATTERN = r"(?:minutes?|mins?|hours?|hrs?)"
"""Units a duration can still go on after: "five minutes" ... "and thirty seconds"."""
UNIT_PATTERN = rf"(?:seconds?|secs?|{UNITS_ABOVE_SECONDS_PATTERN})"
MAX_LEVEL = 10
"""The volume scale is 0-10."""
VALUE_SLOTS = frozenset({"duration", "level"})
"""Free slots that must hold a number: anything else in them is no command (yet)."""

INTENTS = frozenset(
    {
        "time", "date", "timer.set", "timer.cancel", "timer.cancel_all", "timer.list",
        "camera.describe", "camera.count", "camera.anyone", "volume.set", "volume.up",
        "volume.down", "volume.mute", "stop", "unsupported",
    }
)  # fmt: skip
"""Every intent a template file may name: the ones edgeai has a handler for."""
MAX_PROMPT_ZONES = 4
"""Whisper's prompt is at most 223 tokens; a few zones say enough."""


@dataclass(frozen=True)
class IntentMatch:
    intent: str
    slots: dict[str, str | int] = field(default_factory=dict)
    free_text: bool = field(default=False, compare=False)
    """A slot took free text (a name, a duration, a level): the words there are not from a
    list, so any words would have done ("play the" is a match, and not a request)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _ListValues(_Strict):
    values: list[str] | None = None
    wildcard: bool | None = None


class _IntentData(_Strict):
    sentences: list[str] = Field(min_length=1)


class _Intent(_Strict):
    data: list[_IntentData] = Field(min_length=1)


class _TemplateFile(_Strict):
    language: str
    skip_words: list[str] = []
    expansion_rules: dict[str, str] = {}
    lists: dict[str, _ListValues] = {}
    intents: dict[str, _Intent]
    stt_prompt: list[str] = []


_CONTRACTIONS = {
    "what's": "what is", "it's": "it is", "who's": "who is", "that's": "that is",
    "can't": "can not", "cannot": "can not", "don't": "do not", "i'm": "i am",
    "there's": "there is", "how's": "how is", "where's": "where is", "today's": "today is",
    "i've": "i have", "what're": "what are",
}  # fmt: skip


_HAS_NUMBER = re.compile(r"\b(?:" + "|".join(w for w in NUMBER_WORDS if w not in ARTICLES) + r")\b")
"""A slot that holds a number is no value still to come, even if it does not parse ("time
for one hour and 15 minutes", heard for "timer for ..."); "a" and "an" are no number here ("for
a while" still awaits one)."""


def normalize(text: str) -> str:
    text = text.lower().strip().replace("\u2019", "'").replace("%", " percent")
    for short, long in _CONTRACTIONS.items():
        text = re.sub(rf"\b{re.escape(short)}\b", long, text)
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


class Grammar:
    """The templates of one file, with the camera's zone names added to its {zone} list."""

    def __init__(self, path: Path, zones: Sequence[str] = ()) -> None:
        self.path = path
        spec = load_yaml_model(path, _TemplateFile)
        _check_templates(path, spec)
        data = spec.model_dump(exclude_none=True, exclude={"stt_prompt"})
        if "zone" in data["lists"]:
            spoken = [{"in": z.replace("_", " "), "out": z} for z in zones]
            data["lists"]["zone"]["values"] = [*spoken, *data["lists"]["zone"]["values"]]
        self.zones = tuple(zones)
        self._spec = spec
        words = sorted(spec.skip_words, key=len, reverse=True)
        self._skip = re.compile(rf"\b(?:{'|'.join(map(re.escape, words))})\b" if words else "$^")
        data["skip_words"] = []  # removed here: hassil keeps them inside a free slot's text
        self._intents = Intents.from_dict(data)
        for i, sentence in enumerate(spec.stt_prompt):
            if self.match(sentence) is None:
                line = line_of(
                    yaml.compose(path.read_text(encoding="utf-8")), ["stt_prompt", str(i)]
                )
                raise ConfigError(
                    f"{path}:{line}: stt_prompt.{i}: {sentence!r} matches no intent: the prompt "
                    "must be requests the templates understand"
                )

    def match(self, text: str) -> IntentMatch | None:
        """The intent of the whole transcript, with its slots; None when no template fits."""
        best: tuple[tuple[int, int], IntentMatch] | None = None
        for result in self._recognized(self._normalized(text)):
            found = _with_slots(result)
            if found is None:
                continue
            free = sum(1 for entity in result.entities.values() if entity.is_wildcard)
            rank = (free, -result.text_chunks_matched)
            if best is None or rank < best[0]:
                best = (rank, found)
        return None if best is None else best[1]

    def awaits_value(self, text: str) -> bool:
        """Whether a template fits `text` except that the duration or level it ends on is no
        number yet ("set a timer for it"): a command begun, and unfinished or misheard so far.
        Words before "timer" in the slot of "a {duration} timer" await nothing: "can't solve
        the timer" (heard for "cancel the timer") is not a timer waiting for its length."""
        normalized = self._normalized(text)
        results = list(self._recognized(normalized))
        if any(_with_slots(result) is not None for result in results):
            return False  # a command already
        return any(
            normalized.endswith(entity.text.strip()) and not _HAS_NUMBER.search(entity.text)
            for result in results
            for name, entity in result.entities.items()
            if name in VALUE_SLOTS
        )

    def _normalized(self, text: str) -> str:
        """`text` as the templates are matched against: normalized, without skip words."""
        return re.sub(r"\s+", " ", self._skip.sub(" ", normalize(text))).strip()

    def _recognized(self, normalized: str) -> Iterator[RecognizeResult]:
        """Every template that fits `normalized` (see `_normalized`)."""
        if normalized:
            yield from recognize_all(normalized, self._intents)

    def is_command(self, text: str) -> bool:
        """Whether `text` is a complete local command: a template fits all of it, and its free
        slots say what they should (a duration how long, a level a number)."""
        return self.match(text) is not None

    def stt_prompt(self) -> str:
        """Text for speech-to-text to take as what was said before (Whisper's initial prompt):
        the file's example requests and a question about each camera zone. It leans decoding
        toward the words the intents use, without forcing them."""
        zones = [f"Is anyone at the {z.replace('_', ' ')}?" for z in self.zones[:MAX_PROMPT_ZONES]]
        return " ".join([*self._spec.stt_prompt, *zones])

    def vocabulary(self) -> list[str]:
        """The words the templates and their lists are made of (speech-to-text biasing)."""
        words: dict[str, None] = {}
        for text in self._phrases():
            for word in re.findall(r"[a-z]+", text.lower()):
                words.setdefault(word, None)
        return list(words)

    def _phrases(self) -> Iterator[str]:
        yield from (f"{unit}s" for unit in UNIT_SECONDS)  # what a {duration} is made of
        yield from (z.replace("_", " ") for z in self.zones)
        for values in self._spec.lists.values():
            yield from values.values or []
        yield from self._spec.expansion_rules.values()
        for intent in self._spec.intents.values():
            for data in intent.data:
                yield from (re.sub(r"\{[^}]*\}|<[^>]*>", " ", s) for s in data.sentences)


def load_grammar(path: Path | None = None, zones: Sequence[str] = ()) -> Grammar:
    """The template file at `path`, or the bundled one. Each version of a file is parsed once:
    the speech-to-text prompt, its command check and the intents share one parse, and an
    edited file is read again."""
    if path is None:
        return _bundled(tuple(zones))
    try:
        version = path.stat()
    except OSError:
        return Grammar(path, zones)  # its loader says what is wrong with the path
    return _parsed(path.resolve(), version.st_mtime_ns, version.st_size, tuple(zones))


@lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int, zones: tuple[str, ...]) -> Grammar:
    return Grammar(path, zones)


@cache
def _bundled(zones: tuple[str, ...]) -> Grammar:
    return Grammar(bundled_data_dir("intents") / "en.yaml", zones)


def _check_templates(path: Path, spec: _TemplateFile) -> None:
    """Every template parses, names a known intent and only lists and rules the file defines;
    otherwise the file is refused with the line of the mistake."""
    root = yaml.compose(path.read_text(encoding="utf-8"))

    def refuse(loc: list[str], problem: str, line: int | None = None) -> ConfigError:
        return ConfigError(f"{path}:{line or line_of(root, loc)}: {'.'.join(loc)}: {problem}")

    templates = [(["expansion_rules", name], text) for name, text in spec.expansion_rules.items()]
    for name, intent in spec.intents.items():
        if name not in INTENTS:
            known = ", ".join(sorted(INTENTS))
            problem = f"no handler for intent {name!r} (known: {known})"
            raise refuse(["intents", name], problem, _key_line(root, "intents", name))
        for d, data in enumerate(intent.data):
            templates += [
                (["intents", name, "data", str(d), "sentences", str(s)], text)
                for s, text in enumerate(data.sentences)
            ]
    for loc, text in templates:
        try:
            template = parse_sentence(text).expression
        except Exception as e:  # hassil raises bare exceptions for unbalanced brackets
            raise refuse(loc, f"not a valid template: {e} (in {text!r})") from None
        for part in _parts(template):
            if isinstance(part, ListReference) and part.list_name not in spec.lists:
                raise refuse(loc, f"unknown list {{{part.list_name}}} (define it under lists)")
            if isinstance(part, RuleReference) and part.rule_name not in spec.expansion_rules:
                raise refuse(loc, f"unknown rule <{part.rule_name}> (define it under rules)")


def _key_line(root: yaml.Node | None, section: str, key: str) -> int | None:
    """The line of `key` itself under `section` (line_of gives the mapping under a key)."""
    for name, value in root.value if isinstance(root, yaml.MappingNode) else []:
        if name.value == section and isinstance(value, yaml.MappingNode):
            lines = [k.start_mark.line + 1 for k, _ in value.value if k.value == key]
            return lines[0] if lines else None
    return None


def _parts(expression: Template) -> Iterator[Template]:
    yield expression
    if isinstance(expression, Group):
        for item in expression.items:
            yield from _parts(item)


def _with_slots(result: RecognizeResult) -> IntentMatch | None:
    """The match with its slots as the handlers want them, or None when a free slot is not
    what its name says (a "duration" that does not say how long)."""
    slots: dict[str, str | int] = {}
    free_text = any(entity.is_wildcard for entity in result.entities.values())
    for name, entity in result.entities.items():
        value: Any = entity.value
        text = str(entity.text if entity.is_wildcard else value).strip()
        if name == "duration":
            seconds = parse_duration(text)
            if seconds is None:
                return None
            slots["seconds"] = seconds
        elif name == "level":
            level = _level(text)
            if level is None:
                return None
            slots["level"] = level
        elif name == "name" and not re.fullmatch(r"[a-z]+(?: [a-z]+)?", text):
            return None
        else:
            slots[name] = text
    return IntentMatch(result.intent.name, slots, free_text)


def _level(text: str) -> int | None:
    """A volume level on the 0-10 scale: "seven"; "forty percent" and a bare "40" (no 0-10
    level is that high) are percentages, tenths of the scale. None unless `text` is a number."""
    number = parse_number(re.sub(r"\s*(?:percent|degrees)$", "", text))
    if number is None:
        return None
    percent = text.endswith("percent") or MAX_LEVEL < number <= 100
    return round(number / 10) if percent else number


def parse_duration(text: str) -> int | None:
    """Seconds in "1 hour and 20 minutes", "ninety seconds", "an hour and a half" ...;
    None unless the whole text is a duration."""
    text = normalize(text)
    if re.fullmatch(r"(?:a )?half an? hour", text):
        return 1800
    piece = rf"({NUMBER})\s+({UNIT_PATTERN})(\s+and\s+a\s+half)?"
    if not re.fullmatch(rf"{piece}(?:\s*(?:and\s+)?{piece})*", text):
        return None
    total = 0
    for amount, unit, half in re.findall(piece, text):
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
