"""Suggestions the Aurora modules made on a session, and the refinements a person made."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from soundstar.errors import NotFoundError
from soundstar.store._common import new_id, owned_session, rejecting_bad_rows
from soundstar.store.database import Database
from soundstar.store.schemas import (
    RefinementCreate,
    RefinementRecord,
    SuggestionCreate,
    SuggestionRecord,
)
from soundstar.store.tables import AuroraSession, AuroraSuggestion, Refinement


def _suggestion(row: AuroraSuggestion) -> SuggestionRecord:
    return SuggestionRecord.model_validate(
        {
            "id": row.id,
            "session_id": row.session_id,
            "module": row.module,
            "suggestion_type": row.suggestion_type,
            "original_value": row.original_value,
            "suggested_value": row.suggested_value,
            "confidence": float(row.confidence),
            "reasoning": row.reasoning,
            "user_accepted": row.user_accepted,
            "created_at": row.created_at,
        }
    )


def _refinement(row: Refinement) -> RefinementRecord:
    return RefinementRecord.model_validate(
        {
            "id": row.id,
            "session_id": row.session_id,
            "field": row.field,
            "old_value": row.old_value,
            "new_value": row.new_value,
            "source": row.source,
            "refinement_source": row.refinement_source,
            "created_at": row.created_at,
        }
    )


class SuggestionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: int, data: SuggestionCreate) -> SuggestionRecord:
        """Record a suggestion on one of `user_id`'s sessions (NotFoundError otherwise)."""
        with self._db.session() as s:
            if owned_session(s, data.session_id, user_id) is None:
                raise NotFoundError(f"no session {data.session_id} for this user")
            with rejecting_bad_rows("suggestion"):
                row = AuroraSuggestion(id=new_id(), **data.model_dump())
                row.confidence = round(data.confidence, 2)
                s.add(row)
                s.flush()
            return _suggestion(row)

    def create_many(
        self, user_id: int, items: Sequence[SuggestionCreate]
    ) -> list[SuggestionRecord]:
        """Record several suggestions in one transaction: all or none (NotFoundError when a
        session is not `user_id`'s)."""
        with self._db.session() as s:
            for session_id in dict.fromkeys(item.session_id for item in items):
                if owned_session(s, session_id, user_id) is None:
                    raise NotFoundError(f"no session {session_id} for this user")
            rows = []
            with rejecting_bad_rows("suggestion"):
                for item in items:
                    row = AuroraSuggestion(id=new_id(), **item.model_dump())
                    row.confidence = round(item.confidence, 2)
                    rows.append(row)
                s.add_all(rows)
                s.flush()
            return [_suggestion(r) for r in rows]

    def set_accepted(self, suggestion_id: str, user_id: int, accepted: bool) -> bool:
        """Mark whether the person took the suggestion; False if it is not theirs."""
        with self._db.session() as s:
            row = s.scalar(
                select(AuroraSuggestion)
                .join(AuroraSession, AuroraSession.id == AuroraSuggestion.session_id)
                .where(AuroraSuggestion.id == suggestion_id, AuroraSession.user_id == user_id)
            )
            if row is None:
                return False
            row.user_accepted = accepted
            return True

    def list_for_session(self, session_id: str, user_id: int) -> list[SuggestionRecord]:
        """The session's suggestions, oldest first; empty for another user's session."""
        with self._db.session() as s:
            rows = s.scalars(
                select(AuroraSuggestion)
                .join(AuroraSession, AuroraSession.id == AuroraSuggestion.session_id)
                .where(AuroraSuggestion.session_id == session_id, AuroraSession.user_id == user_id)
                .order_by(AuroraSuggestion.created_at, AuroraSuggestion.id)
            ).all()
            return [_suggestion(r) for r in rows]


class RefinementRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: int, data: RefinementCreate) -> RefinementRecord:
        """Record a change the person made to a field of one of their sessions."""
        with self._db.session() as s:
            if owned_session(s, data.session_id, user_id) is None:
                raise NotFoundError(f"no session {data.session_id} for this user")
            with rejecting_bad_rows("refinement"):
                row = Refinement(id=new_id(), **data.model_dump())
                s.add(row)
                s.flush()
            return _refinement(row)

    def list_for_session(self, session_id: str, user_id: int) -> list[RefinementRecord]:
        with self._db.session() as s:
            rows = s.scalars(
                select(Refinement)
                .join(AuroraSession, AuroraSession.id == Refinement.session_id)
                .where(Refinement.session_id == session_id, AuroraSession.user_id == user_id)
                .order_by(Refinement.created_at, Refinement.id)
            ).all()
            return [_refinement(r) for r in rows]
