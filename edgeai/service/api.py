"""The local HTTP API (Starlette on uvicorn, in its own thread):

  GET  /health    200 with the service's state, 503 while a loop is stalled or it is stopping
  GET  /metrics   Prometheus text format
  GET  /events    server-sent events: camera events, turns, state changes as they happen
  GET  /events/recent              the last events published, as JSON
  GET  /events/<id>/snapshot       a stored camera event's picture (JPEG)
  GET  /turns     the latest turns' timelines, newest first (?limit=N)
  POST /say       {"text": "..."}: spoken by the voice loop between turns
  POST /ask       {"text": "..."}: a typed request, answered in text (its turn's timeline)
  GET  /snapshot  the camera's latest picture (JPEG)
  GET  /          the web page (page.py); it and its assets are the only thing served without
                  the token, and they hold no data

It listens on 127.0.0.1 unless configured otherwise; with a token configured (required off
loopback, and on loopback with api.require_token) every request must carry
`Authorization: Bearer <token>`, else 401. What is refused before that (foreign Host, other
origins, non-JSON and oversized bodies, slow requests) is in guards.py.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Collection
from concurrent.futures import Future
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Protocol

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from edgeai.config import ApiSettings
from edgeai.errors import ServiceError
from edgeai.service.guards import (
    BodyGuard,
    GuardStats,
    OriginGuard,
    deadline_protocol,
    host_names,
)
from edgeai.service.hub import EventHub, ServiceEvent
from edgeai.service.page import PAGE_PATHS, page_routes
from edgeai.sockets import bound_socket
from edgeai.voice.timeline import TurnTimeline

log = logging.getLogger(__name__)

API_THREAD = "http-api"
"""The server's thread; the supervisor knows it by this name."""
SSE_QUEUE = 100
"""Events a slow /events client may fall behind by before it misses the oldest."""
SSE_KEEPALIVE_S = 15.0
MAX_HEADER_BYTES = 16 << 10
"""Request line and headers together; a client sending more gets 400."""
MAX_SAY_CHARS = 500
ASK_TIMEOUT_S = 60.0
"""A typed request waits behind the turns before it; past this it gets 504."""
MAX_TURNS = 100
"""The most timelines one /turns answer carries."""
EVENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
"""A stored camera event's id (a file name in the events folder, never a path)."""
MAX_SPEECH_CHARS = 4096
"""OpenAI's own cap on /v1/audio/speech input."""


class SayResult(Enum):
    QUEUED = "queued"
    BUSY = "busy"
    """Too many announcements are waiting already: asked again later, it may go through."""
    NOT_LISTENING = "not listening"
    """No voice loop runs to speak it."""


class ServiceView(Protocol):
    """What the API reads from and asks of the running service."""

    hub: EventHub

    def health(self) -> tuple[bool, dict[str, Any]]: ...

    def metrics(self) -> bytes: ...

    def say(self, text: str) -> SayResult: ...

    def snapshot_jpeg(self) -> bytes | None: ...

    def event_snapshot(self, event_id: str) -> bytes | None:
        """The stored picture of camera event `event_id`; None when there is none."""
        ...

    def turns(self) -> list[TurnTimeline]:
        """The kept timelines, oldest first."""
        ...

    def ask(self, text: str) -> Future[TurnTimeline] | SayResult:
        """The turn answering typed `text`, once taken; BUSY or NOT_LISTENING if refused."""
        ...

    def speech_wav(self, text: str) -> bytes | None:
        """`text` spoken by the service's voice, as a WAV file; None without a voice loop."""
        ...


@dataclass
class StreamStats:
    """The /events clients, for /metrics."""

    clients: int = 0
    dropped: int = 0
    """Events a slow client missed because its queue was full."""


class SayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_SAY_CHARS)


