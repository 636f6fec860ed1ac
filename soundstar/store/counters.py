"""Counters every process shares through the database: rate-limit token buckets (when no
Redis is configured) and each worker process's cumulative counters (for /metrics)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from soundstar.store.database import Database
from soundstar.store.tables import RateBucket, WorkerCounter
from soundstar.store.types import utc_now

_BUCKET_RETRIES = 3


class CounterRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _insert(self, table: type[RateBucket] | type[WorkerCounter]) -> Any:
        """The dialect's INSERT, which has ON CONFLICT on both backends."""
        return pg_insert(table) if self._db.dialect == "postgresql" else sqlite_insert(table)

    def take(self, key: str, rate: float, burst: float, cost: float, now: float) -> float:
        """Take `cost` tokens from `key`'s bucket (refilled at `rate` per second up to
        `burst`); 0.0 when taken, else the seconds until they would be. One atomic
        conditional UPDATE, so concurrent processes never both spend the last token; a
        bucket another process is creating or changing is taken again, not refused."""
        least = func.least if self._db.dialect == "postgresql" else func.min
        refilled = least(burst, RateBucket.tokens + (now - RateBucket.at) * rate)
        for _ in range(_BUCKET_RETRIES):
            with self._db.session() as s:
                taken = s.connection().execute(
                    update(RateBucket)
                    .where(RateBucket.key == key, refilled >= cost)
                    .values(tokens=refilled - cost, at=now)
                )
                if taken.rowcount == 1:
                    return 0.0
                current = s.execute(
                    select(RateBucket.tokens, RateBucket.at).where(RateBucket.key == key)
                ).first()
                if current is not None:
                    tokens = min(burst, float(current.tokens) + (now - float(current.at)) * rate)
                    if tokens < cost:
                        return (cost - tokens) / rate
                    continue  # another process changed the bucket meanwhile: take again
                created = s.connection().execute(
                    self._insert(RateBucket)
                    .values(key=key, tokens=burst - cost, at=now)
                    .on_conflict_do_nothing(index_elements=["key"])
                    .returning(RateBucket.key)
                )
                if created.first() is not None:
                    return 0.0 if burst >= cost else (cost - burst) / rate
        return 0.0  # still contended after retries: let this one through, never an outage

    def record(self, worker_id: str, values: Mapping[str, float]) -> None:
        """Set this worker's cumulative counters (an upsert per name)."""
        if not values:
            return
        now = utc_now()
        with self._db.session() as s:
            for name, value in values.items():
                statement = self._insert(WorkerCounter).values(
                    worker_id=worker_id, name=name, value=float(value), updated_at=now
                )
                s.execute(
                    statement.on_conflict_do_update(
                        index_elements=["worker_id", "name"],
                        set_={"value": statement.excluded.value, "updated_at": now},
                    )
                )

    def totals(self) -> dict[str, float]:
        """Each counter summed over every worker that ever recorded it."""
        with self._db.session() as s:
            rows = s.execute(
                select(WorkerCounter.name, func.sum(WorkerCounter.value)).group_by(
                    WorkerCounter.name
                )
            ).all()
            return {str(name): float(total or 0.0) for name, total in rows}

    def count_at_least(self, name: str, floor: float) -> int:
        """How many workers' counter `name` is at least `floor` (e.g. heartbeats since)."""
        with self._db.session() as s:
            return int(
                s.scalar(
                    select(func.count()).where(
                        WorkerCounter.name == name, WorkerCounter.value >= floor
                    )
                )
                or 0
            )
