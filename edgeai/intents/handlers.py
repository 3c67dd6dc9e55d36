"""What each local intent does and says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from edgeai.intents.grammar import MAX_LEVEL, Grammar, IntentMatch, load_grammar
from edgeai.intents.timers import Timer, TimerStore
from edgeai.vision.view import CameraView, count_people, say_zone


@dataclass
class Volume:
    """Output level 0 to MAX_LEVEL, applied as gain to everything spoken."""

    level: int = 7

    def set(self, level: int) -> None:
        self.level = max(0, min(MAX_LEVEL, level))

    @property
    def gain(self) -> float:
        return self.level / MAX_LEVEL


@dataclass
class IntentContext:
    timers: TimerStore
    volume: Volume = field(default_factory=Volume)
    now: Callable[[], dt.datetime] = dt.datetime.now
    camera: Callable[[], CameraView] | None = None
    """What the camera loop sees now; None while there is no camera loop."""
    grammar: Grammar = field(default_factory=load_grammar)
    """The sentence templates transcripts are matched against."""
    room: str | None = None
    """The room this device's camera watches ("what do you see in the hall" on the hall's
    device is about its whole picture)."""
    other_room: Callable[[str], str | None] | None = None
    """The room a spoken place names when another device's camera watches it (the home)."""
    ask_room: Callable[[str, str], str] | None = None
    """Asks the device watching a room a camera question (intent); its answer, or an honest
    sentence when it could not be asked."""


@dataclass(frozen=True)
class IntentReply:
    text: str
    """What to say; empty to say nothing."""
    stop: bool = False
    """Stop speaking and generating now (barge-in)."""


def handle(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    return _HANDLERS[found.intent](found, ctx)


def _time(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    now = ctx.now()
    return IntentReply(f"It's {now.strftime('%I:%M %p').lstrip('0')}.")


def _date(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    now = ctx.now()
    return IntentReply(f"Today is {now.strftime('%A, %B')} {now.day}, {now.year}.")


def _timer_set(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    seconds = int(found.slots["seconds"])
    name = found.slots.get("name")
    timer = ctx.timers.add(seconds, str(name) if name else None)
    return IntentReply(f"{_title(timer).capitalize()} set for {say_duration(seconds)}.")


def _timer_cancel(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    name = str(found.slots["name"]) if "name" in found.slots else None
    cancelled = ctx.timers.cancel(name)
    if not cancelled:
        return IntentReply(f"There's no {name + ' ' if name else ''}timer running.")
    return IntentReply(f"Cancelled the {_title(cancelled[0])}.")


def _timer_cancel_all(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    count = len(ctx.timers.cancel_all())
    return IntentReply(
        "There are no timers running."
        if not count
        else f"Cancelled {count} timers."
        if count > 1
        else "Cancelled the timer."
    )


def _timer_list(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    timers = ctx.timers.active()
    if not timers:
        return IntentReply("There are no timers running.")
    now = ctx.now().timestamp()
    parts = [f"the {_title(t)} has {say_duration(round(t.remaining_s(now)))} left" for t in timers]
    return IntentReply(_join(parts).capitalize() + ".")


NO_CAMERA = "I can't see anything: the camera isn't running."


def _camera(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    spoken = str(found.slots["zone"]) if "zone" in found.slots else None
    if spoken is not None and "_".join(spoken.lower().split()) == ctx.room:
        spoken = None  # "in the hall", asked of the hall's own camera: its whole picture
    elif spoken is not None and ctx.other_room is not None and ctx.ask_room is not None:
        room = ctx.other_room(spoken)
        local = ctx.camera is not None and ctx.camera().zone_named(spoken) is not None
        if room is not None and not local:
            return IntentReply(ctx.ask_room(room, found.intent))
    if ctx.camera is None:
        return IntentReply(NO_CAMERA)
    view = ctx.camera()
    if view.problem is not None or found.intent == "camera.describe":
        return IntentReply(view.describe())
    zone = None if spoken is None else view.zone_named(spoken)
    if spoken is not None and zone is None:
        seen = count_people(len(view.people))
        return IntentReply(f"I have no zone called {spoken}; in the whole picture I see {seen}.")
    people = view.people if zone is None else view.in_zone(zone)
    where = f" {_preposition(zone)} the {say_zone(zone)}" if zone else ""
    if found.intent == "camera.count":
        return IntentReply(f"I see {count_people(len(people))}{where}.")
    if not people:
        return IntentReply(f"No, I don't see anyone{where}.")
    return IntentReply(f"Yes, I see {count_people(len(people))}{where}.")


def _preposition(zone: str) -> str:
    return "at" if zone.split("_")[-1] in ("door", "gate", "entrance") else "in"


def _unsupported(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    thing = found.slots.get("device") or found.slots.get("reading")
    what = f"there's no {thing} connected to me" if thing else "nothing like that is connected"
    return IntentReply(f"Sorry, I can't do that here: {what}. I have a camera, timers and a voice.")


def _volume(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    changes = {
        "volume.up": ctx.volume.level + 2,
        "volume.down": ctx.volume.level - 2,
        "volume.mute": 0,
    }
    level = int(found.slots["level"]) if found.intent == "volume.set" else changes[found.intent]
    ctx.volume.set(level)
    return IntentReply("" if ctx.volume.level == 0 else f"Volume {ctx.volume.level}.")


def _stop(found: IntentMatch, ctx: IntentContext) -> IntentReply:
    return IntentReply("", stop=True)


_HANDLERS: dict[str, Callable[[IntentMatch, IntentContext], IntentReply]] = {
    "time": _time,
    "date": _date,
    "timer.set": _timer_set,
    "timer.cancel": _timer_cancel,
    "timer.cancel_all": _timer_cancel_all,
    "timer.list": _timer_list,
    "camera.describe": _camera,
    "camera.count": _camera,
    "camera.anyone": _camera,
    "unsupported": _unsupported,
    "volume.set": _volume,
    "volume.up": _volume,
    "volume.down": _volume,
    "volume.mute": _volume,
    "stop": _stop,
}


def say_duration(seconds: int) -> str:
    """4810 -> '1 hour, 20 minutes and 10 seconds'."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{value} {unit}{'s' if value != 1 else ''}"
        for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second"))
        if value
    ]
    return _join(parts) or "0 seconds"


def _title(timer: Timer) -> str:
    return f"{timer.name} timer" if timer.name else "timer"


def _join(parts: list[str]) -> str:
    return (
        parts[0]
        if len(parts) == 1
        else ", ".join(parts[:-1]) + " and " + parts[-1]
        if parts
        else ""
    )
