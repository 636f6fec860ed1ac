"""The studio keeps its promises, in a real browser: chips change what they say, the plan
follows the parameters, sign-out forgets the person, a backend found down is skipped at
once, progress resumes after the service comes back, the red banner, suggestions that
continue the phrase, seeds, examples, a Generate in reach on a phone, focus kept."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

from playwright.sync_api import Browser, Page, Route, WebSocketRoute, expect

from tests.web.conftest import LiveServer, new_page, screenshot, sign_in
from tests.web.test_studio import PROMPT, type_prompt

pytestmark = pytest.mark.slow


def enhance_aggressively(page: Page, *, typed: bool = False) -> dict[str, object]:
    if not typed:
        type_prompt(page)
    page.select_option("#enhance-level", "aggressive")
    with page.expect_response("**/api/v1/aurora/enhance") as answer:
        page.click("#enhance-btn")
    enhanced: dict[str, object] = answer.value.json()
    expect(page.locator("#additions .addition").first).to_be_visible()
    return enhanced


def card(page: Page, kind: str, value: str | None = None):  # type: ignore[no-untyped-def]
    cards = page.locator(f'#additions .addition[data-type="{kind}"]')
    return cards.filter(has_text=value) if value else cards.first


def instruments(page: Page) -> list[str]:
    return page.locator("#p-instruments .chip").evaluate_all(
        "nodes => nodes.map((n) => n.dataset.instrument)"
    )


def test_every_chip_does_what_it_says_and_use_this_takes_only_what_was_accepted(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page)
    page.click("#analyse-btn")
    expect(page.locator("#params")).to_be_visible()
    enhanced = enhance_aggressively(page, typed=True)
    kinds = {a["type"] for a in enhanced["additions"]}  # type: ignore[index, union-attr]
    assert {"instrumentation", "time_signature", "era", "structure"} <= kinds
    # readable labels, never the service's field names
    labels = page.locator("#additions .addition .type").all_inner_texts()
    assert "Time signature" in labels and not any("_" in label for label in labels)

    drums = card(page, "instrumentation", "Drum Machine")
    assert "drum_machine" in instruments(page)
    drums.get_by_role("button", name=re.compile("^Reject")).click()
    expect(drums).to_have_attribute("data-state", "rejected")
    expect(drums.locator(".state")).to_contain_text("left out")
    wait_for(lambda: "drum_machine" not in instruments(page))

    bass = card(page, "instrumentation", "Synth Bass")
    bass.get_by_role("button", name=re.compile("^Edit")).click()
    bass.locator("input").fill("cello")
    bass.locator("input").press("Enter")
    expect(bass).to_have_attribute("data-state", "edited")
    wait_for(lambda: "cello" in instruments(page) and "synth_bass" not in instruments(page))

    page.select_option("#p-meter", "3/4")  # the chip's 4/4 must win when accepted
    meter = card(page, "time_signature")
    meter.get_by_role("button", name=re.compile("^Accept")).click()
    expect(page.locator("#p-meter")).to_have_value("4/4")
    tempo = card(page, "tempo")
    tempo.get_by_role("button", name=re.compile("^Edit")).click()
    tempo.locator("input").fill("very fast")
    tempo.locator("input").press("Enter")
    expect(tempo.locator(".state")).to_contain_text("not a tempo the controls can set")
    expect(tempo).to_have_attribute("data-fits", "false")
    card(page, "era").get_by_role("button", name=re.compile("^Accept")).click()
    card(page, "structure").get_by_role("button", name=re.compile("^Accept")).click()
    summary = page.locator("#params-summary")
    expect(summary).to_contain_text("verse chorus")
    expect(summary).to_contain_text("2010s sound")
    screenshot(page, "12-chips-decided")

    with page.expect_response("**/api/v1/aurora/parse"):
        page.click("#use-enhanced")
    used = page.input_value("#prompt")
    assert used.startswith(PROMPT) and used.count(PROMPT) == 1
    assert "Drum Machine" not in used and "Synth Bass" not in used and "cello" in used
    assert "4/4" in used and "2010s" in used
    assert "Synthesizer" not in used  # not decided, so not taken
    # the parameters read from the new prompt keep the rejection and the edit
    wait_for(lambda: "cello" in instruments(page) and "drum_machine" not in instruments(page))


def test_the_plan_follows_the_parameters_or_says_it_is_stale(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page)
    page.click("#analyse-btn")
    expect(page.locator("#plan-figure svg")).to_be_visible()
    with page.expect_request("**/api/v1/aurora/plan") as asked:
        page.select_option("#p-meter", "3/4")
    assert asked.value.post_data_json["parameters"]["time_signature"] == "3/4"
    expect(page.locator("#plan-card")).to_have_attribute("data-fresh", "fresh")
    with page.expect_request("**/api/v1/aurora/plan") as asked:
        page.select_option("#p-tonic", "E")
    assert asked.value.post_data_json["parameters"]["key"].startswith("E ")
    expect(page.locator("#chords .chords-key")).to_contain_text("E ")
    with page.expect_request("**/api/v1/aurora/plan") as asked:
        page.focus("#p-energy")
        page.keyboard.press("End")
    assert asked.value.post_data_json["parameters"]["energy_level"] == 1.0
    expect(page.locator("#plan-card")).to_have_attribute("data-fresh", "fresh")
    # the character sliders say what they change in the music
    expect(page.locator("#p-valence-note")).to_contain_text("chords")
    expect(page.locator("#p-danceability-note")).to_contain_text("kick")
    # an edited plan is not replaced behind the person's back: it is marked stale
    page.locator("#plan-editor .sec-btn").first.focus()
    page.keyboard.press("ArrowUp")
    page.select_option("#p-tonic", "G")
    expect(page.locator("#plan-stale")).to_be_visible()
    expect(page.locator("#plan-card")).to_have_attribute("data-fresh", "stale")
    screenshot(page, "13-plan-stale")
    with page.expect_response("**/api/v1/aurora/plan"):
        page.click("#replan")
    expect(page.locator("#plan-stale")).to_be_hidden()
    expect(page.locator("#chords .chords-key")).to_contain_text("G ")


def test_a_backend_found_down_is_skipped_at_once_and_the_page_says_so(
    browser: Browser, codex_down_server: LiveServer
) -> None:
    page = new_page(browser, codex_down_server)
    try:
        sign_in(page, codex_down_server.token)
        type_prompt(page)
        with page.expect_response("**/api/v1/aurora/enhance"):
            page.click("#enhance-btn")
        health = httpx.get(f"{codex_down_server.base_url}/health").json()
        states = {b["name"]: b["state"] for b in health["aurora"]["backends"]}
        assert states["codex"] == "open"
        banner = page.locator("#banners .banner-orange")
        expect(banner.locator(".backends")).to_contain_text("skips it")
        timings = []
        for level in ("minimal", "moderate", "aggressive"):
            page.select_option("#enhance-level", level)
            start = time.monotonic()
            with page.expect_response("**/api/v1/aurora/enhance") as answer:
                page.click("#enhance-btn")
            timings.append(time.monotonic() - start)
            reason = answer.value.json()["aurora_metadata"]["fallback_reason"]
            assert "skipped without a call" in reason
        assert max(timings) < 1.0, timings
        expect(page.locator("#enhance-btn")).to_be_focused()  # focus stays where it was
        screenshot(page, "14-backend-down")
    finally:
        page.context.close()


def test_progress_resumes_after_the_service_comes_back(page: Page, live_server: LiveServer) -> None:
    """The service 'goes away' the moment the page subscribes to the job, however fast the
    machine renders: the socket closes and polling is refused until the test lets it back."""

    def down(route: Route) -> None:
        route.abort("connectionrefused")

    def through(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and '"subscribe"' in message and outage:
                ws.close()
                return
            server.send(message)

        ws.on_message(from_page)

    outage = [True]
    page.route_web_socket(re.compile(r".*/aurora/stream.*"), through)
    page.route("**/api/v1/generations/**", down)
    sign_in(page, live_server.token)
    type_prompt(page, "a slow ambient drone with a soft synth pad")
    page.eval_on_selector(
        "#g-duration", "el => { el.value = '8'; el.dispatchEvent(new Event('input')); }"
    )
    page.select_option("#g-rate", "22050")
    with page.expect_response("**/api/v1/aurora/generate"):
        page.click("#generate-btn")
    expect(page.locator("#generate-status")).to_contain_text("Lost contact", timeout=10_000)
    expect(page.locator("#progress")).to_have_attribute("data-connection", "lost")
    screenshot(page, "15-reconnecting")
    outage.clear()
    page.unroute("**/api/v1/generations/**")  # ... and comes back
    expect(page.locator("#result")).to_have_attribute("data-ready", "true", timeout=180_000)
    expect(page.locator("#progress-pct")).to_have_text("100%")


def test_a_generation_resumes_on_the_page_after_a_real_server_restart(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page, "a gentle piano piece with soft strings")
    page.eval_on_selector(
        "#g-duration", "el => { el.value = '6'; el.dispatchEvent(new Event('input')); }"
    )
    page.select_option("#g-rate", "22050")
    with page.expect_response("**/api/v1/aurora/generate") as queued:
        page.click("#generate-btn")
    generation_id = queued.value.json()["generation_id"]
    live_server.restart(2.0)  # the running generation finishes, then the server is away 2 s
    expect(page.locator("#result")).to_have_attribute("data-ready", "true", timeout=120_000)
    expect(page.locator("#result")).to_have_attribute("data-generation-id", generation_id)
    expect(page.locator("#progress")).to_have_attribute("data-resumed", "true")
    expect(page.locator("#generate-error")).to_have_text("")


def test_red_banner_for_a_prompt_that_could_not_be_understood(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page, "asdf qwer zxcv uiop")
    page.click("#analyse-btn")
    banner = page.locator("#banners .banner-red")
    expect(banner).to_contain_text("Unable to analyze")
    banner.get_by_role("button", name="Set parameters by hand").click()
    expect(page.locator("#describe-error")).to_contain_text("Name a genre")
    expect(page.locator("#prompt")).to_be_focused()

    def as_defaults(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        body["notices"] = []
        body["aurora_metadata"].update(implementation="defaults", fallback_used=True)
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/aurora/parse", as_defaults)
    page.click("#banners .banner-red >> text=Dismiss")
    page.fill("#prompt", "a calm piano piece for a rainy evening")
    page.click("#analyse-btn")
    expect(page.locator("#banners .banner-red")).to_be_visible()
    page.locator("#banners .banner-red").get_by_role(
        "button", name="Set parameters by hand"
    ).click()
    expect(page.locator("#p-tempo")).to_be_focused()


def test_suggestions_continue_the_phrase_in_words_and_leave_the_buttons_clear(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page, "a calm lo-fi piece with", close=False)
    options = page.locator("#suggestions [role=option]")
    expect(options.first).to_be_visible()
    kinds = set(options.locator(".kind").all_inner_texts())
    assert kinds <= {"finish the word", "continue", "fix the spelling"}
    texts = options.locator(".text").all_inner_texts()
    assert any(" and " in t for t in texts), texts  # a phrase, not a single word
    box = page.locator("#suggestions").bounding_box()
    button = page.locator("#enhance-btn").bounding_box()
    assert box and button and button["y"] >= box["y"] + box["height"]
    screenshot(page, "16-suggestions-phrases")
    page.keyboard.press("Escape")
    # a completion names the whole word it finishes
    page.keyboard.type(", synthw", delay=5)
    expect(options.first).to_be_visible()
    assert options.first.locator(".text").inner_text().startswith("synthw")


def test_a_newcomer_starts_from_an_example_and_the_seed_is_sent(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    expect(page.locator("#examples .example").first).to_be_visible()
    screenshot(page, "17-newcomer")
    example = page.locator("#examples .example").first
    text = example.inner_text()
    example.click()
    expect(page.locator("#prompt")).to_have_value(text)
    expect(page.locator("#examples")).to_be_hidden()
    bodies: list[dict[str, object]] = []

    def capture(route: Route) -> None:
        bodies.append(json.loads(route.request.post_data or "{}"))
        route.fulfill(status=429, json={"error": {"code": "RATE_LIMITED", "message": "x"}})

    page.route("**/api/v1/aurora/generate", capture)
    page.fill("#g-seed", "not a number")
    page.click("#generate-btn")
    expect(page.locator("#generate-error")).to_contain_text("whole number")
    assert not bodies
    page.fill("#g-seed", "1234")
    page.focus("#generate-btn")
    page.keyboard.press("Enter")
    expect(page.locator("#generate-error")).to_contain_text("Too many requests")
    assert bodies[0]["options"]["seed"] == 1234  # type: ignore[index]
    expect(page.locator("#generate-btn")).to_be_focused()


def test_on_a_phone_generate_is_in_reach_without_scrolling(
    browser: Browser, live_server: LiveServer
) -> None:
    page = new_page(browser, live_server, width=390, height=844)
    try:
        sign_in(page, live_server.token)
        type_prompt(page)
        page.click("#analyse-btn")
        expect(page.locator("#params")).to_be_visible()
        box = page.locator("#generate-btn").bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(300)
        box = page.locator("#generate-btn").bounding_box()
        assert box and box["y"] + box["height"] <= 844
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "18-phone-generate-in-reach", full_page=False)
    finally:
        page.context.close()


def test_sign_out_forgets_everything_of_the_person(page: Page, live_server: LiveServer) -> None:
    """After a generation (the resume test's), so there is a track to play in the history."""
    sign_in(page, live_server.token)
    enhance_aggressively(page)
    page.click("#analyse-btn")
    expect(page.locator("#plan-figure svg")).to_be_visible()
    page.fill("#g-seed", "77")
    page.select_option("#g-format", "flac")
    page.check("#g-enhance")
    page.eval_on_selector(
        "#g-duration", "el => { el.value = '9'; el.dispatchEvent(new Event('input')); }"
    )
    item = page.locator("#history .history-item").first
    item.get_by_role("button", name=re.compile("^Play")).click()
    expect(item.locator("audio")).to_be_visible()
    page.click("#sign-out")
    expect(page.locator("#signin")).to_be_visible()
    assert page.locator("#history .history-item").count() == 0
    assert page.evaluate("[...document.querySelectorAll('audio')].every((a) => a.paused)")
    other = live_server.store.users.create("Grace")
    sign_in(page, live_server.store.api_keys.create(other.id, "browser").token)
    expect(page.locator("#account-name")).to_have_text("Grace")
    assert page.input_value("#prompt") == ""
    assert page.input_value("#g-seed") == ""
    assert page.input_value("#g-format") == "wav" and not page.is_checked("#g-enhance")
    expect(page.locator("#g-duration-out")).to_have_text("30 s")
    expect(page.locator("#describe-error")).to_have_text("")
    for hidden in ("#enhanced", "#params", "#plan", "#result", "#progress"):
        expect(page.locator(hidden)).to_be_hidden()
    assert page.locator("#additions .addition").count() == 0
    assert page.locator("#plan-figure svg").count() == 0
    assert page.locator("#banners .banner").count() == 0
    assert page.evaluate("document.getElementById('audio').getAttribute('src')") is None
    expect(page.locator("#history-empty")).to_be_visible()
    expect(page.locator("#examples")).to_be_visible()
    screenshot(page, "19-next-person")


def wait_for(check, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the page did not get there in time")
        time.sleep(0.1)


def test_the_page_s_new_pure_functions(page: Page, live_server: LiveServer) -> None:
    """composePrompt, additionLabel, suggestionLabel, readableReason and FeedbackQueue."""
    page.goto("/")
    result = page.evaluate(
        """async () => {
        const e = await import('/static/enhance.js');
        const s = await import('/static/suggest.js');
        const g = await import('/static/generate.js');
        const h = await import('/static/history.js');
        const additions = [
          {type: 'tempo', value: '96 BPM', decision: 'accepted'},
          {type: 'instrumentation', value: 'Synth Bass', decision: 'edited', chosen: 'cello'},
          {type: 'instrumentation', value: 'Drum Machine', decision: 'rejected'},
          {type: 'time_signature', value: '4/4', decision: 'open'},
          {type: 'era', value: '2010s', decision: 'accepted'},
        ];
        const sent = [];
        const queue = new h.FeedbackQueue(async (id, body) => { sent.push([id, body.n]); }, 50);
        const outcomes = await Promise.all([
          queue.give('a', {n: 1}), queue.give('b', {n: 2}), queue.give('b', {n: 4}),
        ]);
        return {
          composed: e.composePrompt('warm synthwave.', additions),
          nothing: e.composePrompt('warm synthwave', additions.slice(2, 4)),
          labels: ['time_signature', 'SOME_NEW_FIELD', 'instrumentation'].map(e.additionLabel),
          completion: s.suggestionLabel({text: 'die rock', type: 'completion'}, 'a calm in'),
          addition: s.suggestionLabel({text: ' with piano', type: 'addition'}, 'jazz'),
          reason: g.readableReason('codex: CODEX_UNAVAILABLE: connection refused; skipped without a call until it is tried again in 12 s; local_llm: CODEX_TIMEOUT: slow'),
          outcomes,
          sent,
        };
    }"""
    )
    assert result["composed"] == "warm synthwave, at 96 BPM, with a 2010s sound, with cello."
    assert result["nothing"] == "warm synthwave"
    assert result["labels"] == ["Time signature", "Some new field", "Instrument"]
    assert result["completion"] == {"typed": "in", "text": "die rock"}
    assert result["addition"]["text"].strip() == "with piano"
    assert result["reason"] == (
        "The AI service could not be reached. The local AI model took too long."
    )
    # the first goes at once; a track's choice made while waiting replaces its earlier one
    assert result["outcomes"] == ["sent", "replaced", "sent"]
    assert result["sent"] == [["a", 1], ["b", 4]]


def test_a_slow_answer_says_what_the_page_waits_for(page: Page, live_server: LiveServer) -> None:
    held: list[Route] = []
    page.route("**/api/v1/aurora/enhance", lambda route: held.append(route))  # answered later
    sign_in(page, live_server.token)
    type_prompt(page)
    page.click("#enhance-btn")
    expect(page.locator("#describe-status")).to_contain_text("Asking the AI service")
    expect(page.locator("#enhance-btn")).to_have_attribute("aria-busy", "true")
    held[0].continue_()
    expect(page.locator("#additions .addition").first).to_be_visible()
    expect(page.locator("#describe-status")).to_have_text("")
    expect(page.locator("#enhance-btn")).to_be_focused()
