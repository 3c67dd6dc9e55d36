"""Several devices in one home on a real mosquitto broker: the best-heard device answers a wake
word (the others stay silent), a device without the broker answers alone, stale and malformed
claims are ignored; camera announcements and questions go to the right room."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edgeai.audio.sinks import WavSink
from edgeai.bench.home import ScheduledSource, gain
from edgeai.config import Config, HomeSettings, MqttSettings
from edgeai.device.profiles import Profiles
from edgeai.home.arbiter import Arbiter, Outcome
from edgeai.home.claims import MAX_CLAIM_BYTES, ClaimProblem, WakeClaim, parse_claim, verdict
from edgeai.home.rooms import NO_BROKER, Rooms
from edgeai.intents.grammar import load_grammar
from edgeai.intents.handlers import IntentContext, handle
from edgeai.intents.timers import TimerStore
from edgeai.models.catalog import Catalog
from edgeai.service.mqtt import MqttLink
from edgeai.store import ModelStore
from edgeai.voice.build import VoiceModels, build_voice_loop
from edgeai.voice.loop import VoiceLoop
from tests.conftest import TEST_MODEL_STORE, silence, speak
from tests.test_mqtt import Broker, free_port
from tests.test_service import sample

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None, reason="needs mosquitto (scripts/install-system-deps.sh)"
)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    running = Broker(tmp_path)
    running.start()
    yield running
    running.stop()


def claim(device: str, snr_db: float, at: float = 1000.0, score: float = 0.95) -> WakeClaim:
    return WakeClaim(
        device=device, turn=f"t{device}", score=score, level_db=snr_db - 60, snr_db=snr_db, at=at
    )


def winners(claims: list[WakeClaim], window_s: float = 0.1) -> list[str]:
    return [c.device for c in claims if verdict(c, claims, window_s)]


def test_every_device_reaches_the_same_verdict_the_best_heard_answers():
    near = [claim("kitchen", 30, 1000.00), claim("hall", 42, 1000.08), claim("office", 25, 1000.05)]
    assert winners(near) == ["hall"]
    # equally well heard: the lowest device id, on every device alike
    assert winners([claim("b", 30), claim("a", 30.2), claim("c", 29.9)]) == ["a"]
    # the SNR before the wake score (which says little once over the threshold)
    assert winners([claim("a", 45, score=0.75), claim("b", 20, score=0.99)]) == ["a"]
    assert winners([claim("a", 30, score=0.75), claim("b", 30, score=0.99)]) == ["b"]
    # later than the window: the episode was decided without it, even if it heard better
    late = [claim("a", 20, 1000.0), claim("b", 30, 1000.05), claim("c", 50, 1000.3)]
    assert winners(late) == ["b"]
    # a second wake word, well after the first, is an episode of its own
    assert winners([claim("a", 20, 1000.0), claim("b", 30, 1003.0)]) == ["a", "b"]


def test_stale_skewed_malformed_and_oversized_claims_are_ignored():
    good = claim("hall", 30, at=500.0)
    assert parse_claim(good.model_dump_json().encode(), 500.5, 2.0) == good
    assert parse_claim(good.model_dump_json().encode(), 503.0, 2.0) is ClaimProblem.STALE
    assert parse_claim(good.model_dump_json().encode(), 497.0, 2.0) is ClaimProblem.STALE
    assert parse_claim(b'{"device": "hall"}', 500.0, 2.0) is ClaimProblem.MALFORMED
    assert parse_claim(b"\xff not json", 500.0, 2.0) is ClaimProblem.MALFORMED
    odd = good.model_dump() | {"device": "Hall/#"}
    assert parse_claim(str(odd).encode(), 500.0, 2.0) is ClaimProblem.MALFORMED
    big = b" " * (MAX_CLAIM_BYTES + 1)
    assert parse_claim(big, 500.0, 2.0) is ClaimProblem.TOO_BIG


def connected_link(port: int, node: str) -> MqttLink:
    link = MqttLink(
        MqttSettings(enabled=True, host="127.0.0.1", port=port, node_id=node), "x86-cpu"
    )
    link.start()
    deadline = time.monotonic() + 10
    while not link.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert link.connected
    return link


def subscribed(arbiters: list[Arbiter], broker_port: int) -> None:
    """Wait until a claim sent now reaches every arbiter (their subscriptions are in place)."""
    probe = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="probe")
    probe.connect("127.0.0.1", broker_port)
    probe.loop_start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stale = claim("probe", 1, at=1.0).model_dump_json()
        probe.publish("edgeai/home/wake", stale, qos=1).wait_for_publish(2)
        time.sleep(0.05)
        if all(a.counts.ignored for a in arbiters):
            break
    probe.loop_stop()
    probe.disconnect()


def test_three_devices_on_a_real_broker_agree_on_the_best_heard(
    broker: Broker, caplog: pytest.LogCaptureFixture
):
    settings = HomeSettings()
    links = [connected_link(broker.port, node) for node in ("hall", "kitchen", "office")]
    arbiters = [Arbiter(link, settings, link.node) for link in links]
    for arbiter in arbiters:
        arbiter.start()
    try:
        subscribed(arbiters, broker.port)
        before = [a.counts.ignored for a in arbiters]
        # a claim from another home's clock (stale), a malformed one and an oversized one
        intruder = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="intruder")
        intruder.connect("127.0.0.1", broker.port)
        intruder.loop_start()
        ancient = claim("attic", 60, at=time.time() - 30, score=1.0).model_dump_json()
        for payload in (ancient, '{"device": "attic", "score": 2}', "x" * 4096):
            intruder.publish("edgeai/home/wake", payload, qos=1).wait_for_publish(2)
        # a second device configured as "hall": an earlier wake word, not this one
        twin = claim("hall", 50, at=time.time() - 1.5).model_dump_json()
        intruder.publish("edgeai/home/wake", twin, qos=1).wait_for_publish(2)
        now = time.time()
        pending = [
            arbiter.claim(0.9, level, level + 55, now + offset)
            for arbiter, level, offset in zip(
                arbiters, (-30.0, -18.0, -25.0), (0.0, 0.08, 0.03), strict=True
            )
        ]
        outcomes = [p.outcome() for p in pending]
        assert outcomes == [Outcome.LOST, Outcome.WON, Outcome.LOST]
        assert [a.counts.ignored - b for a, b in zip(arbiters, before, strict=True)] == [3, 3, 3]
        assert "another device claims wake words as 'hall' too" in caplog.text
        intruder.loop_stop()
        intruder.disconnect()
    finally:
        for arbiter, link in zip(arbiters, links, strict=True):
            arbiter.stop()
            link.stop(flush_s=0.1)


def test_a_device_that_cannot_reach_the_broker_answers_alone_at_once():
    link = MqttLink(
        MqttSettings(enabled=True, host="127.0.0.1", port=free_port(), node_id="hall"), "x"
    )
    link.start()
    try:
        arbiter = Arbiter(link, HomeSettings(), "hall")
        arbiter.start()
        pending = arbiter.claim(0.9, -20, 40, time.time())
        assert pending.settled() is Outcome.ALONE  # no window to wait for
        assert pending.outcome() is Outcome.ALONE and pending.waited_s == 0.0
        assert arbiter.counts.alone == 1
    finally:
        link.stop(flush_s=0.1)


class Home:
    """Real voice loops (wake word, endpointing, speech-to-text, intents, speech), one per
    device, each with its own timers and its own microphone recording of the same voice."""

    def __init__(
        self, port: int | None, voice_config: Config, voice_models: VoiceModels, tmp_path: Path
    ) -> None:
        self.port, self.config, self.models, self.folder = (
            port,
            voice_config,
            voice_models,
            tmp_path,
        )
        self.catalog = Catalog.load()
        self.profile = Profiles.load(self.catalog).get("x86-cpu")
        self.links: list[MqttLink] = []
        self.loops: dict[str, VoiceLoop] = {}
        self.replies: dict[str, list[Path]] = {}

    def device(self, node: str, broker: bool = True) -> VoiceLoop:
        if broker:
            link = connected_link(self.port, node)
        else:  # a broker address where none answers
            link = MqttLink(MqttSettings(enabled=True, port=free_port(), node_id=node), "x")
            link.start()
        self.links.append(link)
        replies = self.replies.setdefault(node, [])

        def open_sink(rate: int) -> WavSink:
            replies.append(self.folder / f"{node}-{len(replies)}.wav")
            return WavSink(replies[-1], rate)

        voice = self.config.voice.model_copy(
            update={"follow_up_s": 0.0, "timers_file": self.folder / f"{node}-timers.json"}
        )
        config = self.config.model_copy(update={"voice": voice})
        loop = build_voice_loop(
            config, self.profile, ModelStore(TEST_MODEL_STORE), self.catalog, self.models, open_sink
        )
        loop.arbiter = Arbiter(link, HomeSettings(room=node), node)
        loop.arbiter.start()
        self.loops[node] = loop
        return loop

    def hear(self, voice: np.ndarray, levels: dict[str, float], after_s: float) -> dict[str, list]:
        """Every device hears `voice` at its level (dB) with noise of its own, at once; the
        timelines of each device's turns."""
        subscribed([loop.arbiter for loop in self.loops.values() if loop.arbiter.link.connected],
                   self.port)  # fmt: skip
        rng = np.random.default_rng(7)
        start_at = time.time() + 1.0
        results: dict[str, list] = {}
        heard = {}
        for node in self.loops:
            audio = np.concatenate([silence(2.0), gain(voice, levels[node]), silence(after_s)])
            noise = rng.normal(0, 30, len(audio)).astype(np.float32)
            heard[node] = np.clip(audio + noise, -32768, 32767).astype(np.int16)

        def play(node: str) -> None:
            results[node] = self.loops[node].run(ScheduledSource(heard[node], lambda: start_at))

        threads = [threading.Thread(target=play, args=(node,)) for node in self.loops]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for link in self.links:
            link.stop(flush_s=0.1)
        return results


