"""Remake, extend and vary over HTTP: queued like a generation, only on the owner's own
generation, with what stayed sample-identical and clear 422s for what cannot be done."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

PROMPT = "an upbeat synthwave track with pulsing bass and dreamy pads"


def _wait(api: Any, generation_id: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = api.client.get(f"/api/v1/generations/{generation_id}", headers=api.alice).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"generation {generation_id} did not finish in {timeout_s} s")


def _done(api: Any, response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body if body["status"] in ("completed", "failed") else _wait(api, body["generation_id"])


def _audio(api: Any, generation_id: str) -> np.ndarray:
    got = api.client.get(f"/api/v1/generations/{generation_id}/audio", headers=api.alice)
    assert got.status_code == 200
    data, _ = sf.read(io.BytesIO(got.content), dtype="int16", always_2d=True)
    return data


@pytest.fixture(scope="module")
def original(api: Any) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/aurora/generate",
        json={
            "prompt": PROMPT,
            "options": {
                "duration_seconds": 20,
                "sample_rate": 22050,
                "wait_seconds": 60,
                "seed": 7,
                "stems": False,
            },
        },
        headers=api.alice,
    )
    body = _done(api, response)
    assert body["status"] == "completed", body.get("error")
    return body


@pytest.mark.slow
def test_every_generation_keeps_its_project(api: Any, original: dict[str, Any]) -> None:
    gid = original["generation_id"]
    assert original["files"]["project"].endswith(f"/api/v1/generations/{gid}/project")
    project = api.client.get(f"/api/v1/generations/{gid}/project", headers=api.alice).json()
    assert project["prompt"] == PROMPT
    assert [s["seed"] for s in project["sections"]] == [7] * len(project["sections"])
    assert project["master"]["pre_gain_db"] != 0.0
    assert project["sections"][-1]["end_seconds"] == pytest.approx(20.0)


@pytest.mark.slow
def test_remake_over_http_keeps_the_other_sections(api: Any, original: dict[str, Any]) -> None:
    gid = original["generation_id"]
    response = api.client.post(
        f"/api/v1/generations/{gid}/sections/1/remake",
        json={"seed": 11, "wait_seconds": 60},
        headers=api.alice,
    )
    remade = _done(api, response)
    assert remade["status"] == "completed", remade.get("error")
    new_id = remade["generation_id"]
    assert new_id != gid
    project = api.client.get(f"/api/v1/generations/{new_id}/project", headers=api.alice).json()
    last = project["history"][-1]
    assert last["kind"] == "remake" and last["sections"] == [1]
    ((start, end),) = last["identical_seconds"]
    before, after = _audio(api, gid), _audio(api, new_id)
    i = round(start * 22050)
    assert before.shape == after.shape
    assert np.array_equal(before[i:], after[i:])
    assert not np.array_equal(before[:i], after[:i])
    assert end == pytest.approx(20.0)


@pytest.mark.slow
def test_extend_and_vary_over_http(api: Any, original: dict[str, Any]) -> None:
    gid = original["generation_id"]
    extended = _done(
        api,
        api.client.post(
            f"/api/v1/generations/{gid}/extend",
            json={"to_seconds": 40, "seed": 5, "wait_seconds": 60},
            headers=api.alice,
        ),
    )
    assert extended["status"] == "completed", extended.get("error")
    audio = _audio(api, extended["generation_id"])
    assert audio.shape[0] == 40 * 22050
    varied = _done(
        api,
        api.client.post(
            f"/api/v1/generations/{gid}/vary", json={"wait_seconds": 60}, headers=api.alice
        ),
    )
    assert varied["status"] == "completed", varied.get("error")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("sections/9/remake", {}, "section"),
        ("sections/0/remake", {}, "section"),
        ("extend", {"to_seconds": 10}, "to_seconds"),
        ("extend", {"to_seconds": 999}, "to_seconds"),
        ("vary", {"seed": -1}, "seed"),
    ],
)
def test_what_cannot_be_done_is_a_422_and_nothing_is_queued(
    api: Any, original: dict[str, Any], path: str, body: dict[str, Any], field: str
) -> None:
    gid = original["generation_id"]
    before = api.client.get("/api/v1/aurora/history?limit=100", headers=api.alice).json()
    response = api.client.post(f"/api/v1/generations/{gid}/{path}", json=body, headers=api.alice)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert set(error) >= {"code", "message"}
    assert field in error["message"] or field in str(error.get("details", ""))
    after = api.client.get("/api/v1/aurora/history?limit=100", headers=api.alice).json()
    assert after == before


@pytest.mark.slow
def test_another_person_cannot_edit_or_read_the_project(api: Any, original: dict[str, Any]) -> None:
    gid = original["generation_id"]
    for method, path in (
        ("post", f"/api/v1/generations/{gid}/sections/1/remake"),
        ("post", f"/api/v1/generations/{gid}/vary"),
        ("get", f"/api/v1/generations/{gid}/project"),
    ):
        response = getattr(api.client, method)(path, headers=api.bob)
        assert response.status_code == 404, (path, response.text)
    assert api.client.get(f"/api/v1/generations/{gid}/project").status_code == 401


@pytest.mark.slow
def test_more_like_what_a_person_liked(api: Any, original: dict[str, Any]) -> None:
    gid = original["generation_id"]
    other = _done(
        api,
        api.client.post(
            "/api/v1/aurora/generate",
            json={
                "prompt": "a slow solo cello lament in d minor",
                "options": {"duration_seconds": 6, "sample_rate": 22050, "wait_seconds": 60},
            },
            headers=api.alice,
        ),
    )
    varied = _done(
        api,
        api.client.post(
            f"/api/v1/generations/{gid}/vary", json={"wait_seconds": 60}, headers=api.alice
        ),
    )
    liked = api.client.post(
        "/api/v1/aurora/feedback",
        json={"generation_id": gid, "feedback_type": "positive"},
        headers=api.alice,
    )
    assert liked.status_code < 300, liked.text
    got = api.client.get("/api/v1/generations/liked/neighbours?limit=50", headers=api.alice)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["liked"] == [gid]
    ranked = [n["generation_id"] for n in body["neighbours"]]
    assert gid not in ranked
    assert ranked.index(varied["generation_id"]) < ranked.index(other["generation_id"])
    assert all(n["nearest_liked"] == gid for n in body["neighbours"])
    sims = [n["similarity"] for n in body["neighbours"]]
    assert sims == sorted(sims, reverse=True)
    theirs = api.client.get("/api/v1/generations/liked/neighbours", headers=api.bob).json()
    assert theirs == {"liked": [], "neighbours": []}


@pytest.mark.slow
def test_an_mp3_track_is_remade_from_its_project_and_a_lost_project_is_a_404(
    api: Any,
) -> None:
    made = _done(
        api,
        api.client.post(
            "/api/v1/aurora/generate",
            json={
                "prompt": PROMPT,
                "options": {
                    "duration_seconds": 12,
                    "sample_rate": 22050,
                    "output_format": "mp3",
                    "wait_seconds": 60,
                    "seed": 3,
                    "stems": False,
                },
            },
            headers=api.alice,
        ),
    )
    gid = made["generation_id"]
    remade = _done(
        api,
        api.client.post(
            f"/api/v1/generations/{gid}/sections/1/remake",
            json={"wait_seconds": 60},
            headers=api.alice,
        ),
    )
    assert remade["status"] == "completed", remade.get("error")
    notices = " ".join(n["message"] for n in remade.get("notices", []))
    assert "cannot be spliced" in notices  # lossy audio: the project is rendered again
    assert "remake: changed 1" in notices
    job = api.store.jobs.get(gid, api.alice_id)
    assert job is not None and job.files is not None
    Path(job.files["project"]).unlink()
    for method, path in (
        ("post", f"/api/v1/generations/{gid}/sections/1/remake"),
        ("get", f"/api/v1/generations/{gid}/project"),
    ):
        response = getattr(api.client, method)(path, headers=api.alice)
        assert response.status_code == 404, response.text
        assert "project" in response.json()["error"]["message"]
