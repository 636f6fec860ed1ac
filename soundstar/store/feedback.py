"""Feedback a person gives on a session or a generation (spec `user_feedback`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from soundstar.errors import NotFoundError
from soundstar.store._common import new_id, owned_session, rejecting_bad_rows
from soundstar.store.database import Database
from soundstar.store.schemas import FeedbackCreate, FeedbackRecord
from soundstar.store.tables import Feedback, GenerationJob

LIKED_RATING = 4


def _record(row: Feedback) -> FeedbackRecord:
    return FeedbackRecord.model_validate(
        {
            "id": row.id,
            "user_id": row.user_id,
            "session_id": row.session_id,
            "result_id": row.result_id,
            "feedback_type": row.feedback_type,
            "prompt_quality_rating": row.prompt_quality_rating,
            "suggestion_relevance_rating": row.suggestion_relevance_rating,
            "audio_quality_rating": row.audio_quality_rating,
            "comments": row.comments,
            "created_at": row.created_at,
        }
    )


class FeedbackRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: int, data: FeedbackCreate) -> FeedbackRecord:
        """Store feedback on the user's own session and/or generation (NotFoundError otherwise)."""
        with self._db.session() as s:
            if data.session_id is not None and owned_session(s, data.session_id, user_id) is None:
                raise NotFoundError(f"no session {data.session_id} for this user")
            if data.result_id is not None:
                owner = s.scalar(
                    select(GenerationJob.user_id).where(GenerationJob.id == data.result_id)
                )
                if owner != user_id:
                    raise NotFoundError(f"no generation {data.result_id} for this user")
            with rejecting_bad_rows("feedback"):
                row = Feedback(id=new_id(), user_id=user_id, **data.model_dump())
                s.add(row)
                s.flush()
            return _record(row)

    def last_feedback_at(self, user_id: int) -> datetime | None:
        """When `user_id` last gave feedback (for throttling), or None if never."""
        with self._db.session() as s:
            return s.scalar(
                select(func.max(Feedback.created_at)).where(Feedback.user_id == user_id)
            )

    def list_for_result(self, result_id: str, user_id: int) -> list[FeedbackRecord]:
        with self._db.session() as s:
            rows = s.scalars(
                select(Feedback)
                .where(Feedback.result_id == result_id, Feedback.user_id == user_id)
                .order_by(Feedback.created_at, Feedback.id)
            ).all()
            return [_record(r) for r in rows]

    def liked_results(self, user_id: int) -> list[str]:
        """The generations `user_id` likes: those whose latest feedback is positive or
        rates the audio 4 or 5, newest first."""
        with self._db.session() as s:
            rows = s.scalars(
                select(Feedback)
                .where(Feedback.user_id == user_id, Feedback.result_id.is_not(None))
                .order_by(Feedback.created_at, Feedback.id)
            ).all()
        latest = {row.result_id: row for row in rows}
        liked = [
            result
            for result, row in latest.items()
            if row.feedback_type == "positive" or (row.audio_quality_rating or 0) >= LIKED_RATING
        ]
        return [r for r in reversed(liked) if r is not None]
