"""Strict YAML loading: a pydantic model per file, errors that name file, line, field and value."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from edgeai.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

BOOL_TAG = "tag:yaml.org,2002:bool"


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true and false. YAML 1.1 also reads on/off/yes/no as booleans,
    which turns a camera rule's `on: person_entered` into `True: person_entered`."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml_model(path: Path, model: type[M]) -> M:
    """Parse `path` and validate it as `model`; any problem becomes one ConfigError line each."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no object tags
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: {_describe_yaml_error(e)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top, got {_kind(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(path, root, e)) from None


SECRET_NAME = re.compile(r"(token|password|secret|api_key)$", re.IGNORECASE)
"""Settings whose value an error never repeats: it would land in the journal and /events."""


def format_validation_error(path: Path, root: yaml.Node | None, error: ValidationError) -> str:
    """One line per problem: `file:line: field.path: what was expected (got value)`.

    The value is left out for an unknown setting (it may be a misspelt secret), a secret
    setting, and a whole section (it may hold one)."""
    lines = []
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"]]
        line = line_of(root, loc)
        where = f"{path}:{line}" if line else str(path)
        field = ".".join(loc) or "(top level)"
        message = problem["msg"]
        value = problem["input"]
        unknown = problem["type"] == "extra_forbidden"
        if unknown:
            message = "unknown setting (check the spelling; see the example config)"
        if problem["type"] == "missing":
            lines.append(f"{where}: {field}: required setting is missing")
        elif unknown or isinstance(value, dict | list) or any(map(SECRET_NAME.search, loc)):
            lines.append(f"{where}: {field}: {message}")
        else:
            lines.append(f"{where}: {field}: {message} (got {value!r})")
    return "\n".join(lines)


def line_of(node: yaml.Node | None, loc: Sequence[str]) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its closest existing parent."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
        best = node.start_mark.line + 1
    return best


def _child(node: yaml.Node, part: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == part:
                # point at the key, which is where a person looks for the setting
                return value if isinstance(value, yaml.CollectionNode) else key
        return None
    if isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
        child: yaml.Node = node.value[int(part)]
        return child
    return None


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: invalid YAML: {problem}"
    return f"invalid YAML: {problem}"


def _kind(value: Any) -> str:
    return type(value).__name__