def test_devices_hearing_one_wake_word_at_different_levels_only_the_loudest_answers(
    broker: Broker, voice_config: Config, voice_models: VoiceModels, tmp_path: Path
):
    home = Home(broker.port, voice_config, voice_models, tmp_path)
    for node in ("hall", "kitchen", "office"):
        home.device(node)
    home.device("garage", broker=False)
    levels = {"hall": -9.0, "kitchen": -1.0, "office": -5.0, "garage": -3.0}
    results = home.hear(sample("hey_jarvis_what_time_is_it.wav"), levels, after_s=2.5)
    answered = {node: timelines for node, timelines in results.items() if timelines}
    assert sorted(answered) == ["garage", "kitchen"], {n: len(t) for n, t in results.items()}
    assert answered["kitchen"][0].route == "time" and home.replies["kitchen"]
    assert answered["garage"][0].arbitration_wait_s == 0.0  # alone: nothing to wait for
    counts = {node: loop.arbiter.counts for node, loop in home.loops.items()}
    assert (counts["kitchen"].won, counts["hall"].lost, counts["office"].lost) == (1, 1, 1)
    assert counts["garage"].alone == 1
    assert home.replies["hall"] == [] and home.replies["office"] == []  # silent: not a sound


def test_a_timer_rings_on_the_device_that_set_it(
    broker: Broker, voice_config: Config, voice_models: VoiceModels, tmp_path: Path
):
    home = Home(broker.port, voice_config, voice_models, tmp_path)
    hall, kitchen = home.device("hall"), home.device("kitchen")
    request = np.concatenate(
        [speak("hey jarvis"), silence(0.4), speak("set a timer for two seconds")]
    )
    results = home.hear(request, {"hall": -2.0, "kitchen": -10.0}, after_s=5.0)
    assert results["kitchen"] == []  # it heard the request, and the ring, but says nothing
    set_it, rang = results["hall"]
    assert set_it.route == "timer.set" and rang.reply == "Your timer is done."
    assert kitchen.responder.intents.timers.active() == []
    assert hall.responder.intents.timers.active() == []  # rang, so it left the store


