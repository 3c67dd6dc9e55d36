"""`edgeai bench home`: several devices hear the same wake words, each at its own level, and
agree over a real MQTT broker which one answers.

Three `edgeai` service processes (real models, real listener, real arbitration) share one
mosquitto broker started here; each plays its own recording of the same scripted events, the
wake phrase and a request at a level of its own, starting at the same wall-clock instant (a
room's devices hear one voice at once). Each answered turn arrives on the broker's turn topic;
the figures are how many events got exactly one answer, how many were answered by the device
that heard them loudest, and what the arbitration added to the turn."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from edgeai.audio import SAMPLE_RATE_HZ
from edgeai.config import Config, HomeSettings
from edgeai.ears.wake.frontend import BLOCK_SAMPLES
from edgeai.errors import EdgeAIError
from edgeai.home.arbiter import DELIVERY_S

DEVICES = ("dev_a", "dev_b", "dev_c")
EVENT_S = 5.5
"""One event: the phrase (about 3 s), the reply, and a quiet gap before the next."""
SILENT_DBFS = -60.0
"""The recording's silence around the phrase, trimmed off."""
LEAD_S = 2.0
"""Quiet before the first event: the noise floor to measure SNR against."""
NOISE_DBFS = -60.0
"""Each device's own room noise (a quiet room through a real microphone)."""
LOUDEST_DBFS = (-4.0, 0.0)
"""The event's loudest device hears the phrase this much below its recording's level."""
STEPS_DB = (2.0, 8.0)
"""Each further device is this much quieter than the one before (uniform in this range)."""
TAIL_S = 4.0
"""After its recording ends a device finishes its last turn."""
READY_TIMEOUT_S = 300.0
"""Three services loading their models at once on a small, shared machine."""


class ScheduledSource:
    """An in-memory recording played at the pace of a microphone from an agreed wall-clock
    instant: devices in other processes then hear it at the same moments (each block is due
    on the wall clock, so a process that starts late or stalls catches up, as a microphone's
    buffer would let it)."""

    def __init__(self, samples: np.ndarray, start_at: Callable[[], float]) -> None:
        self.samples = samples
        self.start_at = start_at
        """Gives the instant (seconds since the epoch) once it is known."""

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        short = -len(self.samples) % block_samples
        samples = np.concatenate([self.samples, np.zeros(short, self.samples.dtype)])
        start = self.start_at()
        for index, first in enumerate(range(0, len(samples), block_samples)):
            due = start + (index + 1) * block_samples / SAMPLE_RATE_HZ
            time.sleep(max(0.0, due - time.time()))
            yield samples[first : first + block_samples]


def gain(audio: np.ndarray, db: float) -> np.ndarray:
    scaled: np.ndarray = audio.astype(np.float32) * np.float32(10 ** (db / 20))
    return scaled


def trimmed(phrase: np.ndarray) -> np.ndarray:
    """The phrase without the silence around it (one 80 ms block of it kept each side)."""
    from edgeai.home.loudness import block_db

    n = BLOCK_SAMPLES
    loud = [i for i in range(0, len(phrase), n) if block_db(phrase[i : i + n]) > SILENT_DBFS]
    if not loud:
        raise EdgeAIError("the bench phrase is silent")
    return phrase[max(0, loud[0] - n) : loud[-1] + 2 * n]


def device_recordings(
    phrase: np.ndarray, events: int, seed: int
) -> tuple[list[np.ndarray], list[list[float]]]:
    """Each device's recording of `events` events, and the level (dB against the phrase as
    recorded) each device heard each event at: the loudest device changes at random."""
    rng = np.random.default_rng(seed)
    phrase = trimmed(phrase)
    if len(phrase) > (EVENT_S - 2.0) * SAMPLE_RATE_HZ:
        raise EdgeAIError(f"the bench phrase is longer than {EVENT_S - 2.0:.1f} s")
    event_n = int(EVENT_S * SAMPLE_RATE_HZ)
    lead_n = int(LEAD_S * SAMPLE_RATE_HZ)
    total = lead_n + events * event_n
    levels: list[list[float]] = []
    tracks = [np.zeros(total, np.float32) for _ in DEVICES]
    for k in range(events):
        order = rng.permutation(len(DEVICES))
        level = float(rng.uniform(*LOUDEST_DBFS))
        heard = [0.0] * len(DEVICES)
        for device in order:
            heard[device] = level
            level -= float(rng.uniform(*STEPS_DB))
        levels.append(heard)
        start = lead_n + k * event_n
        for device, track in enumerate(tracks):
            track[start : start + len(phrase)] += gain(phrase, heard[device])
    noise_rms = 32768 * 10 ** (NOISE_DBFS / 20)
    recordings = [
        np.clip(track + rng.normal(0, noise_rms, total), -32768, 32767).astype(np.int16)
        for track in tracks
    ]
    return recordings, levels


