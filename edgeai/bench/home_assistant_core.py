"""A real Home Assistant core on loopback, for the tests and the benchmark of device control:
2024.3.3 in a venv of its own (scripts/home-assistant-venv.sh, cached in .cache/), the test
home of scripts/home-assistant/configuration.yaml (a dimmable "Kitchen Lights", alias "Kitchen
Light"), a user made with `hass --script auth`, and a long-lived access token got as a user
gets one. Needs a
checkout of the repository (the scripts are not in the wheel)."""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
from pathlib import Path

import httpx

from edgeai.config import HomeAssistantSettings

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HomeAssistantCore:
    """`hass` on a free loopback port, with the test home, a user and a token."""

    def __init__(self, folder: Path) -> None:
        venv_script = SCRIPTS / "home-assistant-venv.sh"
        if not venv_script.is_file():
            raise FileNotFoundError(
                f"{venv_script} not found: a Home Assistant core for tests and benchmarks "
                "needs a checkout of the edgeai repository"
            )
        self.python = _run([str(venv_script)])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = folder / "config"
        self.config.mkdir(parents=True)
        home = (SCRIPTS / "home-assistant" / "configuration.yaml").read_text()
        (self.config / "configuration.yaml").write_text(home.replace("{port}", str(self.port)))
        password = secrets.token_urlsafe(16)
        _run([self.python, "-m", "homeassistant", "--script", "auth", "-c", str(self.config),
              "add", "edgeai", password])  # fmt: skip
        self.log = folder / "home-assistant.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()
        provision = SCRIPTS / "home-assistant" / "provision.py"
        self.token = _run([self.python, str(provision), self.url, "edgeai", password])

    def start(self) -> None:
        """Start `hass` and wait until its API answers (401 without a token)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.python, "-m", "homeassistant", "-c", str(self.config), "--skip-pip"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Home Assistant exited: {self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/", timeout=2).status_code == 401:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Home Assistant did not start in {START_TIMEOUT_S:g} s: "
                           f"{self._log_tail()}")  # fmt: skip

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None

    def state(self, entity_id: str) -> dict[str, object]:
        """An entity's state as Home Assistant's REST API gives it."""
        response = httpx.get(
            f"{self.url}/api/states/{entity_id}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        response.raise_for_status()
        return dict(response.json())

    def settings(self, **changes: object) -> HomeAssistantSettings:
        return HomeAssistantSettings.model_validate(
            {"url": self.url, "token": self.token} | changes
        )

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed: {done.stderr[-2000:]}")
    return done.stdout.strip()
