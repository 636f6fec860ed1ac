"""The fallback chain (DESIGN.md; spec v2 §9.1–9.2): codex → local_llm → rule_based → defaults.

Each module call walks the chain; an unconfigured backend is skipped at no
cost; a failing one is recorded and the next is tried. A backend found down
(unreachable, timing out, refusing the key) is skipped at once by later calls,
across requests, until its retry time, when one call tries it again: an outage
costs one request its wait, not every request. The answer says which
implementation answered and why any was passed over.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from soundstar.aurora.backends.breaker import BreakerState, CircuitBreaker
from soundstar.errors import (
    AuroraError,
    AuthenticationError,
    BackendRateLimitedError,
    BackendTimeoutError,
    BackendUnavailableError,
    ContentPolicyError,
    InvalidPromptError,
)
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


DOWN_RETRY_S = 30.0
"""How long a backend found down is skipped before one call tries it again."""

_DOWN = (BackendUnavailableError, BackendTimeoutError, BackendRateLimitedError, AuthenticationError)
"""Failures that say the backend, not this request, is the problem."""


@dataclass(frozen=True)
class BackendStatus:
    """What the chain knows of one backend now, for a health view and the page."""

    name: str
    state: BreakerState
    retry_in_s: float
    last_failure: str | None


class BackendHealth:
    """A breaker per backend object, kept for as long as the backend lives (so across
    requests): the first failure that says a backend is down opens its breaker."""

    def __init__(
        self, *, retry_s: float = DOWN_RETRY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.retry_s = retry_s
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: weakref.WeakKeyDictionary[Any, CircuitBreaker] = weakref.WeakKeyDictionary()
        self._reasons: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def breaker(self, backend: Any) -> CircuitBreaker:
        with self._lock:
            found = self._breakers.get(backend)
            if found is None:
                found = CircuitBreaker(failure_threshold=1, reset_s=self.retry_s, clock=self._clock)
                self._breakers[backend] = found
            return found

    def failed(self, backend: Any, exc: BaseException, reason: str) -> None:
        """Count a failure: one that says the backend is down opens its breaker."""
        breaker = self.breaker(backend)
        if isinstance(exc, _DOWN):
            breaker.record_failure()
            with self._lock:
                self._reasons[backend] = reason
        else:
            breaker.release()

    def succeeded(self, backend: Any) -> None:
        self.breaker(backend).record_success()
        with self._lock:
            self._reasons.pop(backend, None)

    def status(self, backend: Any) -> BackendStatus:
        breaker = self.breaker(backend)
        with self._lock:
            reason = self._reasons.get(backend)
        return BackendStatus(
            name=backend.name.value,
            state=breaker.state,
            retry_in_s=round(breaker.retry_in_s(), 1),
            last_failure=reason,
        )


HEALTH = BackendHealth()
"""The chain's memory of which backends are down, shared by every caller in the process."""


def _describe(backend: Backend, exc: Exception) -> str:
    code = getattr(exc, "code", type(exc).__name__)
    attempts = getattr(exc, "attempts", None)
    suffix = f" after {attempts} attempts" if attempts and attempts > 1 else ""
    return f"{backend.name.value}: {code}{suffix}: {exc}"


def _skipped(backend: Backend, status: BackendStatus) -> str:
    last = status.last_failure or f"{backend.name.value}: failed"
    return f"{last}; skipped without a call until it is tried again in {status.retry_in_s:.0f} s"


def run_chain(
    module: str,
    backends: Sequence[Any],
    call: Callable[[Any], T],
    *,
    health: BackendHealth | None = None,
) -> ChainAnswer[T]:
    """Call `call(backend)` down the chain until one answers; a backend known to be down
    is passed over without a call (`health`, by default the process's `HEALTH`).

    Errors about the person's input (invalid prompt, content policy) are not
    fallback material: they propagate at once.
    """
    health = HEALTH if health is None else health
    failures: list[str] = []
    for backend in backends:
        if not backend.configured:
            continue
        breaker = health.breaker(backend)
        if not breaker.acquire():
            failures.append(_skipped(backend, health.status(backend)))
            continue
        try:
            value = call(backend)
        except (InvalidPromptError, ContentPolicyError):
            breaker.release()
            raise
        except AuroraError as exc:
            failures.append(_describe(backend, exc))
            health.failed(backend, exc, failures[-1])
            log.warning("aurora %s: %s", module, failures[-1])
            continue
        except Exception as exc:  # a rule-based bug must still end in defaults, not an error
            failures.append(_describe(backend, exc))
            health.failed(backend, exc, failures[-1])
            log.exception("aurora %s: %s failed", module, backend.name.value)
            continue
        except BaseException:
            breaker.release()
            raise
        health.succeeded(backend)
        fallback_used = bool(failures)
        return ChainAnswer(
            value, backend.name, fallback_used, "; ".join(failures) or None, failures
        )
    raise AuroraError(f"no implementation could answer {module}: " + "; ".join(failures))
