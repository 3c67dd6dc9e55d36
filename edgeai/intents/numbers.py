"""Spoken numbers to ints: "twenty five" -> 25, "a" -> 1, digits pass through."""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
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


def parse_number(text: str) -> int | None:
    """The value of a number phrase, or None if it is not one."""
    words = re.split(r"[\s-]+", text.strip().lower())
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    total, current = 0, 0
    for word in words:
        if word.isdigit():
            current += int(word)
        elif word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        else:
            return None
    return total + current
