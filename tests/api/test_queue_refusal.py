"""A generation the queue cannot take is refused with 503 QUEUE_UNAVAILABLE and leaves no
row behind (no job, no session opened for it); /health says the broker is unreachable.
Real Celery producer, pointed at a loopback port where no broker listens."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from soundstar.api.app import create_app
from soundstar.store.tables import AuroraSession, GenerationJob
from tests.api.conftest import make_settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def no_broker(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(tmp_path / "data")
    settings.jobs.backend = "celery"
    settings.jobs.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    app = create_app(settings)
    with TestClient(app) as client:
        store = app.state.soundstar.store
        user = store.users.create("carol")
        yield client, {"Authorization": f"Bearer {store.api_keys.create(user.id).token}"}


def _count(client: TestClient, table: type) -> int:
    with client.app.state.soundstar.store.db.session() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_a_generate_the_broker_cannot_take_is_503_and_stores_nothing(
    no_broker: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = no_broker
    response = client.post(
        "/api/v1/aurora/generate", json={"prompt": "a calm piano piece at dusk"}, headers=auth
    )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "QUEUE_UNAVAILABLE"
    assert response.headers["Retry-After"]
    assert _count(client, GenerationJob) == 0
    assert _count(client, AuroraSession) == 0


def test_health_says_the_broker_is_unreachable(
    no_broker: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = no_broker
    response = client.get("/health")
    assert response.status_code == 503
    queue = response.json()["queue"]
    assert queue["backend"] == "celery" and queue["status"] == "unavailable"
    assert queue["broker_status"].startswith("unreachable")
