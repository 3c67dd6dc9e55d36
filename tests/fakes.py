"""Local stand-ins for the network: a Hugging Face hub and a PyPI simple index on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class FakeServer:
    """Serves `files` (URL path -> bytes); paths in `truncate` stop halfway and hang up."""

    files: dict[str, bytes] = field(default_factory=dict)
    truncate: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve(server: FakeServer) -> Iterator[FakeServer]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("#")[0]
            server.requests.append(path)
            body = server.files.get(path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            kind = "text/html" if path.endswith("/") else "application/octet-stream"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if path in server.truncate:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_wheel(package: str, version: str, files: dict[str, bytes]) -> tuple[str, bytes]:
    """A minimal valid pure-Python wheel carrying `files` (paths inside the wheel)."""
    dist = package.replace("-", "_")
    name = f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: edgeai-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in contents) + f"{info}/RECORD,,\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
        archive.writestr(f"{info}/RECORD", record)
    return name, buffer.getvalue()


def add_to_index(server: FakeServer, package: str, wheel_name: str, wheel: bytes) -> None:
    """Publish a wheel on the fake index the way PEP 503 lays it out."""
    digest = hashlib.sha256(wheel).hexdigest()
    server.files[f"/files/{wheel_name}"] = wheel
    server.files[f"/simple/{package}/"] = (
        f'<html><body><a href="/files/{wheel_name}#sha256={digest}">{wheel_name}</a></body></html>'
    ).encode()
