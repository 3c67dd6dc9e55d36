"""/metrics in the Prometheus text format (prometheus_client).

Counters are read from the running loops when scraped (the loops keep their own counts), so the
hot paths carry no metrics code; only the turn latency histogram is observed as turns finish.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector

from edgeai import __version__
from edgeai.voice.timeline import TurnTimeline

if TYPE_CHECKING:
    from edgeai.service.service import Service

TURN_LATENCY_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0)


class ServiceMetrics:
    def __init__(self, service: Service) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # memory, CPU seconds, open files
        self.registry.register(_LoopCollector(service))
        self.turn_latency = Histogram(
            "edgeai_turn_first_audio_seconds",
            "End of the user's speech to the first reply audio",
            ["route"],
            buckets=TURN_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe_turn(self, timeline: TurnTimeline) -> None:
        if timeline.latency_s is not None:
            route = timeline.route.split(" ")[0] or "none"  # 'llm tool timer_set' is an llm turn
            self.turn_latency.labels(route=route).observe(timeline.latency_s)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _LoopCollector:
    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        service = self.service
        info = GaugeMetricFamily("edgeai_info", "edgeai version and profile", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        progress = GaugeMetricFamily(
            "edgeai_loop_seconds_since_progress",
            "Seconds since each loop last made progress",
            labels=["loop"],
        )
        failed = GaugeMetricFamily(
            "edgeai_loop_failed",
            "1 for a loop that failed or whose thread is gone",
            labels=["loop"],
        )
        for name, state in service.supervisor.snapshot().items():
            progress.add_metric([name], float(str(state["seconds_since_progress"])))
            failed.add_metric([name], float(state["state"] == "failed"))
        yield progress
        yield failed
        events = CounterMetricFamily("edgeai_events", "Events published, by kind", labels=["kind"])
        for kind, count in sorted(service.hub.published.items()):
            events.add_metric([kind], count)
        yield events
        yield from _loop_metrics(service)
        if service.api is not None:
            streams = service.api.streams
            yield GaugeMetricFamily("edgeai_api_event_clients", "/events clients", streams.clients)
            yield CounterMetricFamily(
                "edgeai_api_events_dropped", "Events a slow /events client missed", streams.dropped
            )
            refused = service.api.refused
            yield from _counters(
                "edgeai_api_refused",
                ("foreign", refused.foreign, "Requests refused: foreign Host or another origin"),
                ("not_json", refused.not_json, "POSTs refused: not application/json"),
                ("too_large", refused.too_large, "Requests refused: body over api.max_body_bytes"),
                ("timed_out", refused.timed_out, "Connections dropped: request not in time"),
            )
        if service.mqtt is not None:
            mqtt = service.mqtt
            yield GaugeMetricFamily("edgeai_mqtt_connected", "1 while connected", mqtt.connected)
            yield GaugeMetricFamily("edgeai_mqtt_buffered", "Events waiting", mqtt.buffered)
            yield CounterMetricFamily("edgeai_mqtt_sent", "Messages sent to the broker", mqtt.sent)
            yield CounterMetricFamily(
                "edgeai_mqtt_dropped", "Events dropped from a full buffer", mqtt.dropped
            )
        arbiter = service.home.arbiter if service.home is not None else None
        if arbiter is not None:
            counts = arbiter.counts
            yield from _counters(
                "edgeai_wake_arbitration",
                ("won", counts.won, "Wake words this device answered after the home agreed"),
                ("lost", counts.lost, "Wake words another device heard better (no reply here)"),
                ("alone", counts.alone, "Wake words answered alone: no broker to arbitrate with"),
                ("ignored_claims", counts.ignored, "Wake claims ignored: malformed or stale"),
            )


def _loop_metrics(service: Service) -> Iterator[Metric]:
    loops = service.loops
    if loops is None:
        return
    if loops.microphone is not None:
        mic = loops.microphone
        yield CounterMetricFamily(
            "edgeai_microphone_outages", "Times the microphone was lost", mic.outages
        )
        yield CounterMetricFamily(
            "edgeai_microphone_dropped_pieces",
            "Audio pieces dropped because the loop fell behind",
            mic.dropped_pieces,
        )
    if loops.camera_loop is not None and loops.camera is not None:
        stats, camera = loops.camera_loop.stats, loops.camera
        yield from _counters(
            "edgeai_camera",
            ("frames", stats.frames, "Frames processed"),
            ("motion_frames", stats.motion_frames, "Frames the motion gate passed"),
            ("detector_runs", stats.detector_runs, "Detector runs"),
            ("detector_seconds", stats.detector_s, "Time spent in the detector"),
            ("unusable_frames", stats.unusable_frames, "Black, over-exposed or frozen frames"),
            ("dropped_frames", camera.dropped_frames, "Frames dropped before processing"),
            ("outages", camera.outages, "Times the camera was lost"),
        )
    if loops.wyoming is not None:
        counts = loops.wyoming.counts
        yield from _counters(
            "edgeai_wyoming",
            ("connections", counts.connections, "Wyoming clients served"),
            ("refused", counts.refused, "Wyoming clients refused: not on wyoming.allow"),
            ("busy", counts.busy, "Wyoming clients refused: wyoming.max_connections reached"),
            ("timed_out", counts.timed_out, "Wyoming clients dropped for going quiet"),
            ("closed_for_errors", counts.closed_for_errors, "Connections closed on a bad event"),
        )
        yield GaugeMetricFamily("edgeai_wyoming_open", "Wyoming clients connected", counts.open)
    yield GaugeMetricFamily(
        "edgeai_voice_busy", "1 from the wake word until the reply is spoken", loops.voice.busy()
    )
    faults = loops.voice.faults
    yield from _counters(
        "edgeai_voice",
        ("failed_turns", faults.failed_turns, "Turns a stage failed in (an apology was spoken)"),
        ("refused_announcements", faults.refused_announcements,
         "Announcements refused because too many were waiting (/say got 429)"),
        ("refused_typed", faults.refused_typed,
         "Typed requests refused because too many were waiting (/ask got 429)"),
        ("timer_save_failures", loops.voice.responder.intents.timers.failed_saves,
         "Times the timers file could not be written"),
    )  # fmt: skip


def _counters(prefix: str, *rows: tuple[str, float, str]) -> Iterator[Metric]:
    """One counter per (name, value, help) row, named `prefix`_name."""
    for name, value, text in rows:
        yield CounterMetricFamily(f"{prefix}_{name}", text, value)
