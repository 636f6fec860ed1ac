"""`--implementation` / `build_aurora(only=...)` forces one implementation, with no fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fake_openai import FakeOpenAI, Reply

from soundstar.aurora.builders import build_aurora
from soundstar.config import load_settings
from soundstar.errors import AuroraError, ConfigError
from soundstar.models import Implementation

PROMPT = "an upbeat 80s synthwave track at 118 BPM in A minor"
PRIMARY = "SOUNDSTAR_AURORA__IMPLEMENTATIONS__PRIMARY__"
SECONDARY = "SOUNDSTAR_AURORA__IMPLEMENTATIONS__SECONDARY__"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> FakeOpenAI:
    monkeypatch.delenv("SOUNDSTAR_CONFIG_FILE", raising=False)
    monkeypatch.setenv(PRIMARY + "API_KEY", "sk-test")
    monkeypatch.setenv(PRIMARY + "API_URL", fake_openai.base_url)
    monkeypatch.setenv(PRIMARY + "MAX_RETRIES", "0")
    monkeypatch.setenv(SECONDARY + "ENDPOINT", fake_openai.base_url)
    monkeypatch.setenv(SECONDARY + "MAX_RETRIES", "0")
    return fake_openai


def test_forcing_rules_skips_a_configured_llm(configured: FakeOpenAI) -> None:
    aurora = build_aurora(load_settings(), only="rules")
    assert [b.name for b in aurora.backends] == [Implementation.RULE_BASED]
    u = aurora.understand(PROMPT)
    assert u.implementations["semantic_parser"] is Implementation.RULE_BASED
    assert not [r for r in configured.requests if r.path.endswith("/chat/completions")]


@pytest.mark.parametrize(
    ("only", "name"), [("codex", Implementation.CODEX), ("local_llm", Implementation.LOCAL_LLM)]
)
def test_forcing_an_llm_uses_only_it(
    configured: FakeOpenAI, only: str, name: Implementation
) -> None:
    aurora = build_aurora(load_settings(), only=only)
    assert [b.name for b in aurora.backends] == [name]
    u = aurora.understand(PROMPT)
    assert u.implementations["semantic_parser"] is name
    assert not u.fallback_used


def test_a_forced_llm_that_fails_is_an_error_not_a_substitute(configured: FakeOpenAI) -> None:
    configured.default = Reply.error(500)
    aurora = build_aurora(load_settings(), only="codex")
    with pytest.raises(AuroraError, match="no implementation could answer"):
        aurora.understand(PROMPT)


def test_forcing_an_unconfigured_codex_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOUNDSTAR_CONFIG_FILE", raising=False)
    monkeypatch.delenv(PRIMARY + "API_KEY", raising=False)
    with pytest.raises(ConfigError, match="PRIMARY__API_KEY"):
        build_aurora(load_settings(), only="codex")
    with pytest.raises(ConfigError, match="unknown implementation"):
        build_aurora(load_settings(), only="gpt")


def test_the_cli_forces_codex_and_reports_it(configured: FakeOpenAI) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "soundstar.cli",
            "parse",
            PROMPT,
            "--json",
            "--implementation",
            "codex",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["implementation_used"] == "codex"
    bad = subprocess.run(
        [sys.executable, "-m", "soundstar.cli", "plan", PROMPT, "--implementation", "gpt"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "--implementation" in bad.stderr
