"""Fetch model files from a Hugging Face hub (or a mirror) over plain HTTPS.

The hub serves `{endpoint}/{repo}/resolve/{revision}/{path}`; `HF_ENDPOINT` points elsewhere
(a mirror, or a local server in tests) and `HF_TOKEN` authorizes gated repositories.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import httpx

from edgeai.catalog import CatalogEntry, HuggingFaceSource
from edgeai.errors import SourceError
from edgeai.store.files import CHUNK_BYTES, write_verified

DEFAULT_ENDPOINT = "https://huggingface.co"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def fetch_huggingface(source: HuggingFaceSource, entry: CatalogEntry, workdir: Path) -> None:
    endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    token = os.environ.get("HF_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(headers=headers, timeout=TIMEOUT, follow_redirects=True) as client:
        for expected in entry.files:
            path = source.files[expected.name]
            url = f"{endpoint}/{source.repo}/resolve/{source.revision}/{quote(path)}"
            try:
                with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise SourceError(f"{url} answered HTTP {response.status_code}")
                    write_verified(
                        response.iter_bytes(CHUNK_BYTES),
                        workdir / expected.name,
                        expected,
                        label=entry.name,
                    )
            except httpx.HTTPError as e:
                raise SourceError(f"{url}: {type(e).__name__}: {e or 'no answer'}") from None
