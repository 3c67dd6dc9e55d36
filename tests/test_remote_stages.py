"""Stages on another machine: a second edgeai process serving Wyoming, llama.cpp's own
OpenAI-compatible server, and what happens when either is down or stalls."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml

from edgeai.audio.convert import to_runtime_format
from edgeai.config import Config, RemoteStage
from edgeai.runtime.remote import with_remote_stages
from edgeai.voice.build import VoiceModels
from edgeai.voice.fallback import Circuit, FallbackLanguageModel
from edgeai.voice.llm import ChatHistory, chat_messages
from edgeai.voice.openai_compat import OpenAiChat
from tests.conftest import TEST_MODEL_STORE, silence, speak
from tests.test_mqtt import free_port


class Process:
    """A process whose stderr is kept for the failure message."""

    def __init__(self, command: list[str], folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "process.log"
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self.log.open("wb"), text=True
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture(scope="module")
def remote_edgeai(tmp_path_factory: pytest.TempPathFactory, model_store) -> Iterator[str]:
    """`edgeai wyoming` in its own process, on a port it picks: the bigger machine."""
    folder = tmp_path_factory.mktemp("remote")
    config = folder / "edgeai.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "profile": "x86-cpu",
                "models": {"store": str(TEST_MODEL_STORE)},
                "voice": {"timers_file": str(folder / "timers.json")},
            }
        )
    )
    command = [sys.executable, "-m", "edgeai", "--config", str(config), "wyoming", "--port", "0"]
    remote = Process(command, folder)
    try:
        assert remote.process.stdout is not None
        line = remote.process.stdout.readline()  # printed once the models are loaded
        assert line.startswith("Wyoming server on tcp://"), remote.output()
        yield line.split()[-1]
    finally:
        remote.stop()


def remote_config(voice_config: Config, **stages: object) -> Config:
    return voice_config.model_copy(
        update={"remote": Config.model_validate({"remote": stages}).remote}
    )


def test_a_second_edgeai_serves_stt_tts_and_the_assistant(
    remote_edgeai: str, voice_config: Config, voice_models: VoiceModels
):
    stage = {"url": remote_edgeai, "timeout_s": 30}
    models = with_remote_stages(
        voice_models, remote_config(voice_config, stt=stage, tts=stage, llm=stage)
    )
    speech = np.concatenate([silence(0.3), speak("what time is it"), silence(0.3)])
    assert "time" in models.stt.transcribe(speech).lower()

    audio = np.concatenate(list(models.tts.synthesize("The front door is open.")))
    assert models.tts.sample_rate_hz == voice_models.tts.sample_rate_hz  # resampled to local
    heard = voice_models.stt.transcribe(to_runtime_format(audio, models.tts.sample_rate_hz))
    assert "door" in heard.lower()

    # the remote edgeai answers with its own intents: the local LLM would not know the time
    reply = "".join(models.llm.stream("what time is it", threading.Event()))
    assert any(ch.isdigit() for ch in reply), reply
    for stage_model in (models.stt, models.tts, models.llm):
        circuit: Circuit = stage_model.circuit  # type: ignore[attr-defined]
        assert circuit.remote_answers >= 1 and circuit.failures == 0


class StalledMachine:
    """Accepts connections and never answers: a hung remote."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted: list[socket.socket] = []  # held open, unanswered
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def test_a_remote_that_is_down_or_stalls_falls_back_to_the_local_model(
    voice_config: Config, voice_models: VoiceModels, caplog: pytest.LogCaptureFixture
):
    down = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    machine = StalledMachine()
    stalled = machine.url
    try:
        models = with_remote_stages(
            voice_models,
            remote_config(
                voice_config,
                stt={"url": down, "timeout_s": 2, "retry_after_s": 60},
                tts={"url": stalled, "timeout_s": 0.5, "retry_after_s": 60},
            ),
        )
        speech = np.concatenate([silence(0.3), speak("what time is it"), silence(0.3)])
        with caplog.at_level(logging.WARNING):
            assert "time" in models.stt.transcribe(speech).lower()  # the local model's answer
            started = time.monotonic()
            audio = np.concatenate(list(models.tts.synthesize("The door is open.")))
            fell_back_in_s = time.monotonic() - started
        assert len(audio) > 0.5 * models.tts.sample_rate_hz
        assert fell_back_in_s < 0.5 + 5  # the timeout, then the local voice
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(f"remote stt at {down} failed" in w for w in warnings), warnings
        assert any(
            f"remote tts at {stalled} failed" in w and "no answer within 0.5 s" in w
            for w in warnings
        ), warnings

        # within retry_after_s the dead remote is not tried again: no second timeout to wait
        caplog.clear()
        list(models.tts.synthesize("Again."))
        assert models.tts.circuit.failures == 1  # type: ignore[attr-defined]
        assert not caplog.records
    finally:
        machine.close()


