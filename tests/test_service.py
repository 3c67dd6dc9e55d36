"""The service with the real models: the HTTP API while the loops run, and `edgeai run` as a
process under a stand-in for systemd (READY, reload on SIGHUP, stop on SIGTERM, watchdog)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import yaml
from wyoming.asr import Transcript
from wyoming.info import Describe, Info

from edgeai.audio.files import read_audio
from edgeai.audio.sinks import NullSink, WavSink
from edgeai.audio.sources import ArraySource
from edgeai.config import RemoteStage
from edgeai.paths import bundled_data_dir
from edgeai.service.loops import Inputs
from edgeai.service.service import Service
from edgeai.service.systemd import SystemdNotifier
from edgeai.synthetic.scene import SceneScript, Sprites, write_clip
from edgeai.vision.build import build_camera
from edgeai.voice.openai_compat import OpenAiSpeech
from tests.conftest import TEST_MODEL_STORE, assert_png
from tests.test_mqtt import free_port
from tests.test_service_parts import NotifyListener
from tests.test_wyoming import talk

TOKEN = "a-long-random-test-token"
SHORT_SCENE = SceneScript(
    seconds=4.0,
    fps=5,
    light_dims=(90.0, 91.0),
    light_returns=(92.0, 93.0),
    cat_crosses=(94.0, 95.0),
    person_enters=0.2,
    person_at_door=1.5,
    person_falls=80.0,
    person_gets_up=81.0,
    person_leaves=82.0,
)
"""A person walks to the door and stays: an event within a few detector runs."""


def write_config(folder: Path, **sections: object) -> Path:
    config = {
        "profile": "x86-cpu",
        "models": {"store": str(TEST_MODEL_STORE)},
        "camera": {
            "zones": {"door": [[0.0, 0.55], [0.45, 0.55], [0.45, 1.0], [0.0, 1.0]]},
            "rules": [{"on": "person_entered", "zone": "door", "say": "Someone is at the door."}],
            "events": {"folder": str(folder / "events")},
        },
        "voice": {"timers_file": str(folder / "timers.json")},
    } | sections
    path = folder / "edgeai.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def sample(name: str) -> np.ndarray:
    return read_audio(bundled_data_dir("samples") / name)


def test_the_api_serves_health_metrics_events_say_and_snapshots_while_the_loops_run(
    model_store, tmp_path: Path
):
    clip = tmp_path / "door.avi"
    write_clip(clip, SHORT_SCENE, Sprites.load())
    config = write_config(
        tmp_path,
        api={"host": "0.0.0.0", "port": 0, "token": TOKEN},
        wyoming={"enabled": True, "port": 0, "zeroconf": False},
    )
    audio = np.concatenate(
        [
            np.zeros(16000 * 2, np.int16),
            sample("hey_jarvis_what_time_is_it.wav"),
            np.zeros(16000 * 40, np.int16),  # the voice loop keeps listening meanwhile
        ]
    )
    replies: list[Path] = []

    def open_sink(rate_hz: int) -> WavSink:
        replies.append(tmp_path / f"reply-{len(replies) + 1}.wav")
        return WavSink(replies[-1], rate_hz)

    inputs = Inputs(
        audio=lambda: ArraySource(audio, realtime=True),
        camera=lambda settings, profile: build_camera(str(clip), settings, profile, False),
        open_sink=open_sink,
    )
    service = Service(config, inputs)
    seen: list[dict] = []
    service.start()
    try:
        assert service.api is not None
        base = f"http://127.0.0.1:{service.api.port}"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{base}/health").status_code == 401  # off loopback: token required
        assert (
            httpx.get(f"{base}/health", headers={"Authorization": "Bearer wrong"}).status_code
            == 401
        )

        def follow_events() -> None:
            with httpx.stream("GET", f"{base}/events", headers=auth, timeout=30) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        seen.append(json.loads(line[6:]))
                        if "person_entered" in kinds(seen) and spoken_turns(seen):
                            return

        follower = threading.Thread(target=follow_events, daemon=True)
        follower.start()
        follower.join(timeout=40)
        assert "person_entered" in kinds(seen) and spoken_turns(seen), kinds(seen)
        entered = next(e for e in seen if e["kind"] == "person_entered")
        assert Path(entered["snapshot"]).is_file()
        assert spoken_turns(seen)[0]["transcript"].lower().startswith("what time")

        health = httpx.get(f"{base}/health", headers=auth).json()
        assert health["profile"] == "x86-cpu"
        assert health["microphone"]["state"] in ("file", "ended")
        assert {p["role"] for p in health["placement"]} >= {"stt", "llm", "detector"}
        # an OpenAI-compatible speech endpoint: what another device's remote tts can use
        speech = OpenAiSpeech(RemoteStage(url=f"{base}/v1", api_key=TOKEN), 16000)
        heard = service.loops.voice.stt.transcribe(
            np.concatenate(list(speech.synthesize("The garage door is closed.")))
        )
        assert "garage" in heard.lower()
        odd = httpx.post(
            f"{base}/v1/audio/speech", headers=auth, json={"input": "x", "response_format": "mp3"}
        )
        assert odd.status_code == 422 and "response_format" in odd.json()["error"]
        # Home Assistant's way in, beside the loops, sharing their models and timers
        handled = talk(
            health["wyoming"]["port"], [Transcript("what time is it").event()], {"handled"}
        )
        assert handled[-1].type == "handled" and any(c.isdigit() for c in handled[-1].data["text"])
        metrics = httpx.get(f"{base}/metrics", headers=auth).text
        assert "edgeai_wyoming_connections_total 1.0" in metrics
        (answer,) = talk(health["wyoming"]["port"], [Describe().event()], {"info"})
        wake_words = [model.name for model in Info.from_event(answer).wake[0].models]
        assert wake_words == ["hey_jarvis"]  # the loop's stop word is not offered as a wake word

        said = httpx.post(f"{base}/say", headers=auth, json={"text": "The API says hello."})
        assert said.status_code == 202
        bad = httpx.post(f"{base}/say", headers=auth, json={"words": "x"})
        assert bad.status_code == 422 and "text" in bad.json()["error"]

        picture = httpx.get(f"{base}/snapshot", headers=auth)
        assert picture.headers["content-type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(picture.content, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (480, 640, 3)

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            timelines = list(service.loops.voice.timelines) if service.loops else []
            if any(t.reply == "The API says hello." and t.last_audio_s for t in timelines):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the /say text was not spoken")

        metrics = httpx.get(f"{base}/metrics", headers=auth).text
        frames = next(
            float(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith("edgeai_camera_frames_total")
        )
        assert frames == SHORT_SCENE.seconds * SHORT_SCENE.fps
        assert 'edgeai_turn_first_audio_seconds_count{route="time"} 1.0' in metrics
        assert "process_resident_memory_bytes" in metrics
        assert "edgeai_api_events_dropped_total 0.0" in metrics
    finally:
        service.stop()
    assert service.loops is None


def kinds(events: list[dict]) -> list[str]:
    return [e["kind"] for e in events]


def spoken_turns(events: list[dict]) -> list[dict]:
    return [e for e in events if e["kind"] == "turn" and e["route"] != "announcement"]


def edgeai_command() -> list[str]:
    return [sys.executable, "-m", "edgeai"]


class Supervised:
    """`edgeai run` started the way systemd starts it: $NOTIFY_SOCKET, $WATCHDOG_USEC, raw
    audio on a pipe (the fake microphone), its stderr kept for the failure message."""

    def __init__(self, config: Path, notify: NotifyListener, watchdog_s: float | None) -> None:
        # stderr to the journal, as systemd connects it: lines carry their syslog priority
        env = os.environ | {"NOTIFY_SOCKET": str(notify.path), "JOURNAL_STREAM": "8:1234"}
        if watchdog_s is not None:
            env["WATCHDOG_USEC"] = str(int(watchdog_s * 1e6))
        self.log = config.parent / "service.log"
        self.process = subprocess.Popen(
            [*edgeai_command(), "--config", str(config), "run", "--audio", "-"],
            stdin=subprocess.PIPE,
            stderr=self.log.open("wb"),
            env=env,
        )
        self._feeding = threading.Event()
        self._feeding.set()
        threading.Thread(target=self._feed, daemon=True).start()

    def _feed(self) -> None:
        """Silence in real time while feeding; then nothing, with the pipe left open: the
        service's read blocks forever, as on a wedged driver."""
        block = np.zeros(1280, np.int16).tobytes()
        assert self.process.stdin is not None
        try:
            while self._feeding.is_set():
                self.process.stdin.write(block)
                self.process.stdin.flush()
                time.sleep(0.08)
        except (BrokenPipeError, ValueError):
            pass

    def hang_audio(self) -> None:
        self._feeding.clear()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text()


