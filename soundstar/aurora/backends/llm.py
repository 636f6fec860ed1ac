"""Aurora's LLM implementations: `codex` (OpenAI or any compatible URL) and `local_llm`.

Both speak the OpenAI chat-completions protocol with structured output
(`response_format` json_schema). Each call renders the module's template,
retries transient failures with backoff (codex spec v1 §8.2), reads the answer
with a size cap, and normalises, clamps and validates it (spec v2 §4.3) before
anything reaches the caller. A circuit breaker stops calling a failing backend.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, cast

import openai

from soundstar.aurora.backends.breaker import BreakerState, CircuitBreaker
from soundstar.aurora.backends.llm_clean import Review
from soundstar.aurora.backends.llm_normalise import (
    normalise_enhance,
    normalise_parse,
    normalise_plan,
)
from soundstar.aurora.backends.llm_retry import (
    AttemptFailure,
    FailureKind,
    RetryPolicy,
    annotate,
    classify,
    is_transport_error,
    to_error,
)
from soundstar.aurora.backends.llm_schema import JsonSchema, response_format, strict_schema
from soundstar.aurora.backends.llm_suggest import SuggestAnswer, normalise_suggest
from soundstar.aurora.backends.templates import load_template
from soundstar.errors import (
    AuroraError,
    BackendResponseError,
    BackendUnavailableError,
    ConfigError,
    ParameterError,
)
from soundstar.models import (
    Enhancement,
    Implementation,
    MusicalParameters,
    ParsedParameters,
    StructuralPlan,
)

T = TypeVar("T")
EnhancementLevel = Literal["minimal", "moderate", "aggressive"]

OPENAI_BASE_URL = "https://api.openai.com/v1"
LOCAL_PLACEHOLDER_KEY = "not-needed"
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
CONTEXT_KEYS = ("genre_hint", "mood_hint", "duration_hint")
SCHEMAS: dict[str, JsonSchema] = {
    "enhance": strict_schema(Enhancement, omit=("original_prompt",)),
    "parse": strict_schema(ParsedParameters),
    "plan": strict_schema(StructuralPlan),
    "suggest": strict_schema(SuggestAnswer),
}
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass(frozen=True)
class LLMAnswer(Generic[T]):
    """A validated answer and how it was obtained."""

    value: T
    implementation: Implementation
    model: str
    attempts: int
    latency_ms: float
    low_confidence_fields: list[str] = field(default_factory=list)
    adjustments: list[str] = field(default_factory=list)


class _ResponseProblem(Exception):
    """A 200 answer that cannot be used; `reparse` says whether asking again may help."""

    def __init__(self, message: str, *, reparse: bool) -> None:
        super().__init__(message)
        self.message = message
        self.reparse = reparse
        self.attempts = 0


class LLMBackend:
    """One OpenAI-compatible endpoint serving Aurora's enhance, parse, plan and suggest modules."""

    def __init__(
        self,
        name: Implementation,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout_s: float,
        max_retries: int,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 10.0,
        retry_after_max_s: float | None = None,
        breaker_failures: int = 5,
        breaker_reset_s: float = 30.0,
        temperature: float | None = 0.2,
        confidence_threshold: float = 0.6,
        reparse_attempts: int = 1,
        health_timeout_s: float = 2.0,
        health_ttl_s: float = 5.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        http_client: object | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if name not in (Implementation.CODEX, Implementation.LOCAL_LLM):
            raise ConfigError(f"an LLM backend is codex or local_llm, not {name.value!r}")
        if not model.strip():
            raise ConfigError(f"{name.value}: model must not be empty")
        if timeout_s <= 0 or health_timeout_s <= 0:
            raise ConfigError(f"{name.value}: timeouts must be positive, got {timeout_s} s")
        if max_retries < 0 or reparse_attempts < 0:
            raise ConfigError(
                f"{name.value}: max_retries and reparse_attempts must not be negative"
            )
        if backoff_base_s < 0 or backoff_max_s < backoff_base_s:
            raise ConfigError(f"{name.value}: need 0 <= backoff_base_s <= backoff_max_s")
        if not 0.0 <= confidence_threshold <= 1.0:
            raise ConfigError(f"{name.value}: confidence_threshold must lie in [0, 1]")
        self.name = name
        self.base_url = base_url.rstrip("/") if base_url else None
        self.model = model
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.confidence_threshold = confidence_threshold
        self.reparse_attempts = reparse_attempts
        self.health_timeout_s = min(health_timeout_s, timeout_s)
        self.health_ttl_s = health_ttl_s
        self.max_response_bytes = max_response_bytes
        self.policy = RetryPolicy(
            max_retries=max_retries,
            base_s=backoff_base_s,
            max_s=backoff_max_s,
            retry_after_max_s=backoff_max_s if retry_after_max_s is None else retry_after_max_s,
        )
        self.breaker = CircuitBreaker(
            failure_threshold=breaker_failures, reset_s=breaker_reset_s, clock=clock
        )
        self._api_key = api_key
        self._http_client = http_client
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()
        self._health: tuple[float, bool] | None = None

    # ------------------------------------------------------------------ state

    @property
    def configured(self) -> bool:
        """codex needs an API key; local_llm needs a base URL."""
        if self.name is Implementation.CODEX:
            return bool(self._api_key)
        return bool(self.base_url)

    def __repr__(self) -> str:
        return f"LLMBackend({self.name.value}, model={self.model!r}, base_url={self.base_url!r})"

    def _openai(self) -> openai.OpenAI:
        with self._lock:
            if self._client is None:
                key: str | None
                url: str | None
                if self.name is Implementation.CODEX:
                    key, url = self._api_key, self.base_url or OPENAI_BASE_URL
                else:
                    key, url = self._api_key or LOCAL_PLACEHOLDER_KEY, self.base_url
                self._client = openai.OpenAI(
                    api_key=key,
                    base_url=url,
                    timeout=self.timeout_s,
                    max_retries=0,
                    http_client=cast(Any, self._http_client),
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def health_check(self) -> bool:
        """GET /models, short timeout, cached for `health_ttl_s`; False if open or unconfigured."""
        if not self.configured or self.breaker.state is BreakerState.OPEN:
            return False
        now = self._clock()
        with self._lock:
            if self._health is not None and now - self._health[0] < self.health_ttl_s:
                return self._health[1]
        try:
            self._openai().models.list(timeout=self.health_timeout_s)
            healthy = True
        except Exception:  # any failure means "not healthy", never an error
            healthy = False
        with self._lock:
            self._health = (now, healthy)
        return healthy

    # ------------------------------------------------------------------ modules

    def enhance(
        self,
        prompt: str,
        *,
        level: EnhancementLevel = "moderate",
        context: dict[str, object] | None = None,
    ) -> Enhancement:
        return self.enhance_answer(prompt, level=level, context=context).value

    def enhance_answer(
        self,
        prompt: str,
        *,
        level: EnhancementLevel = "moderate",
        context: dict[str, object] | None = None,
    ) -> LLMAnswer[Enhancement]:
        if level not in ("minimal", "moderate", "aggressive"):
            raise ParameterError(
                f"enhancement level must be minimal, moderate or aggressive, got {level!r}"
            )
        values = {"user_prompt": prompt, "level": level, "context": _render_context(context)}
        return self._run(
            "enhance", values, lambda data, review: normalise_enhance(data, prompt, review)
        )

    def parse(self, prompt: str, *, original: str | None = None) -> ParsedParameters:
        return self.parse_answer(prompt, original=original).value

    def parse_answer(
        self, prompt: str, *, original: str | None = None
    ) -> LLMAnswer[ParsedParameters]:
        """Parse `prompt`; `original` is the person's own words when `prompt` was enhanced."""
        note = ""
        if original and original.strip() != prompt.strip():
            note = (
                "The person's original words were: " + original.strip() + "\n"
                "Give what they stated high confidence, what only the enhancement added lower."
            )
        return self._run("parse", {"user_prompt": prompt, "original_note": note}, normalise_parse)

    def plan(self, params: MusicalParameters) -> StructuralPlan:
        return self.plan_answer(params).value

    def plan_answer(self, params: MusicalParameters) -> LLMAnswer[StructuralPlan]:
        return self._run(
            "plan", _plan_values(params), lambda data, review: normalise_plan(data, params, review)
        )

    def suggest(self, partial_prompt: str, *, count: int = 3) -> list[dict[str, object]]:
        return self.suggest_answer(partial_prompt, count=count).value

    def suggest_answer(
        self, partial_prompt: str, *, count: int = 3
    ) -> LLMAnswer[list[dict[str, object]]]:
        """Up to `count` (1–5, spec v1 §3.2.2) suggestions for a prompt being typed."""
        if not 1 <= count <= 5:
            raise ParameterError(f"suggestion count must be 1 to 5, got {count}")
        values = {"user_prompt": partial_prompt, "count": str(count)}
        return self._run(
            "suggest",
            values,
            lambda data, review: normalise_suggest(data, partial_prompt, count, review),
        )

    # ------------------------------------------------------------------ machinery

    def _run(
        self, module: str, values: dict[str, str], normalise: Callable[[object, Review], T]
    ) -> LLMAnswer[T]:
        backend = self.name.value
        if not self.configured:
            raise annotate(
                BackendUnavailableError(f"{backend}: not configured"), backend=backend, attempts=0
            )
        if not self.breaker.acquire():
            error = BackendUnavailableError(
                f"{backend}: circuit open after {self.breaker.failure_threshold} "
                f"consecutive failures; "
                f"next try in {self.breaker.retry_in_s():.1f} s"
            )
            raise annotate(error, backend=backend, attempts=0)
        started = time.perf_counter()
        attempts = 0
        try:
            messages = load_template(module).render(values)
            fmt = response_format(f"aurora_{module}", SCHEMAS[module])
            for reparse in range(self.reparse_attempts + 1):
                body, tries = self._complete(messages, fmt)
                attempts += tries
                review = Review(threshold=self.confidence_threshold)
                content = ""
                try:
                    content = _message_content(body)
                    value = normalise(_decode(content), review)
                except (_ResponseProblem, BackendResponseError) as exc:
                    message = exc.message
                    may_reparse = not isinstance(exc, _ResponseProblem) or exc.reparse
                    if not may_reparse or reparse == self.reparse_attempts:
                        raise _ResponseProblem(message, reparse=False) from None
                    messages = [*messages, *_reparse_messages(content, message)]
                    continue
                self.breaker.record_success()
                return LLMAnswer(
                    value=value,
                    implementation=self.name,
                    model=self.model,
                    attempts=attempts,
                    latency_ms=(time.perf_counter() - started) * 1000.0,
                    low_confidence_fields=review.low_confidence,
                    adjustments=review.adjustments,
                )
            raise AssertionError("unreachable")  # pragma: no cover
        except _Failed as exc:
            self.breaker.record_failure()
            raise to_error(exc.failure, backend=backend, attempts=attempts + exc.attempts) from None
        except _ResponseProblem as exc:
            self.breaker.record_failure()
            attempts += exc.attempts
            problem = BackendResponseError(f"{backend}: {exc.message} (after {attempts} attempts)")
            raise annotate(problem, backend=backend, attempts=attempts) from None
        except AuroraError:
            self.breaker.record_failure()
            raise
        except BaseException:
            self.breaker.release()
            raise

    def _complete(self, messages: list[dict[str, str]], fmt: dict[str, Any]) -> tuple[bytes, int]:
        """One completion's body, retrying transient failures; returns (body, requests made)."""
        retry = 0
        while True:
            try:
                return self._request(messages, fmt), retry + 1
            except _ResponseProblem as exc:
                exc.attempts = retry + 1
                raise
            except Exception as exc:
                if not is_transport_error(exc):
                    raise
                failure = classify(exc)
            wait = self.policy.wait_s(retry, failure, self._rng)
            if wait is None:
                raise _Failed(failure, retry + 1)
            self._sleep(wait)
            retry += 1

    def _request(self, messages: list[dict[str, str]], fmt: dict[str, Any]) -> bytes:
        """POST /chat/completions once; read at most `max_response_bytes` within `timeout_s`."""
        deadline = time.monotonic() + self.timeout_s
        create = self._openai().chat.completions.with_streaming_response.create
        extra: dict[str, Any] = {}
        if self.temperature is not None:  # some reasoning models refuse the parameter
            extra["temperature"] = self.temperature
        with create(
            model=self.model,
            messages=cast(Any, messages),
            response_format=cast(Any, fmt),
            timeout=self.timeout_s,
            **extra,
        ) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > self.max_response_bytes:
                    raise _ResponseProblem(
                        f"answer larger than {self.max_response_bytes} bytes", reparse=False
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError("answer still arriving at the deadline")
        return bytes(body)


class _Failed(Exception):
    """A request failed for good after `attempts` tries."""

    def __init__(self, failure: AttemptFailure, attempts: int) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.attempts = attempts


def _message_content(body: bytes) -> str:
    try:
        completion = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _ResponseProblem("the completion is not JSON", reparse=False) from None
    try:
        choice = completion["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        raise _ResponseProblem("the completion has no choices[0].message", reparse=False) from None
    if not isinstance(message, dict):
        raise _ResponseProblem("choices[0].message is not an object", reparse=False)
    if message.get("refusal"):
        raise _ResponseProblem(f"the model refused: {str(message['refusal'])[:200]}", reparse=False)
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise _ResponseProblem("the answer is empty", reparse=True)
    if choice.get("finish_reason") == "length":
        raise _ResponseProblem("the answer was cut off at the token limit", reparse=True)
    return content


def _decode(content: str) -> object:
    """The JSON in an answer, tolerating a ```json fence or prose around one object."""
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            pass
    raise _ResponseProblem(f"the answer is not valid JSON: {content[:80]!r}", reparse=True)


def _reparse_messages(content: str, problem: str) -> list[dict[str, str]]:
    return [
        {"role": "assistant", "content": content[:4000]},
        {
            "role": "user",
            "content": f"That answer cannot be used: {problem[:500]}. "
            "Answer again with one JSON object that matches the schema exactly, and nothing else.",
        },
    ]


def _render_context(context: dict[str, object] | None) -> str:
    """The spec's context hints (v2 §5.2.1) as JSON; other keys and long values are dropped."""
    if not context:
        return "none"
    kept: dict[str, object] = {}
    for key in CONTEXT_KEYS:
        value = context.get(key)
        if isinstance(value, str) and value.strip():
            kept[key] = value.strip()[:100]
        elif isinstance(value, int | float) and not isinstance(value, bool):
            kept[key] = value
    return json.dumps(kept) if kept else "none"


def _plan_values(params: MusicalParameters) -> dict[str, str]:
    instruments = ", ".join(f"{i.name} ({i.role.value})" for i in params.instrumentation)
    return {
        "genre": params.genre,
        "sub_genre": params.sub_genre or "none",
        "mood": ", ".join(params.mood) or "neutral",
        "tempo": f"{params.tempo_bpm:g}",
        "duration": f"{params.duration_seconds:g}",
        "key": params.key,
        "time_signature": params.time_signature,
        "energy": f"{params.energy_level:.2f} (0 calm, 1 intense)",
        "instrumentation": instruments,
        "structure": params.structure,
        "section_names": ", ".join(params.section_names) if params.section_names else "none",
        "chord_progression": " ".join(params.chord_progression)
        if params.chord_progression
        else "none",
    }


__all__ = ["EnhancementLevel", "FailureKind", "LLMAnswer", "LLMBackend"]
