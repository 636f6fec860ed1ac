"""The suggest module's answer shape (codex spec v1 §3.2.2) and its post-processing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from soundstar.aurora.backends.llm_clean import Review, clamp, clean_object, join
from soundstar.aurora.backends.llm_normalise import dedupe, require_object, schema_of, validate
from soundstar.aurora.suggestion import SUGGESTION_TYPES, Suggestion

__all__ = [
    "SUGGESTION_TYPES",
    "InferredContext",
    "SuggestAnswer",
    "Suggestion",
    "normalise_suggest",
]


class InferredContext(BaseModel):
    model_config = ConfigDict(extra="forbid")

    likely_genre: str | None
    likely_mood: str | None


class SuggestAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suggestions: list[Suggestion]
    inferred_context: InferredContext | None = None


def normalise_suggest(
    data: object, partial_prompt: str, count: int, review: Review
) -> list[dict[str, object]]:
    """Validated suggestions, at most `count`, positions within the prompt, duplicates dropped."""
    raw = require_object(data, "suggest")
    tidy = clean_object(raw, schema_of(SuggestAnswer), review)
    items = tidy.get("suggestions")
    if isinstance(items, list):
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            if item.get("type") not in SUGGESTION_TYPES:
                review.adjust(
                    join(join("suggestions", i), "type"), "unknown type read as 'addition'"
                )
                item["type"] = "addition"
            position = item.get("insert_position")
            if isinstance(position, int):
                item["insert_position"] = int(clamp(position, 0, len(partial_prompt)))
        items = [s for s in items if not (isinstance(s, dict) and s.get("text") == "")]
        tidy["suggestions"] = dedupe(
            items, lambda s: str(s.get("text", "")).lower(), review, "suggestions"
        )[:count]
    answer = validate(SuggestAnswer, tidy, "suggest")
    out: list[dict[str, Any]] = []
    for i, suggestion in enumerate(answer.suggestions):
        review.check(f"suggestions[{i}]", suggestion.confidence)
        out.append(suggestion.model_dump())
    return out
