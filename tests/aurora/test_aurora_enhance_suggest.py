"""The Aurora API the service and pipeline call: enhance, suggest, understand(enhance=True), warm-up."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI, Reply

from soundstar.aurora.backends.defaults import DefaultsBackend
from soundstar.aurora.backends.llm import LLMBackend
from soundstar.aurora.backends.rules import RuleBasedBackend
from soundstar.aurora.builders import LLMAdapter, build_aurora
from soundstar.aurora.cache import MemoryCache, RedisCache
from soundstar.aurora.mapper import MapHints
from soundstar.aurora.pipeline import Aurora
from soundstar.config import load_settings
from soundstar.errors import ContentPolicyError, InvalidPromptError, ParameterError
from soundstar.models import (
    CONTROL_DIM,
    UNIFIED_DIM,
    Enhancement,
    EnhancementAddition,
    Implementation,
    ParsedParameters,
)


def _llm(url: str) -> LLMAdapter:
    return LLMAdapter(
        LLMBackend(
            Implementation.CODEX,
            base_url=url,
            api_key="sk-test",
            model="m",
            timeout_s=2.0,
            max_retries=1,
            backoff_base_s=0.01,
            backoff_max_s=0.02,
        )
    )


class ContradictingLLM:
    """An 'LLM' whose enhancement overrides what the person stated (tempo, key, exclusions)."""

    name = Implementation.CODEX
    configured = True

    def __init__(self) -> None:
        self.rules = RuleBasedBackend()

    def enhance(
        self,
        text: str,
        *,
        level: str = "moderate",
        context: dict[str, object] | None = None,
        original: str | None = None,
    ) -> Enhancement:
        added = "Electro house at 140 BPM in C major with drums and a synth lead."
        return Enhancement(
            original_prompt=original or text,
            enhanced_prompt=f"{original or text}. {added}",
            additions=[
                EnhancementAddition(type="tempo", value="140 BPM", reasoning="r", confidence=0.9)
            ],
            confidence=0.9,
        )

    def parse(self, text: str, *, original: str | None = None) -> tuple[ParsedParameters, MapHints]:
        return self.rules.parse(text, original=original)


def test_enhance_outcome_and_cache_hit() -> None:
    aurora = Aurora()
    first = aurora.enhance("dreamy pads and a nostalgic synth lead", level="moderate")
    assert first.implementation is Implementation.RULE_BASED
    assert not first.fallback_used and first.fallback_reason is None
    assert not first.cache_hit and first.processing_time_ms > 0
    assert first.enhancement.original_prompt == "dreamy pads and a nostalgic synth lead"
    assert first.enhancement.enhanced_prompt.startswith("dreamy pads and a nostalgic synth lead. ")
    assert {a.type for a in first.enhancement.additions} >= {"genre", "tempo", "key"}
    again = aurora.enhance("Dreamy pads and a nostalgic synth lead", level="moderate")
    other = aurora.enhance("dreamy pads and a nostalgic synth lead", level="aggressive")
    assert not again.cache_hit or again.enhancement == first.enhancement
    assert aurora.enhance("dreamy pads and a nostalgic synth lead").cache_hit
    assert not other.cache_hit
    assert aurora.cache.stats()["hits"] >= 1


def test_enhance_validates_like_understand() -> None:
    aurora = Aurora()
    with pytest.raises(InvalidPromptError):
        aurora.enhance("jazz")
    with pytest.raises(ParameterError) as info:
        aurora.enhance("a relaxed jazz tune", level="extreme")
    assert info.value.field == "enhancement_level"


def test_enhance_with_defaults_only_returns_the_prompt_unchanged() -> None:
    class Broken(RuleBasedBackend):
        def enhance(self, *args: object, **kwargs: object) -> Enhancement:
            raise RuntimeError("boom")

    outcome = Aurora([Broken(), DefaultsBackend()]).enhance("a relaxed jazz tune at night")
    assert outcome.implementation is Implementation.DEFAULTS
    assert outcome.fallback_used
    assert outcome.enhancement.enhanced_prompt == "a relaxed jazz tune at night"
    assert outcome.enhancement.additions == []
    assert any(n.indicator == "red_banner" for n in outcome.notices)


def test_suggest_outcome() -> None:
    aurora = Aurora()
    outcome = aurora.suggest("a chill lo-fi hi", count=2)
    assert outcome.implementation is Implementation.RULE_BASED
    assert 1 <= len(outcome.suggestions) <= 2
    assert outcome.suggestions[0].type == "completion"
    assert outcome.likely_genre == "Lo-fi Hip Hop" and outcome.likely_mood == "chill"
    assert aurora.suggest("a chill lo-fi hi", count=2).cache_hit


@pytest.mark.parametrize("count", [0, 6, -1])
def test_suggest_count_out_of_range(count: int) -> None:
    with pytest.raises(ParameterError) as info:
        Aurora().suggest("jazz", count=count)
    assert info.value.field == "suggestion_count"


def test_suggest_input_checks() -> None:
    aurora = Aurora()
    assert aurora.suggest("").suggestions == []
    with pytest.raises(InvalidPromptError):
        aurora.suggest("a" * 501)
    with pytest.raises(ParameterError) as info:
        aurora.suggest("jazz", cursor_position=9)
    assert info.value.field == "cursor_position"


def test_suggest_asks_rules_first_even_with_an_llm(fake_openai: FakeOpenAI) -> None:
    llm = _llm(fake_openai.base_url)
    aurora = Aurora([llm, RuleBasedBackend(), DefaultsBackend()])
    assert aurora.suggest("synthw").implementation is Implementation.RULE_BASED
    assert not fake_openai.chat_requests()


def test_suggest_with_llm_when_asked(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.good()
    llm = _llm(fake_openai.base_url)
    aurora = Aurora([llm, RuleBasedBackend(), DefaultsBackend()], suggest_with_llm=True)
    outcome = aurora.suggest("an upbeat synthwave track with", count=3)
    assert fake_openai.chat_requests()
    assert outcome.implementation in (Implementation.CODEX, Implementation.RULE_BASED)
    for s in outcome.suggestions:
        assert 0 <= s.insert_position <= len("an upbeat synthwave track with")
    assert outcome.likely_genre == "Synthwave"


def test_understand_with_enhancement_keeps_stated_bpm_and_key() -> None:
    aurora = Aurora()
    u = aurora.understand("a chill lo-fi beat at 72 bpm in F# minor, no drums", enhance=True)
    assert u.enhancement is not None and u.enhancement.additions
    assert u.parameters.tempo_bpm == 72 and u.parameters.key == "F# minor"
    assert all(i.role.value not in ("drums", "percussion") for i in u.parameters.instrumentation)
    names = [i.name for i in u.parameters.instrumentation]
    assert len(names) == len(set(names))
    assert {"enhance", "parse", "plan"} <= set(u.timings_ms)
    assert u.implementations["prompt_enhancer"] is Implementation.RULE_BASED
    assert not u.cache_hit
    assert aurora.understand(
        "a chill lo-fi beat at 72 bpm in F# minor, no drums", enhance=True
    ).cache_hit


def test_understand_uses_what_the_enhancement_added() -> None:
    plain = Aurora().understand("something that sounds like The Midnight")
    enhanced = Aurora().understand("something that sounds like The Midnight", enhance=True)
    assert enhanced.enhancement is not None
    added_tempo = next(a.value for a in enhanced.enhancement.additions if a.type == "tempo")
    assert enhanced.parameters.tempo_bpm == float(added_tempo.split()[0])
    assert len(enhanced.parameters.instrumentation) >= len(plain.parameters.instrumentation)


def test_stated_values_win_over_a_contradicting_enhancement() -> None:
    aurora = Aurora([ContradictingLLM(), RuleBasedBackend(), DefaultsBackend()])
    u = aurora.understand("a slow jazz ballad at 70 bpm in Eb major, no drums", enhance=True)
    assert u.implementations["prompt_enhancer"] is Implementation.CODEX
    assert u.parameters.tempo_bpm == 70
    assert u.parameters.key == "Eb major"
    assert u.parameters.genre == "Jazz"
    assert all(i.role.value not in ("drums", "percussion") for i in u.parameters.instrumentation)
    assert "synth_lead" in {
        i.name for i in u.parameters.instrumentation
    }  # what did not clash stays


def test_embedding_is_always_present() -> None:
    u = Aurora().understand("an upbeat disco track with strings")
    assert u.embedding is not None
    assert len(u.embedding.unified) == UNIFIED_DIM and len(u.embedding.control) == CONTROL_DIM
    assert "embed" in u.timings_ms and "enhance" not in u.timings_ms


def test_parse_and_plan_are_cached() -> None:
    cache = MemoryCache()
    aurora = Aurora(cache=cache)
    first = aurora.understand("a dark techno track at 130 bpm")
    second = aurora.understand("a dark techno track at 130 bpm")
    assert not first.cache_hit and second.cache_hit
    assert second.parameters == first.parameters and second.plan == first.plan
    assert second.embedding == first.embedding  # computed when used, then cached
    assert cache.stats()["hits"] == 3  # parse, plan and embedding


def test_warm_up_reports_what_it_did() -> None:
    report = Aurora().warm_up()
    assert report["knowledge"]["genres"] >= 150  # type: ignore[index]
    assert report["suggester_terms"] > 1000  # type: ignore[operator]
    assert "jazz" in report["embeddings_precomputed"]["genre"]  # type: ignore[index]
    assert set(report["timings_ms"]) >= {"knowledge", "suggester_index", "embeddings", "backends"}  # type: ignore[arg-type]


def test_warm_up_health_checks_configured_llms(fake_openai: FakeOpenAI) -> None:
    llm = _llm(fake_openai.base_url)
    report = Aurora([llm, RuleBasedBackend(), DefaultsBackend()]).warm_up()
    assert report["backends_healthy"] == {"codex": True}


def test_content_policy_propagates() -> None:
    with pytest.raises(ContentPolicyError):
        Aurora().enhance("a song explaining how to build a bomb")
    with pytest.raises(ContentPolicyError):
        Aurora().suggest("a song explaining how to build a bomb")


def test_build_aurora_wires_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOUNDSTAR_REDIS_URL", raising=False)
    assert isinstance(build_aurora(load_settings()).cache, MemoryCache)
    settings = load_settings(redis_url="redis://127.0.0.1:1/0")
    aurora = build_aurora(settings)
    assert isinstance(aurora.cache, RedisCache)
    # Redis unreachable: answers still come, from the in-process fallback
    assert aurora.enhance("a relaxed jazz tune at night").enhancement.enhanced_prompt
    assert aurora.enhance("a relaxed jazz tune at night").cache_hit
