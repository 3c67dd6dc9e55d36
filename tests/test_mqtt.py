"""MQTT against a real mosquitto broker started by the test: Home Assistant discovery, events,
state, and a broker outage that buffers events and delivers them after the reconnect."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edgeai.config import MqttSettings
from edgeai.service.hub import EventHub
from edgeai.service.mqtt import MqttLink

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None, reason="needs mosquitto (scripts/install-system-deps.sh)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(5)
            self.process = None


@pytest.fixture
def broker(tmp_path: Path):
    running = Broker(tmp_path)
    running.start()
    yield running
    running.stop()


class NetworkGate:
    """A TCP forwarder in front of the broker: `cut()` drops every connection through it and
    refuses new ones (the broker is away for the client behind it), `restore()` lets them in
    again. Clients connected to the broker directly are not affected."""

    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self.port = free_port()
        self._server: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def restore(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen()
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            if self._server is not None:
                with contextlib.suppress(OSError):  # wakes the accept() blocked on it
                    self._server.shutdown(socket.SHUT_RDWR)
                self._server.close()
                self._server = None
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # cut
            upstream = socket.create_connection(("127.0.0.1", self.broker_port))
            with self._lock:
                self._open += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, target), daemon=True).start()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Listener:
    """A plain paho client subscribed to everything, as Home Assistant would be."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self.arrived = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-listener")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe("#", qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        with self.arrived:
            self.messages.append((message.topic, message.payload.decode(), message.retain))
            self.arrived.notify_all()

    def wait_for(self, topic: str, count: int = 1, timeout_s: float = 10.0) -> list[str]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.payloads(topic)) >= count, timeout_s)
            return self.payloads(topic)

    def payloads(self, topic: str) -> list[str]:
        return [payload for t, payload, _ in self.messages if t == topic]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def settings(port: int, **overrides) -> MqttSettings:
    return MqttSettings(enabled=True, host="127.0.0.1", port=port, node_id="hall", **overrides)


def test_discovery_state_and_events_reach_home_assistant(broker: Broker):
    listener = Listener(broker.port)
    link = MqttLink(settings(broker.port), model="x86-cpu")
    hub = EventHub()
    hub.subscribe(link.publish)
    link.start()
    try:
        assert listener.wait_for("edgeai/hall/availability") == ["online"]
        person = json.loads(listener.wait_for("homeassistant/binary_sensor/hall/person/config")[0])
        assert person["state_topic"] == "edgeai/hall/state"
        assert person["device_class"] == "occupancy"
        assert person["availability_topic"] == "edgeai/hall/availability"
        assert person["device"]["identifiers"] == ["edgeai_hall"]
        event_entity = json.loads(
            listener.wait_for("homeassistant/event/hall/camera_event/config")[0]
        )
        assert event_entity["event_types"] == [
            "person_entered",
            "person_left",
            "fall_detected",
            "still_down",
        ]

        link.set_state({"person": "ON", "fall": "OFF", "camera": "open", "microphone": "open"})
        hub.publish("person_entered", {"zone": "door", "track_id": 3})
        hub.publish("turn", {"transcript": "what time is it", "reply": "It's noon."})
        hub.publish("camera", {"state": "open"})  # state changes go out as state, not events
        event = json.loads(listener.wait_for("edgeai/hall/event")[0])
        assert (event["event_type"], event["zone"], event["track_id"]) == (
            "person_entered",
            "door",
            3,
        )
        assert json.loads(listener.wait_for("edgeai/hall/turn")[0])["reply"] == "It's noon."
        assert json.loads(listener.wait_for("edgeai/hall/state")[0])["person"] == "ON"
        assert len(listener.payloads("edgeai/hall/event")) == 1
    finally:
        link.stop()
    assert listener.wait_for("edgeai/hall/availability", count=2)[-1] == "offline"
    listener.close()


def test_a_broker_outage_buffers_events_and_delivers_them_after_the_reconnect(broker: Broker):
    listener = Listener(broker.port)  # Home Assistant's side stays connected throughout
    gate = NetworkGate(broker.port)
    gate.restore()
    link = MqttLink(settings(gate.port, buffer=3), model="x86-cpu")
    hub = EventHub()
    hub.subscribe(link.publish)
    link.start()
    try:
        listener.wait_for("edgeai/hall/availability")
        gate.cut()
        # the broker publishes the link's last will once it notices the dead connection
        assert listener.wait_for("edgeai/hall/availability", count=2)[-1] == "offline"
        deadline = time.monotonic() + 10
        while link.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not link.connected
        for track in range(1, 6):  # five events while the broker is away; room for three
            hub.publish("person_entered", {"zone": "door", "track_id": track})
        assert (link.buffered, link.dropped) == (3, 2)
        assert listener.payloads("edgeai/hall/event") == []
        gate.restore()
        # the link retries with backoff (up to 30 s apart), so allow for it
        events = listener.wait_for("edgeai/hall/event", count=3, timeout_s=45)
        assert [json.loads(p)["track_id"] for p in events] == [3, 4, 5]  # the oldest dropped
        assert link.buffered == 0 and link.connects == 2
        assert listener.payloads("edgeai/hall/availability")[-1] == "online"
    finally:
        link.stop()
        listener.close()
        gate.cut()


def test_a_broker_that_is_not_there_at_start_is_retried_not_fatal():
    link = MqttLink(settings(free_port()), model="x86-cpu")
    link.start()
    try:
        hub = EventHub()
        hub.subscribe(link.publish)
        hub.publish("fall_detected", {"zone": None, "track_id": 1})
        time.sleep(0.3)
        assert not link.connected and link.buffered == 1
    finally:
        link.stop(flush_s=0.1)
