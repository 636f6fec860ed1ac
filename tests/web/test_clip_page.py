"""The page's loop switch and "like this clip": a clip picked is heard by the service and
shown; the next track is made like it, as a loop, and the page says what stayed and what
changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

from playwright.sync_api import Page, expect

from tests.web.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.slow

SR = 22050


def _clip(path: Path, bpm: float = 100.0, seconds: float = 8.0) -> Path:
    """Clicks on every beat over an A minor chord."""
    n = round(seconds * SR)
    t = np.arange(n) / SR
    audio = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.6, 329.6))
    click = np.exp(-np.arange(800) / 80.0) * np.sin(2 * np.pi * 1000 * np.arange(800) / SR)
    for beat in np.arange(0, seconds, 60.0 / bpm):
        start = round(beat * SR)
        audio[start : start + 800] += 0.6 * click[: n - start]
    sf.write(path, audio.astype(np.float32), SR, format="WAV")
    return path


def test_a_loop_like_a_clip_says_what_stayed_and_what_changed(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    sign_in(page, live_server.token)
    page.fill("#prompt", "a dreamy synthwave groove in C major with warm pads")
    page.set_input_files("#clip-file", str(_clip(tmp_path / "groove.wav")))
    expect(page.locator("#clip-heard [data-fact=tempo]")).to_contain_text("BPM")
    expect(page.locator("#clip-clear")).to_be_visible()
    page.check("#g-loop")
    page.fill("#g-bars", "4")
    page.select_option("#g-rate", "22050")
    with page.expect_request("**/api/v1/aurora/generate") as sent:
        page.click("#generate-btn")
    body = sent.value.post_data_json
    assert body["options"]["loop"] is True and body["options"]["bars"] == 4
    assert abs(body["like"]["tempo_bpm"] - 100.0) < 2.0
    expect(page.locator("#result")).to_have_attribute("data-ready", "true", timeout=180_000)
    report = page.locator("#clip-report")
    expect(report.locator("[data-changed=clip]").first).to_contain_text("from the clip")
    expect(report.locator("[data-changed=kept]", has_text="key: C major kept")).to_be_visible()
    expect(report.locator("[data-changed=loop]")).to_contain_text("4 bars")
    screenshot(page, "clip-loop-report")


def test_what_is_not_audio_is_refused_on_the_page(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    sign_in(page, live_server.token)
    script = tmp_path / "clip.mp3"
    script.write_text("<script>alert(1)</script>")
    page.set_input_files("#clip-file", str(script))
    expect(page.locator("#clip-error")).to_contain_text("not audio")
    assert page.locator("#clip-heard li").count() == 0
