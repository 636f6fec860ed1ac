"""Wrong keys are rate-limited per caller address; a 429 names a real wait (whole seconds,
matching Retry-After); the limits live in the database, so every process shares them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from soundstar.store.tables import RateBucket
from tests.api.conftest import Api


def _strict_wrong_keys(settings: Any) -> None:
    settings.api.wrong_keys_burst = 3
    settings.api.wrong_keys_per_minute = 6


def test_guessing_keys_is_rate_limited_and_good_keys_still_work(api_factory: Any) -> None:
    api: Api = api_factory(_strict_wrong_keys)
    wrong = {"Authorization": "Bearer ss_" + "x" * 43}
    statuses = [api.client.get("/api/v1/me", headers=wrong).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = api.client.get("/api/v1/me", headers=wrong)
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert seconds >= 1
    assert refused.json()["error"]["message"].endswith(f"try again in {seconds} s")
    assert api.client.get("/api/v1/me", headers=api.alice).status_code == 200


def test_the_request_limit_is_kept_in_the_database(api_factory: Any) -> None:
    def strict(settings: Any) -> None:
        settings.api.rate_limit_burst = 2
        settings.api.rate_limit_per_minute = 6

    api: Api = api_factory(strict)
    assert api.client.app.state.soundstar.limiter.shared  # type: ignore[attr-defined]
    codes = [api.client.get("/api/v1/me", headers=api.alice).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    with api.store.db.session() as s:
        assert (s.scalar(select(func.count()).select_from(RateBucket)) or 0) >= 1
