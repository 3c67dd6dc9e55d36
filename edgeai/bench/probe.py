"""`edgeai bench probe`: `edgeai run` as its own process, with many idle Wyoming connections and
slow HTTP clients held open against it, while a well-behaved client asks for /health.

Phases: the well-behaved client alone (baseline), then with the crowd held open (each slow
client sends a header byte a second and never finishes), then until the servers drop the crowd
at their timeouts. Measured: /health latency in each phase, the service's resident memory, and
how many of the crowd were dropped by the timeout.
"""

from __future__ import annotations

import resource
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil
import yaml

from edgeai.config import Config

HEALTH_EVERY_S = 0.05
PHASE_S = 9.0
"""Each /health phase: the slow HTTP clients are dropped after REQUEST_TIMEOUT_S."""
SLOW_BYTE_EVERY_S = 1.0
IDLE_TIMEOUT_S = 20.0
"""wyoming.idle_timeout_s for the run: short enough to see the crowd dropped."""
REQUEST_TIMEOUT_S = 10.0
"""api.request_timeout_s for the run (the default)."""
START_TIMEOUT_S = 300.0


@dataclass
class Latency:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, times_ms: list[float], errors: int) -> Latency:
        if not times_ms:
            return cls(0, errors, float("nan"), float("nan"), float("nan"))
        p50, p99 = np.percentile(times_ms, [50, 99])
        return cls(len(times_ms), errors, float(p50), float(p99), max(times_ms))


@dataclass
class ProbeBench:
    idle_wyoming: int
    slow_http: int
    baseline: Latency
    held: Latency
    after: Latency
    """Once the crowd is gone."""
    rss_before_mb: float
    rss_held_peak_mb: float
    wyoming_dropped: int
    """Idle Wyoming connections the server closed within its idle timeout (plus slack)."""
    http_dropped: int
    """Slow HTTP clients the server closed within its request timeout (plus slack)."""
    wyoming_refused: int
    """Idle Wyoming connections refused at once (over wyoming.max_connections)."""
    timeline: list[tuple[float, float, float]] = field(default_factory=list)
    """(seconds since the crowd arrived, /health ms, service resident MB)."""

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_held_peak_mb - self.rss_before_mb

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"rss_growth_mb": self.rss_growth_mb}

    def markdown(self) -> str:
        rows = [
            f"| {name} | {lat.requests} | {lat.errors} | {lat.p50_ms:.1f} ms | {lat.p99_ms:.1f} ms"
            f" | {lat.max_ms:.1f} ms |"
            for name, lat in (
                ("alone", self.baseline),
                ("crowd held open", self.held),
                ("crowd dropped", self.after),
            )
        ]
        return "\n".join(
            [
                "### Probe: a crowd of idle and slow clients against `edgeai run`",
                "",
                f"{self.idle_wyoming} idle Wyoming connections and {self.slow_http} slow HTTP "
                f"clients (a header byte every {SLOW_BYTE_EVERY_S:g} s) held open; a well-behaved "
                f"client asks for /health every {1000 * HEALTH_EVERY_S:.0f} ms, "
                f"{PHASE_S:g} s per phase.",
                "",
                "| /health | requests | errors | p50 | p99 | max |",
                "| --- | --- | --- | --- | --- | --- |",
                *rows,
                "",
                f"Service resident memory: {self.rss_before_mb:.0f} MB before, peak "
                f"{self.rss_held_peak_mb:.0f} MB with the crowd ({self.rss_growth_mb:+.1f} MB).",
                "",
                f"Dropped at the timeout: {self.wyoming_dropped} of {self.idle_wyoming} Wyoming "
                f"(wyoming.idle_timeout_s {IDLE_TIMEOUT_S:g} s; {self.wyoming_refused} refused "
                f"at once), {self.http_dropped} of {self.slow_http} HTTP "
                f"(api.request_timeout_s {REQUEST_TIMEOUT_S:g} s).",
                "",
            ]
        )


