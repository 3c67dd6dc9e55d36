"""The Wyoming server with the real models, spoken to by the wyoming package's own client."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import numpy as np
import pytest
import soundfile
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop
from wyoming.wake import Detect

from edgeai.audio.convert import to_runtime_format
from edgeai.config import Config, WyomingSettings
from edgeai.device.profiles import Profiles
from edgeai.ears.listener import load_wake_detector
from edgeai.errors import ProtocolError
from edgeai.models.catalog import Catalog
from edgeai.store import ModelStore
from edgeai.voice.build import VoiceModels, intent_context
from edgeai.wyoming.announce import announced_address
from edgeai.wyoming.framing import Limits, read_event
from edgeai.wyoming.server import WyomingServer, allowed
from edgeai.wyoming.stages import serve_stages
from tests.conftest import REPO, silence, speak

SAMPLE = REPO / "samples" / "hey_jarvis_what_time_is_it.wav"


def start_server(
    config: Config, models: VoiceModels, store: ModelStore, **settings: object
) -> WyomingServer:
    catalog = Catalog.load()
    profile = Profiles.load(catalog).get("x86-cpu")
    wake = load_wake_detector(config.wake.words, profile, store, catalog)
    stages = serve_stages(config, profile, models, intent_context(config), wake)
    wyoming = WyomingSettings.model_validate({"port": 0, "zeroconf": False} | settings)
    server = WyomingServer(wyoming, stages)
    server.start()
    return server


@pytest.fixture(scope="module")
def server(
    shared_voice_config: Config, voice_models: VoiceModels, model_store
) -> Iterator[WyomingServer]:
    server = start_server(shared_voice_config, voice_models, model_store)
    yield server
    server.stop()


def talk(port: int, request: list[Event], until: set[str], host: str = "127.0.0.1") -> list[Event]:
    """Send `request`, then read events up to one whose type is in `until`; what came before
    the server closed the connection, if it did."""

    async def exchange() -> list[Event]:
        answers: list[Event] = []
        try:
            async with AsyncTcpClient(host, port, read_timeout=60) as client:
                for event in request:
                    await client.write_event(event)
                while (event := await client.read_event()) is not None:
                    answers.append(event)
                    if event.type in until:
                        break
        except ConnectionError:
            pass
        return answers

    return asyncio.run(exchange())


def audio_request(pcm: np.ndarray, rate: int, channels: int = 1) -> list[Event]:
    fmt = {"rate": rate, "width": 2, "channels": channels}
    data = np.asarray(pcm, "<i2").tobytes()
    step = 2048 * channels
    return [
        AudioStart(**fmt).event(),
        *(AudioChunk(audio=data[i : i + step], **fmt).event() for i in range(0, len(data), step)),
        AudioStop().event(),
    ]


def spoken_audio(events: list[Event]) -> tuple[np.ndarray, int]:
    starts = [AudioStart.from_event(e) for e in events if AudioStart.is_type(e.type)]
    chunks = [e.payload or b"" for e in events if AudioChunk.is_type(e.type)]
    return np.frombuffer(b"".join(chunks), "<i2"), starts[0].rate


def test_describe_lists_every_stage_with_streaming(server: WyomingServer):
    (answer,) = talk(server.port, [Describe().event()], {"info"})
    info = Info.from_event(answer)
    assert info.asr[0].models[0].name == "whisper-tiny-en-ct2"
    assert info.asr[0].supports_transcript_streaming
    assert info.tts[0].supports_synthesize_streaming
    assert info.handle[0].supports_handled_streaming
    assert [model.name for model in info.wake[0].models] == ["hey_jarvis"]


def test_streamed_audio_at_44k_stereo_is_transcribed_with_a_streamed_transcript(
    server: WyomingServer,
):
    speech = np.concatenate([silence(0.3), speak("what time is it"), silence(0.3)])
    stereo = np.repeat(
        to_runtime_format(speech, 16000)[:, None], 2, axis=1
    )  # the same speech on both channels
    import soxr

    resampled = soxr.resample(stereo.astype(np.float32) / 32768, 16000, 44100)
    pcm = np.clip(resampled * 32767, -32768, 32767).astype(np.int16)
    events = talk(
        server.port, [Transcribe(language="en").event(), *audio_request(pcm, 44100, 2)],
        {"transcript"},
    )  # fmt: skip
    kinds = [event.type for event in events]
    assert kinds[0] == "transcript-start" and kinds[-2:] == ["transcript-stop", "transcript"]
    assert "transcript-chunk" in kinds
    assert "time" in Transcript.from_event(events[-1]).text.lower()


def test_synthesize_speaks_the_text_in_one_audio_stream(
    server: WyomingServer, voice_models: VoiceModels
):
    events = talk(server.port, [Synthesize(text="The front door is open.").event()], {"audio-stop"})
    kinds = [event.type for event in events]
    assert kinds[0] == "audio-start" and kinds[-1] == "audio-stop"
    audio, rate = spoken_audio(events)
    assert len(audio) / rate > 0.8
    assert "door" in voice_models.stt.transcribe(to_runtime_format(audio, rate)).lower()


def test_streaming_synthesis_speaks_each_sentence_as_it_completes(server: WyomingServer):
    request = [
        SynthesizeStart().event(),
        SynthesizeChunk(text="The door is open. The li").event(),
        SynthesizeChunk(text="ght is on.").event(),
        Synthesize(text="The door is open. The light is on.").event(),  # legacy repeat: ignored
        SynthesizeStop().event(),
    ]
    events = talk(server.port, request, {"synthesize-stopped"})
    kinds = [event.type for event in events]
    assert kinds.count("audio-start") == 2 and kinds.count("audio-stop") == 2
    assert kinds[-1] == "synthesize-stopped"


def test_handle_answers_intents_locally_and_the_rest_with_the_llm(server: WyomingServer):
    events = talk(server.port, [Transcript(text="what time is it").event()], {"handled"})
    assert events[0].type == "handled-start"
    assert events[-1].type == "handled" and any(ch.isdigit() for ch in events[-1].data["text"])
    events = talk(server.port, [Transcript(text="Why is the sky blue?").event()], {"handled"})
    chunks = [e.data["text"] for e in events if e.type == "handled-chunk"]
    assert chunks and events[-1].data["text"] == " ".join(c.strip() for c in chunks)
    events = talk(server.port, [Transcript(text="um").event()], {"handled", "not-handled"})
    assert events[-1].type == "not-handled"


def test_the_wake_word_is_detected_in_a_stream_and_not_in_silence(server: WyomingServer):
    samples, rate = soundfile.read(SAMPLE, dtype="int16")
    events = talk(
        server.port, [Detect(names=["hey_jarvis"]).event(), *audio_request(samples, rate)],
        {"detection", "not-detected"},
    )  # fmt: skip
    assert events[-1].type == "detection" and events[-1].data["name"] == "hey_jarvis"
    events = talk(
        server.port, [Detect().event(), *audio_request(silence(3.0), 16000)],
        {"detection", "not-detected"},
    )  # fmt: skip
    assert events[-1].type == "not-detected"
    events = talk(
        server.port, [Detect(names=["alexa"]).event(), *audio_request(silence(0.5), 16000)],
        {"error"},
    )  # fmt: skip
    assert "alexa" in events[-1].data["text"] and "hey_jarvis" in events[-1].data["text"]


def test_a_bad_request_gets_an_error_and_the_connection_stays_open(server: WyomingServer):
    wide = [AudioStart(rate=16000, width=4, channels=1).event()]
    too_long = [Synthesize(text="word " * 1000).event()]
    events = talk(server.port, [*wide, *too_long, Describe().event()], {"info"})
    errors = [e.data["text"] for e in events if e.type == "error"]
    assert "width 4" in errors[0] and "max_text_chars" in errors[1]
    assert events[-1].type == "info"


def raw_connection(port: int, data: bytes) -> bytes:
    """What the server sends back to raw bytes from a client that then sends nothing more."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
        return received


