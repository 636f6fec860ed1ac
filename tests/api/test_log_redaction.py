"""No API key reaches a log: records from any logger (uvicorn's access log included) are
redacted when made, whether the key came in a URL, a header or a message."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soundstar.api.redaction import MASK, install_log_redaction, redact
from soundstar.store.api_keys import TOKEN_BYTES, TOKEN_MARK

KEY = TOKEN_MARK + "AbC-_9" * 7


@pytest.fixture(autouse=True)
def _installed() -> None:
    install_log_redaction()


def test_uvicorn_access_lines_lose_the_key_in_the_url(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            f"/api/v1/aurora/stream?api_key={KEY}&x=1",
            "1.1",
            101,
        )
    line = caplog.records[-1].getMessage()
    assert KEY not in line and "api_key=" + MASK in line and "&x=1" in line


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {KEY}",
        f"subprotocols ['soundstar', 'bearer.{KEY}']",
        f"token {KEY} was refused",
        "api_key=not-even-our-format",
    ],
)
def test_keys_in_messages_and_arguments_are_masked(
    caplog: pytest.LogCaptureFixture, text: str
) -> None:
    with caplog.at_level(logging.INFO, logger="soundstar.test"):
        logging.getLogger("soundstar.test").info(text)
        logging.getLogger("soundstar.test").info("saw %s", text)
    for record in caplog.records[-2:]:
        message = record.getMessage()
        assert KEY not in message and "not-even-our-format" not in message
        assert MASK in message


@given(st.binary(min_size=TOKEN_BYTES, max_size=TOKEN_BYTES))
def test_any_generated_key_is_masked(raw: bytes) -> None:
    import base64

    key = TOKEN_MARK + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert key not in redact(f"GET /x?api_key={key} and {key} and Bearer {key}")


def test_text_without_keys_is_unchanged() -> None:
    text = "GET /api/v1/generations/3f1c-22 HTTP/1.1 200 (bearer of good news: ss_)"
    assert redact(text) == text