def probe_config(config: Config, out: Path, api_port: int, wyoming_port: int, idle: int) -> Path:
    """The user's config with the API and Wyoming on loopback ports, room for the crowd, no
    camera and no MQTT: what is measured is the service's front door."""
    data = config.model_dump(mode="json", exclude={"api", "mqtt", "wyoming"})
    data["api"] = {"port": api_port, "request_timeout_s": REQUEST_TIMEOUT_S}
    data["wyoming"] = {
        "enabled": True,
        "port": wyoming_port,
        "zeroconf": False,
        "max_connections": idle + 16,
        "idle_timeout_s": IDLE_TIMEOUT_S,
    }
    data["camera"]["enabled"] = False
    data["camera"]["events"]["folder"] = str(out / "probe-events")
    data["voice"]["timers_file"] = str(out / "probe-timers.json")
    path = out / "probe-config.yaml"
    path.write_text("# written by edgeai bench probe\n" + yaml.safe_dump(data, sort_keys=False))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Service:
    """`edgeai run` with silence on its stdin as the microphone."""

    def __init__(self, config: Path, log: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edgeai", "--config", str(config), "run", "--audio", "-"],
            stdin=subprocess.PIPE,
            stderr=log.open("wb"),
        )
        self._feeding = True
        threading.Thread(target=self._feed, name="probe-microphone", daemon=True).start()

    def _feed(self) -> None:
        block = np.zeros(1280, np.int16).tobytes()
        assert self.process.stdin is not None
        try:
            while self._feeding:
                self.process.stdin.write(block)
                self.process.stdin.flush()
                time.sleep(0.08)
        except (BrokenPipeError, ValueError):
            pass

    def rss_mb(self) -> float:
        return float(psutil.Process(self.process.pid).memory_info().rss) / 2**20

    def stop(self) -> None:
        self._feeding = False
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_ready(client: httpx.Client, service: _Service, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"edgeai run exited: see {log}")
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"edgeai run did not become healthy in {START_TIMEOUT_S:.0f} s: see {log}")


def _health(client: httpx.Client, seconds: float, sample: Callable[[float], None]) -> Latency:
    times, errors = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        try:
            ok = client.get("/health").status_code == 200
        except httpx.TransportError:
            ok = False
        took_ms = 1000 * (time.perf_counter() - started)
        if ok:
            times.append(took_ms)
            sample(took_ms)
        else:
            errors += 1
        time.sleep(HEALTH_EVERY_S)
    return Latency.of(times, errors)


def _closed_within(socks: list[socket.socket], seconds: float) -> int:
    """How many of `socks` the server closes within `seconds`."""
    selector = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, sock)
    closed = 0
    end = time.monotonic() + seconds
    while closed < len(socks) and (left := end - time.monotonic()) > 0:
        for key, _ in selector.select(timeout=left):
            sock = key.data
            try:
                data = sock.recv(4096)
            except ConnectionError:
                data = b""
            if not data:
                selector.unregister(sock)
                closed += 1
    selector.close()
    return closed


def bench_probe(
    config: Config,
    out: Path,
    idle: int,
    slow: int,
    progress: Callable[[str], None] | None = None,
) -> ProbeBench:
    out.mkdir(parents=True, exist_ok=True)
    need = idle + slow + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    api_port, wyoming_port = free_port(), free_port()
    config_path = probe_config(config, out, api_port, wyoming_port, idle)
    log = out / "probe-service.log"
    service = _Service(config_path, log)
    crowd: list[socket.socket] = []
    timeline: list[tuple[float, float, float]] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as client:
            _say(progress, "starting edgeai run")
            _wait_ready(client, service, log)
            _say(progress, "baseline")
            baseline = _health(client, PHASE_S, lambda ms: None)
            rss_before = service.rss_mb()
            _say(progress, f"opening {idle} idle Wyoming and {slow} slow HTTP connections")
            wyoming = [socket.create_connection(("127.0.0.1", wyoming_port)) for _ in range(idle)]
            http = [socket.create_connection(("127.0.0.1", api_port)) for _ in range(slow)]
            crowd = wyoming + http
            for sock in http:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            arrived = time.monotonic()
            trickling = threading.Event()
            trickling.set()
            threading.Thread(
                target=_trickle, args=(http, trickling), name="probe-slow", daemon=True
            ).start()
            peak = [rss_before]

            def sample(ms: float) -> None:
                rss = service.rss_mb()
                peak[0] = max(peak[0], rss)
                timeline.append((time.monotonic() - arrived, ms, rss))

            _say(progress, "crowd held open")
            held = _health(client, PHASE_S, sample)
            _say(progress, "waiting for the timeouts")
            http_dropped = _closed_within(
                http, REQUEST_TIMEOUT_S + 5 - (time.monotonic() - arrived)
            )
            trickling.clear()
            wyoming_left = IDLE_TIMEOUT_S + 5 - (time.monotonic() - arrived)
            wyoming_dropped = _closed_within(wyoming, wyoming_left)
            _say(progress, "after the crowd")
            after = _health(client, PHASE_S, lambda ms: None)
            refused = client.get("/health").json()["wyoming"]["busy"]
    finally:
        for sock in crowd:
            sock.close()
        service.stop()
    return ProbeBench(
        idle, slow, baseline, held, after, rss_before, peak[0], wyoming_dropped, http_dropped,
        refused, timeline,
    )  # fmt: skip


def _trickle(socks: list[socket.socket], going: threading.Event) -> None:
    """One header byte a second on every slow client, until it is closed or `going` ends."""
    while going.is_set():
        for sock in socks:
            try:
                sock.send(b"x")
            except OSError:
                continue
        time.sleep(SLOW_BYTE_EVERY_S)


def _say(progress: Callable[[str], None] | None, what: str) -> None:
    if progress is not None:
        progress(what)