def test_oversized_and_malformed_events_close_only_their_connection(server: WyomingServer):
    closed_before = server.counts.closed_for_errors

    async def other_clients_keep_being_served() -> list[str]:
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            kinds = []
            for garbage in (
                b'{"type": "audio-chunk", "payload_length": 100000000}\n',
                b'{"type": "describe", "data_length": -5}\n',
                b"this is not json\n",
                b"[1, 2, 3]\n",
                b"x" * 70_000,  # a header line with no end
                b'{"type": "synthesize", "data_length": 50}\n{"text": "cut',
            ):
                assert await asyncio.to_thread(raw_connection, server.port, garbage) == b""
                await client.write_event(Describe().event())
                answer = await client.read_event()
                kinds.append(answer.type if answer else "closed")
            return kinds

    assert asyncio.run(other_clients_keep_being_served()) == ["info"] * 6
    assert server.counts.closed_for_errors - closed_before == 6


def test_limits_are_checked_before_anything_is_read():
    async def read(data: bytes) -> Event | None:
        reader = asyncio.StreamReader(limit=1024)
        reader.feed_data(data)
        reader.feed_eof()
        return await read_event(reader, Limits(max_event_bytes=1024, max_payload_bytes=16))

    merged = asyncio.run(read(b'{"type": "x", "data": {"a": 1}, "data_length": 8}\n{"b": 2}'))
    assert merged is not None and merged.data == {"a": 1, "b": 2}
    assert asyncio.run(read(b"")) is None
    for data, problem in (
        (b'{"type": "x", "payload_length": 17}\n', "over the limit of 16"),
        (b'{"type": "x", "payload_length": 4}\nab', "closed after 2 of 4"),
        (b'{"type": "x", "payload_length": true}\n', "must be a byte count"),
        (b'{"data": {}}\n', "event type"),
        (b'{"type": "x", "data": [1]}\n', "data must be a JSON object"),
        (b'{"type": "x"', "middle of an event header"),
    ):
        with pytest.raises(ProtocolError, match=problem):
            asyncio.run(read(data))


