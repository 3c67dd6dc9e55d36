"""Rooms over the broker: a camera's announcements play in the room it watches (falls
optionally everywhere), and "what do you see in the hall?" is answered by the hall's device.

Topics, for prefix `edgeai`:
  edgeai/home/rooms/<device>   {"room": "hall"}: the room a device's camera watches (retained)
  edgeai/home/say              an announcement for a room, or for every room
  edgeai/home/ask/<room>       a camera question for the device watching <room>
  edgeai/home/answer/<device>  the answer, back to the device that asked
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgeai.config import HomeSettings
from edgeai.home.broker import BrokerLink
from edgeai.messages import EventKind

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 2048
FALLS: tuple[EventKind, ...] = ("fall_detected", "still_down")
NO_BROKER = "I can't reach the other rooms right now: the home's MQTT broker is not connected."

Name = Field(pattern=r"^[a-z0-9_]{1,64}$")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoomCard(_Message):
    room: str = Field(pattern=r"^[a-z0-9_]{1,32}$")


class Announcement(_Message):
    sender: str = Name
    room: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,32}$")
    everywhere: bool = False
    text: str = Field(min_length=1, max_length=500)


class Question(_Message):
    id: str = Field(pattern=r"^[a-f0-9]{1,32}$")
    intent: Literal["camera.describe", "camera.count", "camera.anyone"]
    sender: str = Name


class Answer(_Message):
    id: str = Field(pattern=r"^[a-f0-9]{1,32}$")
    text: str = Field(max_length=1000)


M = TypeVar("M", bound=_Message)


def _parse(kind: type[M], payload: bytes) -> M | None:
    if len(payload) > MAX_MESSAGE_BYTES:
        log.warning("home message of %d bytes ignored (at most %d)", len(payload),
                    MAX_MESSAGE_BYTES)  # fmt: skip
        return None
    try:
        return kind.model_validate_json(payload)
    except ValidationError as e:
        log.warning("malformed %s ignored: %s", kind.__name__, str(e).splitlines()[0])
        return None


class Rooms:
    """One device's part: it speaks what is meant for its room and answers for its camera."""

    def __init__(
        self,
        link: BrokerLink,
        settings: HomeSettings,
        prefix: str,
        device: str,
        speak: Callable[[str], object],
        look: Callable[[str], str] | None,
    ) -> None:
        self.link = link
        self.settings = settings
        self.device = device
        self.speak = speak
        """Speaks a sentence on this device (the voice loop's announce)."""
        self.look = look
        """This device's answer to a camera intent; None without a camera."""
        self.base = f"{prefix}/home"
        self._cameras: dict[str, str] = {}
        """Device -> the room its camera watches, as the devices said (retained)."""
        self._waiting: dict[str, tuple[threading.Event, list[str]]] = {}
        self._lock = threading.Lock()
        self.ignored = 0

    def _topics(self) -> list[tuple[str, Callable[[bytes, str], None]]]:
        topics: list[tuple[str, Callable[[bytes, str], None]]] = [
            (f"{self.base}/rooms/+", self._on_card),
            (f"{self.base}/say", self._on_announcement),
            (f"{self.base}/answer/{self.device}", self._on_answer),
        ]
        room = self.settings.watched_room()
        if self.look is not None and room is not None:
            topics.append((f"{self.base}/ask/{room}", self._on_question))
        return topics

    def start(self) -> None:
        for topic, handler in self._topics():
            self.link.listen(topic, handler, 1)
        room = self.settings.watched_room()
        card = RoomCard(room=room).model_dump_json() if room and self.look else None
        self.link.keep(f"{self.base}/rooms/{self.device}", card)

    def stop(self) -> None:
        for topic, _ in self._topics():
            self.link.unlisten(topic)

    # camera announcements

    def announce(self, text: str, kind: EventKind) -> None:
        """A camera rule's sentence: spoken in the room the camera watches, by whichever
        devices are there, and everywhere for a fall when falls_everywhere is on."""
        watched, mine = self.settings.watched_room(), self.settings.room
        everywhere = self.settings.falls_everywhere and kind in FALLS
        here = watched is None or watched == mine
        if not here or everywhere:
            message = Announcement(
                sender=self.device, room=watched, everywhere=everywhere, text=text
            )
            sent = self.link.send_now(f"{self.base}/say", message.model_dump_json(), 1)
            if not sent:
                log.warning("announcement for the %s spoken here: the broker is not connected",
                            watched)  # fmt: skip
                here = True
        if here or everywhere:
            self.speak(text)

    def _on_announcement(self, payload: bytes, topic: str) -> None:
        message = _parse(Announcement, payload)
        if message is None:
            self.ignored += 1
            return
        if message.sender != self.device and (
            message.everywhere or (message.room is not None and message.room == self.settings.room)
        ):
            log.info("announcement from %s for the %s", message.sender, message.room or "home")
            self.speak(message.text)

    # camera questions

    def knows(self, spoken: str) -> str | None:
        """The room a spoken place names, when another device's camera watches it."""
        room = "_".join(spoken.lower().split())
        with self._lock:
            others = {r for d, r in self._cameras.items() if d != self.device}
        return room if room in others else None

    def ask(self, room: str, intent: str) -> str:
        """Ask the device watching `room`; an honest sentence when it cannot be asked."""
        question = Question(id=uuid.uuid4().hex, intent=intent, sender=self.device)
        done, reply = threading.Event(), list[str]()
        with self._lock:
            self._waiting[question.id] = (done, reply)
        try:
            if not self.link.send_now(f"{self.base}/ask/{room}", question.model_dump_json(), 1):
                return NO_BROKER
            if not done.wait(self.settings.ask_timeout_s):
                log.warning("no device answered for the %s within %.1f s", room,
                            self.settings.ask_timeout_s)  # fmt: skip
                return f"The {_say(room)} camera didn't answer, so I can't tell what's there."
            answer = reply[0] if reply[0].startswith("I ") else reply[0][:1].lower() + reply[0][1:]
            return f"In the {_say(room)}: {answer}"
        finally:
            with self._lock:
                self._waiting.pop(question.id, None)

    def _on_card(self, payload: bytes, topic: str) -> None:
        device = topic.rsplit("/", 1)[-1]
        with self._lock:
            if not payload:
                self._cameras.pop(device, None)
                return
        card = _parse(RoomCard, payload)
        with self._lock:
            if card is None:
                self._cameras.pop(device, None)
            else:
                self._cameras[device] = card.room

    def _on_question(self, payload: bytes, topic: str) -> None:
        question = _parse(Question, payload)
        if question is None or self.look is None:
            self.ignored += 1
            return
        text = self.look(question.intent)
        answer = Answer(id=question.id, text=text[:1000]).model_dump_json()
        self.link.send_now(f"{self.base}/answer/{question.sender}", answer, 1)

    def _on_answer(self, payload: bytes, topic: str) -> None:
        answer = _parse(Answer, payload)
        if answer is None:
            self.ignored += 1
            return
        with self._lock:
            waiting = self._waiting.get(answer.id)
        if waiting is not None:
            waiting[1].append(answer.text)
            waiting[0].set()


def _say(room: str) -> str:
    return room.replace("_", " ")
