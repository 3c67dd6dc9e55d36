"""Hostile clients against the real HTTP API and Wyoming servers on 127.0.0.1: foreign Hosts and
origins, non-JSON and oversized bodies, slow and flooding clients. Each probe is refused or
dropped, and a well-behaved client is served afterwards. (The servers run with stand-ins for the
service and its models: what is probed is everything in front of them.)"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from wyoming.info import Info

from edgeai.config import ApiSettings, WyomingSettings
from edgeai.service.api import ApiServer, SayResult
from edgeai.service.hub import EventHub
from edgeai.voice.timeline import TurnTimeline
from edgeai.wyoming.server import WyomingServer
from edgeai.wyoming.session import Stages

TOKEN = "a-long-random-test-token"
TIMEOUT_S = 1.0
"""The servers' request, idle and read timeouts here: short, so dropped clients go quickly."""
WAIT_S = 20.0
"""How long a probe waits to see a connection closed: far above the timeout, never a figure."""


class StandIn:
    """What the API reads from the service: a voice that records what it was asked to say."""

    def __init__(self) -> None:
        self.hub = EventHub()
        self.said: list[str] = []
        self.pictures_asked: list[str] = []

    def health(self) -> tuple[bool, dict[str, Any]]:
        return True, {"ok": True}

    def metrics(self) -> bytes:
        return b"edgeai_info 1\n"

    def say(self, text: str) -> SayResult:
        self.said.append(text)
        return SayResult.QUEUED

    def snapshot_jpeg(self) -> bytes | None:
        return b"\xff\xd8 a picture"

    def speech_wav(self, text: str) -> bytes | None:
        return None

    def event_snapshot(self, event_id: str) -> bytes | None:
        self.pictures_asked.append(event_id)
        return None

    def turns(self) -> list[TurnTimeline]:
        return [TurnTimeline(transcript=f"turn {n}") for n in range(5)]

    def ask(self, text: str) -> SayResult:
        return SayResult.NOT_LISTENING


def start_api(view: StandIn, **settings: object) -> ApiServer:
    defaults = {"port": 0, "request_timeout_s": TIMEOUT_S, "max_body_bytes": 2048}
    api = ApiServer(ApiSettings.model_validate(defaults | settings), view)  # type: ignore[arg-type]
    api.start()
    return api


@pytest.fixture
def view() -> StandIn:
    return StandIn()


@pytest.fixture
def api(view: StandIn) -> Iterator[ApiServer]:
    server = start_api(view, allowed_hosts=["edge.example"], max_connections=16)
    yield server
    server.stop()


