"""Cutting LLM output into sentences, cleaning it, and validating tool calls."""

from __future__ import annotations

import re

import pytest

from edgeai.intents.grammar import IntentMatch
from edgeai.voice.honesty import HONEST_FALLBACK, claims_unseen
from edgeai.voice.sentences import SentenceSplitter, clean, reply_pieces, speakable_pieces
from edgeai.voice.tools import parse_tool_call


def split_streamed(text: str) -> list[str]:
    splitter = SentenceSplitter()
    out = []
    for token in re.findall(r"\S+\s*", text):  # token by token, as an LLM streams
        out += splitter.push(token)
    return out + splitter.flush()


def test_sentences_come_out_as_they_complete():
    splitter = SentenceSplitter()
    assert splitter.push("The capital of France ") == []
    assert splitter.push("is Paris. It ") == ["The capital of France is Paris."]
    assert splitter.push("is big.") == []  # the last '.' may still become '...' or '3.5'
    assert splitter.flush() == ["It is big."]


def test_decimals_and_abbreviations_do_not_end_sentences():
    assert split_streamed("It weighs 2.5 kilos, e.g. a melon. Dr. Who agrees.") == [
        "It weighs 2.5 kilos, e.g. a melon.",
        "Dr. Who agrees.",
    ]


def test_markdown_links_and_emoji_are_not_spoken():
    assert clean("**Sure!** See [the docs](https://x.y) 😀 ### now") == "Sure! See the docs now"
    assert clean("😀😀 ***") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"tool": "set_timer", "seconds": 300}', IntentMatch("timer.set", {"seconds": 300})),
        (
            '{"tool": "cancel_timer", "name": "pasta"}',
            IntentMatch("timer.cancel", {"name": "pasta"}),
        ),
        ('{"tool": "get_time"}', IntentMatch("time", {})),
        ('{"tool": "set_timer", "seconds": -5}', None),
        ('{"tool": "rm_rf", "path": "/"}', None),
        ('{"tool": "get_time", "extra": 1}', None),
        ('{"tool": "set_timer", "seconds": 60, "name": "$(reboot)"}', None),
        ("[1, 2]", None),
        ("{broken", None),
    ],
)
def test_tool_calls_are_validated_against_intent_schemas(text: str, expected):
    assert parse_tool_call(text) == expected


def test_a_long_first_sentence_is_spoken_from_its_first_clause():
    parts = split_streamed(
        "The sky is blue because of scattering, which sends blue light everywhere. It is pretty, too."
    )
    assert parts == [
        "The sky is blue because of scattering,",
        "which sends blue light everywhere.",
        "It is pretty, too.",
    ]


def test_a_reply_known_whole_is_spoken_from_its_first_clause():
    assert reply_pieces("Today is Saturday, December 5, 2026.") == [
        "Today is Saturday,",
        "December 5, 2026.",
    ]
    # "Yes," alone is too short to be worth a piece of its own
    assert reply_pieces("Yes, I see 2 people at the door.") == ["Yes, I see 2 people at the door."]
    assert reply_pieces("It's 8:44 AM.") == ["It's 8:44 AM."]
    assert reply_pieces("") == []


def test_long_sentences_reach_text_to_speech_in_pieces_split_where_a_speaker_would_pause():
    sentence = (
        "When the kettle boils, pour the water over the tea leaves, wait three minutes, "
        "then take the leaves out so that the tea does not turn bitter."
    )  # 29 words
    pieces = speakable_pieces(f"Here is how. {sentence}", max_words=12)
    assert pieces[0] == "Here is how."
    assert " ".join(pieces[1:]) == sentence
    assert all(len(p.split()) <= 12 for p in pieces)
    assert pieces[1].endswith(",")  # cut after a comma, not in the middle of a clause
    unbroken = " ".join(["word"] * 30)
    assert [len(p.split()) for p in speakable_pieces(unbroken, 12)] == [12, 12, 6]
    assert speakable_pieces("", 12) == []


@pytest.mark.parametrize(
    "made_up",
    [
        "The kitchen lights are on.",
        "There are 12 people at the door, including myself.",
        "I have turned on the lights.",
        "Okay, I switched the heating off.",
        "I see two people in the garden.",
        "Someone is standing at the door.",
        "The front door is now locked.",
        "Done, I set the thermostat to 21 degrees.",
        "The temperature in the living room is 21 degrees.",
        # issue 27: what a small model said to "turn on the kitchen lights" with nothing switched
        "The kitchen lights are on.",
        "Done, the door is locked.",
        "Sure! Turning on the kitchen lights.",
        "Kitchen lights on.",
        "Okay, kitchen lights set to 40%.",
        "The living room lights have been dimmed to 40%.",
        "The garage door is closing.",
        "Okay, done!",
        "I'm going to turn the heating up a bit.",  # SmolLM2 in `edgeai bench home-assistant`
        # issue 21: SmolLM2 in `edgeai bench voice`, to misheard date and door questions
        "Date: 12/08/365",
        "No, no other than the one at front door right now is not a person.",
        "Today is Monday, December 8.",
        "It's 3:45 pm.",
        "The time is ten past four.",
        "The date today is the eighth of December.",
    ],
)
def test_a_claimed_action_or_camera_fact_is_caught(made_up: str):
    assert claims_unseen(made_up)


@pytest.mark.parametrize(
    "answer",
    [
        "The sky is blue because air scatters blue light more than red.",
        "I see, that is interesting.",
        "People often dream about falling.",
        "You can set the oven to 180 degrees and bake it for an hour.",
        "There are about nine million people in London.",
        "I think you should open the window for fresh air.",
        "Many people are in the habit of drinking coffee.",
        "Turning off lights when you leave a room saves energy.",
        "Opening a window lets fresh air in.",
        "Lights on a Christmas tree look lovely.",
        "Done right, a boiled egg takes ten minutes.",
        "Christmas is on December 25.",
        "Monday is the first day of the working week.",
        "Breakfast is usually eaten before 9 am.",
        "It is a good day for a walk.",
        "A robot is not a person, but it can be helpful.",
        "Time is what keeps everything from happening at once.",
    ],
)
def test_ordinary_answers_are_not_taken_for_claims(answer: str):
    assert not claims_unseen(answer)
    assert not claims_unseen(HONEST_FALLBACK)
