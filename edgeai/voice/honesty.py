"""A check on the LLM's sentences when no intent or tool ran: a small model asked "are the
kitchen lights on" or a misheard command happily answers "The kitchen lights are on." or "I see
two people at the door." Nothing was switched and nothing was seen, so such a sentence is
replaced by an honest one instead of being spoken."""

from __future__ import annotations

import re

HONEST_FALLBACK = "I can't do or check that here; ask me about the time, timers or the camera."

_DEVICE = (
    r"(?:lights?|lamps?|doors?|locks?|thermostat|heating|heater|air conditioning|fan|blinds|"
    r"curtains|tv|television|radio|music|oven|alarm|windows?|garage|vacuum|temperature|timer|"
    r"brightness|switch(?:es)?|plugs?|sockets?|kettle)"
)
_PEOPLE = (
    r"(?:people|persons?|someone|somebody|anyone|anybody|nobody|no one|a man|a woman|"
    r"a child|visitors?|guests?|a delivery)"
)
_PLACE = (
    r"(?:front |back )?(?:door|gate|garden|yard|porch|driveway|hall|hallway|room|kitchen|house|"
    r"home|entrance|garage|street|camera|picture|frame|window)"
)
_DONE = (
    r"(?:turned|switched|set|dimmed|brightened|adjusted|raised|lowered|locked|unlocked|opened|"
    r"closed|started|stopped|activated|deactivated|enabled|disabled)"
)
_DOING = (
    r"(?:turning|switching|setting|dimming|brightening|locking|unlocking|opening|closing|"
    r"starting|stopping|activating|deactivating)"
)
_ACK = r"(?:okay|ok|sure|alright|all right|right|got it|certainly|of course|no problem)"
_TAIL = r"(?:\s+(?:to|at)\s+\S+(?:\s+(?:percent|degrees))?)?(?:\s+(?:now|for you))*\W*$"
"""The end of a terse claim: a level, "now", "for you", then nothing more."""
_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a few)"
_CALENDAR = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    r"april|may|june|july|august|september|october|november|december)"
)
_CLOCK = r"(?:\d{1,2}:\d{2}|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.|o'clock))"
_CLAIMS = [
    # actions: "I've turned on", "I have set", "switched off", "is now locked"
    r"\b(?:i|i've|i have|i'll|i will|i just|done,? i|i'm going to|i am going to|i'm gonna|"
    r"let me)\s+(?:\w+\s+)?(?:turned|switched|set|"
    r"locked|unlocked|opened|closed|started|stopped|dimmed|muted|adjusted|raised|lowered|"
    r"cancell?ed|turn|switch|lock|unlock|dim)\b",
    r"\b(?:turned|switched)\s+(?:\w+\s+){0,3}(?:on|off)\b",
    rf"\b{_DEVICE}\s+(?:\w+\s+){{0,2}}(?:is|are|has been|have been|was|were)\s+(?:now\s+)?"
    rf"(?:on|off|locked|unlocked|open|closed|set|running|at \d+|{_DONE}|{_DOING})\b",
    # terse, the whole sentence: "Kitchen lights on.", "Brightness set to 40%."
    rf"^\W*(?:{_ACK}\W+)?(?:the\s+|your\s+)?(?:\w+\s+){{0,2}}{_DEVICE}\s+(?:now\s+)?"
    rf"(?:on|off|{_DONE}){_TAIL}",
    # under way, the whole sentence: "Turning on the kitchen lights.", "Sure, I'm locking
    # the door now." ("Turning off lights saves energy" is advice, and goes on)
    rf"^\W*(?:{_ACK}\W+)?(?:i'm\s+|i am\s+)?(?:now\s+)?{_DOING}\s+(?:on\s+|off\s+)?"
    rf"(?:the\s+|your\s+)?(?:\w+\s+){{0,2}}{_DEVICE}(?:\s+(?:on|off|up|down))?{_TAIL}",
    # a bare acknowledgement: "Done.", "Okay, all set!", "Done, ..."
    rf"^\W*(?:{_ACK}\W+)?(?:all\s+)?(?:done|set)\W*$",
    r"^\W*(?:done|all set)\s*[,.!]",
    r"\b(?:is|are) now (?:on|off|locked|unlocked|open|closed|set)\b",
    r"\bthe (?:temperature|humidity) (?:in (?:the )?\w+(?: \w+)? )?is\b",
    # camera facts: "I see two people", "someone is at the door", "there are 12 people"
    rf"\b(?:i|i can|i do)\s+(?:currently\s+)?(?:see|spot|notice|detect)\s+(?:{_NUMBER}\s+)?"
    rf"(?:{_PEOPLE}|nothing|no(?:body)?)\b",
    rf"\b{_PEOPLE}\s+(?:is|are|was|were)\s+(?:standing\s+|waiting\s+|sitting\s+)?(?:at|in|on|"
    rf"by|near|outside)\s+(?:the|your)\s+{_PLACE}",
    rf"\bthere (?:is|are|'s)\s+(?:{_NUMBER}\s+)?{_PEOPLE}\b",
    r"\b(?:the )?camera (?:shows|sees|is showing|can see)\b",
    # who or what is at a place: "the one at front door right now is not a person"
    rf"(?=.*\b(?:at|in|by|outside)\s+(?:the\s+|your\s+)?{_PLACE}\b).*\b(?:is|are|isn't|aren't)\s+"
    r"(?:not\s+)?(?:a\s+)?(?:person|human|man|woman|visitor)\b",
    # the clock: the LLM has none ("Date: 12/08/365", "Today is Monday.", "It's 3:45 pm.")
    r"^\W*(?:date|time|today)\s*:",
    r"\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    rf"\b(?:today|tonight|tomorrow)\s+is\s+(?:the\s+\d|{_CALENDAR})",
    r"\bthe (?:current )?(?:date|time|day)(?: today| now| right now)? is\b",
    rf"\bit(?:'s| is)\s+(?:now\s+)?(?:exactly\s+)?(?:{_CLOCK}|{_CALENDAR})",
]
_CLAIM = re.compile("|".join(f"(?:{c})" for c in _CLAIMS), re.IGNORECASE)


def claims_unseen(sentence: str) -> bool:
    """True when the sentence says something was done or seen (lights switched, a door locked,
    people at the door) or what the date or time is: facts only an intent, the camera or the
    clock can give."""
    return _CLAIM.search(sentence.replace("\u2019", "'")) is not None
