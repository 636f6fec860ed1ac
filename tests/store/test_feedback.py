"""Feedback: ownership, ratings CHECK constraints, throttling timestamp."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from soundstar.errors import NotFoundError, ParameterError
from soundstar.store import Store
from soundstar.store.schemas import FeedbackCreate, SessionCreate
from soundstar.store.tables import Feedback
from soundstar.store.types import utc_now


def _count(store: Store) -> int:
    with store.db.session() as s:
        return s.scalar(select(func.count()).select_from(Feedback)) or 0


RATING_COLUMNS = ("prompt_quality_rating", "suggestion_relevance_rating", "audio_quality_rating")


def test_database_check_constraint_rejects_ratings_outside_1_to_5(store: Store) -> None:
    ann = store.users.create("ann")
    sess = store.sessions.create(ann.id, SessionCreate(original_prompt="ambient drone piece"))

    def row(**rating: int) -> dict[str, object]:
        return {
            "id": str(uuid.uuid4()),
            "user_id": ann.id,
            "session_id": sess.id,
            "feedback_type": "positive",
            "created_at": utc_now(),
            **rating,
        }

    for column in RATING_COLUMNS:
        for rating in (0, 6, -1):
            with pytest.raises(IntegrityError), store.db.session() as s:
                s.execute(insert(Feedback).values(**row(**{column: rating})))
    assert _count(store) == 0
    with store.db.session() as s:
        s.execute(insert(Feedback).values(**row(**dict.fromkeys(RATING_COLUMNS, 1))))
        s.execute(insert(Feedback).values(**row(**dict.fromkeys(RATING_COLUMNS, 5))))
    assert _count(store) == 2


def test_feedback_create_and_last_feedback_at(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    sess = store.sessions.create(ann.id, SessionCreate(original_prompt="ambient drone piece"))
    job = store.jobs.enqueue(ann.id, {"prompt": "ambient drone piece"}, session_id=sess.id)
    assert store.feedback.last_feedback_at(ann.id) is None
    first = store.feedback.create(
        ann.id, FeedbackCreate(session_id=sess.id, feedback_type="neutral", audio_quality_rating=3)
    )
    second = store.feedback.create(
        ann.id, FeedbackCreate(result_id=job, feedback_type="positive", prompt_quality_rating=5)
    )
    last = store.feedback.last_feedback_at(ann.id)
    assert last is not None and last.tzinfo is not None
    assert last == second.created_at >= first.created_at
    assert store.feedback.last_feedback_at(bob.id) is None
    assert store.feedback.list_for_result(job, ann.id) == [second]
    with pytest.raises(NotFoundError):
        store.feedback.create(bob.id, FeedbackCreate(result_id=job, feedback_type="negative"))
    with pytest.raises(NotFoundError):
        store.feedback.create(bob.id, FeedbackCreate(session_id=sess.id, feedback_type="negative"))
    assert _count(store) == 2


def test_bad_feedback_is_refused_and_stores_nothing(store: Store) -> None:
    ann = store.users.create("ann")
    sess = store.sessions.create(ann.id, SessionCreate(original_prompt="ambient drone piece"))
    with pytest.raises(ValidationError, match="less than or equal to 5"):
        FeedbackCreate(session_id=sess.id, feedback_type="positive", audio_quality_rating=6)
    with pytest.raises(ValidationError, match="session_id or a result_id"):
        FeedbackCreate(feedback_type="positive")
    smuggled = FeedbackCreate.model_construct(
        session_id=sess.id,
        result_id=None,
        feedback_type="positive",
        prompt_quality_rating=None,
        suggestion_relevance_rating=None,
        audio_quality_rating=9,
        comments=None,
    )
    with pytest.raises(ParameterError, match="cannot store feedback"):
        store.feedback.create(ann.id, smuggled)
    assert _count(store) == 0
    assert store.feedback.last_feedback_at(ann.id) is None
