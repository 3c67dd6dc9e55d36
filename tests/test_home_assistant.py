"""Device control through a real Home Assistant core (2024.3.3 in its own venv, started by
edgeai.bench.home_assistant_core) with a dimmable template light "Kitchen Lights": edgeai's
responder routes the request there, Home Assistant switches the entity, its reply is spoken
by the real Piper voice, and the real LLM is never asked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from edgeai.audio.sinks import NullSink, WavSink
from edgeai.bench.home_assistant_core import HomeAssistantCore
from edgeai.config import Config
from edgeai.doctor import Level, _home_assistant
from edgeai.intents.handlers import IntentContext
from edgeai.intents.timers import TimerStore
from edgeai.voice.build import VoiceModels
from edgeai.voice.home_assistant import REFUSED_TOKEN, UNREACHABLE, HomeAssistant, Outcome
from edgeai.voice.honesty import claims_unseen
from edgeai.voice.respond import Responder
from edgeai.voice.timeline import TurnTimeline

KITCHEN = "light.kitchen_lights"


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HomeAssistantCore]:
    core = HomeAssistantCore(tmp_path_factory.mktemp("home-assistant"))
    yield core
    core.stop()


def responder(voice_models: VoiceModels, tmp_path: Path, home: HomeAssistant) -> Responder:
    started = time.monotonic()
    intents = IntentContext(timers=TimerStore(tmp_path / "timers.json"))
    clock = lambda: time.monotonic() - started  # noqa: E731
    return Responder(voice_models.tts, voice_models.llm, intents, clock, 2, None, home)


def say(responder: Responder, text: str, tmp_path: Path) -> TurnTimeline:
    timeline = TurnTimeline(speech_end_s=0.0)
    sink = WavSink(tmp_path / "reply.wav", responder.tts.sample_rate_hz)
    responder.respond(text, sink, timeline, threading.Event())
    sink.close()
    return timeline


def test_the_kitchen_lights_switch_and_dim_through_home_assistant(
    core: HomeAssistantCore, voice_models: VoiceModels, tmp_path: Path
):
    turns = responder(voice_models, tmp_path, HomeAssistant(core.settings(timeout_s=10.0)))
    assert core.state(KITCHEN)["state"] == "off"

    on = say(turns, "Turn on the kitchen lights.", tmp_path)
    assert core.state(KITCHEN)["state"] == "on"
    assert (on.route, on.reply) == ("home assistant done", "Turned on the light")
    assert on.first_audio_s is not None  # Home Assistant's words, spoken here
    assert on.first_token_s is None  # the LLM was not asked

    dim = say(turns, "Set the kitchen lights to 40%.", tmp_path)
    light = core.state(KITCHEN)
    assert dim.route == "home assistant done" and dim.first_token_s is None
    assert light["state"] == "on"
    assert light["attributes"]["brightness"] == round(255 * 0.4)  # type: ignore[index]

    off = say(turns, "Turn off the kitchen lights.", tmp_path)
    assert core.state(KITCHEN)["state"] == "off"
    assert (off.route, off.reply) == ("home assistant done", "Turned off the light")

    alias = say(turns, "Turn on the kitchen light.", tmp_path)  # the alias a user gave it
    assert alias.route == "home assistant done" and core.state(KITCHEN)["state"] == "on"
    assert turns.home is not None and turns.home.ask("Turn off the kitchen lights.").outcome is (
        Outcome.DONE
    )


def test_what_home_assistant_does_not_understand_goes_to_the_llm(
    core: HomeAssistantCore, voice_models: VoiceModels, tmp_path: Path
):
    turns = responder(voice_models, tmp_path, HomeAssistant(core.settings(timeout_s=10.0)))
    chat = say(turns, "Why is the sky blue?", tmp_path)
    assert chat.route == "llm" and chat.first_token_s is not None and chat.reply


def test_a_device_home_assistant_does_not_have_is_never_claimed(
    core: HomeAssistantCore, voice_models: VoiceModels, tmp_path: Path
):
    """No garage lights in the test home: Home Assistant says so, and nothing else answers."""
    turns = responder(voice_models, tmp_path, HomeAssistant(core.settings(timeout_s=10.0)))
    before = core.state(KITCHEN)["state"]
    garage = say(turns, "Turn on the garage lights.", tmp_path)
    assert garage.route == "home assistant no target" and garage.first_token_s is None
    assert garage.reply.startswith("Sorry, I am not aware of any device called garage lights")
    assert core.state(KITCHEN)["state"] == before


def test_chit_chat_home_assistant_reads_as_a_device_goes_to_the_llm_which_claims_nothing(
    core: HomeAssistantCore, voice_models: VoiceModels, tmp_path: Path
):
    """Home Assistant reads "tell me a fun fact about cats" as a device name it does not know:
    the LLM answers, and a claimed action would be replaced by Home Assistant's reply."""
    turns = responder(voice_models, tmp_path, HomeAssistant(core.settings(timeout_s=10.0)))
    fact = say(turns, "Tell me a fun fact about cats.", tmp_path)
    assert fact.route == "llm" and fact.first_token_s is not None and fact.reply
    assert not claims_unseen(fact.reply)


def test_a_refused_token_is_said_and_not_handed_to_the_llm(
    core: HomeAssistantCore, voice_models: VoiceModels, tmp_path: Path
):
    home = HomeAssistant(core.settings(token="not-a-token"))
    assert not home.check()
    doctor = _home_assistant(Config(home_assistant=core.settings(token="not-a-token")))[0]
    assert doctor.level is Level.WARN and "token was refused" in doctor.detail
    assert _home_assistant(Config(home_assistant=core.settings()))[0].level is Level.OK
    turn = say(responder(voice_models, tmp_path, home), "Turn on the kitchen lights.", tmp_path)
    assert (turn.route, turn.reply) == ("home assistant unreachable", REFUSED_TOKEN)
    assert turn.first_token_s is None
    assert core.state(KITCHEN)["state"] == "off"
    assert "token was refused" in str(home.state()["last_failure"])
    assert "not-a-token" not in str(home.state())