def lan_address() -> str | None:
    """This machine's address towards the LAN, when it has one besides loopback."""
    return announced_address("0.0.0.0")


def test_allowlist_decides_who_may_connect():
    settings = WyomingSettings(host="0.0.0.0", allow=["192.168.1.0/24", "10.1.2.3"])
    assert allowed("127.0.0.1", settings) and allowed("::1", settings)
    assert allowed("192.168.1.77", settings) and allowed("::ffff:10.1.2.3", settings)
    assert not allowed("192.168.2.1", settings) and not allowed("10.1.2.4", settings)


def test_a_client_off_the_allowlist_is_refused_and_one_on_it_served(
    voice_config: Config, voice_models: VoiceModels, model_store
):
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    server = start_server(
        voice_config, voice_models, model_store, host="0.0.0.0", allow=["198.51.100.0/24"]
    )
    try:
        assert talk(server.port, [Describe().event()], {"info"}, host=address) == []
        assert server.counts.refused == 1
        assert talk(server.port, [Describe().event()], {"info"})[0].type == "info"  # loopback
    finally:
        server.stop()
    server = start_server(voice_config, voice_models, model_store, host="0.0.0.0", allow=[address])
    try:
        assert talk(server.port, [Describe().event()], {"info"}, host=address)[0].type == "info"
    finally:
        server.stop()


def test_the_server_is_announced_over_zeroconf(
    voice_config: Config, voice_models: VoiceModels, model_store
):
    from zeroconf import IPVersion, Zeroconf

    address = lan_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    name = f"edgeai-test-{time.monotonic_ns() % 100000}"
    server = start_server(
        voice_config, voice_models, model_store,
        host="0.0.0.0", allow=[address], zeroconf=True, name=name,
    )  # fmt: skip
    browser = Zeroconf(ip_version=IPVersion.V4Only)
    try:
        found = browser.get_service_info(
            "_wyoming._tcp.local.", f"{name}._wyoming._tcp.local.", timeout=10_000
        )
        assert found is not None and found.port == server.port
        assert address in found.parsed_addresses()
    finally:
        browser.close()
        server.stop()


def test_a_taken_port_is_one_clear_error(
    server: WyomingServer, voice_config: Config, voice_models: VoiceModels, model_store
):
    from edgeai.errors import ServiceError

    with pytest.raises(ServiceError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        start_server(voice_config, voice_models, model_store, port=server.port)


def test_wyoming_settings_refuse_an_open_bind_without_an_allowlist():
    with pytest.raises(ValueError, match=r"wyoming\.allow"):
        WyomingSettings(host="0.0.0.0")


def test_the_benchmark_times_every_stage_both_ways(server: WyomingServer, tmp_path):
    from edgeai.bench.plots import wyoming_overhead
    from edgeai.bench.wyoming import STAGES, bench_wyoming
    from tests.conftest import assert_png

    samples, rate = soundfile.read(SAMPLE, dtype="int16")
    assert rate == 16000
    pairs: list[int] = []
    result = bench_wyoming(
        server.stages, server.port, [speak("what time is it")], samples, 2, lambda: pairs.append(1)
    )
    assert len(pairs) == 2 * STAGES == 2 * len(result.timings)
    for timing in result.timings:
        assert len(timing.native_ms) == len(timing.wyoming_ms) == 2
        assert all(ms > 0 for ms in timing.native_ms + timing.wyoming_ms)
    assert "| handle (LLM) | first sentence |" in result.markdown()
    assert_png(wyoming_overhead(result, tmp_path / "wyoming.png"))


def test_the_command_refuses_an_open_bind_or_a_bad_address_before_loading_anything():
    from click.testing import CliRunner

    from edgeai.cli.main import cli

    result = CliRunner().invoke(cli, ["wyoming", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "list the clients allowed" in result.output
    result = CliRunner().invoke(cli, ["wyoming", "--host", "0.0.0.0", "--allow", "300.1.1.1"])
    assert result.exit_code == 2
    assert "--allow 300.1.1.1: value is not a valid IPv4 or IPv6 network" in result.output
