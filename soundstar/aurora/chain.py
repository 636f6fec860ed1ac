"""The fallback chain (DESIGN.md; spec v2 §9.1–9.2): codex → local_llm → rule_based → defaults.

Each module call walks the chain; an unconfigured backend is skipped at no
cost; a failing one is recorded and the next is tried. The answer says which
implementation answered and why any was passed over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from soundstar.errors import AuroraError, ContentPolicyError, InvalidPromptError
from soundstar.models import Implementation, Notice

T = TypeVar("T")
log = logging.getLogger("soundstar.aurora")

_NOTICES = {
    # spec v1 §8.6
    Implementation.LOCAL_LLM: (
        "Using alternative AI for prompt enhancement. Some suggestions may be limited.",
        "warning",
        "yellow_badge",
    ),
    Implementation.RULE_BASED: (
        "AI services temporarily unavailable. Using basic prompt analysis.",
        "warning",
        "orange_banner",
    ),
    Implementation.DEFAULTS: (
        "Unable to analyze prompt. Please adjust parameters manually.",
        "error",
        "red_banner",
    ),
}


class Backend(Protocol):
    name: Implementation

    @property
    def configured(self) -> bool: ...


@dataclass
class ChainAnswer(Generic[T]):
    value: T
    implementation: Implementation
    fallback_used: bool
    fallback_reason: str | None
    failures: list[str] = field(default_factory=list)
    cache_hit: bool = False

    def notice(self) -> Notice | None:
        """The spec's user notification when a fallback answered after an LLM failed."""
        if not self.fallback_used or self.implementation not in _NOTICES:
            return None
        message, level, indicator = _NOTICES[self.implementation]
        return Notice(level=level, message=message, indicator=indicator)


def _describe(backend: Backend, exc: Exception) -> str:
    code = getattr(exc, "code", type(exc).__name__)
    attempts = getattr(exc, "attempts", None)
    suffix = f" after {attempts} attempts" if attempts and attempts > 1 else ""
    return f"{backend.name.value}: {code}{suffix}: {exc}"


def run_chain(module: str, backends: Sequence[Any], call: Callable[[Any], T]) -> ChainAnswer[T]:
    """Call `call(backend)` down the chain until one answers.

    Errors about the person's input (invalid prompt, content policy) are not
    fallback material: they propagate at once.
    """
    failures: list[str] = []
    for backend in backends:
        if not backend.configured:
            continue
        try:
            value = call(backend)
        except (InvalidPromptError, ContentPolicyError):
            raise
        except AuroraError as exc:
            failures.append(_describe(backend, exc))
            log.warning("aurora %s: %s", module, failures[-1])
            continue
        except Exception as exc:  # a rule-based bug must still end in defaults, not an error
            failures.append(_describe(backend, exc))
            log.exception("aurora %s: %s failed", module, backend.name.value)
            continue
        fallback_used = bool(failures)
        return ChainAnswer(
            value, backend.name, fallback_used, "; ".join(failures) or None, failures
        )
    raise AuroraError(f"no implementation could answer {module}: " + "; ".join(failures))
