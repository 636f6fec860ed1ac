"""The one place configuration becomes Aurora backends (STYLE.md: builders)."""

from __future__ import annotations

from typing import Any

from soundstar.aurora.backends.defaults import DefaultsBackend
from soundstar.aurora.backends.rules import RuleBasedBackend
from soundstar.aurora.cache import build_cache
from soundstar.aurora.mapper import MapHints
from soundstar.aurora.pipeline import Aurora
from soundstar.aurora.suggestion import Suggestion
from soundstar.config import Settings
from soundstar.errors import ConfigError
from soundstar.models import (
    Enhancement,
    Implementation,
    MusicalParameters,
    ParsedParameters,
    StructuralPlan,
)


class LLMAdapter:
    """Gives an LLM backend the chain's interface: parse answers carry no offline hints."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.name: Implementation = backend.name

    @property
    def configured(self) -> bool:
        return bool(self._backend.configured)

    def parse(self, text: str, *, original: str | None = None) -> tuple[ParsedParameters, MapHints]:
        return self._backend.parse(text, original=original), MapHints()

    def plan(self, params: MusicalParameters) -> StructuralPlan:
        result: StructuralPlan = self._backend.plan(params)
        return result

    def enhance(
        self,
        text: str,
        *,
        level: str = "moderate",
        context: dict[str, object] | None = None,
        original: str | None = None,
    ) -> Enhancement:
        """The LLM sees the person's own words when they are known."""
        result: Enhancement = self._backend.enhance(
            original if original is not None else text, level=level, context=context
        )
        return result

    def suggest(
        self, partial_prompt: str, *, cursor_position: int | None = None, count: int = 3
    ) -> list[Suggestion]:
        """The LLM answers for the whole partial prompt; the cursor is not part of its template."""
        items = self._backend.suggest(partial_prompt, count=count)
        return [Suggestion.model_validate(item) for item in items]

    def health_check(self) -> bool:
        return bool(self._backend.health_check())


LM_STUDIO_URL = "http://localhost:1234/v1"
FORCEABLE = {
    "rules": Implementation.RULE_BASED,
    "codex": Implementation.CODEX,
    "local_llm": Implementation.LOCAL_LLM,
}


def _llm(settings: Settings, name: Implementation, *, force: bool) -> LLMAdapter | None:
    """The codex or local_llm backend the settings describe; None when not configured.

    Forced, local_llm talks to LM Studio's default URL when no endpoint is set, and codex
    without a key is a configuration error naming the setting.
    """
    impl = settings.aurora.implementations
    threshold = settings.aurora.modules.semantic_parser.confidence_threshold
    if name is Implementation.CODEX:
        key = impl.primary.api_key.get_secret_value() if impl.primary.api_key else None
        if not key:
            if force:
                raise ConfigError(
                    "codex is not configured: set SOUNDSTAR_AURORA__IMPLEMENTATIONS__PRIMARY__API_KEY "
                    "(and __API_URL for an OpenAI-compatible server)"
                )
            return None
        from soundstar.aurora.backends.llm import LLMBackend

        backend = LLMBackend(
            Implementation.CODEX,
            base_url=impl.primary.api_url,
            api_key=key,
            model=impl.primary.model,
            timeout_s=impl.primary.timeout_ms / 1000,
            max_retries=impl.primary.max_retries,
            confidence_threshold=threshold,
        )
        return LLMAdapter(backend)
    endpoint = impl.secondary.endpoint or (LM_STUDIO_URL if force else None)
    if not endpoint:
        return None
    from soundstar.aurora.backends.llm import LLMBackend

    backend = LLMBackend(
        Implementation.LOCAL_LLM,
        base_url=endpoint,
        api_key="not-needed",
        model=impl.secondary.model,
        timeout_s=impl.secondary.timeout_ms / 1000,
        max_retries=impl.secondary.max_retries,
        confidence_threshold=threshold,
    )
    return LLMAdapter(backend)


def build_aurora(settings: Settings, *, only: str | None = None) -> Aurora:
    """codex → local_llm → rule_based → defaults, from the `aurora.implementations` settings,
    with the cache of `aurora.caching` (Redis when a URL is configured).

    `only` ("rules", "codex", "local_llm") forces that one implementation: no fallback, so a
    failure of the forced backend is an error rather than a silent substitute.
    """
    backends: list[Any]
    if only is not None:
        if only not in FORCEABLE:
            raise ConfigError(f"unknown implementation {only!r}; use one of {', '.join(FORCEABLE)}")
        forced = FORCEABLE[only]
        backends = (
            [RuleBasedBackend()]
            if forced is Implementation.RULE_BASED
            else [_llm(settings, forced, force=True)]
        )
    else:
        backends = [
            b
            for b in (
                _llm(settings, Implementation.CODEX, force=False),
                _llm(settings, Implementation.LOCAL_LLM, force=False),
            )
            if b is not None
        ]
        backends.extend([RuleBasedBackend(), DefaultsBackend()])
    caching = settings.aurora.caching
    cache = build_cache(
        redis_url=caching.redis_url or settings.redis_url,
        ttls=caching.ttl.model_dump(),
        enabled=caching.enabled,
    )
    return Aurora(backends, cache=cache)
