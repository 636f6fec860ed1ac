"""A thread-safe circuit breaker: stop calling a backend that keeps failing, try again later.

Closed: calls pass. After `failure_threshold` consecutive failed calls it
opens: calls are refused until `reset_s` has passed, then one half-open trial
call is let through; its success closes the breaker, its failure reopens it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum

from soundstar.errors import ConfigError


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures; `clock` is injectable (seconds, monotonic)."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ConfigError(f"breaker_failures must be at least 1, got {failure_threshold}")
        if reset_s < 0:
            raise ConfigError(f"breaker_reset_s must not be negative, got {reset_s}")
        self.failure_threshold = failure_threshold
        self.reset_s = reset_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state_locked()

    def _state_locked(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def retry_in_s(self) -> float:
        """Seconds until the next trial call is allowed (0 when closed or half-open)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self.reset_s - (self._clock() - self._opened_at))

    def acquire(self) -> bool:
        """Whether a call may go ahead now; in half-open only one trial call at a time may."""
        with self._lock:
            state = self._state_locked()
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._trial_running = False

    def release(self) -> None:
        """End a call that neither succeeded nor failed on the backend's account."""
        with self._lock:
            self._trial_running = False
