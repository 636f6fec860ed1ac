"""The studio page in a real browser: sign in, suggest, enhance, shape, generate, play,
download, give feedback, and the honesty banners when the LLM backends are down."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import LiveServer, new_page, screenshot, sign_in

pytestmark = pytest.mark.slow

PROMPT = "dreamy synthwave with warm pads and a steady beat"


def wait_until(page: Page, expression: str, timeout_s: float = 10.0) -> None:
    """Poll a JS expression (wait_for_function would need 'unsafe-eval', which the page's CSP forbids)."""
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout_s} s: {expression}")


def type_prompt(page: Page, text: str = PROMPT, *, close: bool = True) -> None:
    """Type into the prompt; with `close`, Esc then keeps suggestions off the buttons."""
    page.click("#prompt")
    page.keyboard.type(text, delay=5)
    if close:
        page.keyboard.press("Escape")


def test_sign_in_rejects_a_wrong_key_in_words_then_accepts_the_right_one(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")
    expect(page.locator("#api-key")).to_be_focused()
    page.keyboard.type("ss_not-a-real-key")
    page.keyboard.press("Enter")
    expect(page.locator("#signin-error")).to_contain_text("not accepted")
    screenshot(page, "01-sign-in-error")
    page.fill("#api-key", live_server.token)
    page.keyboard.press("Enter")
    expect(page.locator("#account-name")).to_have_text("Ada")
    assert page.evaluate("localStorage.getItem('soundstar.apiKey')") == live_server.token
    page.reload()
    expect(page.locator("#studio")).to_be_visible()
    page.click("#sign-out")
    expect(page.locator("#signin")).to_be_visible()
    assert page.evaluate("localStorage.getItem('soundstar.apiKey')") is None


def test_suggestions_arrive_over_the_socket_and_are_chosen_with_the_keyboard(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page, "dreamy synthwave with warm pads", close=False)
    options = page.locator("#suggestions [role=option]")
    expect(options.first).to_be_visible()
    expect(page.locator("#prompt")).to_have_attribute("aria-expanded", "true")
    assert page.get_attribute("#suggestions", "data-via") == "stream"
    screenshot(page, "02-suggestions")
    first = options.first.locator(".text").inner_text().lstrip("…").strip()
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(page.locator("#prompt")).to_have_attribute("aria-activedescendant", "suggestion-0")
    page.keyboard.press("Enter")
    expect(page.locator("#suggestions")).to_be_hidden()
    value = page.input_value("#prompt")
    assert first in value and value.startswith("dreamy synthwave")
    # Esc closes the list without changing the prompt.
    page.keyboard.type(" and a soft kick", delay=5)
    expect(options.first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#suggestions")).to_be_hidden()
    assert page.input_value("#prompt").endswith("and a soft kick")
    # ... and typing then Esc before the 300 ms debounce stops the list from opening.
    page.keyboard.type(" and vinyl", delay=5)
    page.keyboard.press("Escape")
    page.wait_for_timeout(900)
    expect(page.locator("#suggestions")).to_be_hidden()


def test_suggestions_fall_back_to_the_endpoint_when_the_socket_fails(
    page: Page, live_server: LiveServer
) -> None:
    page.route_web_socket(re.compile(r".*/aurora/stream.*"), lambda ws: ws.close())
    sign_in(page, live_server.token)
    type_prompt(page, "melancholic piano ballad in the rain", close=False)
    expect(page.locator("#suggestions [role=option]").first).to_be_visible()
    assert page.get_attribute("#suggestions", "data-via") == "http"
    # Progress falls back to polling GET /generations/{id}.
    page.keyboard.press("Escape")
    page.eval_on_selector(
        "#g-duration", "el => { el.value = '5'; el.dispatchEvent(new Event('input')); }"
    )
    page.select_option("#g-rate", "22050")
    page.click("#generate-btn")
    expect(page.locator("#result")).to_have_attribute("data-ready", "true", timeout=180_000)
    assert page.get_attribute("#progress", "data-via") == "poll"
    with page.expect_download() as plan_info:
        page.click('[data-download="plan"]')
    plan = json.loads(plan_info.value.path().read_text(encoding="utf-8"))
    assert plan["sections"]


def test_enhance_then_accept_and_edit_chips_records_refinements(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.token)
    type_prompt(page)
    page.select_option("#enhance-level", "aggressive")
    with page.expect_response("**/api/v1/aurora/enhance") as answer:
        page.click("#enhance-btn")
    enhanced = answer.value.json()
    session_id = enhanced["session_id"]
    # Nothing accepted yet: "Use this" would put the person's own words back.
    expect(page.locator("#enhanced-text")).to_have_text(enhanced["original_prompt"])
    cards = page.locator("#additions .addition")
    assert cards.count() == len(enhanced["additions"]) >= 2
    first, second = enhanced["additions"][0], enhanced["additions"][1]

    cards.nth(0).get_by_role("button", name=re.compile("^Accept")).click()
    expect(cards.nth(0)).to_have_attribute("data-state", "accepted")
    cards.nth(1).get_by_role("button", name=re.compile("^Edit")).click()
    editor = cards.nth(1).locator("input")
    expect(editor).to_be_focused()
    editor.fill("my own value")
    editor.press("Enter")
    expect(cards.nth(1)).to_have_attribute("data-state", "edited")
    screenshot(page, "03-enhanced-chips")

    def stored() -> list[tuple[str, str | None, str]]:
        rows = live_server.store.refinements.list_for_session(session_id, live_server.user_id)
        return [(r.field, r.new_value, r.source) for r in rows]

    expect(cards.nth(1).locator(".state")).to_contain_text("Edited")
    for _ in range(50):
        if len(stored()) >= 2:
            break
        page.wait_for_timeout(100)
    assert (first["type"], first["value"], "accepted") in stored()
    assert (second["type"], "my own value", "edited") in stored()

    page.click("#use-enhanced")
    used = page.input_value("#prompt")
    assert used.startswith(enhanced["original_prompt"]) and "my own value" in used
    assert used == page.locator("#enhanced-text").inner_text()
    expect(page.locator("#params")).to_be_visible()


def test_sliders_are_what_is_generated(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.token)
    type_prompt(page)
    page.click("#analyse-btn")
    expect(page.locator("#params")).to_be_visible()
    expect(page.locator("#plan-figure svg")).to_be_visible()
    before = float(page.input_value("#p-tempo"))
    page.focus("#p-tempo")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#p-tempo-out")).to_have_text(f"{round(before + 7)} BPM")
    expect(page.locator("#params-summary")).to_contain_text(f"{round(before + 7)} BPM")
    page.focus("#p-energy")
    page.keyboard.press("End")
    # a section's energy, edited with the keyboard
    section = page.locator("#plan-editor .sec-btn").first
    level = float(section.locator(".lvl").inner_text())
    section.focus()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#plan-editor .sec-btn").first.locator(".lvl")).to_have_text(
        f"{min(1.0, level + 0.05):.2f}"
    )
    # remove an instrument chip
    chips = page.locator("#p-instruments .chip")
    count = chips.count()
    chips.first.get_by_role("button").click()
    expect(chips).to_have_count(count - 1)
    page.fill("#p-instrument-name", "Cello")
    page.click("#p-instrument-add")
    expect(page.locator('#p-instruments [data-instrument="cello"]')).to_be_visible()
    # a second cello is a second player, named as its track will be
    page.fill("#p-instrument-name", "Cello")
    page.click("#p-instrument-add")
    cellos = page.locator('#p-instruments [data-instrument="cello"]')
    expect(cellos).to_have_count(2)
    expect(cellos.nth(1)).to_contain_text("Cello 2")
    # a drum kit is played once
    page.fill("#p-instrument-name", "Acoustic Drum Kit")
    page.click("#p-instrument-add")
    page.fill("#p-instrument-name", "Acoustic Drum Kit")
    page.click("#p-instrument-add")
    expect(page.locator("#params-summary")).to_contain_text("one player takes it")
    expect(page.locator('#p-instruments [data-instrument="acoustic_drums"]')).to_have_count(1)
    with page.expect_response("**/api/v1/aurora/plan") as planned:
        page.click("#replan")
    assert planned.value.ok
    expect(page.locator("#plan-editor .sec-btn").first).to_be_visible()
    section = page.locator("#plan-editor .sec-btn").first
    level = float(section.locator(".lvl").inner_text())
    section.focus()
    page.keyboard.press("ArrowUp")
    screenshot(page, "04-parameters-plan")

    # The generate request carries what the controls say (answered here, not rendered).
    bodies: list[dict[str, object]] = []

    def capture(route, request) -> None:  # type: ignore[no-untyped-def]
        bodies.append(json.loads(request.post_data or "{}"))
        route.fulfill(
            status=429,
            json={"error": {"code": "RATE_LIMITED", "message": "slow down"}},
            headers={"Retry-After": "3"},
        )

    page.route("**/api/v1/aurora/generate", capture)
    page.click("#generate-btn")
    expect(page.locator("#generate-error")).to_contain_text("wait 3 seconds")
    sent = bodies[0]
    params = sent["parameters"]
    assert isinstance(params, dict)
    assert params["tempo_bpm"] == before + 7
    assert params["tempo_stated"] is True  # a tempo the person set is heard as the beat
    assert params["energy_level"] == 1.0
    assert [i["name"] for i in params["instrumentation"]].count("cello") == 2
    plan = sent["plan"]
    assert isinstance(plan, dict)
    assert plan["sections"][0]["energy_level"] == pytest.approx(min(1.0, level + 0.05))


def test_generate_play_download_feedback_and_history(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.token)
    type_prompt(page, "calm lo-fi hip hop with warm piano")
    page.click("#analyse-btn")
    expect(page.locator("#params")).to_be_visible()
    page.focus("#p-tempo")
    page.keyboard.press("ArrowLeft")
    page.eval_on_selector(
        "#g-duration", "el => { el.value = '6'; el.dispatchEvent(new Event('input')); }"
    )
    page.select_option("#g-rate", "22050")
    with page.expect_request("**/api/v1/aurora/generate") as sent:
        page.click("#generate-btn")
    body = sent.value.post_data_json
    # the plan sent was made from the parameters sent (remade after the tempo and length moved)
    progression = body["plan"]["chord_progression"]
    assert f"{progression['key']} {progression['mode']}" == body["parameters"]["key"]
    assert len(body["plan"]["sections"]) == page.locator("#plan-editor .sec-btn").count()
    assert f"{round(body['parameters']['tempo_bpm'])} BPM" in page.inner_text("#params-summary")
    assert body["options"]["duration_seconds"] == 6
    assert body["options"]["sample_rate"] == 22050
    assert body["parameters"]["tempo_bpm"] == float(page.input_value("#p-tempo"))
    expect(page.locator("#progress")).to_be_visible()
    screenshot(page, "05-generating")
    expect(page.locator("#result")).to_have_attribute("data-ready", "true", timeout=180_000)
    assert page.get_attribute("#progress", "data-via") == "stream"
    expect(page.locator("#progress-pct")).to_have_text("100%")
    decoded = float(page.get_attribute("#waveform", "data-decoded") or "0")
    assert 5.0 <= decoded <= 7.5
    expect(page.locator("#result-timeline .seg").first).to_be_visible()
    # "What ran" is closed by default and in words; the result says key, tempo, meter, seed.
    expect(page.locator("#engine-details")).not_to_have_attribute("open", "")
    expect(page.locator("#engine-info")).to_contain_text("composing")
    facts = page.locator("#result-facts")
    tempo = round(float(page.input_value("#p-tempo")))
    expect(facts).to_contain_text(f"{tempo} BPM")
    expect(facts).to_contain_text(page.locator("#p-meter").input_value())
    expect(facts).to_contain_text(
        f"{page.locator('#p-tonic').input_value()} {page.locator('#p-mode').input_value()}"
    )
    seed = facts.locator("[data-seed]").get_attribute("data-seed")
    assert seed is not None and seed.isdigit()

    page.click("#play-btn")
    expect(page.locator("#play-btn")).to_have_attribute("aria-label", "Pause")
    wait_until(page, "document.getElementById('audio').currentTime > 0.2")
    screenshot(page, "06-player")
    page.click("#play-btn")
    expect(page.locator("#play-btn")).to_have_attribute("aria-label", "Play")

    with page.expect_download() as download_info:
        page.click('[data-download="audio"]')
    path = download_info.value.path()
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert download_info.value.suggested_filename.endswith(".wav")
    with page.expect_download() as midi_info:
        page.click('[data-download="midi"]')
    assert midi_info.value.path().read_bytes()[:4] == b"MThd"

    generation_id = page.get_attribute("#result", "data-generation-id")
    item = page.locator(f'#history [data-id="{generation_id}"]')
    expect(item).to_be_visible()
    item.locator('[data-feedback="positive"]').click()
    expect(item.locator(".feedback-status")).to_contain_text("Thanks")
    expect(item.locator('[data-feedback="positive"]')).to_have_attribute("aria-pressed", "true")
    item.locator('[data-rating="4"]').click()  # within 5 s: queued by the page, not dropped
    expect(item.locator(".feedback-status")).to_contain_text("saved in")
    records = live_server.store.feedback.list_for_result(generation_id or "", live_server.user_id)
    assert [r.feedback_type for r in records] == ["positive"]
    expect(item.locator(".feedback-status")).to_contain_text("feedback saved", timeout=10_000)
    records = live_server.store.feedback.list_for_result(generation_id or "", live_server.user_id)
    assert [r.audio_quality_rating for r in records] == [None, 4]

    page.click("#play-btn")  # one track at a time: a history track pauses the result's
    wait_until(page, "!document.getElementById('audio').paused")
    item.get_by_role("button", name=re.compile("^Play")).click()
    expect(item.locator("audio")).to_be_visible()
    wait_until(page, "document.getElementById('audio').paused")
    # History tells tracks apart, downloads, and makes another like it.
    expect(item.locator(".facts")).to_contain_text(f"{tempo} BPM")
    with page.expect_download() as again_info:
        item.locator('[data-download="history-audio"]').click()
    assert again_info.value.path().read_bytes()[:4] == b"RIFF"

    # "Make another like this" sets that track's prompt and parameters, with a new seed.
    page.fill("#prompt", "something else entirely, a polka")
    page.fill("#g-seed", "5")
    item.locator("[data-reuse]").click()
    expect(page.locator("#prompt")).to_have_value("calm lo-fi hip hop with warm piano")
    expect(page.locator("#p-tempo-out")).to_have_text(f"{tempo} BPM")
    expect(page.locator("#g-seed")).to_have_value("")
    expect(page.locator("#generate-btn")).to_be_focused()

    # "Same again" sends the seed it had; "Variation" a new one (answered here, not rendered).
    bodies: list[dict[str, object]] = []

    def capture(route, request) -> None:  # type: ignore[no-untyped-def]
        bodies.append(json.loads(request.post_data or "{}"))
        route.fulfill(status=429, json={"error": {"code": "RATE_LIMITED", "message": "x"}})

    page.route("**/api/v1/aurora/generate", capture)
    page.click("#same-again")
    expect(page.locator("#generate-error")).to_contain_text("Too many requests")
    page.click("#variation")
    for _ in range(50):
        if len(bodies) == 2:
            break
        page.wait_for_timeout(100)
    options = [b["options"] for b in bodies]
    assert options[0]["seed"] == int(seed)  # type: ignore[index]
    assert "seed" not in options[1]  # type: ignore[operator]
    page.unroute("**/api/v1/aurora/generate")

    page.reload()  # the rating is shown again after a reload
    again = page.locator(f'#history [data-id="{generation_id}"]')
    expect(again.locator('[data-feedback="positive"]')).to_have_attribute("aria-pressed", "true")
    expect(again.locator('[data-rating="4"]')).to_have_attribute("aria-pressed", "true")
    expect(again.locator('[data-rating="5"]')).to_have_attribute("aria-pressed", "false")
    screenshot(page, "07-history-feedback")


def test_the_service_s_429_on_feedback_is_shown_in_words(
    page: Page, live_server: LiveServer
) -> None:
    history = httpx.get(
        f"{live_server.base_url}/api/v1/aurora/history",
        headers={"Authorization": f"Bearer {live_server.token}"},
    ).json()
    done = [i for i in history["items"] if i["audio_url"]]
    if not done:
        pytest.skip("needs the generation made by the previous test")
    sign_in(page, live_server.token)
    item = page.locator(f'#history [data-id="{done[0]["id"]}"]')
    expect(item).to_be_visible()
    # Feedback sent elsewhere just now (until it is accepted: an earlier test may hold the 5 s).
    for _ in range(20):
        first = httpx.post(
            f"{live_server.base_url}/api/v1/aurora/feedback",
            headers={"Authorization": f"Bearer {live_server.token}"},
            json={"generation_id": done[0]["id"], "feedback_type": "neutral"},
        )
        if first.status_code != 429:
            break
        time.sleep(float(first.headers.get("Retry-After", "1")))
    assert first.status_code == 200
    item.locator('[data-feedback="negative"]').click()
    # The service's own 5 s gate answers 429: the page waits it out and sends it then.
    expect(item.locator(".feedback-status")).to_contain_text("feedback saved", timeout=12_000)
    records = live_server.store.feedback.list_for_result(done[0]["id"], live_server.user_id)
    assert records[-1].feedback_type == "negative"


def test_orange_banner_when_the_llm_backends_are_down(
    browser: Browser, codex_down_server: LiveServer
) -> None:
    page = new_page(browser, codex_down_server)
    try:
        sign_in(page, codex_down_server.token)
        type_prompt(page)
        with page.expect_response("**/api/v1/aurora/enhance") as answer:
            page.click("#enhance-btn")
        enhanced = answer.value.json()
        assert enhanced["aurora_metadata"]["fallback_used"] is True
        banner = page.locator("#banners .banner-orange")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Using basic prompt analysis")
        expect(banner).to_have_attribute("role", "status")
        screenshot(page, "08-fallback-orange-banner")
        banner.get_by_role("button", name=re.compile("Dismiss")).click()
        expect(banner).to_be_hidden()
    finally:
        page.context.close()


def test_red_banner_offers_manual_controls(page: Page, live_server: LiveServer) -> None:
    """A response that says defaults answered shows the red banner and its manual controls."""
    red = {
        "level": "error",
        "message": "Unable to analyze prompt. Please adjust parameters manually.",
        "indicator": "red_banner",
    }

    def with_red(route, request) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        body = response.json()
        body["notices"] = [red]
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/aurora/parse", with_red)
    sign_in(page, live_server.token)
    type_prompt(page)
    page.click("#analyse-btn")
    banner = page.locator("#banners .banner-red")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "alert")
    banner.get_by_role("button", name="Set parameters by hand").click()
    expect(page.locator("#p-tempo")).to_be_focused()
    screenshot(page, "09-red-banner")


