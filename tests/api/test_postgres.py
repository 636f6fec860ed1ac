"""The service on PostgreSQL as on SQLite: where the rows land, history paging and sorting,
feedback on a generation and its throttle, and keys — over HTTP, on both backends.

Every other test in tests/api runs on both backends too (the `api` fixture is parametrised);
these check what the others do not: that the PostgreSQL run really uses its own schema, and
the history and feedback paths end to end on a user whose counts are exact.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text

from soundstar.store.tables import Base

PROMPTS = (
    "a calm lofi hip hop beat with warm piano",
    "an upbeat 80s synthwave track with pulsing bass",
    "a tense cinematic cue with low strings",
)
SHORT = {"duration_seconds": 5, "sample_rate": 22050, "stems": False}


def _new_user(api: Any, name: str) -> dict[str, str]:
    user = api.store.users.create(name)
    return {"Authorization": f"Bearer {api.store.api_keys.create(user.id).token}"}


def _wait_all(api: Any, headers: dict[str, str], ids: list[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        for gid in list(pending):
            body = api.client.get(f"/api/v1/generations/{gid}", headers=headers).json()
            assert body["status"] != "failed", body.get("error")
            if body["status"] == "completed":
                pending.discard(gid)
        time.sleep(0.2)
    assert not pending, f"not completed after {timeout_s} s: {sorted(pending)}"


def test_the_app_runs_on_the_backend_it_was_given(api: Any, api_database_url: str | None) -> None:
    expected = "sqlite" if api_database_url is None else "postgresql"
    assert api.backend == expected
    assert api.client.get("/health").json()["database"]["status"] == "ok"
    with api.store.db.session() as s:
        if expected == "postgresql":
            schema = s.scalar(text("SELECT current_schema()"))
            assert str(schema).startswith("soundstar_test_")
            tables = set(
                s.scalars(
                    text(
                        "SELECT table_name FROM information_schema.tables"
                        " WHERE table_schema = current_schema()"
                    )
                )
            )
        else:
            tables = set(s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
        count = s.scalar(text("SELECT count(*) FROM users"))
    assert set(Base.metadata.tables) <= tables, tables
    assert count is not None and count >= 2


def test_history_pages_sorts_and_shows_feedback(api: Any) -> None:
    carol = _new_user(api, "carol")
    ids = []
    for prompt in PROMPTS:
        response = api.client.post(
            "/api/v1/aurora/generate", json={"prompt": prompt, "options": SHORT}, headers=carol
        )
        assert response.status_code == 200, response.text
        ids.append(response.json()["generation_id"])

    def page(query: str) -> dict[str, Any]:
        response = api.client.get(f"/api/v1/aurora/history?{query}", headers=carol)
        assert response.status_code == 200, response.text
        return dict(response.json())

    newest = page("limit=2")
    assert newest["total_count"] == 3
    assert [i["id"] for i in newest["items"]] == ids[::-1][:2]
    assert [i["id"] for i in page("limit=2&offset=2")["items"]] == ids[:1]
    oldest = page("sort=oldest&limit=100")
    assert [i["id"] for i in oldest["items"]] == ids
    assert [i["original_prompt"] for i in oldest["items"]] == list(PROMPTS)
    assert page("offset=3")["items"] == []
    bob_history = api.client.get("/api/v1/aurora/history?limit=100", headers=api.bob).json()
    assert not set(ids) & {i["id"] for i in bob_history["items"]}

    _wait_all(api, carol, ids)
    done = page("sort=oldest")["items"]
    assert all(i["status"] == "completed" and i["audio_url"] for i in done)
    assert [i["duration_seconds"] for i in done] == [5.0, 5.0, 5.0]

    feedback = {"generation_id": ids[1], "feedback_type": "negative"}
    first = api.client.post("/api/v1/aurora/feedback", json=feedback, headers=carol)
    assert first.status_code == 200, first.text
    again = api.client.post(
        "/api/v1/aurora/feedback", json={**feedback, "feedback_type": "positive"}, headers=carol
    )
    assert again.status_code == 429 and 1 <= int(again.headers["Retry-After"]) <= 5
    assert again.json()["error"]["code"] == "RATE_LIMITED"
    marked = {i["id"]: i["user_feedback"] for i in page("limit=100")["items"]}
    assert marked == {ids[0]: None, ids[1]: "negative", ids[2]: None}
    others = api.client.post(
        "/api/v1/aurora/feedback",
        json={"generation_id": ids[1], "feedback_type": "positive"},
        headers=api.bob,
    )
    assert others.status_code == 404, "feedback on someone else's generation"


def test_keys_name_their_owner_and_revocation_locks_out(api: Any) -> None:
    dave = api.store.users.create("dave")
    made = api.store.api_keys.create(dave.id, "laptop")
    headers = {"Authorization": f"Bearer {made.token}"}
    me = api.client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["user"] == {"id": dave.id, "name": "dave"}
    assert [k.name for k in api.store.api_keys.list_for_user(dave.id)] == ["laptop"]
    api.store.api_keys.revoke(made.key.id, dave.id)
    time.sleep(2.1)  # a running server trusts a verified key for at most two seconds
    refused = api.client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "UNAUTHORIZED"
