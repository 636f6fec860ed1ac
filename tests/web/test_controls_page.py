"""The studio's controls are the service's controls: a slider or selector the person moves
is sent to generate by its `--set` name, and the plan shown after a generation is the plan
played, in the parameters' key even when the plan sent was edited in the old one."""

from __future__ import annotations

import pytest

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

from playwright.sync_api import Page, expect

from tests.web.conftest import LiveServer, screenshot, sign_in
from tests.web.test_studio import type_prompt

pytestmark = pytest.mark.slow

PROMPT = "a gentle pop song with piano and bass"


def _other(page: Page, selector: str) -> str:
    """An option of the selector other than the one chosen."""
    chosen = page.input_value(selector)
    values = page.eval_on_selector(selector, "el => [...el.options].map((o) => o.value)")
    return str(next(v for v in values if v != chosen))


def test_moved_controls_are_sent_by_name_and_the_plan_shown_is_the_plan_played(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page, PROMPT)
    page.click("#analyse-btn")
    expect(page.locator("#plan-figure svg")).to_be_visible()
    old_key = page.inner_text("#chords .chords-key").rstrip(":")
    page.eval_on_selector(
        "#g-duration", "el => { el.value = '6'; el.dispatchEvent(new Event('input')); }"
    )
    page.select_option("#g-rate", "22050")
    expect(page.locator("#plan-card")).to_have_attribute("data-fresh", "fresh")
    # a hand-edited plan is kept when the key moves: it goes to the service in the old key
    page.locator("#plan-editor .sec-btn").first.focus()
    page.keyboard.press("ArrowUp")
    tonic = _other(page, "#p-tonic")
    page.select_option("#p-tonic", tonic)
    expect(page.locator("#plan-card")).to_have_attribute("data-fresh", "stale")
    page.focus("#p-tempo")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    new_key = f"{tonic} {page.input_value('#p-mode')}"
    tempo = float(page.input_value("#p-tempo"))

    with page.expect_request("**/api/v1/aurora/generate") as sent:
        page.click("#generate-btn")
    body = sent.value.post_data_json
    assert body["controls"] == {"key": new_key, "tempo_bpm": tempo}
    assert body["parameters"]["key"] == new_key
    progression = body["plan"]["chord_progression"]
    assert f"{progression['key']} {progression['mode']}" == old_key

    expect(page.locator("#result")).to_have_attribute("data-ready", "true", timeout=180_000)
    # the plan shown now is the one played: refitted into the new key, the edit kept
    expect(page.locator("#chords .chords-key")).to_have_text(f"{new_key}:")
    expect(page.locator("#plan-card")).to_have_attribute("data-fresh", "fresh")
    expect(page.locator("#result-facts")).to_contain_text(new_key)
    expect(page.locator("#result-facts")).to_contain_text(f"{round(tempo)} BPM")
    screenshot(page, "20-controls-plan-as-played")


def test_a_new_reading_of_the_prompt_starts_with_no_controls_set(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page, PROMPT)
    page.click("#analyse-btn")
    expect(page.locator("#params")).to_be_visible()
    page.select_option("#p-meter", _other(page, "#p-meter"))
    page.click("#analyse-btn")
    expect(page.locator("#p-meter")).to_have_value("4/4")

    bodies: list[dict[str, object]] = []

    def refuse(route, request) -> None:  # type: ignore[no-untyped-def]
        bodies.append(request.post_data_json)
        route.fulfill(status=503, json={"error": {"code": "QUEUE_UNAVAILABLE", "message": "x"}})

    page.route("**/api/v1/aurora/generate", refuse)
    page.click("#generate-btn")
    expect(page.locator("#generate-error")).not_to_be_empty()
    assert bodies and "controls" not in bodies[0]