def test_run_reports_ready_keeps_its_config_on_a_bad_reload_and_stops_on_sigterm(
    model_store, tmp_path: Path
):
    notify = NotifyListener(tmp_path)
    port = free_port()
    config = write_config(tmp_path, camera={"enabled": False}, api={"port": port})
    service = Supervised(config, notify, watchdog_s=None)
    try:
        notify.wait_for("READY", 120, "1")
        health = httpx.get(f"http://127.0.0.1:{port}/health").json()
        assert health["status"] == "ok", health

        config.write_text(config.read_text() + "vad: {trailing_silence_ms: 5}\n")
        service.process.send_signal(signal.SIGHUP)
        status = notify.wait_for("STATUS", 30)["STATUS"]
        assert status.startswith("reload rejected: ") and "vad.trailing_silence_ms" in status
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "ok"

        write_config(tmp_path, camera={"enabled": False}, api={"port": port}, log_level="debug")
        service.process.send_signal(signal.SIGHUP)
        assert notify.wait_for("RELOADING", 30) == {"RELOADING": "1", "STATUS": "reloading"}
        notify.wait_for("READY", 60, "1")
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "ok"

        started = time.monotonic()
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=10) == 0, service.output()
        stopped_in_s = time.monotonic() - started
        assert notify.wait_for("STOPPING", 1)["STOPPING"] == "1"
        print(f"stopped {stopped_in_s:.2f} s after SIGTERM")
        output = service.output()
        assert "<3>edgeai.service.service: reload rejected, the running config stays" in output
        # without -v, the service logs at the config's log_level (info): events reach the journal
        assert "<6>edgeai.service.service: edgeai is running (profile x86-cpu)" in output
        assert "<6>edgeai.service.service: config reloaded" in output
    finally:
        service.stop()
        notify.close()


