"""Fetch model files from a Hugging Face hub (or a mirror) over plain HTTPS.

The hub serves `{endpoint}/{repo}/resolve/{revision}/{path}`; `HF_ENDPOINT` points elsewhere
(a mirror, or a local server in tests) and `HF_TOKEN` authorizes gated repositories.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx

from edgeai.errors import SourceError
from edgeai.models.catalog import CatalogEntry, HuggingFaceSource
from edgeai.store.files import CHUNK_BYTES, write_verified

DEFAULT_ENDPOINT = "https://huggingface.co"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def hub_client() -> httpx.Client:
    token = os.environ.get("HF_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(headers=headers, timeout=TIMEOUT, follow_redirects=True)


def hub_url(repo: str, revision: str, path: str) -> str:
    endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    return f"{endpoint}/{repo}/resolve/{revision}/{quote(path)}"


@contextmanager
def answer(client: httpx.Client, url: str) -> Iterator[httpx.Response]:
    """The streamed 200 answer to GET `url`; any other answer or a broken connection, even
    midway through the body, is a SourceError naming the URL."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SourceError(f"{url} answered HTTP {response.status_code}")
            yield response
    except httpx.HTTPError as e:
        raise SourceError(f"{url}: {type(e).__name__}: {e or 'no answer'}") from None


def fetch_huggingface(source: HuggingFaceSource, entry: CatalogEntry, workdir: Path) -> None:
    with hub_client() as client:
        for expected in entry.files:
            url = hub_url(source.repo, source.revision, source.files[expected.name])
            with answer(client, url) as response:
                write_verified(
                    response.iter_bytes(CHUNK_BYTES), workdir / expected.name, expected, entry.name
                )
