"""Browser tests of the studio page: a live server on a free loopback port and Debian's chromium.

`live_server` runs uvicorn with `create_app(settings)` in a background thread, on a
temporary SQLite database and data directory, with a user and API key created
directly in the store. Tests skip, saying why, when chromium or playwright is missing.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from soundstar.config import Settings, load_settings
from soundstar.store import Database, Store, sqlite_url

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("SOUNDSTAR_SCREENSHOTS_DIR") or REPO / "out" / "screenshots")
"""Where the test run saves its pictures of the page: untracked (out/ is ignored)."""
START_TIMEOUT_S = 30.0
RESTART_WAIT_S = 120.0

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LiveServer:
    base_url: str
    token: str
    user_id: int
    store: Store
    settings: Settings
    restart: Callable[[float], None]
    """Stop the server (running generations finish first), wait this many seconds, start it
    again on the same port and database: a restart as a person's page sees it."""


def _serve(settings: Settings, port: int) -> Callable[[float], None]:
    """Run the app on `port` in a background thread; returns a function that stops it
    (waiting up to its argument, in seconds, for running generations to finish)."""
    import uvicorn

    from soundstar.api.app import create_app

    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)

    def stop(wait_s: float = 15.0) -> None:
        server.should_exit = True
        thread.join(timeout=wait_s)

    return stop


def _start(tmp: Path, **overrides: Any) -> tuple[LiveServer, Callable[[], None]]:
    url = sqlite_url(tmp / "soundstar.db")
    Database(url).upgrade()
    store = Store(Database(url))
    user = store.users.create("Ada")
    token = store.api_keys.create(user.id, "browser").token
    settings = load_settings(
        data_dir=tmp / "data",
        database_url=url,
        jobs={"backend": "embedded", "workers": 1},
        **overrides,
    )
    port = free_port()
    stopping = [_serve(settings, port)]

    def restart(down_s: float) -> None:
        stopping[0](RESTART_WAIT_S)
        time.sleep(down_s)
        stopping[0] = _serve(settings, port)

    def stop() -> None:
        stopping[0](15.0)
        store.db.dispose()

    live = LiveServer(f"http://127.0.0.1:{port}", token, user.id, store, settings, restart)
    return live, stop


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The service with its LLM backends unconfigured (rule-based analysis, by design)."""
    live, stop = _start(tmp_path_factory.mktemp("live"))
    yield live
    stop()


@pytest.fixture(scope="module")
def codex_down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The service with Codex configured at a closed loopback port: every call falls back."""
    closed = free_port()
    primary = {
        "api_url": f"http://127.0.0.1:{closed}/v1",
        "api_key": "sk-test-not-a-real-key",
        "timeout_ms": 500,
        "max_retries": 0,
    }
    live, stop = _start(
        tmp_path_factory.mktemp("codex-down"),
        aurora={"implementations": {"primary": primary}, "caching": {"enabled": False}},
    )
    yield live
    stop()


def new_page(browser: Browser, server: LiveServer, width: int = 1280, height: int = 900) -> Page:
    context = browser.new_context(
        base_url=server.base_url, viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture()
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    p = new_page(browser, live_server)
    yield p
    p.context.close()


def sign_in(page: Page, token: str) -> None:
    """Open the studio and sign in with the key, as a person would."""
    page.goto("/")
    page.fill("#api-key", token)
    page.click("#signin-submit")
    page.wait_for_selector("#studio", state="visible")


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot of a main state of the page for the record."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header belongs at the top of the picture
    page.screenshot(path=str(path), full_page=full_page)
    return path
