"""Spoken numbers to ints: "twenty five" -> 25, "a" -> 1, digits pass through."""

from __future__ import annotations

import re

ARTICLES = ("a", "an")
"""Count as one in "a minute", "an hour"."""
_UNITS = {
    "zero": 0, **dict.fromkeys(ARTICLES, 1), "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip

NUMBER_WORDS = sorted([*_UNITS, *_TENS, "hundred", r"\d+"], key=len, reverse=True)
NUMBER = r"(?:(?:" + "|".join(NUMBER_WORDS) + r")(?:[\s-]+(?:" + "|".join(NUMBER_WORDS) + r"))*)"
"""A regex matching a spoken or written number, for use inside intent patterns."""
GROWING_NUMBER = "(?:" + "|".join([*_TENS, "hundred", r"[2-9]0", r"\d+00"]) + ")"
"""A number the next word can still extend: "twenty" (five), "two hundred" (and ten); "five"
and "ten" are whole."""


_FOLLOWS = {"start": {"unit", "tens", "hundred"}, "unit": {"hundred"}, "tens": {"digit"},
            "hundred": {"unit", "tens"}}  # fmt: skip
"""Which kind of word may come next in a number: "twenty five", "two hundred", "a hundred
ten". Anything else is two numbers or a mishearing ("one two minutes" for "twenty minutes"),
not their sum."""


def parse_number(text: str) -> int | None:
    """The value of a number phrase, or None if it is not one."""
    words = re.split(r"[\s-]+", text.strip().lower())
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    current, last = 0, "start"
    for word in words:
        if word.isdigit():
            value, kind = int(word), "unit"
        elif word in _UNITS:
            value, kind = _UNITS[word], "unit"
        elif word in _TENS:
            value, kind = _TENS[word], "tens"
        elif word == "hundred":
            value, kind = 0, "hundred"
        else:
            return None
        if kind == "unit" and last == "tens" and 1 <= value <= 9:
            kind = "digit"  # "twenty" "five"
        if kind not in _FOLLOWS[last]:
            return None
        current = max(current, 1) * 100 if kind == "hundred" else current + value
        last = "unit" if kind == "digit" else kind
    return current
