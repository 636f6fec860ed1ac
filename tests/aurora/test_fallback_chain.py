"""The chain codex → local_llm → rule_based → defaults, against a real server on loopback."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI, Reply

from soundstar.aurora.backends.defaults import DefaultsBackend
from soundstar.aurora.backends.llm import LLMBackend
from soundstar.aurora.backends.rules import RuleBasedBackend
from soundstar.aurora.builders import LLMAdapter, build_aurora
from soundstar.aurora.pipeline import Aurora
from soundstar.config import load_settings
from soundstar.models import Implementation

PROMPT = "an upbeat 80s synthwave track at 118 BPM in A minor"


def _llm(name: Implementation, url: str) -> LLMAdapter:
    return LLMAdapter(
        LLMBackend(
            name,
            base_url=url,
            api_key="sk-test",
            model="m",
            timeout_s=0.5,
            max_retries=1,
            backoff_base_s=0.01,
            backoff_max_s=0.02,
        )
    )


def test_a_working_codex_answers_and_no_fallback_is_reported(fake_openai: FakeOpenAI) -> None:
    aurora = Aurora(
        [_llm(Implementation.CODEX, fake_openai.base_url), RuleBasedBackend(), DefaultsBackend()]
    )
    u = aurora.understand(PROMPT)
    assert u.implementations["semantic_parser"] == Implementation.CODEX
    assert not u.fallback_used
    assert u.parameters.key == "A minor"
    assert fake_openai.chat_requests(), "the codex backend must have been asked"


@pytest.mark.parametrize(
    "failure",
    [
        Reply.error(503),
        Reply.error(429),
        Reply.of("malformed"),
        Reply.of("violating"),
        Reply.of("hang"),
    ],
)
def test_a_failing_codex_falls_back_to_rules_with_reason_and_notice(
    fake_openai: FakeOpenAI, failure: Reply
) -> None:
    fake_openai.default = failure
    aurora = Aurora(
        [_llm(Implementation.CODEX, fake_openai.base_url), RuleBasedBackend(), DefaultsBackend()]
    )
    u = aurora.understand(PROMPT)
    assert u.implementation_used == Implementation.RULE_BASED
    assert u.fallback_used
    assert u.fallback_reason and u.fallback_reason.startswith("codex:")
    assert any(n.indicator == "orange_banner" for n in u.notices)
    assert u.parameters.tempo_bpm == 118 and u.parameters.key == "A minor"
    fake_openai.release.set()


def test_codex_down_local_llm_up_gives_the_yellow_badge(fake_openai: FakeOpenAI) -> None:
    down = FakeOpenAI().start()
    try:
        down.default = Reply.error(500)
        aurora = Aurora(
            [
                _llm(Implementation.CODEX, down.base_url),
                _llm(Implementation.LOCAL_LLM, fake_openai.base_url),
                RuleBasedBackend(),
                DefaultsBackend(),
            ]
        )
        u = aurora.understand(PROMPT)
        assert u.implementations["semantic_parser"] == Implementation.LOCAL_LLM
        assert any(n.indicator == "yellow_badge" for n in u.notices)
    finally:
        down.stop()


def test_rules_failing_ends_in_defaults_with_the_red_banner() -> None:
    class Broken(RuleBasedBackend):
        def parse(self, text: str, *, original: str | None = None):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        def plan(self, params):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    u = Aurora([Broken(), DefaultsBackend()]).understand(PROMPT)
    assert u.implementation_used == Implementation.DEFAULTS
    assert any(n.indicator == "red_banner" for n in u.notices)
    assert u.parameters.tempo_bpm == 120


def test_unconfigured_backends_are_skipped_at_no_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOUNDSTAR_CONFIG_FILE", raising=False)
    aurora = build_aurora(load_settings())
    assert [b.name for b in aurora.backends] == [Implementation.RULE_BASED, Implementation.DEFAULTS]
    u = aurora.understand(PROMPT)
    assert not u.fallback_used
    assert not any(n.indicator != "none" for n in u.notices)


def test_configured_backends_come_from_settings(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI
) -> None:
    monkeypatch.delenv("SOUNDSTAR_CONFIG_FILE", raising=False)
    monkeypatch.setenv("SOUNDSTAR_AURORA__IMPLEMENTATIONS__PRIMARY__API_KEY", "sk-test")
    monkeypatch.setenv("SOUNDSTAR_AURORA__IMPLEMENTATIONS__PRIMARY__API_URL", fake_openai.base_url)
    monkeypatch.setenv(
        "SOUNDSTAR_AURORA__IMPLEMENTATIONS__SECONDARY__ENDPOINT", fake_openai.base_url
    )
    aurora = build_aurora(load_settings())
    assert [b.name for b in aurora.backends][:2] == [Implementation.CODEX, Implementation.LOCAL_LLM]
    assert aurora.understand(PROMPT).implementations["semantic_parser"] == Implementation.CODEX