def test_a_hung_audio_loop_starves_the_watchdog_and_the_restart_comes_up_again(
    model_store, tmp_path: Path
):
    """The test plays systemd's part: WATCHDOG_USEC set, SIGABRT when the pings stop, start
    again (Restart=on-failure)."""
    notify = NotifyListener(tmp_path)
    config = write_config(
        tmp_path,
        camera={"enabled": False},
        api={"enabled": False},
        service={"watchdog_stall_s": 2.0},
    )
    watchdog_s = 3.0
    first = Supervised(config, notify, watchdog_s)
    try:
        notify.wait_for("READY", 120, "1")
        notify.wait_for("WATCHDOG", 2 * watchdog_s)  # fed while audio flows
        first.hang_audio()
        notify.wait_for("STATUS", 3 * watchdog_s, "failed: audio loop: no progress for ")
        last_ping = time.monotonic()
        while notify.receive(max(0.0, last_ping + watchdog_s - time.monotonic())):
            assert "WATCHDOG" not in notify.messages[-1], "fed the watchdog while stalled"
        # no ping for a whole WatchdogSec: systemd's WatchdogSignal, then the restart
        assert first.process.poll() is None  # still up: it is the watchdog's call, not a crash
        first.process.send_signal(signal.SIGABRT)
        assert first.process.wait(timeout=10) == -signal.SIGABRT
        assert "audio loop: no progress for" in first.output()
    finally:
        first.stop()
    second = Supervised(config, notify, watchdog_s)
    try:
        notify.wait_for("READY", 120, "1")
        notify.wait_for("WATCHDOG", 2 * watchdog_s)
    finally:
        second.process.send_signal(signal.SIGTERM)
        second.process.wait(timeout=10)
        second.stop()
        notify.close()


