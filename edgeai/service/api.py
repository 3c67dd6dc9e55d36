"""The local HTTP API (Starlette on uvicorn, in its own thread):

  GET  /health    200 with the service's state, 503 while a loop is stalled or it is stopping
  GET  /metrics   Prometheus text format
  GET  /events    server-sent events: camera events, turns, state changes as they happen
  POST /say       {"text": "..."}: spoken by the voice loop between turns
  GET  /snapshot  the camera's latest picture (JPEG)

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
import socket
import threading
import time
from collections.abc import AsyncIterator
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
from edgeai.sockets import bound_socket

log = logging.getLogger(__name__)

SSE_QUEUE = 100
"""Events a slow /events client may fall behind by before it misses the oldest."""
SSE_KEEPALIVE_S = 15.0
MAX_HEADER_BYTES = 16 << 10
"""Request line and headers together; a client sending more gets 400."""
MAX_SAY_CHARS = 500
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
    """ASGI middleware: every HTTP request must carry the token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
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

    async def snapshot(request: Request) -> Response:
        picture = view.snapshot_jpeg()
        if picture is None:
            return JSONResponse({"error": "no camera picture yet"}, status_code=503)
        return Response(picture, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

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
            Route("/say", say, methods=["POST"]),
            Route("/v1/audio/speech", speech, methods=["POST"]),
            Route("/snapshot", snapshot),
        ]
    )


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
            app = BearerToken(app, settings.token.get_secret_value())
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
            target=self._server.run, kwargs={"sockets": [sock]}, name="http-api", daemon=True
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
