"""The web page the API serves at `/`: plain HTML, CSS and JavaScript shipped in the package
(edgeai/service/web/), no build step.

The files hold no data, so they are served without the token; the page asks for the token,
keeps it in the tab's sessionStorage and sends it as a header with every request (the event
stream too, read with fetch: EventSource cannot send headers). A strict Content-Security-Policy
keeps the page to its own scripts and this origin, and out of other sites' frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True)
class Asset:
    file: str
    media_type: str


ASSETS = {
    "/": Asset("index.html", "text/html; charset=utf-8"),
    "/ui/app.js": Asset("app.js", "text/javascript; charset=utf-8"),
    "/ui/style.css": Asset("style.css", "text/css; charset=utf-8"),
}
PAGE_PATHS = frozenset(ASSETS)
"""What is served without the token."""


@cache
def asset_bytes(file: str) -> bytes:
    """A page file from the package, read once."""
    return (files("edgeai.service") / "web" / file).read_bytes()


def page_routes() -> list[Route]:
    def route(path: str, asset: Asset) -> Route:
        async def serve(request: Request) -> Response:
            return Response(asset_bytes(asset.file), media_type=asset.media_type, headers=HEADERS)

        return Route(path, serve)

    return [route(path, asset) for path, asset in ASSETS.items()]
