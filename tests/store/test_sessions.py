"""Aurora sessions, suggestions and refinements: round trips and ownership."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from soundstar.errors import NotFoundError, ParameterError
from soundstar.models import (
    CONTROL_DIM,
    GUIDANCE_DIM,
    UNIFIED_DIM,
    ControlEmbedding,
    Implementation,
    StructuralPlan,
)
from soundstar.store import Store
from soundstar.store.schemas import (
    RefinementCreate,
    SessionCreate,
    SessionUpdate,
    SuggestionCreate,
)
from soundstar.store.sessions import decode_embedding, encode_embedding
from soundstar.store.tables import AuroraSession, AuroraSuggestion

PLAN = StructuralPlan.model_validate(
    {
        "structure_type": "verse-chorus",
        "sections": [
            {"name": "intro", "duration_ratio": 0.25, "energy_level": 0.3},
            {"name": "chorus", "duration_ratio": 0.75, "energy_level": 0.9},
        ],
        "transitions": [{"from": "intro", "to": "chorus", "type": "build"}],
        "chord_progression": {"key": "A", "mode": "minor", "chords": ["Am", "F", "C", "G"]},
    }
)


def _embedding(seed: int) -> ControlEmbedding:
    rng = random.Random(seed)
    return ControlEmbedding(
        unified=[rng.uniform(-1, 1) for _ in range(UNIFIED_DIM)],
        guidance=[rng.uniform(-1, 1) for _ in range(GUIDANCE_DIM)],
        control=[rng.uniform(-1, 1) for _ in range(CONTROL_DIM)],
    )


def test_embedding_blob_round_trips_to_float32_precision() -> None:
    emb = _embedding(1)
    blob = encode_embedding(emb)
    assert blob is not None
    assert len(blob) == 4 * (UNIFIED_DIM + GUIDANCE_DIM + CONTROL_DIM)
    back = decode_embedding(blob)
    assert back is not None
    for a, b in zip(emb.control, back.control, strict=True):
        assert abs(a - b) < 1e-6
    assert back.unified[0] == pytest.approx(emb.unified[0], abs=1e-6)


def test_session_create_get_update_round_trip(store: Store) -> None:
    ann = store.users.create("ann")
    created = store.sessions.create(
        ann.id, SessionCreate(original_prompt="dreamy synthwave with pulsing bass")
    )
    assert created.status == "pending"
    assert created.control_embedding is None
    emb = _embedding(2)
    updated = store.sessions.update(
        created.id,
        ann.id,
        SessionUpdate(
            enhanced_prompt="an upbeat 80s synthwave track",
            structural_plan=PLAN,
            control_embedding=emb,
            status="completed",
            implementation_used=Implementation.DEFAULTS,
        ),
    )
    assert updated is not None
    got = store.sessions.get(created.id, ann.id)
    assert got == updated
    assert got.structural_plan == PLAN
    assert got.implementation_used is Implementation.DEFAULTS
    assert got.control_embedding is not None
    assert got.control_embedding.guidance[5] == pytest.approx(emb.guidance[5], abs=1e-6)
    assert got.updated_at >= created.updated_at
    partial = store.sessions.update(created.id, ann.id, SessionUpdate(enhanced_prompt=None))
    assert partial is not None
    assert partial.enhanced_prompt is None
    assert partial.structural_plan == PLAN


def test_another_users_session_reads_as_none(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    sess = store.sessions.create(ann.id, SessionCreate(original_prompt="lofi beats to study to"))
    assert store.sessions.get(sess.id, bob.id) is None
    assert store.sessions.update(sess.id, bob.id, SessionUpdate(status="failed")) is None
    assert store.sessions.get(sess.id, ann.id).status == "pending"  # type: ignore[union-attr]
    assert store.sessions.get("no-such-id", ann.id) is None
    assert [s.id for s in store.sessions.list_for_user(ann.id)] == [sess.id]
    assert store.sessions.list_for_user(bob.id) == []


def test_session_check_constraint_rejects_bad_status_and_rolls_back(store: Store) -> None:
    ann = store.users.create("ann")
    bad = SessionCreate.model_construct(
        original_prompt="x",
        enhanced_prompt=None,
        parsed_parameters=None,
        structural_plan=None,
        control_embedding=None,
        status="exploded",  # type: ignore[arg-type]
        implementation_used=Implementation.RULE_BASED,
    )
    with pytest.raises(ParameterError, match="cannot store Aurora session"):
        store.sessions.create(ann.id, bad)
    with store.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuroraSession)) == 0


def test_suggestions_belong_to_the_sessions_owner(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    sess = store.sessions.create(ann.id, SessionCreate(original_prompt="jazz trio at midnight"))
    data = SuggestionCreate(
        session_id=sess.id,
        module="prompt_enhancer",
        suggestion_type="tempo",
        suggested_value="92 BPM",
        confidence=0.834,
        reasoning="late-night jazz sits slow",
    )
    with pytest.raises(NotFoundError):
        store.suggestions.create(bob.id, data)
    made = store.suggestions.create(ann.id, data)
    assert made.confidence == pytest.approx(0.83)
    assert made.user_accepted is None
    assert store.suggestions.set_accepted(made.id, bob.id, True) is False
    assert store.suggestions.set_accepted(made.id, ann.id, True) is True
    listed = store.suggestions.list_for_session(sess.id, ann.id)
    assert [(s.id, s.user_accepted) for s in listed] == [(made.id, True)]
    assert store.suggestions.list_for_session(sess.id, bob.id) == []
    with store.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuroraSuggestion)) == 1


def test_many_suggestions_are_recorded_together_or_not_at_all(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    mine = store.sessions.create(ann.id, SessionCreate(original_prompt="jazz trio at midnight"))
    theirs = store.sessions.create(bob.id, SessionCreate(original_prompt="punk at noon, loud"))

    def one(session_id: str, kind: str) -> SuggestionCreate:
        return SuggestionCreate(
            session_id=session_id,
            module="prompt_enhancer",
            suggestion_type=kind,
            suggested_value="x",
            confidence=0.5,
        )

    with pytest.raises(NotFoundError):
        store.suggestions.create_many(ann.id, [one(mine.id, "tempo"), one(theirs.id, "key")])
    assert store.suggestions.list_for_session(mine.id, ann.id) == []
    made = store.suggestions.create_many(ann.id, [one(mine.id, "tempo"), one(mine.id, "key")])
    listed = store.suggestions.list_for_session(mine.id, ann.id)
    assert {s.id for s in listed} == {m.id for m in made}
    assert {s.suggestion_type for s in listed} == {"tempo", "key"}
    assert store.suggestions.create_many(ann.id, []) == []


def test_refinements_record_the_persons_changes(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    sess = store.sessions.create(ann.id, SessionCreate(original_prompt="epic orchestral trailer"))
    ref = store.refinements.create(
        ann.id,
        RefinementCreate(
            session_id=sess.id, field="tempo_bpm", old_value="120", new_value="96", source="edited"
        ),
    )
    assert store.refinements.list_for_session(sess.id, ann.id) == [ref]
    assert store.refinements.list_for_session(sess.id, bob.id) == []
    with pytest.raises(NotFoundError):
        store.refinements.create(
            bob.id, RefinementCreate(session_id=sess.id, field="key", source="accepted")
        )
