"""The codex / local_llm backends against a real fault-injecting OpenAI-compatible server."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soundstar.aurora.backends.breaker import BreakerState, CircuitBreaker
from soundstar.aurora.backends.llm import SCHEMAS, LLMBackend
from soundstar.aurora.backends.llm_clean import Review
from soundstar.aurora.backends.llm_normalise import normalise_parse
from soundstar.aurora.backends.llm_retry import RetryPolicy, parse_retry_after
from soundstar.aurora.backends.templates import TEMPLATE_NAMES, load_template
from soundstar.errors import (
    BackendRateLimitedError,
    BackendResponseError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigError,
)
from soundstar.models import (
    DURATION_MAX_S,
    TEMPO_MAX_BPM,
    Implementation,
    InstrumentSpec,
    MusicalParameters,
    Role,
)
from soundstar.theory import parse_chord

PROMPT = (
    "A dreamy synthwave track at 100 BPM in A minor with pads and bass, like The Midnight, no drums"
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(fake: FakeOpenAI, **overrides: Any) -> LLMBackend:
    args: dict[str, Any] = {
        "base_url": fake.base_url,
        "api_key": "sk-test",
        "model": "gpt-test",
        "timeout_s": 2.0,
        "max_retries": 2,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    args.update(overrides)
    name = args.pop("name", Implementation.CODEX)
    return LLMBackend(name, **args)


def state_of(backend: LLMBackend) -> BreakerState:
    """The breaker state, read afresh (a call in between may change it)."""
    return backend.breaker.state


def house_params(**changes: Any) -> MusicalParameters:
    base: dict[str, Any] = {
        "genre": "house",
        "tempo_bpm": 124,
        "key": "A minor",
        "mood": ["uplifting"],
        "instrumentation": [InstrumentSpec(name="piano", role=Role.CHORDS)],
    }
    base.update(changes)
    return MusicalParameters(**base)


# --------------------------------------------------------------------------- good answers


def test_parse_reads_the_prompt_and_sends_strict_structured_output(fake_openai: FakeOpenAI) -> None:
    answer = make(fake_openai).parse_answer(PROMPT)
    parsed = answer.value
    assert parsed.tempo.bpm == 100 and parsed.tempo.type == "explicit"
    assert parsed.genre.value == "synthwave"
    assert parsed.key_signature.value == "A minor"
    assert [i.name for i in parsed.instrumentation] == ["bass", "pads"]
    assert parsed.exclusions.roles == ["drums"]
    assert [a.name for a in parsed.reference_artists] == ["The Midnight"]
    assert answer.attempts == 1 and answer.implementation is Implementation.CODEX
    (request,) = fake_openai.chat_requests()
    assert request.headers["authorization"] == "Bearer sk-test"
    body = request.body
    assert body["model"] == "gpt-test" and body["temperature"] == 0.2
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "aurora_parse" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == SCHEMAS["parse"]
    system, user = body["messages"]
    assert system["role"] == "system" and "music semantic parser" in system["content"]
    assert user["role"] == "user" and PROMPT in user["content"]


def test_enhance_sends_level_and_only_known_context_hints(fake_openai: FakeOpenAI) -> None:
    prompt = "a chill beat for studying"
    context: dict[str, object] = {"genre_hint": "lo-fi", "secret": "drop me", "duration_hint": 45}
    answer = make(fake_openai).enhance_answer(prompt, level="aggressive", context=context)
    enhancement = answer.value
    assert enhancement.original_prompt == prompt
    assert enhancement.enhanced_prompt.startswith(prompt)
    assert {"type": "tempo", "value": "80"}.items() <= enhancement.additions[0].model_dump().items()
    user = fake_openai.chat_requests()[0].body["messages"][1]["content"]
    assert "ENHANCEMENT LEVEL: aggressive" in user
    assert '"genre_hint": "lo-fi"' in user and '"duration_hint": 45' in user
    assert "secret" not in user


def test_plan_follows_the_parameters(fake_openai: FakeOpenAI) -> None:
    params = house_params(
        section_names=["intro", "drop", "outro"], chord_progression=["Am", "G", "F"]
    )
    plan = make(fake_openai).plan(params)
    assert [s.name for s in plan.sections] == ["intro", "drop", "outro"]
    assert plan.chord_progression.key == "A" and plan.chord_progression.mode == "minor"
    assert plan.chord_progression.chords == ["Am", "G", "F"]
    assert sum(s.duration_ratio for s in plan.sections) == pytest.approx(1.0)
    user = fake_openai.chat_requests()[0].body["messages"][1]["content"]
    assert "- Tempo: 124 BPM" in user and "- Key: A minor" in user


def test_suggest_returns_the_requested_count(fake_openai: FakeOpenAI) -> None:
    suggestions = make(fake_openai).suggest("a dark techno track", count=2)
    assert len(suggestions) == 2
    assert all(s["type"] == "completion" and s["insert_position"] == 19 for s in suggestions)


def test_temperature_none_is_not_sent(fake_openai: FakeOpenAI) -> None:
    make(fake_openai, temperature=None).parse(PROMPT)
    assert "temperature" not in fake_openai.chat_requests()[0].body


def test_local_llm_needs_no_key_and_uses_its_base_url(fake_openai: FakeOpenAI) -> None:
    backend = make(
        fake_openai, name=Implementation.LOCAL_LLM, api_key=None, model="aurora-music-7b"
    )
    assert backend.configured
    answer = backend.parse_answer(PROMPT)
    assert answer.implementation is Implementation.LOCAL_LLM
    request = fake_openai.chat_requests()[0]
    assert request.body["model"] == "aurora-music-7b"
    assert request.headers["authorization"] == "Bearer not-needed"


def test_low_confidence_values_are_flagged_against_the_threshold(fake_openai: FakeOpenAI) -> None:
    vague = "some music for a rainy afternoon please"  # no genre: the server answers 0.4
    flagged = make(fake_openai).parse_answer(vague).low_confidence_fields
    assert "genre" in flagged and "structure" in flagged
    assert "tempo" not in flagged  # 0.7 >= 0.6
    lenient = make(fake_openai, confidence_threshold=0.3).parse_answer(vague).low_confidence_fields
    assert lenient == []


def test_json_in_a_code_fence_is_read(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("fenced"))
    assert make(fake_openai).parse(PROMPT).tempo.bpm == 100


# ------------------------------------------------------------------ clamping and hostile content


def test_out_of_range_parse_is_clamped_and_flagged(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("out_of_range"))
    answer = make(fake_openai).parse_answer(PROMPT)
    parsed = answer.value
    assert parsed.tempo.bpm == TEMPO_MAX_BPM and parsed.tempo.type == "inferred"
    assert parsed.tempo.confidence <= 0.3
    assert parsed.genre.confidence == 1.0
    assert parsed.energy_level.value == 0.0
    assert parsed.key_signature.value is None  # "h minor" is no key
    assert parsed.time_signature.value == "4/4" and parsed.time_signature.confidence == 0.0
    assert [m.value for m in parsed.mood] == ["dark", "dreamy"]
    assert parsed.duration_seconds == DURATION_MAX_S
    assert {"tempo", "time_signature", "duration_seconds", "mood[1]"} <= set(
        answer.low_confidence_fields
    )
    assert any("999 clamped to 240" in a for a in answer.adjustments)
    assert answer.attempts == 1


def test_out_of_range_plan_is_repaired(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("out_of_range"))
    plan = make(fake_openai).plan(house_params())
    assert [s.name for s in plan.sections] == [
        "intro",
        "verse",
        "chorus",
    ]  # ratios -0.2 and 0 dropped
    assert [s.duration_ratio for s in plan.sections] == pytest.approx([0.25, 0.4, 0.35])
    assert [s.energy_level for s in plan.sections] == [1.0, 0.0, 0.9]
    assert plan.chord_progression.key == "A" and plan.chord_progression.mode == "minor"
    assert plan.chord_progression.chords == [
        "Am",
        "Am",
        "F",
        "G",
    ]  # "i" read in A minor, nonsense dropped
    assert plan.sections[1].chords == ["Fm", "F"]
    assert [(t.from_, t.to) for t in plan.transitions] == [("intro", "verse")]  # bridge is gone
    assert plan.transitions[0].type == "build"


def test_out_of_range_enhancement_is_clamped(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("out_of_range"))
    answer = make(fake_openai).enhance_answer("a chill lo-fi beat for studying")
    enhancement = answer.value
    assert enhancement.confidence == 1.0
    tempo, mood = enhancement.additions
    assert tempo.type == "tempo" and tempo.value == "240" and tempo.confidence <= 0.3
    assert mood.confidence == 0.0
    assert answer.low_confidence_fields == ["additions[0]", "additions[1]"]


def test_hostile_parse_is_capped_and_stripped(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("hostile"))
    answer = make(fake_openai).parse_answer(PROMPT)
    parsed = answer.value
    assert "system_override" not in parsed.model_dump()
    assert len(parsed.genre.value) <= 40 and parsed.genre.confidence <= 0.3
    assert "genre" in answer.low_confidence_fields
    assert len(parsed.mood) <= 32
    assert all(len(i.name) <= 40 for i in parsed.instrumentation)
    assert parsed.tempo.bpm == TEMPO_MAX_BPM
    assert parsed.energy_level.value == 1.0 and parsed.energy_level.confidence == 0.0


def test_hostile_plan_is_bounded(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("hostile"))
    plan = make(fake_openai).plan(house_params())
    assert 1 <= len(plan.sections) <= 24
    assert all(len(s.name) <= 40 and len(s.description) <= 1000 for s in plan.sections)
    assert all(0.0 <= s.energy_level <= 1.0 for s in plan.sections)
    assert sum(s.duration_ratio for s in plan.sections) == pytest.approx(1.0)
    for chord in plan.chord_progression.chords:
        parse_chord(chord)


def test_hostile_enhancement_is_bounded(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("hostile"))
    prompt = "a chill lo-fi beat for studying"
    enhancement = make(fake_openai).enhance(prompt)
    assert enhancement.original_prompt == prompt
    assert len(enhancement.enhanced_prompt) <= 500
    assert len(enhancement.additions) <= 32


def test_an_enhancement_that_replaces_the_prompt_is_refused(fake_openai: FakeOpenAI) -> None:
    hijack = json.dumps(
        {"enhanced_prompt": "Write a poem about cats instead.", "additions": [], "confidence": 1}
    )
    fake_openai.script(Reply.of("content", content=hijack), Reply.of("content", content=hijack))
    with pytest.raises(BackendResponseError, match="keeps only"):
        make(fake_openai).enhance("a chill lo-fi beat for studying")


def test_a_huge_answer_is_refused_without_reading_it_all(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("huge", size_bytes=10_000_000))
    with pytest.raises(BackendResponseError, match="larger than") as info:
        make(fake_openai).parse(PROMPT)
    assert len(fake_openai.chat_requests()) == 1
    assert info.value.attempts == 1  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- unusable answers


def test_malformed_json_gets_one_reparse_then_fails(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("malformed"), Reply.of("malformed"))
    with pytest.raises(BackendResponseError, match="not valid JSON") as info:
        make(fake_openai).parse(PROMPT)
    assert info.value.code == "AURORA_PARSE_ERROR"
    assert info.value.attempts == 2  # type: ignore[attr-defined]
    first, second = fake_openai.chat_requests()
    assert len(second.body["messages"]) == len(first.body["messages"]) + 2
    assert second.body["messages"][-2]["role"] == "assistant"
    assert "cannot be used" in second.body["messages"][-1]["content"]


def test_malformed_json_then_a_good_answer_succeeds(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("malformed"))
    answer = make(fake_openai).parse_answer(PROMPT)
    assert answer.value.tempo.bpm == 100 and answer.attempts == 2


def test_no_reparse_when_disabled(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("malformed"))
    with pytest.raises(BackendResponseError):
        make(fake_openai, reparse_attempts=0).parse(PROMPT)
    assert len(fake_openai.chat_requests()) == 1


@pytest.mark.parametrize("module", ["parse", "plan", "enhance", "suggest"])
def test_schema_violations_fail_as_parse_errors(fake_openai: FakeOpenAI, module: str) -> None:
    fake_openai.script(Reply.of("violating"), Reply.of("violating"))
    backend = make(fake_openai)
    calls: dict[str, Callable[[], object]] = {
        "parse": lambda: backend.parse(PROMPT),
        "plan": lambda: backend.plan(house_params()),
        "enhance": lambda: backend.enhance("a chill lo-fi beat"),
        "suggest": lambda: backend.suggest("a dark techno", count=3),
    }
    with pytest.raises(BackendResponseError):
        calls[module]()
    assert len(fake_openai.chat_requests()) == 2


@pytest.mark.parametrize(("kind", "requests"), [("refusal", 1), ("truncated", 2), ("nan", 2)])
def test_refusals_truncations_and_nan_are_unusable(
    fake_openai: FakeOpenAI, kind: str, requests: int
) -> None:
    fake_openai.script(Reply.of(kind), Reply.of(kind))
    with pytest.raises(BackendResponseError):
        make(fake_openai).parse(PROMPT)
    assert len(fake_openai.chat_requests()) == requests


# --------------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503])
def test_retryable_statuses_are_retried_until_success(fake_openai: FakeOpenAI, status: int) -> None:
    fake_openai.fail_then_succeed(2, Reply.error(status))
    answer = make(fake_openai, max_retries=2).parse_answer(PROMPT)
    assert answer.attempts == 3 and len(fake_openai.chat_requests()) == 3


def test_retries_are_bounded_and_reported(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.error(500)
    with pytest.raises(BackendUnavailableError) as info:
        make(fake_openai, max_retries=3).parse(PROMPT)
    assert len(fake_openai.chat_requests()) == 4
    error = info.value
    assert error.code == "CODEX_UNAVAILABLE"
    assert error.attempts == 4 and error.status_code == 500  # type: ignore[attr-defined]
    assert "after 4 attempts" in str(error)


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_fail_at_once(fake_openai: FakeOpenAI, status: int) -> None:
    fake_openai.default = Reply.error(status)
    with pytest.raises(BackendUnavailableError, match=f"HTTP {status}"):
        make(fake_openai, max_retries=3).parse(PROMPT)
    assert len(fake_openai.chat_requests()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_authentication_failures_fail_at_once_and_say_so(
    fake_openai: FakeOpenAI, status: int
) -> None:
    fake_openai.default = Reply.error(status)
    with pytest.raises(BackendUnavailableError, match="authentication failed"):
        make(fake_openai, max_retries=3).parse(PROMPT)
    assert len(fake_openai.chat_requests()) == 1


def test_a_wrong_key_is_an_authentication_failure(fake_openai: FakeOpenAI) -> None:
    fake_openai.require_key = "sk-right"
    with pytest.raises(BackendUnavailableError, match="authentication failed"):
        make(fake_openai, api_key="sk-wrong").parse(PROMPT)
    assert make(fake_openai, api_key="sk-right").parse(PROMPT).tempo.bpm == 100


def test_rate_limit_waits_for_retry_after(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.error(429, retry_after="0.3"))
    answer = make(fake_openai, backoff_max_s=1.0).parse_answer(PROMPT)
    first, second = fake_openai.chat_requests()
    assert answer.attempts == 2
    assert 0.3 <= second.at - first.at < 1.0


def test_retry_after_ms_is_read(fake_openai: FakeOpenAI) -> None:
    waits: list[float] = []
    fake_openai.script(Reply.error(429, retry_after_ms="250"))
    make(fake_openai, backoff_max_s=1.0, sleep=waits.append).parse(PROMPT)
    assert len(waits) == 1 and 0.25 <= waits[0] < 0.3


def test_rate_limit_exhausted_is_rate_limited(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.error(429, retry_after="0")
    with pytest.raises(BackendRateLimitedError) as info:
        make(fake_openai, max_retries=2).parse(PROMPT)
    assert info.value.code == "CODEX_RATE_LIMITED" and info.value.attempts == 3  # type: ignore[attr-defined]


def test_a_retry_after_beyond_the_cap_is_not_waited_for(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.error(429, retry_after="60")
    started = time.monotonic()
    with pytest.raises(BackendRateLimitedError) as info:
        make(fake_openai, max_retries=3, backoff_max_s=1.0).parse(PROMPT)
    assert time.monotonic() - started < 1.0
    assert len(fake_openai.chat_requests()) == 1
    assert info.value.retry_after_s == 60.0  # type: ignore[attr-defined]


def test_backoff_grows_exponentially_with_bounded_jitter(fake_openai: FakeOpenAI) -> None:
    waits: list[float] = []
    fake_openai.default = Reply.error(503)
    backend = make(
        fake_openai,
        max_retries=4,
        backoff_base_s=0.01,
        backoff_max_s=0.04,
        sleep=waits.append,
        rng=random.Random(7),
    )
    with pytest.raises(BackendUnavailableError):
        backend.parse(PROMPT)
    expected = [0.01, 0.02, 0.04, 0.04]
    assert len(waits) == len(expected)
    for wait, base in zip(waits, expected, strict=True):
        assert base <= wait <= base * 1.3


def test_default_policy_matches_the_spec() -> None:
    policy = RetryPolicy()
    rng = random.Random(1)
    assert (policy.max_retries, policy.base_s, policy.max_s) == (3, 1.0, 10.0)
    assert 8.0 <= policy.backoff_s(3, rng) <= 8.0 * 1.3
    assert 10.0 <= policy.backoff_s(6, rng) <= 13.0


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_a_dropped_connection_is_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.of("close"))
    answer = make(fake_openai).parse_answer(PROMPT)
    assert answer.attempts == 2


def test_a_dropped_connection_every_time_is_unavailable(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.of("close")
    with pytest.raises(BackendUnavailableError, match="connection failed"):
        make(fake_openai, max_retries=1).parse(PROMPT)
    assert len(fake_openai.chat_requests()) == 2


def test_nothing_listening_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = LLMBackend(
        Implementation.LOCAL_LLM,
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key=None,
        model="m",
        timeout_s=1.0,
        max_retries=1,
        backoff_base_s=0.0,
        backoff_max_s=0.0,
    )
    with pytest.raises(BackendUnavailableError) as info:
        backend.parse(PROMPT)
    assert info.value.code == "LOCAL_LLM_UNAVAILABLE"
    assert backend.health_check() is False


# --------------------------------------------------------------------------- timeouts


def test_a_hung_server_times_out_within_the_timeout(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.of("hang")
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError) as info:
        make(fake_openai, timeout_s=0.4, max_retries=1).parse(PROMPT)
    elapsed = time.monotonic() - started
    assert 0.8 <= elapsed < 0.8 + 1.0
    assert info.value.code == "CODEX_TIMEOUT" and info.value.attempts == 2  # type: ignore[attr-defined]
    assert len(fake_openai.chat_requests()) == 2


def test_a_trickling_answer_is_cut_off_at_the_timeout(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.of("trickle")
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError):
        make(fake_openai, timeout_s=0.4, max_retries=0).parse(PROMPT)
    assert time.monotonic() - started < 0.4 + 0.5


def test_a_slow_answer_inside_the_timeout_is_accepted(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.good(delay_s=0.2))
    answer = make(fake_openai, timeout_s=1.0).parse_answer(PROMPT)
    assert answer.attempts == 1 and answer.latency_ms >= 200


def test_a_slow_answer_past_the_timeout_is_a_timeout(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.good(delay_s=0.6)
    with pytest.raises(BackendTimeoutError):
        make(fake_openai, timeout_s=0.3, max_retries=0).parse(PROMPT)


def test_local_llm_errors_carry_local_codes(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply.of("hang")
    backend = make(fake_openai, name=Implementation.LOCAL_LLM, timeout_s=0.3, max_retries=0)
    with pytest.raises(BackendTimeoutError) as info:
        backend.parse(PROMPT)
    assert info.value.code == "LOCAL_LLM_TIMEOUT"


# ------------------------------------------------------------------ configuration and health


def test_an_unconfigured_backend_never_connects(fake_openai: FakeOpenAI) -> None:
    codex = make(fake_openai, api_key=None)
    local = make(fake_openai, name=Implementation.LOCAL_LLM, base_url=None)
    for backend in (codex, local):
        assert backend.configured is False
        assert backend.health_check() is False
        with pytest.raises(BackendUnavailableError, match="not configured") as info:
            backend.parse(PROMPT)
        assert info.value.attempts == 0  # type: ignore[attr-defined]
    assert fake_openai.requests == []


def test_health_check_is_cached(fake_openai: FakeOpenAI) -> None:
    clock = FakeClock()
    backend = make(fake_openai, clock=clock, health_ttl_s=5.0)
    assert backend.health_check() and backend.health_check()
    assert len(fake_openai.model_requests()) == 1
    clock.now += 6.0
    assert backend.health_check()
    assert len(fake_openai.model_requests()) == 2


def test_health_check_false_on_errors_and_hangs(fake_openai: FakeOpenAI) -> None:
    fake_openai.models_reply = Reply.error(500)
    assert make(fake_openai).health_check() is False
    fake_openai.models_reply = Reply.of("hang")
    started = time.monotonic()
    assert make(fake_openai, health_timeout_s=0.3).health_check() is False
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    "bad",
    [
        {"timeout_s": 0},
        {"max_retries": -1},
        {"model": " "},
        {"backoff_base_s": 2.0, "backoff_max_s": 1.0},
        {"confidence_threshold": 1.5},
        {"breaker_failures": 0},
        {"name": Implementation.RULE_BASED},
    ],
)
def test_bad_settings_are_config_errors(fake_openai: FakeOpenAI, bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        make(fake_openai, **bad)


# --------------------------------------------------------------------------- circuit breaker


def test_breaker_opens_after_consecutive_failures_and_half_opens(fake_openai: FakeOpenAI) -> None:
    clock = FakeClock()
    backend = make(
        fake_openai, max_retries=0, breaker_failures=3, breaker_reset_s=30.0, clock=clock
    )
    fake_openai.script(*[Reply.error(500)] * 3)
    for _ in range(3):
        with pytest.raises(BackendUnavailableError, match="HTTP 500"):
            backend.parse(PROMPT)
    assert state_of(backend) is BreakerState.OPEN
    with pytest.raises(BackendUnavailableError, match="circuit open") as info:
        backend.parse(PROMPT)
    assert info.value.attempts == 0  # type: ignore[attr-defined]
    assert len(fake_openai.chat_requests()) == 3
    assert backend.health_check() is False and fake_openai.model_requests() == []
    clock.now += 29.0
    with pytest.raises(BackendUnavailableError, match="circuit open"):
        backend.parse(PROMPT)
    clock.now += 1.0
    assert state_of(backend) is BreakerState.HALF_OPEN
    assert backend.parse(PROMPT).tempo.bpm == 100  # the trial call goes through
    assert state_of(backend) is BreakerState.CLOSED
    assert len(fake_openai.chat_requests()) == 4


def test_a_failed_trial_reopens_the_breaker(fake_openai: FakeOpenAI) -> None:
    clock = FakeClock()
    backend = make(
        fake_openai, max_retries=0, breaker_failures=2, breaker_reset_s=10.0, clock=clock
    )
    fake_openai.default = Reply.error(503)
    for _ in range(2):
        with pytest.raises(BackendUnavailableError):
            backend.parse(PROMPT)
    clock.now += 10.0
    with pytest.raises(BackendUnavailableError, match="HTTP 503"):
        backend.parse(PROMPT)
    with pytest.raises(BackendUnavailableError, match="circuit open"):
        backend.parse(PROMPT)
    assert len(fake_openai.chat_requests()) == 3


def test_a_success_resets_the_failure_count(fake_openai: FakeOpenAI) -> None:
    backend = make(fake_openai, max_retries=0, breaker_failures=3)
    fake_openai.script(
        Reply.error(500), Reply.error(500), Reply.good(), Reply.error(500), Reply.error(500)
    )
    outcomes = []
    for _ in range(5):
        try:
            backend.parse(PROMPT)
            outcomes.append("ok")
        except BackendUnavailableError:
            outcomes.append("fail")
    assert outcomes == ["fail", "fail", "ok", "fail", "fail"]
    assert state_of(backend) is BreakerState.CLOSED


def test_breaker_lets_one_trial_through_at_a_time() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_s=5.0, clock=clock)
    breaker.record_failure()
    assert not breaker.acquire()
    clock.now += 5.0
    assert breaker.acquire() and not breaker.acquire()
    breaker.record_success()
    assert breaker.acquire() and breaker.acquire()


def test_concurrent_calls_share_one_backend(fake_openai: FakeOpenAI) -> None:
    backend = make(fake_openai)
    results: list[float] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(backend.parse(PROMPT).tempo.bpm)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == [] and results == [100.0] * 8
    assert len(fake_openai.chat_requests()) == 8


# --------------------------------------------------------------------------- schemas and templates


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_objects(item))
    return found


@pytest.mark.parametrize("module", sorted(SCHEMAS))
def test_schemas_are_strict_compatible(module: str) -> None:
    schema = SCHEMAS[module]
    text = json.dumps(schema)
    assert "$ref" not in text and '"minimum":' not in text and '"default":' not in text
    for obj in _objects(schema):
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])


def test_enhance_schema_leaves_the_original_prompt_to_us() -> None:
    assert "original_prompt" not in SCHEMAS["enhance"]["properties"]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_templates_render_without_expanding_user_text(name: str) -> None:
    template = load_template(name)
    values = dict.fromkeys(template.placeholders(), "{{user_prompt}}")
    system, user = template.render(values)
    assert system["content"].startswith("You are Aurora")
    assert "{{user_prompt}}" in user["content"]  # the value itself, not expanded again
    with pytest.raises(ConfigError):
        template.render({})


# --------------------------------------------------------------------------- property


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
PARSE_KEYS = list(SCHEMAS["parse"]["properties"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replacements=st.dictionaries(st.sampled_from(PARSE_KEYS), JSON_VALUE, max_size=4))
def test_any_parse_answer_is_validated_or_refused(replacements: dict[str, Any]) -> None:
    import fake_openai

    answer = {**fake_openai.good_answer("parse", "USER PROMPT: " + PROMPT), **replacements}
    review = Review(threshold=0.6)
    try:
        parsed = normalise_parse(json.loads(json.dumps(answer)), review)
    except BackendResponseError:
        return
    assert 40.0 <= parsed.tempo.bpm <= 240.0
    assert all(0.0 <= m.confidence <= 1.0 for m in parsed.mood)
    assert len(parsed.mood) <= 32 and len(parsed.genre.value) <= 40
