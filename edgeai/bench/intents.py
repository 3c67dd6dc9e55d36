"""Intent routing benchmark: requests written apart from the sentence templates, each expected
to reach one intent (with its slots), the LLM, or the honest "I can't do that here". The
tuning set may be used to fix the templates; the held-out set never is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, RootModel

from edgeai.errors import ConfigError
from edgeai.intents.grammar import INTENTS, Grammar
from edgeai.yamlfile import load_yaml_model

LLM = "llm"
"""The route of a request no template fits: the language model answers it."""
ZONES = ("door", "driveway", "garden", "porch", "hallway")
"""The camera zones the phrase files assume."""


class _Checked(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    slots: dict[str, str | int]


class _PhraseFile(RootModel[dict[str, list[str | _Checked]]]):
    pass


@dataclass(frozen=True)
class Routed:
    text: str
    expected: str
    got: str
    slots_expected: dict[str, str | int] | None
    """None: only the route is checked."""
    slots_got: dict[str, str | int]

    @property
    def correct(self) -> bool:
        slots_ok = self.slots_expected is None or self.slots_expected == self.slots_got
        return self.expected == self.got and slots_ok


@dataclass(frozen=True)
class RoutingResult:
    name: str
    """Which phrase set: tuning or held-out."""
    routed: list[Routed]

    @property
    def accuracy(self) -> float:
        return sum(r.correct for r in self.routed) / max(1, len(self.routed))

    def by_route(self) -> dict[str, tuple[int, int]]:
        """(correct, requests) per expected route."""
        total = Counter(r.expected for r in self.routed)
        right = Counter(r.expected for r in self.routed if r.correct)
        return {route: (right[route], total[route]) for route in sorted(total)}

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "accuracy": self.accuracy,
            "requests": len(self.routed),
            "by_route": self.by_route(),
            "misses": [asdict(r) for r in self.routed if not r.correct],
        }


Phrase = tuple[str, str, dict[str, str | int] | None]
"""(text, expected route, expected slots or None)."""


def load_phrases(path: Path) -> list[Phrase]:
    """(text, expected route, expected slots or None) from a phrase file; a route that is not an
    intent, `llm` or `unsupported` is refused."""
    entries = load_yaml_model(path, _PhraseFile).root
    phrases: list[Phrase] = []
    for route, items in entries.items():
        if route not in INTENTS | {LLM}:
            raise ConfigError(f"{path}: unknown route {route!r} (an intent name or {LLM!r})")
        for item in items:
            if isinstance(item, str):
                phrases.append((item, route, None))
            else:
                phrases.append((item.text, route, item.slots))
    return phrases


def bench_routing(grammar: Grammar, name: str, path: Path) -> RoutingResult:
    routed = []
    for text, expected, slots in load_phrases(path):
        found = grammar.match(text)
        routed.append(
            Routed(
                text,
                expected,
                LLM if found is None else found.intent,
                slots,
                {} if found is None else found.slots,
            )
        )
    return RoutingResult(name, routed)


def markdown(results: Sequence[RoutingResult]) -> str:
    lines = [
        "### Intent routing: requests phrased apart from the templates",
        "",
        "| route | " + " | ".join(r.name for r in results) + " |",
        "| --- |" + " --- |" * len(results),
    ]
    routes = sorted({route for r in results for route in r.by_route()})
    for route in routes:
        cells = []
        for result in results:
            right, total = result.by_route().get(route, (0, 0))
            cells.append(f"{right}/{total}" if total else "-")
        lines.append(f"| {route} | " + " | ".join(cells) + " |")
    lines.append(
        "| **all** | "
        + " | ".join(f"**{r.accuracy:.1%}** of {len(r.routed)}" for r in results)
        + " |"
    )
    lines.append("")
    for result in results:
        misses = [r for r in result.routed if not r.correct]
        if misses:
            lines.append(f"Misses ({result.name}):")
            lines += [f"- {r.text!r}: {r.got} {r.slots_got or ''} (expected {r.expected})"
                      for r in misses]  # fmt: skip
            lines.append("")
    return "\n".join(lines)
