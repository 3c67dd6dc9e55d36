"""This device's part in a home of several devices on one MQTT broker: wake arbitration and
rooms, attached to the loops of each config (again after a reload)."""

from __future__ import annotations

from dataclasses import asdict

from edgeai.config import HomeSettings
from edgeai.home.arbiter import Arbiter
from edgeai.home.broker import BrokerLink
from edgeai.home.rooms import Rooms
from edgeai.intents.grammar import IntentMatch
from edgeai.intents.handlers import handle
from edgeai.runtime.compose import Assistant


class Home:
    def __init__(self, settings: HomeSettings, prefix: str, device: str, link: BrokerLink) -> None:
        self.settings = settings
        self.prefix = prefix
        self.device = device
        self.link = link
        self.arbiter = Arbiter(link, settings, device) if settings.arbitration else None
        self.rooms: Rooms | None = None

    def attach(self, assistant: Assistant) -> None:
        """Claim wake words before answering, speak the room's announcements, answer camera
        questions for this room and ask other rooms'."""
        voice = assistant.voice
        if self.arbiter is not None:
            self.arbiter.start()
            voice.arbiter = self.arbiter
        intents = voice.responder.intents

        def look(intent: str) -> str:
            return handle(IntentMatch(intent), intents).text

        camera = assistant.camera_loop is not None
        self.rooms = Rooms(
            self.link,
            self.settings,
            self.prefix,
            self.device,
            voice.announce,
            look if camera else None,
        )
        self.rooms.start()
        if assistant.rules is not None:
            assistant.rules.route = self.rooms.announce
        intents.other_room = self.rooms.knows
        intents.ask_room = self.rooms.ask

    def detach(self) -> None:
        if self.arbiter is not None:
            self.arbiter.stop()
        if self.rooms is not None:
            self.rooms.stop()
            self.rooms = None

    def health(self) -> dict[str, object]:
        body: dict[str, object] = {"room": self.settings.room}
        if self.arbiter is not None:
            body["arbitration"] = asdict(self.arbiter.counts)
        if self.rooms is not None:
            body["ignored_room_messages"] = self.rooms.ignored
        return body