class Speaker:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.heard = threading.Event()

    def __call__(self, text: str) -> bool:
        self.said.append(text)
        self.heard.set()
        return True


def test_rooms_announcements_play_where_they_happen_and_the_hall_answers_for_the_hall(
    broker: Broker, tmp_path: Path
):
    hall_link, kitchen_link, porch_link = (
        connected_link(broker.port, node) for node in ("hall_dev", "kitchen_dev", "porch_dev")
    )
    hall_speaker, kitchen_speaker, porch_speaker = Speaker(), Speaker(), Speaker()
    looked: list[str] = []

    def hall_camera(intent: str) -> str:
        looked.append(intent)
        return "I see one person."

    hall = Rooms(hall_link, HomeSettings(room="hall"), "edgeai", "hall_dev", hall_speaker,
                 hall_camera)  # fmt: skip
    kitchen = Rooms(kitchen_link, HomeSettings(room="kitchen", ask_timeout_s=1.0), "edgeai",
                    "kitchen_dev", kitchen_speaker, None)  # fmt: skip
    # the porch device's camera looks at the garden; falls are announced in every room
    porch = Rooms(
        porch_link,
        HomeSettings(room="porch", camera_room="garden", falls_everywhere=True),
        "edgeai", "porch_dev", porch_speaker, lambda intent: "I don't see anyone.",
    )  # fmt: skip
    for rooms in (hall, kitchen, porch):
        rooms.start()
    try:
        deadline = time.monotonic() + 10
        while not (kitchen.knows("hall") and kitchen.knows("garden")):
            assert time.monotonic() < deadline, "the devices' rooms never arrived"
            time.sleep(0.02)
        assert kitchen.knows("living room") is None and hall.knows("hall") is None

        hall.announce("Someone is at the door.", "person_entered")
        assert hall_speaker.said == ["Someone is at the door."]
        hall_speaker.heard.clear()
        porch.announce("Someone is in the garden.", "person_entered")  # nobody is there
        porch.announce("Someone has fallen in the garden.", "fall_detected")
        assert kitchen_speaker.heard.wait(5) and hall_speaker.heard.wait(5)
        assert hall_speaker.said[-1] == "Someone has fallen in the garden."
        assert kitchen_speaker.said == ["Someone has fallen in the garden."]
        assert porch_speaker.said == ["Someone has fallen in the garden."]
        assert "Someone is in the garden." not in hall_speaker.said

        grammar = load_grammar()
        timers = TimerStore(tmp_path / "timers.json")
        ctx = IntentContext(timers, other_room=kitchen.knows, ask_room=kitchen.ask)
        found = grammar.match("what do you see in the hall")
        assert found is not None and found.slots.get("zone") == "hall"
        assert handle(found, ctx).text == "In the hall: I see one person."
        assert looked == ["camera.describe"]
        anyone = grammar.match("is anyone in the garden")
        assert handle(anyone, ctx).text == "In the garden: I don't see anyone."

        odd = '{"id": "ab", "intent": "camera.open_door", "sender": "kitchen_dev"}'
        assert kitchen_link.send_now("edgeai/home/ask/hall", odd, 1)
        deadline = time.monotonic() + 5
        while hall.ignored == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert hall.ignored == 1 and looked == ["camera.describe"]  # not asked to look

        porch.stop()
        porch_link.stop(flush_s=0.1)  # its room card stays retained: asked, it cannot answer
        assert "garden camera didn't answer" in kitchen.ask("garden", "camera.describe")
        kitchen_link.stop(flush_s=0.1)
        assert kitchen.ask("hall", "camera.describe") == NO_BROKER
    finally:
        hall.stop()
        hall_link.stop(flush_s=0.1)


