"""What the camera loop sees now, as data: the voice loop answers camera questions from it
("is anyone at the door", "how many people") and never from a guess."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeenPerson:
    zones: tuple[str, ...]
    """The zones the person stands in (config names, such as "front_door")."""
    fallen: bool


@dataclass(frozen=True)
class CameraView:
    people: tuple[SeenPerson, ...]
    """People the camera loop has confirmed and still tracks."""
    zones: tuple[str, ...]
    """Every zone drawn in the config."""
    problem: str | None = None
    """Why the camera cannot see right now (reopening after a failure); None when it can."""

    def zone_named(self, spoken: str) -> str | None:
        """The configured zone a spoken place means: "door" finds "front_door" when that is the
        only zone with the word; None when no zone (or more than one) fits."""
        wanted = spoken.replace("_", " ").split()
        if "_".join(wanted) in self.zones:
            return "_".join(wanted)
        fits = [z for z in self.zones if set(wanted) <= set(z.split("_"))]
        return fits[0] if len(fits) == 1 else None

    def in_zone(self, zone: str) -> list[SeenPerson]:
        return [person for person in self.people if zone in person.zones]

    def describe(self) -> str:
        """What the camera sees now, in a sentence, for "what do you see"."""
        if self.problem is not None:
            return f"I can't see right now: {self.problem}."
        if not self.people:
            return "I don't see anyone."
        parts = [f"I see {count_people(len(self.people))}."]
        for person in self.people:
            where = f" in the {say_zone(person.zones[0])} zone" if person.zones else ""
            if person.fallen:
                parts.append(f"Someone{where} seems to have fallen.")
            elif person.zones:
                parts.append(f"Someone is{where}.")
        return " ".join(parts)


def count_people(count: int) -> str:
    return "no one" if count == 0 else "one person" if count == 1 else f"{count} people"


def say_zone(zone: str) -> str:
    return zone.replace("_", " ")
