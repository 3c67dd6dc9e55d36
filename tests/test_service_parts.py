"""The service's parts on their own: config rules, placement, sd_notify, the watchdog feeder,
journald log lines, the systemd unit."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from edgeai.config import ApiSettings, Config, load_config
from edgeai.device.host import HostFacts
from edgeai.device.placement import place
from edgeai.device.profiles import Profiles
from edgeai.errors import ConfigError
from edgeai.logs import JournalFormatter, logfmt
from edgeai.models.catalog import Catalog
from edgeai.runtime.supervisor import Supervisor
from edgeai.service.health import WatchdogFeeder
from edgeai.service.systemd import SystemdNotifier
from tests.conftest import REPO


class NotifyListener:
    """The receiving end of sd_notify, as systemd holds it: a bound AF_UNIX datagram socket."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.messages: list[dict[str, str]] = []

    def receive(self, timeout_s: float) -> dict[str, str] | None:
        self.sock.settimeout(timeout_s)
        try:
            data = self.sock.recv(4096).decode()
        except TimeoutError:
            return None
        message = dict(line.split("=", 1) for line in data.splitlines())
        self.messages.append(message)
        return message

    def wait_for(self, key: str, timeout_s: float, value: str | None = None) -> dict[str, str]:
        """The next message with `key` (whose value starts with `value`, if given)."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(left)
            if message and key in message and message[key].startswith(value or ""):
                return message
        raise AssertionError(f"no {key}={value or '*'} within {timeout_s} s: {self.messages}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_listener(tmp_path: Path):
    listener = NotifyListener(tmp_path)
    yield listener
    listener.close()


def facts(**overrides) -> HostFacts:
    base = dict(
        arch="x86_64",
        cpu_model="test",
        cpu_flags=frozenset(),
        cpu_count=2,
        memory_mb=4096,
        device_tree_model=None,
        tegra_release=None,
        intel_npu=False,
        nvidia_gpu=False,
    )
    return HostFacts(**(base | overrides))


# --- config ---------------------------------------------------------------------------------


def test_api_off_loopback_needs_a_token(tmp_path: Path):
    assert ApiSettings(host="::1").token is None  # loopback: fine without
    path = tmp_path / "edgeai.yaml"
    path.write_text("api:\n  host: 0.0.0.0\n")
    with pytest.raises(ConfigError, match=r"edgeai.yaml:2: api: .*reachable from other machines"):
        load_config(path)
    path.write_text("api:\n  host: 0.0.0.0\n  token: s3cret-long-enough\n")
    assert load_config(path)[0].api.token.get_secret_value() == "s3cret-long-enough"
    assert "s3cret" not in repr(load_config(path)[0])  # never printed by accident


def test_a_rules_on_key_is_a_key_not_a_yaml_boolean(tmp_path: Path):
    path = tmp_path / "edgeai.yaml"
    path.write_text(
        "camera:\n  zones: {door: [[0, 0], [1, 0], [1, 1]]}\n"
        "  rules:\n    - {on: person_entered, zone: door, say: Hello}\n"
        "mqtt: {enabled: true}\n"
    )
    config, _ = load_config(path)
    assert config.camera.rules[0].on == "person_entered"
    assert config.mqtt.enabled is True


def test_mqtt_node_defaults_to_a_topic_safe_host_name(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "Kitchen-Pi.local")
    assert Config().mqtt.node() == "kitchen_pi_local"


# --- placement ------------------------------------------------------------------------------


def test_missing_accelerators_fall_back_to_the_cpu_with_one_log_line(caplog):
    profiles = Profiles.load(Catalog.load())
    npu_box = profiles.get("intel-core-ultra-npu")  # detector on the NPU, 4 STT threads
    with caplog.at_level(logging.WARNING):
        placed, placements = place(npu_box, facts(openvino_devices=["CPU"]))
    assert placed.roles["detector"].device == "cpu"
    assert placed.roles["stt"].threads == 2  # capped at the cores there are
    detector = next(p for p in placements if p.role == "detector")
    assert (detector.wanted, detector.device) == ("npu", "cpu")
    assert detector.fallback == "no NPU for openvino on this machine"
    assert [r.getMessage() for r in caplog.records] == [
        "detector (yolov8-fall-fp16) runs on the CPU: no NPU for openvino on this machine"
    ]
    kept, _ = place(npu_box, facts(openvino_devices=["CPU", "NPU"], cpu_count=16))
    assert kept.roles["detector"].device == "npu"
    assert kept.roles["stt"].threads == 4


def test_the_llm_leaves_the_gpu_when_llama_cpp_has_no_gpu_backend():
    jetson = Profiles.load(Catalog.load()).get("jetson-orin-nano")
    assert jetson.roles["llm"].device == "gpu"
    placed, _ = place(jetson, facts(cpu_count=6))
    assert placed.roles["llm"].device == "cpu"
    assert placed.engines.llama_cpp.n_gpu_layers == 0
    offloaded, _ = place(jetson, facts(cpu_count=6, llama_gpu_offload=True))
    assert offloaded.roles["llm"].device == "gpu"
    assert offloaded.engines.llama_cpp.n_gpu_layers == jetson.engines.llama_cpp.n_gpu_layers


# --- systemd notification and watchdog ------------------------------------------------------


def test_sd_notify_sends_one_datagram_per_call(notify_listener: NotifyListener):
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(notify_listener.path)})
    assert notifier.active and notifier.watchdog_s is None
    notifier.notify(READY=1, STATUS="running")
    assert notify_listener.receive(1.0) == {"READY": "1", "STATUS": "running"}
    SystemdNotifier({}).notify(READY=1)  # outside systemd: nothing, no error
    assert notify_listener.receive(0.1) is None


def test_the_watchdog_is_fed_only_while_every_loop_moves(notify_listener: NotifyListener):
    env = {"NOTIFY_SOCKET": str(notify_listener.path), "WATCHDOG_USEC": "200000"}
    notifier = SystemdNotifier(env)
    assert notifier.watchdog_s == pytest.approx(0.2)
    supervisor = Supervisor()
    audio_ends, camera_ends = threading.Event(), threading.Event()
    supervisor.run("audio", audio_ends.wait, beats=True, may_end=True)
    supervisor.run("camera", camera_ends.wait, beats=True)
    feeder = WatchdogFeeder(notifier, lambda: supervisor.problems(0.3), stall_s=0.3)
    feeder.start()
    try:
        end = time.monotonic() + 0.6
        while time.monotonic() < end:
            supervisor.beat("audio")
            supervisor.beat("camera")
            time.sleep(0.02)
        assert notify_listener.wait_for("WATCHDOG", 0.5) == {"WATCHDOG": "1"}
        while notify_listener.receive(0.01):  # drain
            pass
        # the camera loop keeps going; the audio loop hangs
        stalled_at = time.monotonic()
        while time.monotonic() < stalled_at + 1.2:
            supervisor.beat("camera")
            notify_listener.receive(0.02)
        reported = [m for m in notify_listener.messages if "STATUS" in m]
        assert reported[0]["STATUS"].startswith("failed: audio loop: no progress for ")
        after = notify_listener.messages[notify_listener.messages.index(reported[0]) :]
        assert not any("WATCHDOG" in m for m in after)  # systemd will restart it
        # a loop that may end (its file ran out) no longer has to beat once it has
        audio_ends.set()
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            supervisor.beat("camera")
            time.sleep(0.02)
        assert notify_listener.wait_for("WATCHDOG", 0.5) == {"WATCHDOG": "1"}
        assert supervisor.snapshot()["audio"]["state"] == "ended"
        # a loop that must not end, ending by itself, is a failure, beats or not
        camera_ends.set()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and not supervisor.problems(0.3):
            supervisor.beat("camera")
            time.sleep(0.02)
        (problem,) = supervisor.problems(0.3)
        assert problem.describe() == "camera loop: failed: it ended while nobody stopped it"
    finally:
        feeder.stop()


def test_an_exception_escaping_a_loop_is_kept_with_its_traceback_logged(caplog, monkeypatch):
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)  # restored afterwards
    supervisor = Supervisor()
    supervisor.install_excepthook()

    def broken() -> None:
        raise OSError(28, "No space left on device")

    with caplog.at_level(logging.ERROR):
        supervisor.run("audio", broken, beats=True).join()
        # a thread that was not started by the supervisor (a worker inside a loop) too
        outside = threading.Thread(target=lambda: 1 / 0, name="turns")
        outside.start()
        outside.join()
    problems = {p.loop: p.reason for p in supervisor.problems(60)}
    assert problems == {
        "audio": "failed: OSError: [Errno 28] No space left on device",
        "turns": "failed: ZeroDivisionError: division by zero",
    }
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert {r.exc_info[0] for r in tracebacks} == {OSError, ZeroDivisionError}
    # loops stopped on purpose are no longer watched, and their end is no failure
    supervisor.retire(["audio", "turns"])
    assert supervisor.problems(60) == []


def test_watchdog_pid_of_another_process_means_no_watchdog_here():
    assert SystemdNotifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}).watchdog_s is None


# --- logs -----------------------------------------------------------------------------------


def test_journal_lines_carry_the_syslog_priority_and_stay_on_one_line():
    record = logging.LogRecord("edgeai.x", logging.ERROR, __file__, 1, "a\nb", None, None)
    assert JournalFormatter("%(message)s").format(record) == "<3>edgeai.x: a | b"
    assert logfmt(kind="turn", reply='It\'s "3" PM', zone=None, n=2) == (
        'kind=turn reply="It\'s \\"3\\" PM" n=2'
    )


# --- the unit file --------------------------------------------------------------------------


def render(profile: str) -> tuple[str, str]:
    """The edgeai command and the unit install.sh renders for it and the example config."""
    edgeai = shutil.which("edgeai") or str(REPO / ".venv" / "bin" / "edgeai")
    rendered = subprocess.run(
        [str(REPO / "systemd" / "install.sh"), "--render-unit", edgeai, profile],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return edgeai, rendered


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_unit_file_passes_systemd_analyze_verify(tmp_path: Path):
    edgeai, rendered = render("x86-cpu")
    assert f"ExecStart={edgeai} --config /etc/edgeai/edgeai.yaml run" in rendered
    for setting in (
        "Type=notify",
        "WatchdogSec=",
        "User=edgeai",
        "SupplementaryGroups=audio video",
        "ProtectSystem=strict",
        "StateDirectory=edgeai",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=",
        "MemoryMax=",
        "SystemCallFilter=@system-service",
        "DevicePolicy=closed",
        "DeviceAllow=char-alsa rw",
        "DeviceAllow=char-video4linux rw",
        "LimitNOFILE=",
        "IPAddressDeny=any",
        "IPAddressAllow=localhost",
        "IPAddressAllow=multicast",
        "ProtectProc=invisible",
        "RemoveIPC=yes",
    ):
        assert f"\n{setting}" in rendered, setting
    unit = tmp_path / "edgeai.service"
    unit.write_text(rendered)
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True
    )
    # verify exits 0 on unknown keys too, with a warning: a clean unit has no output at all
    assert (checked.returncode, checked.stderr.strip()) == (0, "")
    unit.write_text(rendered.replace("WatchdogSec=", "WatchdogSecs="))
    typo = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert "Unknown key 'WatchdogSecs'" in typo.stderr  # the check above can fail


def test_an_api_port_in_use_is_a_one_line_error(monkeypatch):
    from edgeai.errors import ServiceError
    from edgeai.service.api import ApiServer
    from edgeai.service.hub import EventHub

    class NoService:
        hub = EventHub()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ApiServer(ApiSettings(port=port), NoService())  # type: ignore[arg-type]
        with pytest.raises(
            ServiceError, match=rf"cannot listen on 127.0.0.1:{port}: Address already in use"
        ):
            server.start()


def test_the_installer_writes_a_closed_config_with_a_fresh_token_shown_once(tmp_path: Path):
    tokens = []
    for name in ("a.yaml", "b.yaml"):
        path = tmp_path / name
        written = subprocess.run(
            [str(REPO / "systemd" / "install.sh"), "--write-config", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        token = written.stdout.strip().rsplit(" ", 1)[-1]
        config, _ = load_config(path)
        assert config.api.token is not None and config.api.token.get_secret_value() == token
        assert config.api.require_token and len(token) >= 40
        assert path.stat().st_mode & 0o777 == 0o640
        tokens.append(token)
    assert tokens[0] != tokens[1]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize("profile", ["x86-cpu", "jetson-orin-nano", "intel-core-ultra-npu"])
def test_the_rendered_unit_has_an_exposure_of_at_most_2_5(tmp_path: Path, profile: str):
    _, rendered = render(profile)
    unit = tmp_path / "edgeai.service"
    unit.write_text(rendered)
    checked = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", unit.name],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    exposure = float(
        checked.stdout.split("Overall exposure level for edgeai.service:")[1].split()[0]
    )
    assert exposure <= 2.5, checked.stdout


def test_the_unit_opens_the_profiles_accelerators_and_the_configs_addresses_only():
    from edgeai.device.profiles import Profiles
    from edgeai.models.catalog import Catalog
    from edgeai.service.unit import render_unit

    profiles = Profiles.load(Catalog.load())
    config = Config.model_validate(
        {
            "wyoming": {"host": "0.0.0.0", "allow": ["203.0.113.7"]},
            "mqtt": {"enabled": True, "host": "198.51.100.2"},
            "remote": {"llm": {"url": "http://broker.example:8080/v1"}},
        }
    )
    template = (REPO / "systemd" / "edgeai.service").read_text()
    npu = render_unit(template, "/e", config, profiles.get("intel-core-ultra-npu"))
    cpu = render_unit(template, "/e", config, profiles.get("x86-cpu"))
    assert "DeviceAllow=char-accel rw" in npu and "DeviceAllow=char-accel" not in cpu
    for address in ("203.0.113.7/32", "198.51.100.2"):
        assert f"\nIPAddressAllow={address}\n" in cpu, address
    assert "broker.example" not in cpu and "_ALLOW@" not in cpu
