"""Users and API keys: hashed storage, verify, revoke, listing."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select, text

from soundstar.errors import NotFoundError, ParameterError
from soundstar.store import Store
from soundstar.store.tables import User


def test_user_create_and_get(store: Store) -> None:
    ann = store.users.create("ann", email="ann@example.org")
    assert store.users.get(ann.id) == ann
    assert store.users.get_by_name("ann") == ann
    assert store.users.get(ann.id + 1000) is None
    assert ann.created_at.tzinfo is not None


def test_duplicate_user_name_is_a_clear_error_and_adds_nothing(store: Store) -> None:
    store.users.create("ann")
    with pytest.raises(ParameterError, match="user 'ann'"):
        store.users.create("ann")
    with pytest.raises(ParameterError):
        store.users.create("   ")
    with store.db.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1


def test_api_key_verifies_to_its_user_and_is_stored_only_hashed(store: Store) -> None:
    ann = store.users.create("ann")
    new = store.api_keys.create(ann.id, name="laptop")
    assert new.token.startswith(new.key.prefix)
    assert len(new.token) > 40
    assert store.api_keys.verify(new.token) == ann
    with store.db.session() as s:
        stored = s.execute(text("SELECT prefix, key_hash FROM api_keys")).one()
    assert stored.key_hash == hashlib.sha256(new.token.encode()).hexdigest()
    assert new.token not in stored
    listed = store.api_keys.list_for_user(ann.id)
    assert [k.id for k in listed] == [new.key.id]
    assert listed[0].last_used_at is not None


def test_wrong_or_malformed_token_verifies_to_none(store: Store) -> None:
    ann = store.users.create("ann")
    token = store.api_keys.create(ann.id).token
    wrong_last = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (wrong_last, token[:20], "xx_" + token[3:], "", token + "x" * 300):
        assert store.api_keys.verify(bad) is None, bad
    assert store.api_keys.verify(token) == ann


def test_revoked_key_no_longer_verifies_and_only_the_owner_can_revoke(store: Store) -> None:
    ann = store.users.create("ann")
    bob = store.users.create("bob")
    a1 = store.api_keys.create(ann.id)
    a2 = store.api_keys.create(ann.id)
    assert store.api_keys.revoke(a1.key.id, bob.id) is False
    assert store.api_keys.verify(a1.token) == ann
    assert store.api_keys.revoke(a1.key.id, ann.id) is True
    assert store.api_keys.verify(a1.token) is None
    assert store.api_keys.verify(a2.token) == ann
    keys = {k.id: k for k in store.api_keys.list_for_user(ann.id)}
    assert keys[a1.key.id].revoked_at is not None
    assert keys[a2.key.id].revoked_at is None
    assert store.api_keys.list_for_user(bob.id) == []


def test_key_for_missing_user_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.api_keys.create(12345)