def test_a_stopped_home_assistant_is_said_once_per_request_and_never_pretended(
    core: HomeAssistantCore, voice_models: VoiceModels, tmp_path: Path
):
    """With Home Assistant down the user hears that it cannot be reached, the LLM is not
    asked, and the circuit spares later turns the wait; once it is back, requests go through."""
    home = HomeAssistant(core.settings(timeout_s=2.0, retry_after_s=3600))
    turns = responder(voice_models, tmp_path, home)
    core.stop()
    try:
        first = say(turns, "Turn on the kitchen lights.", tmp_path)
        assert (first.route, first.reply) == ("home assistant unreachable", UNREACHABLE)
        assert first.first_token_s is None
        second = say(turns, "Turn on the kitchen lights.", tmp_path)
        assert (second.route, second.reply) == ("home assistant unreachable", UNREACHABLE)
        assert home.circuit.failures == 1  # the second request did not try (and wait) again
        state = home.state()
        assert state["reachable"] is False and state["last_failure"]
    finally:
        core.start()
    back = HomeAssistant(core.settings(timeout_s=10.0))
    assert back.ask("turn on the kitchen lights").outcome is Outcome.DONE
    assert core.state(KITCHEN)["state"] == "on"
    assert back.ask("turn off the kitchen lights").outcome is Outcome.DONE


def test_the_home_assistant_token_is_a_secret():
    config = Config.model_validate(
        {"home_assistant": {"url": "http://homeassistant.local:8123", "token": "abc.def"}}
    )
    assert config.secrets_set() == ["home_assistant.token"]
    assert "abc.def" not in repr(config)


def test_an_unreachable_home_assistant_shows_in_health(model_store, tmp_path: Path):
    """The service checks Home Assistant as it starts; one that does not answer is a problem
    /health names (degraded, not failed: the rest of the assistant works)."""
    from edgeai.audio.sources import ArraySource
    from edgeai.bench.home_assistant_core import free_port
    from edgeai.service.loops import Inputs
    from edgeai.service.service import Service
    from tests.test_service import wait_until, write_config

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = write_config(
        tmp_path,
        camera={"enabled": False},
        api={"port": 0},
        home_assistant={"url": url, "token": "a-secret-token", "timeout_s": 1.0},
    )
    silence = np.zeros(16000 * 30, np.int16)
    inputs = Inputs(
        audio=lambda: ArraySource(silence, realtime=True), open_sink=lambda rate: NullSink()
    )
    service = Service(config, inputs)
    service.start()
    try:
        assert service.api is not None
        health_url = f"http://127.0.0.1:{service.api.port}/health"
        # the check runs beside the start, not in its way
        wait_until(lambda: httpx.get(health_url).json()["home_assistant"]["failures"] > 0, 10)
        response = httpx.get(health_url)
        health = response.json()
    finally:
        service.stop()
    assert response.status_code == 200 and health["status"] == "degraded"
    assert health["home_assistant"]["url"] == url
    assert health["home_assistant"]["reachable"] is False
    assert any(problem.startswith(f"Home Assistant at {url}") for problem in health["problems"])
    assert "a-secret-token" not in response.text


def test_bench_home_assistant_smoke_run(
    core: HomeAssistantCore, voice_config: Config, voice_models: VoiceModels, tmp_path: Path
):
    from edgeai.bench import home_assistant as bench
    from edgeai.bench.voice import VOICES
    from edgeai.device.profiles import Profiles
    from edgeai.models.catalog import Catalog
    from edgeai.store import ModelStore
    from edgeai.synthetic.speech import Synthesizer
    from edgeai.voice.build import build_voice_loop
    from tests.conftest import TEST_MODEL_STORE

    synth = Synthesizer(TEST_MODEL_STORE / "piper-en-us-joe-medium" / "en_US-joe-medium.onnx")
    catalog = Catalog.load()
    profile = Profiles.load(catalog).get("x86-cpu")
    config = voice_config.model_copy(update={"home_assistant": core.settings(timeout_s=10.0)})

    def make_loop():
        store = ModelStore(TEST_MODEL_STORE)
        return build_voice_loop(config, profile, store, catalog, voice_models, lambda r: NullSink())

    clips = bench.bench_device_control(
        core, make_loop, synth, lambda _: None, VOICES[:1],
        devices=[("Turn on the kitchen lights.", "on", None)], intents=["What time is it?"],
    )  # fmt: skip
    assert [(c.kind, c.route, c.state_ok) for c in clips] == [
        ("home assistant", "home assistant done", True), ("intent", "time", None)
    ]  # fmt: skip
    assert all(c.latency_s is not None and c.latency_s > 0 for c in clips)
    trips = bench.round_trips(HomeAssistant(core.settings()), rounds=2)  # on, then off again
    assert core.state(KITCHEN)["state"] == "off"
    started = time.monotonic()
    intents = IntentContext(timers=TimerStore(tmp_path / "timers.json"))
    without_home = Responder(
        voice_models.tts, voice_models.llm, intents, lambda: time.monotonic() - started, 2
    )
    honesty = bench.bench_honesty(without_home, lambda _: None, ["Make the kitchen brighter."])
    assert honesty[0].route == "llm" and not honesty[0].spoken_claim
    totals = bench.summary(clips, trips, honesty)
    assert totals["entity_changed_as_asked"] == 1
    assert "| Home Assistant (loopback) | 1 |" in bench.markdown(clips, honesty, totals)