def test_phone_width_has_no_horizontal_scroll(browser: Browser, live_server: LiveServer) -> None:
    page = new_page(browser, live_server, width=390, height=844)
    try:
        page.goto("/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "10-phone-sign-in")
        sign_in(page, live_server.token)
        type_prompt(page)
        page.click("#enhance-btn")
        expect(page.locator("#additions .addition").first).to_be_visible()
        page.click("#analyse-btn")
        expect(page.locator("#params")).to_be_visible()
        expect(page.locator("#history .history-item").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "11-phone-studio")
    finally:
        page.context.close()


def test_keyboard_alone_reaches_every_control_in_order(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.token)
    type_prompt(page)
    seen: list[str] = []
    for _ in range(3):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id"))
        ring = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
        assert ring and ring != "none", f"no focus ring on #{seen[-1]}"
    assert seen == ["enhance-level", "enhance-btn", "analyse-btn"]
    page.keyboard.press("Enter")
    expect(page.locator("#params")).to_be_visible()


def test_instrument_words_wait_for_the_catalogue_instead_of_being_dropped(
    page: Page, live_server: LiveServer
) -> None:
    """An accepted "add a cello" applied while the instrument catalogue is still loading
    waits for it (it used to be dropped: the lookup found no instruments yet)."""

    def slow(route: Route) -> None:
        time.sleep(1.0)
        route.continue_()

    page.route("**/static/instruments.json", slow)
    page.goto("/")
    names = page.evaluate(
        """async () => {
        const p = await import('/static/params.js');
        const base = {genre: 'pop', tempo_bpm: 100, key: 'C major', mood: [],
                      instrumentation: [{name: 'piano', role: 'chords'}]};
        await p.catalogueReady();
        return p.applyOverrides(base, {instrumentation: 'cello'}).instrumentation.map((i) => i.name);
    }"""
    )
    assert names == ["piano", "cello"]


def test_the_page_s_pure_functions(page: Page, live_server: LiveServer) -> None:
    """applySuggestion, applyOverrides, ratingType, Throttle and describeError, run in the browser."""
    page.goto("/")
    result = page.evaluate(
        """async () => {
        const s = await import('/static/suggest.js');
        const p = await import('/static/params.js');
        const h = await import('/static/history.js');
        const t = await import('/static/timing.js');
        const e = await import('/static/errors.js');
        await p.catalogueReady();
        const base = {genre: 'pop', tempo_bpm: 100, key: 'C major', mood: ['calm'],
                      instrumentation: [{name: 'piano', role: 'chords'}], structure: 'verse-chorus'};
        const gate = new t.Throttle(5000);
        return {
          completion: s.applySuggestion('warm piano', {text: 'with rain', type: 'completion', insert_position: 10}),
          middle: s.applySuggestion('warm piano ballad', {text: 'soft', type: 'addition', insert_position: 5}),
          replacement: s.applySuggestion('warm piano', {text: 'a warm piano ballad', type: 'replacement', insert_position: 0}),
          overrides: p.applyOverrides(structuredClone(base), {tempo: '118 BPM', key: 'A minor',
            mood: 'nostalgic and dreamy', instrumentation: 'cello, synth bass', genre: 'Synthwave'}),
          badTempo: p.applyOverrides(structuredClone(base), {tempo: 'fast', key: 'H major'}),
          ratings: [1, 2, 3, 4, 5].map(h.ratingType),
          gate: [gate.take(), gate.take(), gate.remaining() > 4000],
          limited: e.describeError('RATE_LIMITED', 'slow down', 3),
          unknown: e.describeError('SOMETHING_NEW', 'the service said this'),
          unauthorized: e.describeError('UNAUTHORIZED', 'bad key'),
        };
    }"""
    )
    assert result["completion"] == {"value": "warm piano with rain", "caret": 20}
    assert result["middle"]["value"] == "warm soft piano ballad"
    assert result["replacement"]["value"] == "a warm piano ballad"
    over = result["overrides"]
    assert over["tempo_bpm"] == 118 and over["key"] == "A minor" and over["genre"] == "synthwave"
    assert over["tempo_stated"] is True and "tempo_stated" not in result["badTempo"]
    assert over["mood"][:2] == ["nostalgic", "dreamy"]
    assert [i["name"] for i in over["instrumentation"]] == ["piano", "cello", "synth_bass"]
    assert result["badTempo"]["tempo_bpm"] == 100 and result["badTempo"]["key"] == "C major"
    assert result["ratings"] == ["negative", "negative", "neutral", "positive", "positive"]
    assert result["gate"] == [True, False, True]
    assert result["limited"] == "Too many requests. Please wait 3 seconds and try again."
    assert result["unknown"] == "the service said this"
    assert "not accepted" in result["unauthorized"]


def test_yellow_badge_when_the_alternative_ai_answered(page: Page, live_server: LiveServer) -> None:
    yellow = {
        "level": "warning",
        "message": "Using alternative AI for prompt enhancement. Some suggestions may be limited.",
        "indicator": "yellow_badge",
    }

    def as_local_llm(route, request) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        body = response.json()
        body["notices"] = [yellow]
        body["aurora_metadata"].update(implementation="local_llm", fallback_used=True)
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/aurora/enhance", as_local_llm)
    sign_in(page, live_server.token)
    expect(page.locator("#fallback-badge")).to_be_hidden()
    type_prompt(page)
    page.click("#enhance-btn")
    badge = page.locator("#fallback-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("aria-label", yellow["message"])
    expect(page.locator("#enhance-meta")).to_contain_text("local AI model")
    expect(page.locator("#banners .banner")).to_have_count(0)

    def as_codex(route, request) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        body = response.json()
        body["notices"] = []
        body["aurora_metadata"].update(implementation="codex", fallback_used=False)
        route.fulfill(response=response, json=body)

    page.unroute("**/api/v1/aurora/enhance")
    page.route("**/api/v1/aurora/enhance", as_codex)
    page.click("#enhance-btn")
    expect(badge).to_be_hidden()


def test_short_prompts_and_revoked_keys_are_explained(page: Page, live_server: LiveServer) -> None:
    new = live_server.store.api_keys.create(live_server.user_id, "short-lived")
    sign_in(page, new.token)
    type_prompt(page, "jazz")
    page.click("#analyse-btn")
    expect(page.locator("#describe-error")).to_contain_text("at least 10 characters")
    expect(page.locator("#prompt")).to_be_focused()
    assert live_server.store.api_keys.revoke(new.key.id, live_server.user_id)
    page.fill("#prompt", PROMPT)
    page.wait_for_timeout(2100)  # the service trusts a verified key for 2 s
    page.keyboard.press("Escape")  # keep suggestions off the buttons
    page.click("#enhance-btn")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-error")).to_contain_text("no longer accepted")
    assert page.evaluate("localStorage.getItem('soundstar.apiKey')") is None


def test_a_parse_answer_without_a_plan_asks_the_planner(
    page: Page, live_server: LiveServer
) -> None:
    def without_plan(route, request) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        body = response.json()
        body.pop("structural_plan", None)
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/aurora/parse", without_plan)
    sign_in(page, live_server.token)
    type_prompt(page)
    with page.expect_response("**/api/v1/aurora/plan") as planned:
        page.click("#analyse-btn")
    assert planned.value.ok
    expect(page.locator("#plan-figure svg")).to_be_visible()
    expect(page.locator("#chords .chord").first).to_be_visible()