@dataclass
class HomeBench:
    events: int
    devices: int
    heard: list[int]
    """Per event: how many devices claimed the wake word (heard it)."""
    answers: list[list[str]]
    """Per event: the devices that answered."""
    loudest: list[str]
    waits_s: list[float]
    """The arbitration's wait at the start of each answered turn."""
    latencies_s: list[float]
    """End of speech to first reply audio of each answered turn (arbitration included)."""
    slack_s: list[float]
    """How long before each answered turn's endpoint (when it could start) the verdict was due:
    negative would be a wait."""
    window_s: float
    load_s: float
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each device's arbitration counts from its /health at the end."""

    @property
    def exactly_one(self) -> int:
        return sum(len(a) == 1 for a in self.answers)

    @property
    def loudest_won(self) -> int:
        return sum(a == [best] for a, best in zip(self.answers, self.loudest, strict=True))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "exactly_one": self.exactly_one,
            "loudest_won": self.loudest_won,
            "wait_ms": _percentiles(self.waits_s),
            "latency_ms": _percentiles(self.latencies_s),
            "slack_ms": _percentiles(self.slack_s),
        }

    def markdown(self) -> str:
        wait, latency = _percentiles(self.waits_s), _percentiles(self.latencies_s)
        slack = _percentiles(self.slack_s)
        none = sum(not a for a in self.answers)
        several = sum(len(a) > 1 for a in self.answers)
        return "\n".join(
            [
                f"### home: {self.devices} edgeai processes, one mosquitto, {self.events} wake "
                "events",
                "",
                "| measure | result | target |",
                "| --- | --- | --- |",
                f"| exactly one device answers | {self.exactly_one}/{self.events} "
                f"(none {none}, several {several}) | {self.events}/{self.events} |",
                f"| the loudest device answers | {self.loudest_won}/{self.events} | >= 95/100 |",
                f"| arbitration wait in the turn, p50 / p95 / max | {wait['p50']:.0f} / "
                f"{wait['p95']:.0f} / {wait['max']:.0f} ms | <= 150 ms |",
                f"| verdict due before the turn could start, min / p50 | "
                f"{min(self.slack_s, default=0) * 1000:.0f} / {slack['p50']:.0f} ms | |",
                f"| end of speech to first audio, p50 / p95 | {latency['p50']:.0f} / "
                f"{latency['p95']:.0f} ms | |",
                f"| devices that heard each wake word (median) | "
                f"{float(np.median(self.heard)) if self.heard else 0:.0f} of {self.devices} | |",
                "",
                f"Claims window {self.window_s * 1000:.0f} ms (+50 ms for delivery); the three "
                f"services took {self.load_s:.0f} s to load. Per device (won / lost / alone / "
                "ignored claims): "
                + ", ".join(
                    f"{d} {o.get('won', 0)}/{o.get('lost', 0)}/{o.get('alone', 0)}/"
                    f"{o.get('ignored', 0)}"
                    for d, o in sorted(self.outcomes.items())
                ),
                "",
            ]
        )


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    ms = np.asarray(values) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "max": float(ms.max()),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Mosquitto:
    """A broker of our own on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto")
        if binary is None:
            raise EdgeAIError(
                "bench home needs the mosquitto broker (scripts/install-system-deps.sh)"
            )
        self.port = _free_port()
        conf = folder / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.process = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise EdgeAIError("mosquitto did not start within 10 s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(5)


class _Watcher:
    """The bench's own client: every answered turn, and every claim."""

    def __init__(self, port: int, claim_topic: str) -> None:
        self.turns: list[tuple[str, dict[str, Any]]] = []
        self.claims: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="edgeai-bench-home")
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([("edgeai/+/turn", 1), (claim_topic, 0)])
        self.client.loop_start()
        if not subscribed.wait(10):
            raise EdgeAIError("the bench could not subscribe to its own broker")
        self.claim_topic = claim_topic

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        body = json.loads(message.payload)
        with self._lock:
            if message.topic == self.claim_topic:
                self.claims.append(body)
            else:
                self.turns.append((message.topic.split("/")[1], body))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _device_config(config: Config, port: int, device: str, folder: Path) -> Path:
    """The user's config (profile, models), as one device of the bench's home: MQTT to the
    bench's broker, no camera, no HTTP API, no Wyoming, no follow-up listening."""
    data = config.model_dump(mode="json", exclude={"mqtt", "home", "api", "wyoming", "remote"})
    data["mqtt"] = {"enabled": True, "host": "127.0.0.1", "port": port, "node_id": device}
    data["home"] = {"room": device}
    data["api"] = {"enabled": False}
    data["camera"]["enabled"] = False
    data["voice"]["follow_up_s"] = 0.0
    data["voice"]["timers_file"] = str(folder / f"{device}-timers.json")
    data["log_level"] = "info"
    path = folder / f"{device}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def bench_home(
    config: Config,
    phrase: np.ndarray,
    events: int,
    out: Path,
    seed: int = 2026,
    progress: Callable[[float], None] | None = None,
) -> HomeBench:
    """Three device processes on one broker, `events` wake events each heard by all three."""
    folder = out / "home"
    folder.mkdir(parents=True, exist_ok=True)
    recordings, levels = device_recordings(phrase, events, seed)
    broker = _Mosquitto(folder)
    processes: list[subprocess.Popen[str]] = []
    logs: list[IO[str]] = []
    try:
        watcher = _Watcher(broker.port, HomeSettings().claim_topic)
        loading = time.monotonic()
        for device, recording in zip(DEVICES, recordings, strict=True):
            np.save(folder / f"{device}.npy", recording)
            logs.append((folder / f"{device}.log").open("w"))
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "edgeai.bench.home",
                        str(_device_config(config, broker.port, device, folder)),
                        str(folder / f"{device}.npy"),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=logs[-1],
                    text=True,
                    env=os.environ | {"PYTHONUNBUFFERED": "1"},
                )
            )
        for device, process in zip(DEVICES, processes, strict=True):
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.strip() != "ready":
                raise EdgeAIError(f"bench device {device} did not start: see {folder}/{device}.log")
        load_s = time.monotonic() - loading
        start_at = time.time() + 2.0
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(f"{start_at}\n")
            process.stdin.flush()
        total_s = LEAD_S + events * EVENT_S
        while (elapsed := time.time() - start_at) < total_s + TAIL_S:
            if progress is not None:
                progress(max(0.0, elapsed) / (total_s + TAIL_S))
            time.sleep(1.0)
        outcomes = {}
        for device, process in zip(DEVICES, processes, strict=True):
            assert process.stdout is not None
            report, _ = process.communicate(timeout=60)
            outcomes[device] = json.loads(report.strip().splitlines()[-1])
        watcher.close()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
        broker.stop()
    return _tally(watcher, levels, events, load_s, outcomes, start_at)


