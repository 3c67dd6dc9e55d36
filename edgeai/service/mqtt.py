"""Events and state to an MQTT broker, with Home Assistant MQTT discovery (paho-mqtt).

Topics, for node `n` and prefix `edgeai`:
  edgeai/n/availability  online/offline (retained; offline is also the last will)
  edgeai/n/state         {"person": "ON", "fall": "OFF", "camera": "open", ...} (retained)
  edgeai/n/event         each camera event, with `event_type` for Home Assistant's event entity
  edgeai/n/turn          each voice turn: transcript, reply, route, latency
While the broker is away, events wait in a bounded buffer (the oldest are dropped beyond it, and
counted) and go out after the reconnect; paho resends any it had not had acknowledged.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edgeai import __version__
from edgeai.config import MqttSettings
from edgeai.service.hub import ServiceEvent

log = logging.getLogger(__name__)

SENDER_THREAD = "mqtt-send"
"""The thread that publishes; the supervisor knows it by this name."""

CAMERA_EVENTS = ("person_entered", "person_left", "fall_detected", "still_down")


@dataclass(frozen=True)
class Message:
    topic: str
    payload: str
    retain: bool = False


class MqttLink:
    def __init__(self, settings: MqttSettings, model: str) -> None:
        self.settings = settings
        self.node = settings.node()
        self.base = f"{settings.topic_prefix}/{self.node}"
        self.model = model
        """The device profile, shown as the device's model in Home Assistant."""
        self._buffer: deque[Message] = deque(maxlen=settings.buffer)
        self._wake = threading.Condition()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._state: dict[str, str] = {}
        self._state_dirty = False
        self.dropped = 0
        self.sent = 0
        self.connects = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"edgeai-{self.node}",
            protocol=mqtt.MQTTv311,
        )
        self.client.will_set(f"{self.base}/availability", "offline", qos=1, retain=True)
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else None
            self.client.username_pw_set(settings.username, password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self._listened: dict[str, int] = {}
        """Topic filters other parts listen on, with their QoS: subscribed on every connect."""
        self._kept: dict[str, str] = {}
        """Retained messages other parts keep on the broker: sent again on every connect."""
        self._sender = threading.Thread(target=self._send, name=SENDER_THREAD, daemon=True)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def thread(self) -> threading.Thread:
        """The sender's thread, for the supervisor: it must live until `stop`."""
        return self._sender

    def start(self) -> None:
        """Connect in the background; a broker that is down now is retried, never fatal."""
        self.client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive_s)
        self.client.loop_start()
        self._sender.start()

    def stop(self, flush_s: float = 1.0) -> None:
        """Send what is buffered (for up to `flush_s`), say offline, disconnect."""
        with self._wake:
            self._wake.wait_for(lambda: not self._buffer or not self.connected, timeout=flush_s)
            self._stop.set()
            self._wake.notify_all()
        self._sender.join()
        if self.connected:
            info = self.client.publish(f"{self.base}/availability", "offline", qos=1, retain=True)
            info.wait_for_publish(timeout=1.0)
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, event: ServiceEvent) -> None:
        """Queue a camera event or a turn for the broker (an EventHub subscriber)."""
        if event.kind in CAMERA_EVENTS:
            body = event.as_dict() | {"event_type": event.kind}
            self._queue(Message(f"{self.base}/event", json.dumps(body, default=str)))
        elif event.kind == "turn":
            self._queue(Message(f"{self.base}/turn", json.dumps(event.as_dict(), default=str)))

    def send_now(self, topic: str, payload: str, qos: int = 0) -> bool:
        """Publish now, unretained, or not at all: for messages that are worthless later (a wake
        claim). False when the broker is not connected."""
        if not self.connected:
            return False
        info = self.client.publish(topic, payload, qos=qos, retain=False)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def listen(self, topic: str, handler: Callable[[bytes, str], None], qos: int = 0) -> None:
        """Call `handler(payload, topic)` (on paho's network thread) for each message on the
        `topic` filter, from now on and after every reconnect."""

        def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            try:
                handler(bytes(message.payload), message.topic)
            except Exception:
                log.exception("MQTT message on %s could not be handled", message.topic)

        self.client.message_callback_add(topic, on_message)
        with self._wake:  # _on_connect subscribes under the same lock: none is missed
            self._listened[topic] = qos
            if self.connected:
                self.client.subscribe(topic, qos)

    def keep(self, topic: str, payload: str | None) -> None:
        """Keep `payload` retained on `topic` (None: clear it), now and after every reconnect
        (a device's room, for the other devices)."""
        with self._wake:
            if payload is None:
                self._kept.pop(topic, None)
            else:
                self._kept[topic] = payload
            if self.connected:
                self.client.publish(topic, payload or "", qos=1, retain=True)

    def unlisten(self, topic: str) -> None:
        """Stop what `listen` started on `topic`."""
        self.client.message_callback_remove(topic)
        with self._wake:
            self._listened.pop(topic, None)
            if self.connected:
                self.client.unsubscribe(topic)

    def set_state(self, state: dict[str, str]) -> None:
        """The device's current state; sent (retained) when it differs from the last one."""
        with self._wake:
            if state != self._state:
                self._state = dict(state)
                self._state_dirty = True
                self._wake.notify_all()

    def _queue(self, message: Message) -> None:
        with self._wake:
            if len(self._buffer) == self._buffer.maxlen:
                self.dropped += 1
                log.warning("MQTT buffer full (%d); oldest event dropped", len(self._buffer))
            self._buffer.append(message)
            self._wake.notify_all()

    def _send(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(
                    lambda: (
                        self._stop.is_set()
                        or (self.connected and (bool(self._buffer) or self._state_dirty))
                    )
                )
                if self._stop.is_set():
                    return
                outgoing = [self._buffer.popleft() for _ in range(len(self._buffer))]
                if self._state_dirty:
                    outgoing.append(Message(f"{self.base}/state", json.dumps(self._state), True))
                    self._state_dirty = False
            for message in outgoing:
                # while connected paho sends it now; if the link just dropped, paho holds it and
                # resends after the reconnect
                self.client.publish(message.topic, message.payload, qos=1, retain=message.retain)
                self.sent += 1

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.settings.host, reason)
            return
        self.connects += 1
        log.info("MQTT connected to %s:%d", self.settings.host, self.settings.port)
        for message in self._discovery():
            client.publish(message.topic, message.payload, qos=1, retain=True)
        client.publish(f"{self.base}/availability", "online", qos=1, retain=True)
        with self._wake:
            for topic, qos in self._listened.items():
                client.subscribe(topic, qos)
            for topic, payload in self._kept.items():
                client.publish(topic, payload, qos=1, retain=True)
            self._state_dirty = bool(self._state)
            self._connected.set()
            self._wake.notify_all()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        with self._wake:
            self._connected.clear()
            self._wake.notify_all()
        if not self._stop.is_set():
            log.warning(
                "MQTT broker %s:%d lost (%s); reconnecting, events are buffered",
                self.settings.host,
                self.settings.port,
                reason,
            )

    def _discovery(self) -> list[Message]:
        """Home Assistant MQTT discovery: one config message per entity, on one device."""
        prefix = self.settings.discovery_prefix
        device = {
            "identifiers": [f"edgeai_{self.node}"],
            "name": f"edgeai {self.node}",
            "manufacturer": "edgeai",
            "model": self.model,
            "sw_version": __version__,
        }
        common = {"availability_topic": f"{self.base}/availability", "device": device}
        state = f"{self.base}/state"
        entities: list[tuple[str, str, dict[str, Any]]] = [
            (
                "binary_sensor",
                "person",
                {
                    "name": "Person",
                    "state_topic": state,
                    "value_template": "{{ value_json.person }}",
                    "device_class": "occupancy",
                },
            ),
            (
                "binary_sensor",
                "fall",
                {
                    "name": "Fall",
                    "state_topic": state,
                    "value_template": "{{ value_json.fall }}",
                    "device_class": "safety",
                },
            ),
            (
                "sensor",
                "camera",
                {
                    "name": "Camera",
                    "state_topic": state,
                    "value_template": "{{ value_json.camera }}",
                },
            ),
            (
                "sensor",
                "microphone",
                {
                    "name": "Microphone",
                    "state_topic": state,
                    "value_template": "{{ value_json.microphone }}",
                },
            ),
            (
                "event",
                "camera_event",
                {
                    "name": "Camera event",
                    "state_topic": f"{self.base}/event",
                    "event_types": list(CAMERA_EVENTS),
                },
            ),
            (
                "sensor",
                "last_heard",
                {
                    "name": "Last heard",
                    "state_topic": f"{self.base}/turn",
                    "value_template": "{{ (value_json.transcript or '')[:250] }}",
                },
            ),
        ]
        return [
            Message(
                f"{prefix}/{component}/{self.node}/{object_id}/config",
                json.dumps(common | {"unique_id": f"edgeai_{self.node}_{object_id}"} | body),
                retain=True,
            )
            for component, object_id, body in entities
        ]