def test_bench_service_smoke_run(model_store, tmp_path: Path):
    from edgeai.bench.service import bench_service
    from edgeai.cli.demo import demo_audio
    from edgeai.config import load_config

    config, source = load_config(write_config(tmp_path))
    phases: set[str] = set()
    result = bench_service(
        config,
        source,
        tmp_path / "bench",
        demo_audio(None),
        api_seconds=1.0,
        soak_seconds=6.0,
        progress=lambda phase, fraction: phases.add(phase),
        scene=SHORT_SCENE,
    )
    assert phases == {"api", "soak"}
    assert result.api.requests == 100 and result.api.errors == 0
    assert result.api.p99_ms > 0
    assert result.soak.audio_s > 6.0  # faster than real time
    assert result.soak.video_s > 0
    assert len(result.soak.rss_mb) >= 3
    assert "| requests | errors |" in result.markdown()
    assert (tmp_path / "bench" / "bench-config.yaml").is_file()


def test_the_service_plot_shows_memory_and_api_latency(tmp_path: Path):
    from edgeai.bench.plots import service_behaviour
    from edgeai.bench.service import ApiLoad, ServiceBench, Soak

    soak = Soak(60.0, 3600.0, 600.0, 4, 6, [(t, 800.0 + t / 10) for t in range(0, 61, 2)])
    result = ServiceBench(ApiLoad(10, 1000, 0, 3.0, 8.0, 12.0, 40.0), soak)
    assert result.soak.growth_after_warm_up == pytest.approx((805.9 - 801.3) / 801.3, abs=1e-3)
    assert_png(service_behaviour(result, tmp_path / "service.png"))


class FailingSource:
    """Audio that flows for a while, then breaks the way a driver bug would."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def blocks(self, block_samples: int):
        yield from ArraySource(np.zeros(int(self.seconds * 16000), np.int16), True).blocks(
            block_samples
        )
        raise OSError(5, "Input/output error")


class GatedSink(NullSink):
    """Holds each write while `gate` is clear: announcements wait behind a slow speaker, however
    fast the voice is made."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate

    def write(self, samples: np.ndarray) -> None:
        assert self.gate.wait(60), "the gate was never opened"


