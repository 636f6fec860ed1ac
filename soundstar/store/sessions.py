"""Aurora sessions: one prompt's journey through enhance, parse and plan.

The control embedding is stored as a float32 BLOB (the spec's column type):
unified (640) + guidance (512) + control (512) values back to back, 6.5 kB a
row against ~30 kB of JSON text, exact to float32, and split again on read by
the fixed dimensions of `ControlEmbedding`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from soundstar.errors import NotFoundError
from soundstar.models import GUIDANCE_DIM, UNIFIED_DIM, ControlEmbedding
from soundstar.store._common import new_id, owned_session, rejecting_bad_rows
from soundstar.store.database import Database
from soundstar.store.schemas import SessionCreate, SessionRecord, SessionUpdate
from soundstar.store.tables import AuroraSession, User
from soundstar.store.types import pack_float32, unpack_float32


def encode_embedding(embedding: ControlEmbedding | None) -> bytes | None:
    if embedding is None:
        return None
    return pack_float32([*embedding.unified, *embedding.guidance, *embedding.control])


def decode_embedding(blob: bytes | None) -> ControlEmbedding | None:
    if blob is None:
        return None
    values = unpack_float32(blob)
    g0 = UNIFIED_DIM
    c0 = UNIFIED_DIM + GUIDANCE_DIM
    return ControlEmbedding(unified=values[:g0], guidance=values[g0:c0], control=values[c0:])


def _record(row: AuroraSession) -> SessionRecord:
    return SessionRecord.model_validate(
        {
            "id": row.id,
            "user_id": row.user_id,
            "original_prompt": row.original_prompt,
            "enhanced_prompt": row.enhanced_prompt,
            "parsed_parameters": row.parsed_parameters,
            "structural_plan": row.structural_plan,
            "control_embedding": decode_embedding(row.control_embedding),
            "status": row.status,
            "implementation_used": row.implementation_used,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def _columns(data: SessionCreate | SessionUpdate, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(data, name)
        if name == "control_embedding":
            out[name] = encode_embedding(value)
        elif name in ("parsed_parameters", "structural_plan"):
            out[name] = None if value is None else value.model_dump(mode="json", by_alias=True)
        elif name == "implementation_used":
            out[name] = None if value is None else str(value)
        else:
            out[name] = value
    return out


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: int, data: SessionCreate) -> SessionRecord:
        with self._db.session() as s:
            if s.get(User, user_id) is None:
                raise NotFoundError(f"no user with id {user_id}")
            with rejecting_bad_rows("Aurora session"):
                row = AuroraSession(
                    id=new_id(), user_id=user_id, **_columns(data, set(type(data).model_fields))
                )
                s.add(row)
                s.flush()
            return _record(row)

    def update(self, session_id: str, user_id: int, changes: SessionUpdate) -> SessionRecord | None:
        """Apply the fields set in `changes`; None if the session is not this user's."""
        fields = set(changes.model_fields_set)
        for required in ("status", "implementation_used"):
            if required in fields and getattr(changes, required) is None:
                fields.discard(required)
        with self._db.session() as s:
            row = owned_session(s, session_id, user_id)
            if row is None:
                return None
            with rejecting_bad_rows("Aurora session update"):
                for name, value in _columns(changes, fields).items():
                    setattr(row, name, value)
                s.flush()
            return _record(row)

    def get(self, session_id: str, user_id: int) -> SessionRecord | None:
        """The session if it exists and belongs to `user_id`; another user's id gives None."""
        with self._db.session() as s:
            row = owned_session(s, session_id, user_id)
            return _record(row) if row else None

    def list_for_user(self, user_id: int, limit: int = 20, offset: int = 0) -> list[SessionRecord]:
        with self._db.session() as s:
            rows = s.scalars(
                select(AuroraSession)
                .where(AuroraSession.user_id == user_id)
                .order_by(AuroraSession.created_at.desc(), AuroraSession.id)
                .limit(max(1, min(limit, 100)))
                .offset(max(0, offset))
            ).all()
            return [_record(r) for r in rows]
