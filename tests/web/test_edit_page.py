"""The page's edit panel in a real browser: remake a section from the timeline, extend,
play it again differently; each loads the new track and says what changed and stayed."""

from __future__ import annotations

import pytest

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

from playwright.sync_api import Page, expect

from tests.web.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.slow


def test_remake_extend_and_vary_from_the_page(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.token)
    page.click("#prompt")
    page.keyboard.type("upbeat synthwave with pulsing bass and dreamy pads", delay=2)
    page.keyboard.press("Escape")
    page.eval_on_selector(
        "#g-duration", "el => { el.value = '16'; el.dispatchEvent(new Event('input')); }"
    )
    page.select_option("#g-rate", "22050")
    page.click("#generate-btn")
    expect(page.locator("#result")).to_have_attribute("data-ready", "true", timeout=180_000)
    expect(page.locator("#edit-panel")).to_be_visible()
    sections = page.locator("#edit-sections [data-remake]")
    assert sections.count() >= 2
    first_id = page.get_attribute("#result", "data-generation-id")
    segment = page.locator("#result-timeline .seg[data-remake='1']")
    expect(segment).to_have_attribute("role", "button")

    segment.click()
    summary = page.locator("#edit-summary")
    expect(summary).to_contain_text("Remade section 1", timeout=120_000)
    expect(summary).to_contain_text("Sample-identical to the track before")
    expect(summary).to_contain_text("Kept: 2")
    remade_id = page.get_attribute("#result", "data-generation-id")
    assert remade_id and remade_id != first_id
    expect(page.locator("#result-timeline .seg").first).to_be_visible()
    screenshot(page, "edit-01-remade")

    page.fill("#edit-to", "24")
    page.click("#edit-extend")
    expect(summary).to_contain_text("Extended to 0:24", timeout=120_000)
    expect(summary).to_contain_text("outro")
    decoded = float(page.get_attribute("#waveform", "data-decoded") or "0")
    assert 23.5 <= decoded <= 24.5

    page.click("#edit-vary")
    expect(summary).to_contain_text("Variation", timeout=120_000)
    expect(page.locator("#edit-error")).to_have_text("")
    screenshot(page, "edit-02-varied")


def test_an_extension_shorter_than_the_track_is_explained(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    page.click("#prompt")
    page.keyboard.type("calm piano and strings in e minor", delay=2)
    page.keyboard.press("Escape")
    page.eval_on_selector(
        "#g-duration", "el => { el.value = '8'; el.dispatchEvent(new Event('input')); }"
    )
    page.select_option("#g-rate", "22050")
    page.click("#generate-btn")
    expect(page.locator("#result")).to_have_attribute("data-ready", "true", timeout=180_000)
    page.fill("#edit-to", "5")
    page.click("#edit-extend")
    expect(page.locator("#edit-error")).to_contain_text("Extend to more than")