class WrongAnswers:
    """A Wyoming machine that answers every request with well-framed nonsense: a transcript
    event without text, audio at rate 0."""

    ANSWERS = (
        b'{"type": "transcript", "data": {}}\n',
        b'{"type": "audio-start", "data": {"rate": 0, "width": 2, "channels": 1}}\n'
        + b'{"type": "audio-chunk", "data": {"rate": 0, "width": 2, "channels": 1}, '
        + b'"payload_length": 4}\n\x00\x00\x00\x00',
    )

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection = self.listener.accept()[0]
            except OSError:
                return
            with connection:
                request = connection.recv(65536)
                answer = self.ANSWERS[0] if b"transcribe" in request else self.ANSWERS[1]
                connection.sendall(answer)
                connection.recv(1)  # until the client closes

    def close(self) -> None:
        self.listener.close()


def test_a_remote_that_answers_well_framed_nonsense_falls_back_to_the_local_model(
    voice_config: Config, voice_models: VoiceModels, caplog: pytest.LogCaptureFixture
):
    machine = WrongAnswers()
    try:
        stage = {"url": machine.url, "timeout_s": 5, "retry_after_s": 60}
        models = with_remote_stages(voice_models, remote_config(voice_config, stt=stage, tts=stage))
        speech = np.concatenate([silence(0.3), speak("what time is it"), silence(0.3)])
        with caplog.at_level(logging.WARNING):
            assert "time" in models.stt.transcribe(speech).lower()
            audio = np.concatenate(list(models.tts.synthesize("The door is open.")))
        assert len(audio) > 0.5 * models.tts.sample_rate_hz  # the local voice spoke it
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(f"remote stt at {machine.url} failed" in w for w in warnings), warnings
        assert any(f"remote tts at {machine.url} failed" in w for w in warnings), warnings
        assert models.stt.circuit.failures == models.tts.circuit.failures == 1  # type: ignore[attr-defined]
    finally:
        machine.close()


def openai_server(command: list[str], folder: Path, ready_path: str) -> Iterator[str]:
    """Start `command` (which must listen on the port after --port), wait until `ready_path`
    answers 200, yield its /v1 base URL, stop it."""
    port = free_port()
    server = Process([*command, "--host", "127.0.0.1", "--port", str(port)], folder)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.process.poll() is None, server.output()
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
        yield base
    finally:
        server.stop()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory, model_store) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) with the test LLM."""
    model = next((TEST_MODEL_STORE / "smollm2-135m-instruct-q4_1").glob("*.gguf"))
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--n_ctx", "1024", "--n_threads", "1",
    ]  # fmt: skip
    yield from openai_server(command, tmp_path_factory.mktemp("llama-server"), "/v1/models")


@pytest.fixture(scope="module")
def whisper_server(tmp_path_factory: pytest.TempPathFactory, model_store) -> Iterator[str]:
    """faster-whisper-server: OpenAI's /v1/audio/transcriptions on the test Whisper."""
    command = [
        sys.executable, "-m", "faster_whisper_server", str(TEST_MODEL_STORE / "whisper-tiny-en-ct2"),
    ]  # fmt: skip
    yield from openai_server(command, tmp_path_factory.mktemp("whisper-server"), "/health")


def test_an_openai_compatible_transcription_endpoint_is_the_remote_stt(
    whisper_server: str, voice_config: Config, voice_models: VoiceModels
):
    stage = {"url": whisper_server, "timeout_s": 30}
    models = with_remote_stages(voice_models, remote_config(voice_config, stt=stage))
    speech = np.concatenate([silence(0.3), speak("set a timer for ten minutes"), silence(0.3)])
    assert "timer" in models.stt.transcribe(speech).lower()
    assert models.stt.circuit.remote_answers == 1  # type: ignore[attr-defined]


