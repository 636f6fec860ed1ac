"""The studio's Live mode in a real browser: bars arrive over the live socket and play on
the AudioContext, and a slider moved while it plays is heard from a later bar."""

from __future__ import annotations

import pytest

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

from playwright.sync_api import Page, expect

from tests.web.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.slow

PROMPT = "an upbeat synthwave track with pulsing bass, drums and dreamy pads"


def _wait(page: Page, expression: str, timeout_s: float = 20.0) -> None:
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout_s} s: {expression}")


def _blocks(page: Page) -> int:
    return int(page.evaluate("document.getElementById('live-status').dataset.blocks"))


def test_live_plays_bars_and_the_tempo_slider_acts_as_it_plays(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    page.fill("#prompt", PROMPT)
    page.keyboard.press("Escape")
    page.click("#analyse-btn")
    expect(page.locator("#params")).to_be_visible()
    page.click("#live-btn")
    expect(page.locator("#live-btn")).to_have_attribute("aria-pressed", "true")
    _wait(page, "Number(document.getElementById('live-status').dataset.blocks) >= 2")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "playing")
    first_clock = float(page.evaluate("document.getElementById('live-status').dataset.audioTime"))
    screenshot(page, "live-playing", full_page=False)
    page.eval_on_selector(
        "#p-tempo",
        "el => { el.value = '150'; el.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    _wait(page, "(document.getElementById('live-status').dataset.changed || '')"
                ".includes('tempo_bpm')", timeout_s=30)  # fmt: skip
    expect(page.locator("#live-status")).to_contain_text("150 BPM")
    later_clock = float(page.evaluate("document.getElementById('live-status').dataset.audioTime"))
    assert later_clock > first_clock  # the AudioContext's clock runs: it is playing
    assert page.locator("#live-error").inner_text() == ""
    page.click("#live-btn")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "stopped")
    blocks = _blocks(page)
    page.wait_for_timeout(1500)
    assert _blocks(page) == blocks  # nothing more arrives once stopped


def test_live_asks_for_a_prompt_first(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.token)
    page.click("#live-btn")
    expect(page.locator("#live-error")).to_contain_text("at least 10 characters")
    expect(page.locator("#live-btn")).to_have_attribute("aria-pressed", "false")
