"""Fixtures for the Aurora tests: a fault-injecting OpenAI-compatible server on loopback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the tests are not a package (importlib mode)

from fake_openai import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started server on a free 127.0.0.1 port: `.base_url` for clients, the rest controls it."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