def test_an_openai_compatible_endpoint_streams_the_answer_from_the_history(
    llama_server: str,
):
    chat = OpenAiChat(RemoteStage(url=llama_server, timeout_s=30), max_tokens=16)
    history = ChatHistory(turns=2)
    history.remember("My name is Anna.", "Hello, Anna.")
    pieces = list(chat.stream("Say hello to Ben.", threading.Event(), history))
    assert len(pieces) > 1  # streamed, not one block
    # the prompt was the history and the request; what is said is the Responder's to keep
    assert [m["role"] for m in chat_messages("Say hello to Ben.", history)] == [
        "system", "user", "assistant", "user"
    ]  # fmt: skip
    assert history.exchanges() == [("My name is Anna.", "Hello, Anna.")]


def test_an_endpoint_that_errors_is_one_line_and_the_local_llm_answers(
    llama_server: str, voice_models: VoiceModels, caplog: pytest.LogCaptureFixture
):
    wrong = RemoteStage(url=llama_server.replace("/v1", "/nope"), timeout_s=10)
    llm = FallbackLanguageModel(
        OpenAiChat(wrong, max_tokens=16), voice_models.llm, Circuit("llm", wrong)
    )
    with caplog.at_level(logging.WARNING):
        reply = "".join(llm.stream("Say hello.", threading.Event()))
    assert reply.strip()
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "remote llm" in warning and "HTTP 404" in warning and "\n" not in warning


def wait_for_wyoming(url: str, server: Process, seconds: float = 60) -> None:
    """Until the server answers `describe`."""
    from wyoming.info import Describe

    from edgeai.wyoming.client import exchange

    stage = RemoteStage(url=url, timeout_s=5)
    deadline = time.monotonic() + seconds
    while True:
        try:
            next(iter(exchange(stage, [Describe().event()])))
            return
        except (OSError, TimeoutError):
            assert server.process.poll() is None, server.output()
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)


@pytest.fixture(scope="module")
def rhasspy_servers(
    tmp_path_factory: pytest.TempPathFactory, model_store
) -> Iterator[dict[str, str]]:
    """wyoming-faster-whisper and wyoming-piper, on the test store's Whisper and voice."""
    folder = tmp_path_factory.mktemp("rhasspy")
    urls = {"stt": f"tcp://127.0.0.1:{free_port()}", "tts": f"tcp://127.0.0.1:{free_port()}"}
    commands = {
        "stt": [sys.executable, "-m", "wyoming_faster_whisper", "--uri", urls["stt"],
                "--model", str(TEST_MODEL_STORE / "whisper-tiny-en-ct2"), "--language", "en",
                "--data-dir", str(folder), "--local-files-only"],
        "tts": [sys.executable, "-m", "wyoming_piper", "--uri", urls["tts"],
                "--voice", "en_US-joe-medium",
                "--data-dir", str(TEST_MODEL_STORE / "piper-en-us-joe-medium"),
                # no sampling noise: the same words every run ("kitchen" once came out
                # "catching" with the voice's default noise)
                "--noise-scale", "0", "--noise-w-scale", "0"],
    }  # fmt: skip
    servers = {role: Process(command, folder / role) for role, command in commands.items()}
    try:
        for role, server in servers.items():
            wait_for_wyoming(urls[role], server)
        yield urls
    finally:
        for server in servers.values():
            server.stop()


def test_rhasspy_wyoming_servers_work_as_remote_stages(
    rhasspy_servers: dict[str, str], voice_config: Config, voice_models: VoiceModels
):
    stages = {role: {"url": url, "timeout_s": 30} for role, url in rhasspy_servers.items()}
    models = with_remote_stages(voice_models, remote_config(voice_config, **stages))
    speech = np.concatenate([silence(0.3), speak("set a timer for five minutes"), silence(0.3)])
    assert "timer" in models.stt.transcribe(speech).lower()
    audio = np.concatenate(list(models.tts.synthesize("The kitchen light is on.")))
    heard = voice_models.stt.transcribe(to_runtime_format(audio, models.tts.sample_rate_hz))
    assert "kitchen" in heard.lower()
    for stage_model in (models.stt, models.tts):
        circuit: Circuit = stage_model.circuit  # type: ignore[attr-defined]
        assert circuit.remote_answers == 1 and circuit.failures == 0