def test_the_service_claims_its_wake_word_on_the_broker_and_reports_the_outcome(
    broker: Broker, model_store, tmp_path: Path
):
    from edgeai.audio.sinks import NullSink
    from edgeai.audio.sources import ArraySource
    from edgeai.service.loops import Inputs
    from edgeai.service.service import Service
    from tests.test_mqtt import Listener
    from tests.test_service import write_config

    config = write_config(
        tmp_path,
        camera={"enabled": False},
        mqtt={"enabled": True, "host": "127.0.0.1", "port": broker.port, "node_id": "hall"},
        home={"room": "hall"},
        voice={"timers_file": str(tmp_path / "timers.json"), "follow_up_s": 0.0},
    )
    audio = np.concatenate([silence(2.5), sample("hey_jarvis_what_time_is_it.wav"), silence(3)])
    watcher = Listener(broker.port)
    service = Service(
        config,
        Inputs(audio=lambda: ArraySource(audio, realtime=True), open_sink=lambda r: NullSink()),
    )
    service.start()
    try:
        [turn] = watcher.wait_for("edgeai/hall/turn", timeout_s=60)
        [claimed] = watcher.payloads("edgeai/home/wake")
        heard = WakeClaim.model_validate_json(claimed)
        assert (heard.device, heard.room) == ("hall", "hall") and heard.snr_db > 20
        assert json.loads(turn)["arbitration_wait_s"] is not None
        _, health = service.health()
        assert health["home"]["arbitration"] | {"last_ignored": None} == {
            "won": 1, "lost": 0, "alone": 0, "ignored": 0, "last_ignored": None
        }  # fmt: skip
        assert b"edgeai_wake_arbitration_won_total 1.0" in service.metrics()
        assert service.reload()  # the new loops claim through the home again
        assert service.loops is not None and service.home is not None
        assert service.loops.voice.arbiter is service.home.arbiter
    finally:
        service.stop()
        watcher.close()
