"""Fixtures for the job tests: settings and a migrated SQLite store in tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from soundstar.config import JobsConfig, Settings, load_settings
from soundstar.jobs.request import JobRequest
from soundstar.jobs.runtime import open_store
from soundstar.store import Store, sqlite_url

SHORT_JOB: dict[str, Any] = {
    "prompt": "an upbeat synthwave track with drums and bass",
    "duration_seconds": 5,
    "sample_rate": 22050,
    "seed": 7,
}


def make_settings(tmp_path: Path, **jobs: Any) -> Settings:
    """Settings whose data dir and SQLite database live under `tmp_path`."""
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url(tmp_path / "jobs.db"),
        jobs=JobsConfig(**{"lease_s": 10.0, "workers": 2, **jobs}),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = open_store(settings)
    store.db.upgrade()
    try:
        yield store
    finally:
        store.db.dispose()


@pytest.fixture
def user_id(store: Store) -> int:
    return store.users.create("ann").id


@pytest.fixture
def enqueue_short(store: Store, user_id: int) -> Callable[..., str]:
    """Queue a short, valid generation (5 s at 22 050 Hz), with field overrides."""

    def enqueue(**overrides: Any) -> str:
        request = JobRequest.model_validate({**SHORT_JOB, **overrides})
        return store.jobs.enqueue(user_id, request.to_json())

    return enqueue
