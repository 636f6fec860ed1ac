"""The OpenAPI document says what the validation does: text fields refuse NUL (no store
can keep one), so a client or a fuzzer reading the schema never sends a request the
schema calls valid and the service refuses for that reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

NO_NUL_PATTERN = r"^[^\x00]*$"
_CONSTRAINED = ("enum", "const", "pattern", "format")


def _refuse_nul(node: Any) -> None:
    """Add the no-NUL pattern to every free string schema under `node`."""
    if isinstance(node, list):
        for item in node:
            _refuse_nul(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not any(key in node for key in _CONSTRAINED):
        node["pattern"] = NO_NUL_PATTERN
    for value in node.values():
        if isinstance(value, dict | list):
            _refuse_nul(value)


def install_strict_openapi(app: FastAPI) -> None:
    """Patch the app's OpenAPI document once, when it is first built."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _refuse_nul(schema.get("components", {}).get("schemas", {}))
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    if isinstance(operation, dict):
                        _refuse_nul(operation.get("parameters", []))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
