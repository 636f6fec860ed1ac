"""What the studio's history and result need to tell tracks apart: the seed a generation used
(shown, and sent again for "same again") and the person's latest audio rating (shown again
after a reload), and the health view's breaker state per Aurora backend."""

from __future__ import annotations

import time
from typing import Any

SHORT = {"duration_seconds": 5, "sample_rate": 22050, "stems": False, "seed": 4321}
PROMPT = "a calm lofi hip hop beat with warm piano"


def _completed(api: Any, headers: dict[str, str], gid: str, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = api.client.get(f"/api/v1/generations/{gid}", headers=headers).json()
        assert body["status"] != "failed", body.get("error")
        if body["status"] == "completed":
            return body
        time.sleep(0.2)
    raise AssertionError(f"{gid} not completed after {timeout_s} s")


def test_history_and_result_carry_the_seed_and_the_latest_rating(api: Any) -> None:
    user = api.store.users.create("dora")
    headers = {"Authorization": f"Bearer {api.store.api_keys.create(user.id).token}"}
    response = api.client.post(
        "/api/v1/aurora/generate", json={"prompt": PROMPT, "options": SHORT}, headers=headers
    )
    assert response.status_code == 200, response.text
    gid = response.json()["generation_id"]
    assert _completed(api, headers, gid)["seed"] == 4321

    def item() -> dict[str, Any]:
        body = api.client.get("/api/v1/aurora/history", headers=headers).json()
        return dict(next(i for i in body["items"] if i["id"] == gid))

    assert item()["seed"] == 4321 and item()["user_rating"] is None
    rated = {
        "generation_id": gid,
        "feedback_type": "positive",
        "feedback_details": {"audio_quality": 4},
    }
    assert api.client.post("/api/v1/aurora/feedback", json=rated, headers=headers).is_success
    shown = item()
    assert shown["user_rating"] == 4 and shown["user_feedback"] == "positive"
    assert {"genre", "tempo_bpm", "key", "time_signature"} <= set(shown["parameters"])


def test_health_shows_each_configured_backend_s_breaker(api: Any) -> None:
    backends = api.client.get("/health").json()["aurora"]["backends"]
    assert {b["name"] for b in backends} >= {"rule_based", "defaults"}
    assert all(b["state"] == "closed" and b["retry_in_s"] == 0 for b in backends)
