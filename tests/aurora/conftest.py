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


@pytest.fixture(scope="session")
def eval_prompts() -> list[str]:
    """The shared evaluation prompts (skipped when the shared folder is absent)."""
    import json

    path = Path(__file__).resolve().parents[3] / "shared" / "eval" / "prompts.jsonl"
    if not path.exists():
        pytest.skip(f"evaluation prompts not found at {path}")
    return [json.loads(line)["prompt"] for line in path.read_text().splitlines() if line.strip()]
