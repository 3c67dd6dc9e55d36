"""The trainer's choice of a head's second look: the rule on traced looks, and on real audio."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from edgeai.ears.wake.frontend import WakeFrontend
from edgeai.ears.wake.heads import SecondLookSpec, WakeHead
from edgeai.export.wakeword.look_choice import (
    FACTORS,
    LOW,
    Look,
    LookChoice,
    choose,
    choose_second_look,
    false_accepts,
    manifest_fields,
)
from edgeai.synthetic.wake_data import Positive
from tests.conftest import speak
from tests.test_second_look import fast_phrase, spec
from tests.test_wake import detections


def look(at_s: float, **scores: float) -> Look:
    """A look whose lengthened audio scored `scores` (x1_35=0.8: 0.8 at 1.35), 0.3 elsewhere."""
    by_factor = {f: scores.get(f"x{f:g}".replace(".", "_"), 0.3) for f in FACTORS}
    return Look(at_s, False, by_factor)


FIRED = Look(2.1, True, {})
POSITIVES = [
    ([FIRED], 2.0),  # the head hears it itself
    ([look(2.3, x1_15=0.65, x1_25=0.75, x1_35=0.85, x1_5=0.95)], 2.0),
    ([look(2.3, x1_35=0.72)], 2.0),
]
NEGATIVES = [look(10.0, x1_35=0.75)]  # a look at x1.35 from 0.7 down would false-accept


def test_the_fewest_misses_within_the_false_accept_budget_win_ties_to_the_higher_threshold():
    # 0.5 an hour over one hour allows none: x1.35 at 0.7 would hear both near misses but
    # false-accepts; x1.35 at 0.8 and x1.5 at 0.9 each miss one: the higher threshold wins
    chosen = choose(POSITIVES, NEGATIVES, 1.0, 0.5, 2.0)
    assert chosen.spec == SecondLookSpec(LOW, 0.9, 1.5)
    assert (chosen.misses_alone, chosen.misses) == (2, 1)
    assert (chosen.false_accepts_alone, chosen.false_accepts) == (0, 0)
    # two an hour allow it: none missed
    chosen = choose(POSITIVES, NEGATIVES, 1.0, 2.0, 2.0)
    assert chosen.spec == SecondLookSpec(LOW, 0.7, 1.35)
    assert (chosen.misses, chosen.false_accepts) == (0, 1)


def test_no_look_where_none_hears_more_than_the_head_alone():
    chosen = choose([([FIRED], 2.0)], NEGATIVES, 1.0, 2.0, 2.0)
    assert chosen.spec is None and chosen.misses_alone == chosen.misses == 0
    assert manifest_fields(None) == {}


def test_a_head_over_the_budget_alone_keeps_its_false_accepts_and_the_look_adds_none():
    fired_twice = [Look(5.0, True, {}), Look(20.0, True, {}), look(40.0, x1_35=0.75)]
    chosen = choose(POSITIVES, fired_twice, 1.0, 0.5, 2.0)
    assert (chosen.false_accepts_alone, chosen.false_accepts) == (2, 2)
    assert chosen.spec == SecondLookSpec(LOW, 0.9, 1.5) and chosen.misses == 1


def test_false_accepts_count_as_the_detector_does_with_its_refractory():
    looks = [Look(0.0, True, {}), look(1.0, x1_35=0.9), look(2.5, x1_35=0.9), look(3.0)]
    assert false_accepts(looks, 1.35, 0.7, 2.0) == 2  # 1.0 rests; 2.5 counts; 3.0 too low
    assert false_accepts(looks, None, 0.7, 2.0) == 1  # the head alone


def test_on_real_audio_the_chosen_look_hears_a_fast_phrase_the_head_missed(
    frontend: WakeFrontend,
):
    """The traces are the runtime's: the look chosen from them hears the phrase in the
    detector too, and the talk in the budget does not wake it."""
    audio, end_s = fast_phrase()
    head = WakeHead(spec(None))
    talk = np.concatenate(
        [speak(text, "en-gb", 170) for text in ("Could you read me the recipe again", "It is "
         "going to rain in the afternoon", "The bus was late again this morning")]
    )  # fmt: skip
    tuning = {"fast": [Positive(audio, round(end_s * 16000))]}
    choice = choose_second_look(frontend, head, tuning, talk, 0.5)
    assert (choice.positives, choice.misses_alone, choice.misses) == (1, 1, 0)
    assert choice.spec is not None
    assert choice.false_accepts == 0
    with_look = replace(head.spec, second_look=choice.spec)
    assert [d.second_look for d in detections(frontend, [with_look], audio)] == [True]
    assert detections(frontend, [with_look], talk) == []
    fields = manifest_fields(choice)
    assert fields["second_look"] == {
        "low": LOW, "threshold": choice.spec.threshold, "lengthen": choice.spec.lengthen,
    }  # fmt: skip
    assert "fast" in str(fields["second_look_rule"])


def test_the_export_command_says_which_look_was_chosen_or_why_none(capsys, tmp_path):
    from edgeai.cli.export import _print_head

    dev = {"false_reject_rate": 0.02, "false_accepts_per_hour": 0.5, "negative_hours": 8.0,
           "delay_ms_p50": 0.0}  # fmt: skip
    chosen = LookChoice(SecondLookSpec(LOW, 0.7, 1.35), ("SVOX Pico", "Kokoro"), 600, 99, 83,
                        8.0, 4, 4)  # fmt: skip
    _print_head(tmp_path / "hey_jarvis.onnx", {"threshold": 0.5, "dev": dev,
                                               **manifest_fields(chosen)})  # fmt: skip
    assert capsys.readouterr().out.splitlines()[1] == (
        "second look: x1.35 at 0.7; 83 of 600 phrases of SVOX Pico and Kokoro missed "
        "(head alone 99)"
    )
    none = LookChoice(None, (), 0, 0, 0, 0.0, 0, 0)
    _print_head(tmp_path / "stop.onnx", {"threshold": 0.5, "dev": dev, **manifest_fields(none)})
    assert capsys.readouterr().out.splitlines()[1] == (
        "second look: none: every voice family apart from the dev set's trained the head"
    )
