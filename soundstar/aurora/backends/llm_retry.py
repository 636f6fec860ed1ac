"""Which request failures are worth retrying, how long to wait, and which error each becomes.

Backoff follows codex spec v1 §8.2: `min(base * 2**attempt, max)` plus 0–30 %
random jitter. Timeouts, connection failures and HTTP 408/409/429/5xx are
retried; other statuses (400, 401, 403, 404, 422...) fail at once. A
Retry-After (or retry-after-ms) header sets the least wait; one longer than
`retry_after_max_s` is not waited for: the call fails so the chain moves on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import openai

from soundstar.errors import (
    AuroraError,
    BackendRateLimitedError,
    BackendTimeoutError,
    BackendUnavailableError,
)

RETRYABLE_STATUSES = frozenset({408, 409, 429})
JITTER_FRACTION = 0.3


class FailureKind(StrEnum):
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    RATE_LIMITED = "rate_limited"
    AUTH = "authentication"
    SERVER = "server"
    REJECTED = "rejected"


@dataclass(frozen=True)
class AttemptFailure:
    """One failed request, classified."""

    kind: FailureKind
    message: str
    status_code: int | None = None
    retry_after_s: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in (
            FailureKind.TIMEOUT,
            FailureKind.CONNECTION,
            FailureKind.RATE_LIMITED,
            FailureKind.SERVER,
        )


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    base_s: float = 1.0
    max_s: float = 10.0
    retry_after_max_s: float = 10.0

    def backoff_s(self, retry_index: int, rng: random.Random) -> float:
        """Wait before retry number `retry_index` (0 for the first retry)."""
        delay = min(self.base_s * (2.0**retry_index), self.max_s)
        return delay + rng.uniform(0.0, JITTER_FRACTION * delay)

    def wait_s(self, retry_index: int, failure: AttemptFailure, rng: random.Random) -> float | None:
        """How long to wait before retrying, or None when the failure should not be retried."""
        if not failure.retryable or retry_index >= self.max_retries:
            return None
        wait = self.backoff_s(retry_index, rng)
        if failure.retry_after_s is not None:
            if failure.retry_after_s > self.retry_after_max_s:
                return None
            wait = max(wait, failure.retry_after_s)
        return wait


def parse_retry_after(headers: Any, *, now: datetime | None = None) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date); None if absent."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_TRANSPORT_NAMES = frozenset({"TransportError", "TimeoutException", "HTTPError", "StreamError"})


def is_transport_error(exc: BaseException) -> bool:
    """Whether `exc` came from talking to the endpoint (SDK, socket or HTTP client), not a bug."""
    if isinstance(exc, openai.OpenAIError | OSError):
        return True
    return any(cls.__name__ in _TRANSPORT_NAMES for cls in type(exc).__mro__)


def classify(exc: BaseException) -> AttemptFailure:
    """Classify an exception from a request; unknown ones count as connection failures."""
    if isinstance(exc, openai.APITimeoutError):
        return AttemptFailure(FailureKind.TIMEOUT, "request timed out")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers)
        detail = f"HTTP {status}: {str(exc.message)[:200]}"
        if status == 429:
            return AttemptFailure(FailureKind.RATE_LIMITED, detail, status, retry_after)
        if status in (401, 403):
            return AttemptFailure(FailureKind.AUTH, f"authentication failed ({detail})", status)
        if status in RETRYABLE_STATUSES or status >= 500:
            return AttemptFailure(FailureKind.SERVER, detail, status, retry_after)
        return AttemptFailure(FailureKind.REJECTED, detail, status)
    if isinstance(exc, openai.APIConnectionError):
        return AttemptFailure(FailureKind.CONNECTION, f"connection failed: {exc.__cause__ or exc}")
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in names or isinstance(exc, TimeoutError):
        return AttemptFailure(FailureKind.TIMEOUT, "response timed out")
    return AttemptFailure(FailureKind.CONNECTION, f"connection failed: {type(exc).__name__}: {exc}")


def to_error(failure: AttemptFailure, *, backend: str, attempts: int) -> AuroraError:
    """The Soundstar error for a final failure, with `attempts`, `status_code`, `retry_after_s`."""
    tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}"
    message = f"{backend}: {failure.message}{tries}"
    error: AuroraError
    if failure.kind is FailureKind.TIMEOUT:
        error = BackendTimeoutError(message)
    elif failure.kind is FailureKind.RATE_LIMITED:
        error = BackendRateLimitedError(message)
    else:
        error = BackendUnavailableError(message)
    return annotate(error, backend=backend, attempts=attempts, failure=failure)


def annotate(
    error: AuroraError, *, backend: str, attempts: int, failure: AttemptFailure | None = None
) -> AuroraError:
    """Set the attributes the fallback chain reports: attempts, backend, status, code."""
    error.attempts = attempts  # type: ignore[attr-defined]
    error.backend = backend  # type: ignore[attr-defined]
    error.status_code = failure.status_code if failure else None  # type: ignore[attr-defined]
    error.retry_after_s = failure.retry_after_s if failure else None  # type: ignore[attr-defined]
    if backend == "local_llm" and error.code.startswith("CODEX_"):
        error.code = "LOCAL_LLM_" + error.code.removeprefix("CODEX_")
    return error
