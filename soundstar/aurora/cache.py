"""Aurora's cache (spec v2 §10.1, v1 §9.2–9.3): in-process LRU with TTLs, or Redis.

Keys are `soundstar:{module}:{sha256(normalized prompt + options)[:16]}`; values
are JSON-ready data (the caller turns models into dicts and back), so both
stores hold the same thing. TTLs per module come from
`aurora.caching.ttl`: enhancement 1 h (parse and plan too), embedding 24 h,
suggestion 5 min. Redis trouble is never an error: the in-process store takes
over, with a warning, and Redis is tried again after a pause.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from soundstar.aurora.preprocess import normalize

log = logging.getLogger("soundstar.aurora.cache")

DEFAULT_TTLS = {"enhancement": 3600, "embedding": 86_400, "suggestion": 300}
MODULE_TTL = {
    "enhance": "enhancement",
    "parse": "enhancement",
    "plan": "enhancement",
    "embedding": "embedding",
    "suggest": "suggestion",
}
"""Which TTL each cached module uses; unknown modules use the enhancement TTL."""
REDIS_RETRY_S = 30.0
REDIS_TIMEOUT_S = 0.25

Clock = Callable[[], float]


def cache_key(
    module: str, prompt: str, options: Mapping[str, Any] | None = None, *, prefix: str = "soundstar"
) -> str:
    """`{prefix}:{module}:{sha256(normalized prompt + options)[:16]}`."""
    data = normalize(prompt) + "\x00" + json.dumps(dict(options or {}), sort_keys=True, default=str)
    digest = hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]
    return f"{prefix}:{module}:{digest}"


class AuroraCache(Protocol):
    """What Aurora needs from a cache."""

    def get(
        self, module: str, prompt: str, options: Mapping[str, Any] | None = None
    ) -> Any | None: ...

    def set(
        self, module: str, prompt: str, value: Any, options: Mapping[str, Any] | None = None
    ) -> None: ...

    def stats(self) -> dict[str, int]: ...

    def clear(self) -> None: ...


class _Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def record(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1


class MemoryCache:
    """A thread-safe, bounded LRU whose entries expire after their module's TTL."""

    def __init__(
        self,
        *,
        max_entries: int = 4096,
        ttls: Mapping[str, int] | None = None,
        clock: Clock = time.monotonic,
        prefix: str = "soundstar",
    ) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be 0 or more")
        self.max_entries = max_entries
        self.ttls = {**DEFAULT_TTLS, **(ttls or {})}
        self.prefix = prefix
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._stats = _Stats()

    def ttl(self, module: str) -> int:
        return self.ttls[MODULE_TTL.get(module, "enhancement")]

    def key(self, module: str, prompt: str, options: Mapping[str, Any] | None = None) -> str:
        return cache_key(module, prompt, options, prefix=self.prefix)

    def get(self, module: str, prompt: str, options: Mapping[str, Any] | None = None) -> Any | None:
        value = self.get_key(self.key(module, prompt, options))
        self._stats.record(value is not None)
        return value

    def set(
        self, module: str, prompt: str, value: Any, options: Mapping[str, Any] | None = None
    ) -> None:
        self.set_key(self.key(module, prompt, options), value, self.ttl(module))

    def get_key(self, key: str) -> Any | None:
        now = self._clock()
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, payload = item
            if expires <= now:
                del self._data[key]
                return None
            self._data.move_to_end(key)
        return json.loads(payload)

    def set_key(self, key: str, value: Any, ttl: int) -> None:
        if self.max_entries == 0 or ttl <= 0:
            return
        payload = json.dumps(value)  # stored as text: a caller mutating its copy changes nothing
        with self._lock:
            self._data[key] = (self._clock() + ttl, payload)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def stats(self) -> dict[str, int]:
        return {"hits": self._stats.hits, "misses": self._stats.misses, "entries": len(self._data)}

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def describe(self) -> str:
        return f"memory (LRU, {self.max_entries} entries)"


class RedisCache:
    """The same interface on Redis; the in-process LRU stands in while Redis is unreachable."""

    def __init__(
        self,
        url: str,
        *,
        ttls: Mapping[str, int] | None = None,
        prefix: str = "soundstar",
        fallback: MemoryCache | None = None,
        clock: Clock = time.monotonic,
        timeout_s: float = REDIS_TIMEOUT_S,
    ) -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self.fallback = fallback or MemoryCache(ttls=ttls, prefix=prefix, clock=clock)
        self.ttls = self.fallback.ttls
        self._clock = clock
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError, ValueError)
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._stats = _Stats()

    @property
    def available(self) -> bool:
        """False while Redis is being skipped after a failure."""
        return self._clock() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_until == 0.0 or self._clock() >= self._down_until
            self._down_until = self._clock() + REDIS_RETRY_S
        if first:
            log.warning(
                "redis cache at %s unavailable (%s); using the in-process cache for %.0f s",
                self.url,
                exc,
                REDIS_RETRY_S,
            )

    def ttl(self, module: str) -> int:
        return self.fallback.ttl(module)

    def key(self, module: str, prompt: str, options: Mapping[str, Any] | None = None) -> str:
        return cache_key(module, prompt, options, prefix=self.prefix)

    def get(self, module: str, prompt: str, options: Mapping[str, Any] | None = None) -> Any | None:
        key = self.key(module, prompt, options)
        value: Any | None = None
        if self.available:
            try:
                raw = self._client.get(key)
                value = json.loads(raw) if raw is not None else None
            except self._errors as exc:
                self._failed(exc)
                value = self.fallback.get_key(key)
        else:
            value = self.fallback.get_key(key)
        self._stats.record(value is not None)
        return value

    def set(
        self, module: str, prompt: str, value: Any, options: Mapping[str, Any] | None = None
    ) -> None:
        key = self.key(module, prompt, options)
        ttl = self.ttl(module)
        if ttl <= 0:
            return
        if self.available:
            try:
                self._client.set(key, json.dumps(value), ex=ttl)
                return
            except self._errors as exc:
                self._failed(exc)
        self.fallback.set_key(key, value, ttl)

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except self._errors as exc:
            self._failed(exc)
            return False

    def stats(self) -> dict[str, int]:
        return {
            "hits": self._stats.hits,
            "misses": self._stats.misses,
            "redis_available": int(self.available),
        }

    def clear(self) -> None:
        """Delete this cache's keys (those under its prefix) and empty the fallback."""
        self.fallback.clear()
        if not self.available:
            return
        try:
            keys = list(self._client.scan_iter(match=f"{self.prefix}:*", count=500))
            if keys:
                self._client.delete(*keys)
        except self._errors as exc:
            self._failed(exc)

    def close(self) -> None:
        self._client.close()

    def describe(self) -> str:
        return f"redis ({self.url})" if self.available else "memory (redis unavailable)"


def build_cache(
    *, redis_url: str | None, ttls: Mapping[str, int] | None = None, enabled: bool = True
) -> MemoryCache | RedisCache:
    """Redis when a URL is configured, otherwise (or when disabled: size 0) the in-process LRU."""
    if not enabled:
        return MemoryCache(max_entries=0, ttls=ttls)
    if redis_url:
        try:
            return RedisCache(redis_url, ttls=ttls)
        except ValueError as exc:  # a malformed URL: caching must still work
            log.warning("redis url %r unusable (%s); using the in-process cache", redis_url, exc)
    return MemoryCache(ttls=ttls)