class SpeechRequest(BaseModel):
    """OpenAI's /v1/audio/speech body; model, voice and speed are accepted and ignored (one
    voice here), the audio comes as WAV."""

    model_config = ConfigDict(extra="ignore")
    input: str = Field(min_length=1, max_length=MAX_SPEECH_CHARS)
    response_format: Literal["wav"] = "wav"


def _invalid(error: ValidationError, expected: str) -> JSONResponse:
    problem = error.errors()[0]
    where = ".".join(str(p) for p in problem["loc"]) or "body"
    return JSONResponse(
        {"error": f"{where}: {problem['msg']}; expected {expected}"}, status_code=422
    )


class BearerToken:
    """ASGI middleware: every HTTP request must carry the token, but a GET of a `public` path
    (the web page's files, which hold no data: the page asks for the token itself)."""

    def __init__(self, app: ASGIApp, token: str, public: Collection[str] = ()) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.public = frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._public(scope):
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = JSONResponse(
                    {"error": "missing or wrong token: send 'Authorization: Bearer <token>'"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _public(self, scope: Scope) -> bool:
        return scope["method"] in ("GET", "HEAD") and scope["path"] in self.public


def build_app(view: ServiceView, closing: threading.Event, streams: StreamStats) -> Starlette:
    async def health(request: Request) -> Response:
        ok, body = view.health()
        return JSONResponse(body, status_code=200 if ok else 503)

    async def metrics(request: Request) -> Response:
        return Response(view.metrics(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def say(request: Request) -> Response:
        try:
            spoken = SayRequest.model_validate_json(await request.body())
        except ValidationError as e:
            return _invalid(e, '{"text": "..."}')
        result = view.say(spoken.text)
        if result is SayResult.BUSY:
            busy = "too many announcements are waiting to be spoken; try again later"
            return JSONResponse({"error": busy}, status_code=429, headers={"Retry-After": "5"})
        if result is SayResult.NOT_LISTENING:
            return JSONResponse({"error": "the voice loop is not running"}, status_code=503)
        return JSONResponse({"queued": spoken.text}, status_code=202)

    async def speech(request: Request) -> Response:
        try:
            wanted = SpeechRequest.model_validate_json(await request.body())
        except ValidationError as e:
            return _invalid(e, '{"input": "...", "response_format": "wav"}')
        audio = await asyncio.to_thread(view.speech_wav, wanted.input)
        if audio is None:
            return JSONResponse({"error": "the voice loop is not running"}, status_code=503)
        return Response(audio, media_type="audio/wav")

    async def ask(request: Request) -> Response:
        try:
            asked = SayRequest.model_validate_json(await request.body())
        except ValidationError as e:
            return _invalid(e, '{"text": "..."}')
        answer = view.ask(asked.text)
        if answer is SayResult.BUSY:
            busy = "too many typed requests are waiting; try again later"
            return JSONResponse({"error": busy}, status_code=429, headers={"Retry-After": "5"})
        if isinstance(answer, SayResult):
            return JSONResponse({"error": "the voice loop is not running"}, status_code=503)
        answered = asyncio.wrap_future(answer)
        done, _ = await asyncio.wait({answered}, timeout=ASK_TIMEOUT_S)
        if not done:
            late = f"no answer within {ASK_TIMEOUT_S:.0f} s: the assistant is busy"
            return JSONResponse({"error": late}, status_code=504)
        if answered.cancelled():
            return JSONResponse({"error": "the voice loop stopped"}, status_code=503)
        return JSONResponse(answered.result().as_dict())

    async def turns(request: Request) -> Response:
        limit = request.query_params.get("limit", "20")
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_TURNS:
            return JSONResponse(
                {"error": f"limit {limit[:16]!r}: expected a whole number 1 to {MAX_TURNS}"},
                status_code=422,
            )
        kept = view.turns()[-int(limit) :]
        return JSONResponse({"turns": [t.as_dict() for t in reversed(kept)]})

    async def recent_events(request: Request) -> Response:
        recent = list(view.hub.recent)
        return Response(
            json.dumps({"events": [e.as_dict() for e in recent]}, default=str),
            media_type="application/json",
        )

    async def event_snapshot(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        if not EVENT_ID.match(event_id):
            return JSONResponse(
                {"error": "expected a camera event's id (letters, digits, '_', '.', '-')"},
                status_code=422,
            )
        picture = view.event_snapshot(event_id)
        if picture is None:
            return JSONResponse({"error": f"no stored picture of {event_id}"}, status_code=404)
        return _jpeg(picture)

    async def snapshot(request: Request) -> Response:
        picture = view.snapshot_jpeg()
        if picture is None:
            return JSONResponse({"error": "no camera picture yet"}, status_code=503)
        return _jpeg(picture)

    async def events(request: Request) -> Response:
        return StreamingResponse(
            _event_stream(view.hub, closing, streams),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/metrics", metrics),
            Route("/events", events),
            Route("/events/recent", recent_events),
            Route("/events/{event_id}/snapshot", event_snapshot),
            Route("/turns", turns),
            Route("/say", say, methods=["POST"]),
            Route("/ask", ask, methods=["POST"]),
            Route("/v1/audio/speech", speech, methods=["POST"]),
            Route("/snapshot", snapshot),
            *page_routes(),
        ]
    )


def _jpeg(picture: bytes) -> Response:
    return Response(picture, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def _event_stream(
    hub: EventHub, closing: threading.Event, streams: StreamStats
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[ServiceEvent] = asyncio.Queue(maxsize=SSE_QUEUE)

    def enqueue(event: ServiceEvent) -> None:
        if queue.full():  # a slow client misses the oldest, never stalls the service
            queue.get_nowait()
            streams.dropped += 1
        queue.put_nowait(event)

    def from_service_thread(event: ServiceEvent) -> None:
        loop.call_soon_threadsafe(enqueue, event)

    unsubscribe = hub.subscribe(from_service_thread)
    streams.clients += 1
    try:
        yield ": connected\n\n"
        idle_s = 0.0
        while not closing.is_set():
            try:
                event = await asyncio.wait_for(queue.get(), timeout=1.0)
            except asyncio.TimeoutError:
                idle_s += 1.0
                if idle_s >= SSE_KEEPALIVE_S:
                    idle_s = 0.0
                    yield ": keepalive\n\n"
                continue
            idle_s = 0.0
            data = json.dumps(event.as_dict(), default=str)
            yield f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n"
    finally:
        unsubscribe()
        streams.clients -= 1


class ApiServer:
    def __init__(self, settings: ApiSettings, view: ServiceView) -> None:
        self.settings = settings
        self._closing = threading.Event()
        self.streams = StreamStats()
        self.refused = GuardStats()
        app: ASGIApp = BodyGuard(
            build_app(view, self._closing, self.streams), settings.max_body_bytes, self.refused
        )
        if settings.token is not None:
            app = BearerToken(app, settings.token.get_secret_value(), PAGE_PATHS)
        app = OriginGuard(app, host_names(settings.allowed_hosts), self.refused)
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                http=deadline_protocol(settings.request_timeout_s, self.refused),
                limit_concurrency=settings.max_connections,
                h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Bind here, so a taken port is a clear error now, then serve in a thread."""
        host, port = self.settings.host, self.settings.port
        sock = bound_socket(host, port, "HTTP API", "api")
        self._socket = sock
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=API_THREAD, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise ServiceError(f"the HTTP API did not start within {timeout_s:.0f} s")
            self._thread.join(0.02)
        log.info("HTTP API on http://%s:%d", host, self.port)

    @property
    def thread(self) -> threading.Thread | None:
        """The server's thread, for the supervisor: it must live until `stop`."""
        return self._thread

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one picked for port 0)."""
        if self._socket is None:
            return self.settings.port
        return int(self._socket.getsockname()[1])

    def stop(self) -> None:
        self._closing.set()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=3.0)
        if self._socket is not None:
            self._socket.close()
