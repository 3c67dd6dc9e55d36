"""Local intents: the grammar, its slots, the handlers and timers that survive a restart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from edgeai.intents.grammar import IntentMatch, match, parse_duration
from edgeai.intents.handlers import IntentContext, handle, say_duration
from edgeai.intents.numbers import parse_number
from edgeai.intents.timers import TimerStore


@pytest.mark.parametrize(
    ("said", "intent", "slots"),
    [
        ("What time is it?", "time", {}),
        ("what's the time", "time", {}),
        ("What day is it?", "date", {}),
        ("Set a timer for 5 minutes.", "timer.set", {"seconds": 300}),
        ("Set a 10 minute timer", "timer.set", {"seconds": 600}),
        ("set a pasta timer for eight minutes", "timer.set", {"name": "pasta", "seconds": 480}),
        ("Start a timer for one hour and twenty minutes", "timer.set", {"seconds": 4800}),
        ("timer for an hour and a half", "timer.set", {"seconds": 5400}),
        ("set a timer for half an hour please", "timer.set", {"seconds": 1800}),
        ("Set timer for 90 seconds", "timer.set", {"seconds": 90}),
        ("Cancel the pasta timer.", "timer.cancel", {"name": "pasta"}),
        ("cancel the timer", "timer.cancel", {}),
        ("Cancel all timers", "timer.cancel_all", {}),
        ("How much time is left?", "timer.list", {}),
        ("What do you see?", "camera.describe", {}),
        ("Who's at the door?", "camera.describe", {}),
        ("Set volume to 7", "volume.set", {"level": 7}),
        ("Turn it up", "volume.up", {}),
        ("Stop!", "stop", {}),
        ("never mind", "stop", {}),
    ],
)
def test_the_grammar_understands_home_commands(said: str, intent: str, slots: dict):
    assert match(said) == IntentMatch(intent, slots)


@pytest.mark.parametrize(
    "said",
    [
        "What is the capital of France?",
        "tell me a joke",
        "stop the war in my head, he said",
        "set the table for five people",
        "what time does the bakery open",
    ],
)
def test_everything_else_goes_to_the_llm(said: str):
    assert match(said) is None


def test_numbers_and_durations():
    assert parse_number("twenty five") == 25
    assert parse_number("a hundred") == 100
    assert parse_number("banana") is None
    assert parse_duration("2 hours 30 minutes") == 9000
    assert say_duration(4810) == "1 hour, 20 minutes and 10 seconds"


@pytest.fixture
def clock() -> list[float]:
    return [1_700_000_000.0]


def context(tmp_path: Path, clock: list[float]) -> IntentContext:
    now = lambda: dt.datetime.fromtimestamp(clock[0])  # noqa: E731
    return IntentContext(timers=TimerStore(tmp_path / "timers.json", lambda: clock[0]), now=now)


def test_timers_set_list_cancel_and_survive_a_restart(tmp_path: Path, clock: list[float]):
    ctx = context(tmp_path, clock)
    assert (
        handle(match("set a pasta timer for 8 minutes"), ctx).text
        == "Pasta timer set for 8 minutes."
    )
    assert handle(match("set a timer for 1 hour"), ctx).text == "Timer set for 1 hour."
    clock[0] += 61

    restarted = context(tmp_path, clock)  # a new process reads the same file
    assert handle(match("how much time is left"), restarted).text == (
        "The pasta timer has 6 minutes and 59 seconds left and the timer has 58 minutes and 59 seconds left."
    )
    assert handle(match("cancel the pasta timer"), restarted).text == "Cancelled the pasta timer."
    assert (
        handle(match("cancel the pasta timer"), restarted).text == "There's no pasta timer running."
    )
    assert [t.duration_s for t in TimerStore(tmp_path / "timers.json").active()] == [3600]


def test_timers_that_rang_while_stopped_are_due_at_start(tmp_path: Path, clock: list[float]):
    ctx = context(tmp_path, clock)
    handle(match("set a timer for 10 seconds"), ctx)
    clock[0] += 3600
    store = TimerStore(tmp_path / "timers.json", lambda: clock[0])
    due = store.due()
    assert [t.duration_s for t in due] == [10]
    # a ring stays stored until it was announced: a crash in between does not lose it
    assert len(json.loads((tmp_path / "timers.json").read_text())) == 1
    store.rang(due[0])
    assert json.loads((tmp_path / "timers.json").read_text()) == []
    assert store.due() == []


@pytest.mark.parametrize(
    "content",
    [
        '[{"id": "a", "name": null, "duration_s": "ten", "due_epoch_s": 5}]',
        '[{"id": "a", "name": null, "duration_s": 10}]',
        '["a timer"]',
        '[{"id": 7, "name": null, "duration_s": 10, "due_epoch_s": 5}]',
    ],
)
def test_a_timer_file_with_wrong_fields_is_kept_aside_like_a_corrupt_one(
    tmp_path: Path, clock: list[float], content: str
):
    (tmp_path / "timers.json").write_text(content)
    store = TimerStore(tmp_path / "timers.json", lambda: clock[0])
    assert store.active() == [] and store.due() == []
    (kept,) = tmp_path.glob("timers.json.corrupt-*")
    assert kept.read_text() == content


def test_a_timer_that_cannot_be_saved_still_rings_and_the_failure_is_counted(
    tmp_path: Path, clock: list[float]
):
    blocked = tmp_path / "not-a-folder"  # tests run as root, so file modes would not stop it
    blocked.write_text("")
    store = TimerStore(blocked / "timers.json", lambda: clock[0])
    store.add(5, "tea")
    assert store.failed_saves == 1 and "not saved" in (store.save_problem or "")
    clock[0] += 10
    (due,) = store.due()
    assert due.name == "tea"
    store.rang(due)
    assert store.due() == [] and store.failed_saves == 2


def test_a_corrupt_timer_file_is_kept_aside_not_lost(tmp_path: Path, clock: list[float]):
    (tmp_path / "timers.json").write_text("{not json")
    store = TimerStore(tmp_path / "timers.json", lambda: clock[0])
    assert store.active() == []
    kept = list(tmp_path.glob("timers.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"


def test_time_date_volume_stop_and_camera(tmp_path: Path, clock: list[float]):
    ctx = context(tmp_path, clock)
    clock[0] = dt.datetime(2026, 11, 23, 15, 5).timestamp()
    assert handle(match("what time is it"), ctx).text == "It's 3:05 PM."
    assert handle(match("what's the date"), ctx).text == "Today is Monday, November 23, 2026."
    assert handle(match("set the volume to 4"), ctx).text == "Volume 4."
    assert ctx.volume.gain == pytest.approx(0.4)
    assert handle(match("stop"), ctx).stop
    assert "camera isn't running" in handle(match("what do you see"), ctx).text
    ctx.describe_camera = lambda: "I see one person at the door."
    assert handle(match("what do you see"), ctx).text == "I see one person at the door."
