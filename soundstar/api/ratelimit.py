"""Rate limits and throttles as token buckets shared by every process: in Redis when
SOUNDSTAR_REDIS_URL is set, else in the database (`rate_buckets`), so limits hold
across server processes. A failing Redis or database falls back to in-process
buckets for that request: a limit is never an outage.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from soundstar.errors import RateLimitedError
from soundstar.store.counters import CounterRepository

log = logging.getLogger("soundstar.api")

# Atomic token bucket in Redis: KEYS[1] bucket; ARGV rate/s, burst, now, cost → {allowed, retry_after_ms}
_LUA = """
local rate = tonumber(ARGV[1]); local burst = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 else wait = (cost - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, math.ceil(wait * 1000)}
"""


class RateLimiter:
    """Allow `per_minute` requests per key on average, with bursts up to `burst`."""

    def __init__(
        self,
        per_minute: float,
        burst: float,
        *,
        redis_url: str | None = None,
        counters: CounterRepository | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        name: str = "ratelimit",
        what: str = "too many requests",
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys
        self._redis: Any = None
        self._script: Any = None
        self._counters = counters
        self._name = name
        self._what = what
        if redis_url:
            try:
                import redis

                client = redis.Redis.from_url(
                    redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
                )
                client.ping()
                self._redis = client
                self._script = client.register_script(_LUA)
            except Exception as exc:  # Redis down: per-process limits, never an outage
                log.warning(
                    "rate limiter: Redis at %s unreachable (%s); limiting per process",
                    redis_url,
                    exc,
                )

    @property
    def shared(self) -> bool:
        return self._redis is not None or self._counters is not None

    def check(self, key: str, cost: float = 1.0) -> None:
        """Take `cost` tokens from `key`'s bucket or raise RateLimitedError with Retry-After."""
        wait_s = self._take_redis(key, cost) if self._redis is not None else None
        if wait_s is None and self._counters is not None:
            wait_s = self._take_db(key, cost)
        if wait_s is None:
            wait_s = self._take_local(key, cost)
        if wait_s > 0:
            seconds = max(1, math.ceil(wait_s)) if math.isfinite(wait_s) else 60
            raise RateLimitedError(f"{self._what}; try again in {seconds} s", retry_after_s=seconds)

    def _take_db(self, key: str, cost: float) -> float | None:
        assert self._counters is not None
        try:
            return self._counters.take(
                f"{self._name}:{key}"[:160], self.rate, self.burst, cost, time.time()
            )
        except Exception as exc:
            log.warning("rate limiter: database failed (%s); limiting per process", exc)
            return None

    def _take_local(self, key: str, cost: float) -> float:
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return wait

    def _take_redis(self, key: str, cost: float) -> float | None:
        try:
            allowed, wait_ms = self._script(
                keys=[f"soundstar:{self._name}:{key}"],
                args=[self.rate, self.burst, time.time(), cost],
            )
        except Exception as exc:
            log.warning("rate limiter: Redis failed (%s); limiting per process", exc)
            return None
        return 0.0 if int(allowed) == 1 else int(wait_ms) / 1000.0
