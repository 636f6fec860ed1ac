"""Aurora end to end: prompt → preprocessed text → (enhanced) → parsed → parameters → plan → embedding.

The one object the rest of Soundstar talks to for understanding; every module
call goes through the fallback chain, is cached, and reports the
implementation used.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from soundstar.aurora.backends.defaults import DefaultsBackend
from soundstar.aurora.backends.rules import RuleBasedBackend
from soundstar.aurora.cache import AuroraCache, MemoryCache
from soundstar.aurora.chain import ChainAnswer, run_chain
from soundstar.aurora.mapper import MapHints, Mapped, map_parameters
from soundstar.aurora.precedence import keep_stated
from soundstar.aurora.preprocess import Preprocessed, moderate, normalize, preprocess
from soundstar.aurora.suggestion import Suggestion
from soundstar.errors import ContentPolicyError, InvalidPromptError, ParameterError
from soundstar.models import (
    PROMPT_MAX_CHARS,
    ControlEmbedding,
    Enhancement,
    Implementation,
    MusicalParameters,
    Notice,
    ParsedParameters,
    StructuralPlan,
)

T = TypeVar("T")
log = logging.getLogger("soundstar.aurora")

_LEVEL = [
    Implementation.CODEX,
    Implementation.LOCAL_LLM,
    Implementation.RULE_BASED,
    Implementation.DEFAULTS,
]
MAX_SUGGESTIONS = 5
_OFFLINE = "Understood offline by the built-in music knowledge base (no LLM configured)."


def _encode(params: MusicalParameters, plan: StructuralPlan) -> ControlEmbedding:
    """The encoder, imported on first use: reading a prompt needs no numpy."""
    from soundstar.encoder.embedding import encode

    return encode(params, plan)


@dataclass
class Understanding:
    preprocessed: Preprocessed
    parsed: ParsedParameters
    parameters: MusicalParameters
    plan: StructuralPlan
    implementations: dict[str, Implementation]
    implementation_used: Implementation
    fallback_used: bool
    fallback_reason: str | None
    notices: list[Notice] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    enhancement: Enhancement | None = None
    cache_hit: bool = False
    # the parse of the person's own words (before any enhancement): what they stated
    stated: ParsedParameters | None = None
    embedder: Callable[[MusicalParameters, StructuralPlan], ControlEmbedding] = field(
        default=_encode, repr=False, compare=False
    )
    _embedding: ControlEmbedding | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def embedding(self) -> ControlEmbedding:
        """The control embedding of the parameters and plan, computed on first use (most
        callers never use it) and timed under `embed`."""
        if self._embedding is None:
            start = time.perf_counter()
            self._embedding = self.embedder(self.parameters, self.plan)
            self.timings_ms["embed"] = _ms(start)
        return self._embedding


@dataclass
class EnhanceOutcome:
    """The enhancer's answer (spec v2 §5.2.1) with where it came from."""

    enhancement: Enhancement
    implementation: Implementation
    fallback_used: bool
    fallback_reason: str | None
    notices: list[Notice]
    cache_hit: bool
    processing_time_ms: float


@dataclass
class SuggestOutcome:
    """The suggester's answer (spec v1 §3.2.2) with the inferred context."""

    suggestions: list[Suggestion]
    likely_genre: str | None
    likely_mood: str | None
    implementation: Implementation
    cache_hit: bool
    processing_time_ms: float
    fallback_used: bool = False
    fallback_reason: str | None = None


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _dump_parse(value: tuple[ParsedParameters, MapHints]) -> dict[str, Any]:
    return {"parsed": value[0].model_dump(mode="json", by_alias=True), "hints": asdict(value[1])}


def _load_parse(data: Any) -> tuple[ParsedParameters, MapHints]:
    return ParsedParameters.model_validate(data["parsed"]), MapHints(**data["hints"])


