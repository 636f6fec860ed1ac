"""The cache: TTL expiry, LRU eviction, thread safety, Redis round trip and Redis-down fallback."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest

from soundstar.aurora.cache import MemoryCache, RedisCache, build_cache, cache_key

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3):
            return True
    except OSError:
        return False


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_cache() -> Iterator[RedisCache]:
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    cache = RedisCache(REDIS_URL, prefix=f"soundstar-test-{uuid.uuid4().hex[:12]}")
    try:
        yield cache
    finally:
        cache.clear()
        cache.close()


def test_key_shape_and_normalization() -> None:
    key = cache_key("enhance", "  Chill   LO-FI beat ", {"level": "moderate"})
    prefix, module, digest = key.split(":")
    assert (prefix, module, len(digest)) == ("soundstar", "enhance", 16)
    assert key == cache_key("enhance", "chill lo-fi beat", {"level": "moderate"})
    assert key != cache_key("enhance", "chill lo-fi beat", {"level": "minimal"})
    assert key != cache_key("parse", "chill lo-fi beat", {"level": "moderate"})


def test_entries_expire_after_their_module_ttl() -> None:
    clock = Clock()
    cache = MemoryCache(clock=clock, ttls={"suggestion": 300, "enhancement": 3600})
    cache.set("suggest", "jazz", ["a"])
    cache.set("enhance", "jazz", {"b": 1})
    clock.now += 299
    assert cache.get("suggest", "jazz") == ["a"]
    clock.now += 2
    assert cache.get("suggest", "jazz") is None
    assert cache.get("enhance", "jazz") == {"b": 1}
    clock.now += 3600
    assert cache.get("enhance", "jazz") is None
    assert cache.stats()["hits"] == 2 and cache.stats()["misses"] == 2


def test_least_recently_used_is_evicted_first() -> None:
    cache = MemoryCache(max_entries=2)
    cache.set("parse", "a", 1)
    cache.set("parse", "b", 2)
    assert cache.get("parse", "a") == 1  # "a" is now the most recent
    cache.set("parse", "c", 3)
    assert cache.get("parse", "b") is None
    assert cache.get("parse", "a") == 1 and cache.get("parse", "c") == 3
    assert len(cache) == 2


def test_stored_values_are_copies() -> None:
    cache = MemoryCache()
    value = {"x": [1]}
    cache.set("parse", "a", value)
    value["x"].append(2)
    got = cache.get("parse", "a")
    assert got == {"x": [1]}
    got["x"].append(3)
    assert cache.get("parse", "a") == {"x": [1]}


def test_size_zero_disables_caching() -> None:
    cache = build_cache(redis_url=None, enabled=False)
    cache.set("parse", "a", 1)
    assert cache.get("parse", "a") is None


def test_thread_safe_and_bounded() -> None:
    cache = MemoryCache(max_entries=50)

    def work(n: int) -> None:
        for i in range(300):
            cache.set("parse", f"{n}-{i}", i)
            cache.get("parse", f"{n}-{i // 2}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50
    stats = cache.stats()
    assert stats["hits"] + stats["misses"] == 6 * 300


def test_redis_round_trip_with_ttl(redis_cache: RedisCache) -> None:
    assert redis_cache.ping()
    redis_cache.set("suggest", "lo-fi", [{"text": "hip hop"}], {"count": 3})
    assert redis_cache.get("suggest", "LO-FI", {"count": 3}) == [{"text": "hip hop"}]
    key = redis_cache.key("suggest", "lo-fi", {"count": 3})
    assert key.startswith(redis_cache.prefix + ":suggest:")
    ttl = redis_cache._client.ttl(key)
    assert 290 <= int(ttl) <= 300  # type: ignore[arg-type]
    assert redis_cache.get("suggest", "lo-fi", {"count": 4}) is None
    assert redis_cache.stats()["hits"] == 1 and redis_cache.stats()["misses"] == 1


def test_redis_down_falls_back_to_memory_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cache = RedisCache(f"redis://127.0.0.1:{_closed_port()}/0", prefix="soundstar-test-down")
    with caplog.at_level(logging.WARNING, logger="soundstar.aurora.cache"):
        cache.set("enhance", "a jazz tune", {"enhanced": "x"})
        assert cache.get("enhance", "a jazz tune") == {"enhanced": "x"}
    assert not cache.available
    assert any("unavailable" in r.getMessage() for r in caplog.records)
    assert sum("unavailable" in r.getMessage() for r in caplog.records) == 1  # warned once
    assert cache.stats()["hits"] == 1


def test_build_cache_chooses_redis_when_configured() -> None:
    assert isinstance(build_cache(redis_url=None), MemoryCache)
    cache = build_cache(
        redis_url=REDIS_URL, ttls={"enhancement": 10, "embedding": 20, "suggestion": 5}
    )
    assert isinstance(cache, RedisCache)
    assert cache.ttl("parse") == 10 and cache.ttl("embedding") == 20 and cache.ttl("suggest") == 5
    cache.close()


def test_a_malformed_redis_url_still_gives_a_cache() -> None:
    cache = build_cache(redis_url="localhost:6379")
    assert isinstance(cache, MemoryCache)
