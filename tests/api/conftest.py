"""A live app per test module and database backend (SQLite file in tmp, or a fresh PostgreSQL
schema), with the embedded job pool and two users.

Every test that uses `api` runs twice, `[sqlite]` and `[postgresql]`; the PostgreSQL run is
skipped, with the reason, when the server at 127.0.0.1:5432 cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from soundstar.api.app import create_app
from soundstar.config import Settings
from soundstar.store import Store

BACKENDS = ("sqlite", "postgresql")


@dataclass
class Api:
    client: TestClient
    store: Store
    settings: Settings
    alice: dict[str, str]
    bob: dict[str, str]
    alice_id: int
    bob_id: int
    backend: str


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    settings = Settings(data_dir=data_dir, redis_url=None)
    settings.jobs.workers = 1
    settings.api.rate_limit_burst = 10_000
    settings.api.rate_limit_per_minute = 600_000
    for name, value in overrides.items():
        setattr(settings, name, value)
    return settings


def open_api(settings: Settings) -> Iterator[Api]:
    app = create_app(settings)
    with TestClient(app) as client:
        store: Store = app.state.soundstar.store
        alice = store.users.create("alice")
        bob = store.users.create("bob")
        yield Api(
            client=client,
            store=store,
            settings=settings,
            alice={"Authorization": f"Bearer {store.api_keys.create(alice.id).token}"},
            bob={"Authorization": f"Bearer {store.api_keys.create(bob.id).token}"},
            alice_id=alice.id,
            bob_id=bob.id,
            backend=store.db.dialect,
        )


@pytest.fixture(scope="module", params=BACKENDS)
def api_database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the default SQLite file under the data dir, else a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_module_schema_url"))


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, api_database_url: str | None) -> Iterator[Api]:
    yield from open_api(
        make_settings(tmp_path_factory.mktemp("api"), database_url=api_database_url)
    )


@pytest.fixture
def api_factory(tmp_path: Path) -> Iterator[object]:
    """Open extra apps with adjusted settings: `api_factory(lambda s: ...)`; closed after the test."""
    opened: list[Iterator[Api]] = []

    def open_with(adjust: object = None) -> Api:
        settings = make_settings(tmp_path / f"app{len(opened)}")
        if callable(adjust):
            adjust(settings)
        gen = open_api(settings)
        opened.append(gen)
        return next(gen)

    yield open_with
    for gen in opened:
        for _ in gen:
            pass
