"""Rate limits and throttles hold across processes: token buckets in the database (or in
Redis) are shared by every limiter on it, and taken atomically."""

from __future__ import annotations

import threading

import pytest

from soundstar.api.ratelimit import RateLimiter
from soundstar.errors import RateLimitedError
from soundstar.store import Database, Store


def _second_store(db: Database) -> Store:
    """Another process's view: its own engine and connections on the same database."""
    return Store(Database(db.url.render_as_string(hide_password=False)))


def test_two_limiters_on_one_database_share_a_bucket(store: Store, db: Database) -> None:
    other = _second_store(db)
    try:
        a = RateLimiter(6, 3, counters=store.counters)
        b = RateLimiter(6, 3, counters=other.counters)
        a.check("key")
        b.check("key")
        a.check("key")
        with pytest.raises(RateLimitedError) as refused:
            b.check("key")
        assert refused.value.retry_after_s >= 1
        assert refused.value.message == "too many requests; try again in 10 s"
        a.check("another-key")  # buckets are per key
    finally:
        other.db.dispose()


def test_concurrent_takes_never_spend_a_token_twice(store: Store, db: Database) -> None:
    others = [_second_store(db) for _ in range(2)]
    limiters = [RateLimiter(0.001, 5, counters=s.counters) for s in [store, *others]]
    allowed: list[int] = []
    lock = threading.Lock()

    def hammer(limiter: RateLimiter) -> None:
        for _ in range(6):
            try:
                limiter.check("shared")
            except RateLimitedError:
                continue
            with lock:
                allowed.append(1)

    threads = [threading.Thread(target=hammer, args=(lim,)) for lim in limiters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in others:
        s.db.dispose()
    assert len(allowed) == 5


def test_a_feedback_throttle_of_one_per_five_seconds(store: Store) -> None:
    throttle = RateLimiter(12, 1, counters=store.counters, name="feedback", what="wait")
    throttle.check("7")
    with pytest.raises(RateLimitedError) as refused:
        throttle.check("7")
    assert refused.value.retry_after_s == 5


def test_redis_buckets_are_shared(redis_url: str, celery_queue_name: str) -> None:
    a = RateLimiter(6, 2, redis_url=redis_url, name=celery_queue_name)
    b = RateLimiter(6, 2, redis_url=redis_url, name=celery_queue_name)
    assert a.shared and b.shared
    a.check("k")
    b.check("k")
    with pytest.raises(RateLimitedError):
        a.check("k")
