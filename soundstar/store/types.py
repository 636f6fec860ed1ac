"""Column types shared by the tables: UTC timestamps and packed float32 vectors."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the only kind the store accepts)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC-aware in Python, whatever the backend stores.

    SQLite keeps no zone, PostgreSQL keeps `timestamptz`; both come back aware.
    Naive datetimes are refused on the way in so a local time can never slip in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def pack_float32(values: Sequence[float]) -> bytes:
    """Little-endian float32 bytes: 4 bytes a value, the spec's BLOB column."""
    return struct.pack(f"<{len(values)}f", *values)


def unpack_float32(blob: bytes) -> list[float]:
    """Inverse of `pack_float32`."""
    if len(blob) % 4:
        raise ValueError(f"float32 blob length must be a multiple of 4, got {len(blob)}")
    return list(struct.unpack(f"<{len(blob) // 4}f", blob))