def test_faults_in_the_service_are_announced_reported_or_refused_never_silent(
    model_store, tmp_path: Path
):
    """Injected into the real service: timers that cannot be saved, a flood of /say, overlong
    Wyoming transcripts, and an audio loop that dies."""
    blocked = tmp_path / "not-a-folder"  # tests run as root: a file is what stops a write
    blocked.write_text("")
    config = write_config(
        tmp_path,
        camera={"enabled": False},
        api={"port": 0},
        wyoming={"enabled": True, "port": 0, "zeroconf": False},
        voice={"timers_file": str(blocked / "timers.json")},
    )
    speaker = threading.Event()
    speaker.set()  # cleared while /say is flooded
    inputs = Inputs(audio=lambda: FailingSource(25.0), open_sink=lambda rate: GatedSink(speaker))
    notify = NotifyListener(tmp_path)
    service = Service(config, inputs, SystemdNotifier({"NOTIFY_SOCKET": str(notify.path)}))
    service.start()
    try:
        assert service.api is not None and service.loops is not None
        base = f"http://127.0.0.1:{service.api.port}"
        voice = service.loops.voice
        # a timer rings although its file cannot be written; /health and /metrics say so
        voice.responder.intents.timers.add(1, "tea")
        wait_until(lambda: any(t.reply == "Your tea timer is done." for t in voice.timelines), 20)
        health = httpx.get(f"{base}/health")
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        assert any("timers not saved" in p for p in health.json()["problems"])
        metrics = httpx.get(f"{base}/metrics").text
        assert metric(metrics, "edgeai_voice_timer_save_failures_total") >= 2  # set, rang
        # a flood of /say while the speaker is busy: what fits is spoken, the rest is refused,
        # capture goes on
        speaker.clear()
        answers = [
            httpx.post(f"{base}/say", json={"text": f"Flood number {n}."}) for n in range(14)
        ]
        speaker.set()
        codes = [a.status_code for a in answers]
        assert set(codes) == {202, 429} and codes.index(429) >= 8, codes
        assert all(a.headers["Retry-After"] for a in answers if a.status_code == 429)
        queued = {f"Flood number {n}." for n, code in enumerate(codes) if code == 202}
        wait_until(lambda: queued <= {t.reply for t in voice.timelines}, 60)
        assert httpx.get(f"{base}/health").json()["loops"]["audio"]["state"] == "running"
        # overlong Wyoming transcripts fill that client's own history, not the device's, and
        # never push a later prompt past the LLM's context
        port = health.json()["wyoming"]["port"]
        long_text = "Tell me about this: " + "a dog sat on a red mat and " * 140
        for _ in range(3):
            (answer,) = talk(port, [Transcript(long_text).event()], {"handled"})[-1:]
            assert answer.type == "handled" and answer.data["text"].strip()
        (answer,) = talk(port, [Transcript("why is the sky blue").event()], {"handled"})[-1:]
        assert answer.type == "handled" and answer.data["text"].strip()
        assert voice.responder.history is not None and voice.responder.history.exchanges() == []
        # the audio loop dies: /health names it, 503, until the watchdog's restart
        wait_until(lambda: httpx.get(f"{base}/health").status_code == 503, 40)
        broken = httpx.get(f"{base}/health").json()
        assert broken["status"] == "failed"
        assert "audio loop: failed: OSError: [Errno 5] Input/output error" in broken["problems"]
        assert 'edgeai_loop_failed{loop="audio"} 1.0' in httpx.get(f"{base}/metrics").text
        # and STATUS= says so (systemd status, the journal), even without a watchdog
        notify.wait_for("STATUS", 10, "failed: audio loop: failed: OSError")
    finally:
        service.stop()
        notify.close()


def wait_until(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout_s} s")
        time.sleep(0.1)


def metric(exposition: str, name: str) -> float:
    return next(
        float(line.split()[-1]) for line in exposition.splitlines() if line.startswith(name)
    )


def test_bench_probe_smoke_run(model_store, tmp_path: Path, monkeypatch):
    """The crowd is held, measured and dropped; the figures come from `edgeai bench probe`."""
    import edgeai.bench.probe as probe
    from edgeai.bench.plots import probe_behaviour
    from edgeai.config import load_config

    for name, value in (("PHASE_S", 1.5), ("REQUEST_TIMEOUT_S", 3.0), ("IDLE_TIMEOUT_S", 5.0)):
        monkeypatch.setattr(probe, name, value)
    config, _ = load_config(write_config(tmp_path))
    result = probe.bench_probe(config, tmp_path / "bench", idle=40, slow=8)
    assert (result.wyoming_dropped, result.http_dropped, result.wyoming_refused) == (40, 8, 0)
    for phase in (result.baseline, result.held, result.after):
        assert phase.requests > 0 and phase.errors == 0
    assert result.timeline and result.rss_before_mb > 0
    assert "| crowd held open |" in result.markdown()
    assert_png(probe_behaviour(result, tmp_path / "probe.png"))


def test_a_file_that_runs_out_ends_its_loops_without_failing_the_service(
    model_store, tmp_path: Path
):
    config = write_config(tmp_path, camera={"enabled": False}, api={"port": 0})
    inputs = Inputs(
        audio=lambda: ArraySource(np.zeros(16000, np.int16), realtime=True),
        open_sink=lambda rate: NullSink(),
    )
    service = Service(config, inputs)
    service.start()
    try:
        assert service.api is not None
        base = f"http://127.0.0.1:{service.api.port}"
        wait_until(lambda: service.supervisor.snapshot()["audio"]["state"] == "ended", 30)
        wait_until(lambda: service.supervisor.snapshot()["turns"]["state"] == "ended", 10)
        health = httpx.get(f"{base}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok", health.json()
    finally:
        service.stop()