def _tally(
    watcher: _Watcher,
    levels: list[list[float]],
    events: int,
    load_s: float,
    outcomes: dict[str, dict[str, int]],
    start_at: float,
) -> HomeBench:
    def event_of(stream_s: float) -> int:
        return int((stream_s - LEAD_S) // EVENT_S)

    first_claim: dict[int, float] = {}
    heard = [0] * events
    for claim in watcher.claims:
        k = event_of(float(claim["at"]) - start_at)
        if 0 <= k < events:
            heard[k] += 1
            first_claim[k] = min(first_claim.get(k, np.inf), float(claim["at"]))
    answers: list[list[str]] = [[] for _ in range(events)]
    waits, latencies, slack = [], [], []
    window_s = HomeSettings().window_s
    for device, turn in watcher.turns:
        k = event_of(float(turn["speech_end_s"]))
        if 0 <= k < events:
            answers[k].append(device)
        if turn.get("arbitration_wait_s") is not None:
            waits.append(float(turn["arbitration_wait_s"]))
        if turn.get("latency_s") is not None:
            latencies.append(float(turn["latency_s"]))
        if k in first_claim and turn.get("endpoint_s") is not None:
            verdict_at = first_claim[k] + window_s + DELIVERY_S
            slack.append(start_at + float(turn["endpoint_s"]) - verdict_at)
    loudest = [DEVICES[int(np.argmax(heard_at))] for heard_at in levels]
    return HomeBench(
        events, len(DEVICES), heard, [sorted(a) for a in answers], loudest, waits, latencies,
        slack, window_s, load_s, outcomes,
    )  # fmt: skip


def _run_device(config_path: Path, recording: Path) -> None:
    """One device of the bench, in its own process: the service on its recording, started at
    the instant the bench writes on stdin; its arbitration counts on stdout at the end."""
    from edgeai.audio.sinks import NullSink
    from edgeai.service.loops import Inputs
    from edgeai.service.service import Service

    samples = np.load(recording)

    def start_at() -> float:
        return float(sys.stdin.readline())

    inputs = Inputs(
        audio=lambda: ScheduledSource(samples, start_at), open_sink=lambda rate: NullSink()
    )
    service = Service(config_path, inputs)
    service.start()
    print("ready", flush=True)
    while service.loops is not None and service.loops.listening():
        time.sleep(0.2)
    time.sleep(TAIL_S)
    arbiter = service.home.arbiter if service.home is not None else None
    counts = asdict(arbiter.counts) if arbiter is not None else {}
    service.stop()
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    _run_device(Path(sys.argv[1]), Path(sys.argv[2]))