def base(api: ApiServer) -> str:
    return f"http://127.0.0.1:{api.port}"


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server closes `sock` (what it sent before that is discarded)."""
    sock.settimeout(WAIT_S)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_only_this_machines_host_names_and_its_own_origin_are_answered(api: ApiServer):
    url = f"{base(api)}/health"
    port = api.port
    for host in ("127.0.0.1", f"localhost:{port}", f"[::1]:{port}", f"edge.example:{port}"):
        assert httpx.get(url, headers={"Host": host}).status_code == 200, host
    own = {"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}"}
    assert httpx.get(url, headers=own).status_code == 200
    for headers in (
        {"Host": f"rebound.attacker.example:{port}"},  # DNS rebinding
        {"Origin": "http://attacker.example"},  # a page's fetch
        {"Sec-Fetch-Site": "cross-site"},  # a page's <img>
    ):
        refused = httpx.get(url, headers=headers)
        assert refused.status_code == 403, headers
        assert "error" in refused.json()
    assert api.refused.foreign == 3


def test_a_post_must_be_json_of_bounded_size(api: ApiServer, view: StandIn):
    url = f"{base(api)}/say"
    form = httpx.post(url, content=b'{"text": "hello"}', headers={"Content-Type": "text/plain"})
    assert form.status_code == 415 and "application/json" in form.json()["error"]
    assert httpx.post(url, json={"text": "x" * 4000}).status_code == 413
    assert view.said == []
    assert httpx.post(url, json={"text": "hello"}).status_code == 202
    assert view.said == ["hello"]
    assert (api.refused.not_json, api.refused.too_large) == (1, 1)


def test_an_oversized_body_is_refused_before_it_is_sent(api: ApiServer):
    """A 1 GB Content-Length gets 413 from the headers alone: nothing is buffered."""
    with socket.create_connection(("127.0.0.1", api.port)) as sock:
        sock.sendall(
            b"POST /say HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        sock.settimeout(WAIT_S)
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")


def test_a_chunked_body_is_cut_off_at_the_cap(api: ApiServer):
    def chunks() -> Iterator[bytes]:
        for _ in range(1000):
            yield b'{"text": "' + b"x" * 1000

    refused = httpx.post(
        f"{base(api)}/say", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 413


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # connects and says nothing
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",  # headers that never end
        b"POST /say HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{",  # a body that never ends
    ],
    ids=["silent", "slow-headers", "slow-body"],
)
def test_slow_clients_are_dropped_at_the_deadline(api: ApiServer, sent: bytes):
    with socket.create_connection(("127.0.0.1", api.port)) as sock:
        sock.sendall(sent)
        assert closed_by_server(sock)
    assert api.refused.timed_out == 1
    assert httpx.get(f"{base(api)}/health").status_code == 200


def test_a_flood_of_connections_gets_503_until_it_is_dropped(api: ApiServer):
    flood = [socket.create_connection(("127.0.0.1", api.port)) for _ in range(16)]
    try:
        assert httpx.get(f"{base(api)}/health").status_code == 503
        assert all(closed_by_server(sock) for sock in flood)
        assert httpx.get(f"{base(api)}/health").status_code == 200
    finally:
        for sock in flood:
            sock.close()


def test_with_a_required_token_nothing_is_read_or_driven_without_it(view: StandIn):
    with pytest.raises(ValidationError, match=r"api\.require_token is true but api\.token"):
        ApiSettings(require_token=True)
    api = start_api(view, require_token=True, token=TOKEN)
    try:
        url = base(api)
        for method, path in (
            ("GET", "/health"),
            ("GET", "/metrics"),
            ("GET", "/events"),
            ("GET", "/snapshot"),
            ("GET", "/turns"),
            ("GET", "/events/recent"),
            ("GET", "/events/some-event/snapshot"),
            ("POST", "/say"),
            ("POST", "/ask"),
            ("POST", "/v1/audio/speech"),
            ("POST", "/"),
        ):
            answer = httpx.request(method, url + path, json={"text": "x", "input": "x"})
            assert answer.status_code == 401, path
        assert view.said == [] and view.pictures_asked == []
        # the web page's files hold no data: served without the token, kept to their origin
        for path in ("/", "/ui/app.js", "/ui/style.css"):
            page = httpx.get(url + path)
            assert page.status_code == 200, path
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert httpx.get(f"{url}/ui/other.js").status_code == 401
        rebound = httpx.get(f"{url}/", headers={"Host": "rebound.attacker.example"})
        assert rebound.status_code == 403  # the Host allowlist still applies to the page
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{url}/snapshot", headers=auth).status_code == 200
        turns = httpx.get(f"{url}/turns?limit=2", headers=auth).json()["turns"]
        assert [t["transcript"] for t in turns] == ["turn 4", "turn 3"]  # newest first
        assert httpx.get(f"{url}/turns?limit=0", headers=auth).status_code == 422
        assert httpx.post(f"{url}/ask", headers=auth, json={"text": "hi"}).status_code == 503
        for bad in ("..%2F..%2Fsecret", "a%20b", "x" * 201):
            answer = httpx.get(f"{url}/events/{bad}/snapshot", headers=auth)
            assert answer.status_code in (404, 422), bad
        assert view.pictures_asked == []
        missing = httpx.get(
            f"{url}/events/20261204T1200-person_entered-door-1/snapshot", headers=auth
        )
        assert missing.status_code == 404 and view.pictures_asked == [
            "20261204T1200-person_entered-door-1"
        ]
    finally:
        api.stop()


# --- Wyoming ---------------------------------------------------------------------------------


@pytest.fixture
def wyoming() -> Iterator[WyomingServer]:
    stages = Stages(stt=None, tts=None, responder=None, conversations=None, wake=None, info=Info())  # type: ignore[arg-type]
    settings = WyomingSettings(
        port=0,
        zeroconf=False,
        max_connections=4,
        idle_timeout_s=TIMEOUT_S,
        read_timeout_s=TIMEOUT_S,
    )
    server = WyomingServer(settings, stages)
    server.start()
    yield server
    server.stop()


def describe(port: int) -> list[str]:
    """The event types a describe gets back (the first line of each answer)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b'{"type": "describe"}\n')
        sock.settimeout(WAIT_S)
        answer = sock.makefile("rb").readline()
    return [json.loads(answer)["type"]] if answer else []


def test_wyoming_refuses_clients_over_the_cap_and_drops_idle_ones(wyoming: WyomingServer):
    idle = [socket.create_connection(("127.0.0.1", wyoming.port)) for _ in range(4)]
    try:
        with socket.create_connection(("127.0.0.1", wyoming.port)) as extra:
            assert closed_by_server(extra)
        assert (wyoming.counts.busy, wyoming.counts.timed_out) == (1, 0)
        assert all(closed_by_server(sock) for sock in idle)
    finally:
        for sock in idle:
            sock.close()
    assert (wyoming.counts.timed_out, wyoming.counts.open) == (4, 0)
    assert describe(wyoming.port) == ["info"]


def test_wyoming_drops_a_client_that_stops_in_the_middle_of_an_event(wyoming: WyomingServer):
    with socket.create_connection(("127.0.0.1", wyoming.port)) as sock:
        sock.sendall(b'{"type": "audio-chunk", "payload_length": 100}\n' + b"\0" * 10)
        assert closed_by_server(sock)
    assert wyoming.counts.timed_out == 1
    assert describe(wyoming.port) == ["info"]
