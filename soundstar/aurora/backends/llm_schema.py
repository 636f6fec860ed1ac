"""JSON schemas for structured output: the pydantic contract, inlined and made strict-compatible.

OpenAI's strict mode wants every property required (optional ones nullable),
`additionalProperties: false` on every object and no `$ref`-free keywords it
does not know; LM Studio and llama.cpp accept the same subset. Bounds such as
`minimum` are dropped from what is sent and enforced by our own clamping.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

JsonSchema = dict[str, Any]

_KEEP_KEYS = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "anyOf",
        "enum",
        "description",
        "additionalProperties",
    }
)


def inline_schema(model: type[BaseModel]) -> JsonSchema:
    """The model's validation schema (field aliases as JSON names) with every `$ref` inlined."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, JsonSchema] = raw.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = defs[node["$ref"].rsplit("/", 1)[-1]]
                merged = {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}}
                return resolve(merged)
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: JsonSchema = resolve(raw)
    return resolved


def _strictify(node: JsonSchema) -> JsonSchema:
    if "const" in node:
        node = {**node, "enum": [node["const"]]}
    out: JsonSchema = {key: value for key, value in node.items() if key in _KEEP_KEYS}
    if "anyOf" in out:
        out["anyOf"] = [_strictify(branch) for branch in out["anyOf"]]
    if "items" in out:
        out["items"] = _strictify(out["items"])
    if out.get("type") == "object" or "properties" in out:
        originally_required = set(node.get("required", []))
        props: dict[str, JsonSchema] = {}
        for name, sub in node.get("properties", {}).items():
            strict_sub = _strictify(sub)
            if name not in originally_required and not _allows_null(strict_sub):
                strict_sub = {"anyOf": [strict_sub, {"type": "null"}]}
            props[name] = strict_sub
        out["type"] = "object"
        out["properties"] = props
        out["required"] = list(props)
        out["additionalProperties"] = False
    return out


def _allows_null(node: JsonSchema) -> bool:
    if node.get("type") == "null":
        return True
    return any(_allows_null(branch) for branch in node.get("anyOf", []))


def strict_schema(model: type[BaseModel], *, omit: tuple[str, ...] = ()) -> JsonSchema:
    """The schema to send as `response_format.json_schema.schema`, without the `omit` properties."""
    full = inline_schema(model)
    for name in omit:
        full.get("properties", {}).pop(name, None)
        if name in full.get("required", []):
            full["required"] = [r for r in full["required"] if r != name]
    return _strictify(full)


def response_format(name: str, schema: JsonSchema) -> dict[str, Any]:
    """The `response_format` argument for chat.completions (LM Studio rejects `json_object`)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