class Aurora:
    """The semantic layer over an ordered list of backends (first = preferred)."""

    def __init__(
        self,
        backends: Sequence[Any] | None = None,
        cache: AuroraCache | None = None,
        *,
        suggest_with_llm: bool = False,
    ) -> None:
        self.backends: list[Any] = (
            list(backends) if backends is not None else [RuleBasedBackend(), DefaultsBackend()]
        )
        self.cache: AuroraCache = cache if cache is not None else MemoryCache()
        self.suggest_with_llm = suggest_with_llm
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def llm_configured(self) -> bool:
        return any(
            b.configured and b.name in (Implementation.CODEX, Implementation.LOCAL_LLM)
            for b in self.backends
        )

    def _chain_id(self) -> str:
        """Which backends can answer: part of every cache key, so a change of setup misses."""
        return ",".join(b.name.value for b in self.backends if b.configured)

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="aurora")
            return self._pool

    def _cached(
        self,
        module: str,
        prompt: str,
        options: Mapping[str, Any],
        run: Callable[[], ChainAnswer[T]],
        dump: Callable[[T], Any],
        load: Callable[[Any], T],
    ) -> ChainAnswer[T]:
        """A chain answer from the cache, or computed and stored. Only first-choice answers are
        stored: a fallback's answer would outlive the outage that caused it."""
        options = {**options, "chain": self._chain_id()}
        stored = self.cache.get(module, prompt, options)
        if isinstance(stored, dict):
            try:
                value = load(stored["value"])
                implementation = Implementation(stored["implementation"])
                return ChainAnswer(value, implementation, False, None, [], cache_hit=True)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("aurora cache: unreadable %s entry ignored (%s)", module, exc)
        answer = run()
        if not answer.fallback_used and answer.implementation is not Implementation.DEFAULTS:
            self.cache.set(
                module,
                prompt,
                {"value": dump(answer.value), "implementation": answer.implementation.value},
                options,
            )
        return answer

    # ------------------------------------------------------------------ modules

    def parse(
        self, text: str, *, original: str | None = None
    ) -> ChainAnswer[tuple[ParsedParameters, MapHints]]:
        return self._cached(
            "parse",
            text,
            {"original": original},
            lambda: run_chain(
                "semantic_parser", self.backends, lambda b: b.parse(text, original=original)
            ),
            _dump_parse,
            _load_parse,
        )

    def plan(self, params: MusicalParameters) -> ChainAnswer[StructuralPlan]:
        return self._cached(
            "plan",
            params.model_dump_json(),
            {},
            lambda: run_chain("structural_planner", self.backends, lambda b: b.plan(params)),
            lambda plan: plan.model_dump(mode="json", by_alias=True),
            StructuralPlan.model_validate,
        )

    def _enhance_pre(
        self, pre: Preprocessed, level: str, context: dict[str, object] | None
    ) -> ChainAnswer[Enhancement]:
        person = pre.corrected_original
        return self._cached(
            "enhance",
            pre.text,
            {"original": person, "level": level, "context": context or {}},
            lambda: run_chain(
                "prompt_enhancer",
                self.backends,
                lambda b: b.enhance(pre.text, level=level, context=context, original=person),
            ),
            lambda e: e.model_dump(mode="json"),
            Enhancement.model_validate,
        )

    def enhance(
        self, prompt: str, *, level: str = "moderate", context: dict[str, Any] | None = None
    ) -> EnhanceOutcome:
        """Enhance a prompt (spec v2 §5.2.1); invalid prompts raise as in `understand`."""
        from soundstar.aurora.enhancer import check_level  # loaded only when enhancing

        start = time.perf_counter()
        check_level(level)
        if context is not None and not isinstance(context, dict):
            raise ParameterError("context must be an object", field="context")
        pre = preprocess(prompt)
        answer = self._enhance_pre(pre, level, context)
        notices = self._notices([answer], pre)
        return EnhanceOutcome(
            enhancement=answer.value,
            implementation=answer.implementation,
            fallback_used=answer.fallback_used,
            fallback_reason=answer.fallback_reason,
            notices=notices,
            cache_hit=answer.cache_hit,
            processing_time_ms=_ms(start),
        )

    def suggest(
        self, partial_prompt: str, *, cursor_position: int | None = None, count: int = 3
    ) -> SuggestOutcome:
        """Suggestions for a prompt being typed (spec v1 §3.2.2); rule-based first unless
        `suggest_with_llm` (an LLM round trip per keystroke is too slow)."""
        start = time.perf_counter()
        if (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not 1 <= count <= MAX_SUGGESTIONS
        ):
            raise ParameterError(
                f"suggestion_count must be 1 to {MAX_SUGGESTIONS}, got {count!r}",
                field="suggestion_count",
            )
        if not isinstance(partial_prompt, str):
            raise InvalidPromptError("the partial prompt must be text", field="partial_prompt")
        if len(partial_prompt) > PROMPT_MAX_CHARS:
            raise InvalidPromptError(
                f"the partial prompt is too long ({len(partial_prompt)} characters); "
                f"the limit is {PROMPT_MAX_CHARS}",
                field="partial_prompt",
            )
        cursor = len(partial_prompt) if cursor_position is None else cursor_position
        if (
            isinstance(cursor, bool)
            or not isinstance(cursor, int)
            or not 0 <= cursor <= len(partial_prompt)
        ):
            raise ParameterError(
                f"cursor_position must be 0 to {len(partial_prompt)}, got {cursor_position!r}",
                field="cursor_position",
            )
        category = moderate(normalize(partial_prompt))
        if category is not None:
            raise ContentPolicyError(
                f"the prompt contains disallowed content ({category})", field="partial_prompt"
            )
        order = (
            self.backends
            if self.suggest_with_llm
            else sorted(self.backends, key=lambda b: b.name is not Implementation.RULE_BASED)
        )
        answer = self._cached(
            "suggest",
            partial_prompt,
            {"raw": partial_prompt, "cursor": cursor, "count": count},
            lambda: run_chain(
                "suggester",
                order,
                lambda b: b.suggest(partial_prompt, cursor_position=cursor, count=count),
            ),
            lambda items: [s.model_dump() for s in items],
            lambda data: [Suggestion.model_validate(s) for s in data],
        )
        from soundstar.aurora.suggester import infer_context  # loaded only when suggesting

        ctx = infer_context(partial_prompt[:cursor])
        return SuggestOutcome(
            suggestions=answer.value[:count],
            likely_genre=ctx.likely_genre,
            likely_mood=ctx.likely_mood,
            implementation=answer.implementation,
            cache_hit=answer.cache_hit,
            processing_time_ms=_ms(start),
            fallback_used=answer.fallback_used,
            fallback_reason=answer.fallback_reason,
        )

    def warm_up(self) -> dict[str, object]:
        """Preload what the first request would otherwise wait for (spec v1 §9.7)."""
        offline = Aurora([RuleBasedBackend(), DefaultsBackend()], cache=MemoryCache(max_entries=0))
        from soundstar.aurora.warmup import warm_up

        return warm_up(self, lambda prompt: offline.understand(prompt, enhance=True))

    # ------------------------------------------------------------------ pipeline

    def _enhance_and_quick_parse(
        self, pre: Preprocessed, level: str
    ) -> tuple[ChainAnswer[Enhancement], ChainAnswer[tuple[ParsedParameters, MapHints]]]:
        """Spec v2 §10.2: enhancement and a quick parse of the person's words, in parallel when an
        LLM answers (both wait on the network). Offline both are CPU-bound Python under the GIL:
        measured with benchmarks/aurora_latency.py (interleaved, warmed), one after the other
        took p50 0.84–0.88 ms and two threads 0.91–1.18 ms, so the rule-based path runs them
        sequentially."""
        if self.llm_configured:
            pending = self._executor().submit(self._enhance_pre, pre, level, None)
            quick = self.parse(pre.text, original=pre.original)
            return pending.result(), quick
        return self._enhance_pre(pre, level, None), self.parse(pre.text, original=pre.original)

    def understand(
        self,
        prompt: str,
        *,
        duration_seconds: float | None = None,
        check_length: bool = True,
        enhance: bool = False,
        enhancement_level: str = "moderate",
        plan: StructuralPlan | None = None,
    ) -> Understanding:
        """What the prompt asks for: parameters and a plan (a `plan` given is followed, not
        made); the control embedding is computed only when it is used."""
        timings: dict[str, float] = {}
        start = time.perf_counter()
        pre = preprocess(prompt, check_length=check_length)
        timings["preprocess"] = _ms(start)

        answers: dict[str, ChainAnswer[Any]] = {}
        enhancement: Enhancement | None = None
        if enhance:
            from soundstar.aurora.enhancer import check_level

            check_level(enhancement_level)
            start = time.perf_counter()
            enhance_answer, quick = self._enhance_and_quick_parse(pre, enhancement_level)
            timings["enhance"] = _ms(start)
            enhancement = enhance_answer.value
            answers["prompt_enhancer"] = enhance_answer
            start = time.perf_counter()
            detailed = preprocess(enhancement.enhanced_prompt, check_length=False)
            parsed_answer = self.parse(detailed.text, original=pre.original)
            own_words = quick.value[0]
            parsed = keep_stated(own_words, parsed_answer.value[0])
            hints = parsed_answer.value[1]
            timings["parse"] = _ms(start)
        else:
            start = time.perf_counter()
            parsed_answer = self.parse(pre.text, original=pre.original)
            parsed, hints = parsed_answer.value
            own_words = parsed
            timings["parse"] = _ms(start)
        answers["semantic_parser"] = parsed_answer

        start = time.perf_counter()
        mapped: Mapped = map_parameters(parsed, hints=hints, duration_seconds=duration_seconds)
        timings["map"] = _ms(start)

        if plan is None:
            start = time.perf_counter()
            plan_answer = self.plan(mapped.parameters)
            answers["structural_planner"] = plan_answer
            timings["plan"] = _ms(start)
            plan = plan_answer.value

        implementations = {module: a.implementation for module, a in answers.items()}
        used = max(implementations.values(), key=_LEVEL.index)
        reasons = [a.fallback_reason for a in answers.values() if a.fallback_reason]
        notices = self._notices(list(answers.values()), pre)
        notices.extend(Notice(level="info", message=text) for text in mapped.notices)
        return Understanding(
            preprocessed=pre,
            parsed=parsed,
            parameters=mapped.parameters,
            plan=plan,
            implementations=implementations,
            implementation_used=used,
            fallback_used=any(a.fallback_used for a in answers.values()),
            fallback_reason="; ".join(reasons) or None,
            notices=notices,
            timings_ms=timings,
            enhancement=enhancement,
            cache_hit=all(a.cache_hit for a in answers.values()),
            stated=own_words,
            embedder=self._embed,
        )

    def _embed(self, params: MusicalParameters, plan: StructuralPlan) -> ControlEmbedding:
        """The control embedding, kept under the embedding TTL (24 h) keyed by params and plan."""
        exact = params.model_dump_json() + plan.model_dump_json(by_alias=True)
        key = hashlib.sha256(exact.encode("utf-8")).hexdigest()
        stored = self.cache.get("embedding", key)
        if isinstance(stored, dict):
            try:
                return ControlEmbedding.model_validate(stored)
            except ValueError as exc:
                log.warning("aurora cache: unreadable embedding entry ignored (%s)", exc)
        embedding = _encode(params, plan)
        self.cache.set("embedding", key, embedding.model_dump())
        return embedding

    def _notices(self, answers: list[ChainAnswer[Any]], pre: Preprocessed) -> list[Notice]:
        """Fallback notices (spec v1 §8.6), the offline note and the spelling corrections."""
        notices: list[Notice] = []
        for answer in answers:
            notice = answer.notice()
            if notice is not None and notice not in notices:
                notices.append(notice)
        levels = [a.implementation for a in answers]
        if (
            not self.llm_configured
            and levels
            and max(levels, key=_LEVEL.index) is Implementation.RULE_BASED
        ):
            notices.append(Notice(level="info", message=_OFFLINE))
        for wrong, right in pre.corrections:
            notices.append(Notice(level="info", message=f"Read {wrong!r} as {right!r}."))
        return notices
