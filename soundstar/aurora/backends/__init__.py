"""Aurora's implementations: `llm` (codex, local_llm), `rules` (rule_based), `defaults`.

`LLMBackend` and `LLMAnswer` are loaded on first use so that importing the
rule-based backend does not import the OpenAI SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soundstar.aurora.backends.llm import LLMAnswer, LLMBackend

__all__ = ["LLMAnswer", "LLMBackend"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from soundstar.aurora.backends import llm

        return getattr(llm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
