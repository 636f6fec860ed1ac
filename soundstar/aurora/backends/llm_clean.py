"""Schema-driven cleaning of an LLM's JSON before validation.

An LLM can be wrong or hostile: unknown keys are dropped, strings stripped
and capped, lists capped, numbers coerced from numeric strings and clamped to
the schema's bounds. Every change is written down in a `Review`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from soundstar.aurora.backends.llm_schema import JsonSchema

STRING_CAP = 100
LONG_STRING_CAP = 1000
LONG_STRING_FIELDS = frozenset({"enhanced_prompt", "original_prompt", "reasoning", "description"})
LIST_CAP = 32


@dataclass
class Review:
    """What cleaning changed, and which values the answer was unsure of."""

    threshold: float
    adjustments: list[str] = field(default_factory=list)
    low_confidence: list[str] = field(default_factory=list)
    clamped: set[str] = field(default_factory=set)

    def adjust(self, path: str, what: str) -> None:
        self.adjustments.append(f"{path or '<root>'}: {what}")

    def check(self, path: str, confidence: float) -> None:
        """Flag `path` when its confidence is below the threshold."""
        if confidence < self.threshold and path not in self.low_confidence:
            self.low_confidence.append(path)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def as_number(value: object) -> float | None:
    """A finite float from a JSON number or numeric string; None otherwise (and for bools)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _allows_null(schema: JsonSchema) -> bool:
    if schema.get("type") == "null":
        return True
    return any(_allows_null(b) for b in schema.get("anyOf", []))


def _non_null(schema: JsonSchema) -> JsonSchema:
    for branch in schema.get("anyOf", []):
        if branch.get("type") != "null":
            return _non_null(branch)
    return schema


def clean(value: object, schema: JsonSchema, review: Review, path: str = "") -> object:
    """Clean `value` against the inlined pydantic `schema`; what can't be fixed is left as is."""
    if value is None:
        return None
    schema = _non_null(schema)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _clean_object(value, schema, review, path)
    if kind == "array":
        return _clean_array(value, schema, review, path)
    if kind == "string":
        return _clean_string(value, schema, review, path)
    if kind in ("number", "integer"):
        return _clean_number(value, schema, review, path, integer=kind == "integer")
    return value


def clean_object(value: dict[str, Any], schema: JsonSchema, review: Review) -> dict[str, Any]:
    """Clean a top-level answer object (see `clean`)."""
    return _object_entries(value, schema, review, "")


def _clean_object(value: object, schema: JsonSchema, review: Review, path: str) -> object:
    if not isinstance(value, dict):
        return value
    return _object_entries(value, schema, review, path)


def _object_entries(
    value: dict[str, Any], schema: JsonSchema, review: Review, path: str
) -> dict[str, Any]:
    props: dict[str, JsonSchema] = schema.get("properties", {})
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in props:
            review.adjust(join(path, str(key)[:40]), "unknown key dropped")
            continue
        sub = props[key]
        if item is None and key not in required and not _allows_null(sub):
            continue  # null for a defaulted field: let the default apply
        out[key] = clean(item, sub, review, join(path, key))
    return out


def _clean_array(value: object, schema: JsonSchema, review: Review, path: str) -> object:
    if not isinstance(value, list):
        return value
    if len(value) > LIST_CAP:
        review.adjust(path, f"{len(value)} items cut to {LIST_CAP}")
        value = value[:LIST_CAP]
    item_schema: JsonSchema = schema.get("items", {})
    return [clean(item, item_schema, review, join(path, i)) for i, item in enumerate(value)]


def _clean_string(value: object, schema: JsonSchema, review: Review, path: str) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value
    leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
    cap = LONG_STRING_CAP if leaf in LONG_STRING_FIELDS else STRING_CAP
    text = " ".join(value[: cap * 4].split())
    if len(text) > cap or len(value) > cap * 4:
        review.adjust(path, f"string of {len(value)} characters cut to {cap}")
        text = text[:cap].rstrip()
    enum = schema.get("enum")
    if enum is not None and text not in enum and text.lower() in enum:
        text = text.lower()
    return text


def _clean_number(
    value: object, schema: JsonSchema, review: Review, path: str, *, integer: bool
) -> object:
    number = as_number(value)
    if number is None:
        return value
    low = schema.get("minimum", -math.inf)
    high = schema.get("maximum", math.inf)
    bounded = clamp(number, low, high)
    if bounded != number:
        review.clamped.add(path)
        review.adjust(path, f"{number:g} clamped to {bounded:g}")
    return round(bounded) if integer else bounded
