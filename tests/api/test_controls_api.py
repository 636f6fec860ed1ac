"""Controls sent to generate (aurora and codex) act as `soundstar generate --set` does: the
same parameters and plan, the same refit and notice, and a bad one refused naming the
control and its range, with nothing queued."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from soundstar.controls import CONTROLS
from tests.api.conftest import Api

PROMPT = "a gentle pop song with piano and bass"
FAST = {"duration_seconds": 6, "sample_rate": 22050, "seed": 4, "enhance_prompt": False}
CLI_FAST = ("--duration", "6", "--sample-rate", "22050", "--seed", "4")
SET = {"tempo_bpm": 100, "key": "E minor", "time_signature": "3/4", "valence": 0.2}
SET_SECTION = {**SET, "sections.1.energy": 0.15}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundstar.cli", "generate", PROMPT, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _as_set(controls: dict[str, Any]) -> list[str]:
    return [arg for name, value in controls.items() for arg in ("--set", f"{name}={value}")]


def _generate(api: Api, body: dict[str, Any], route: str = "aurora") -> dict[str, Any]:
    body = {"prompt": PROMPT, **body}
    body["options"] = {**FAST, "wait_seconds": 60, **body.get("options", {})}
    response = api.client.post(f"/api/v1/{route}/generate", json=body, headers=api.alice)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "completed", answer
    return dict(answer)


_CLI_SAID: dict[str, str] = {}


def _cli_refusal(as_set: str) -> str:
    """What `--set as_set` is told after the control's name (run once per value)."""
    if as_set not in _CLI_SAID:
        proc = _cli(*CLI_FAST, "--set", as_set)
        assert proc.returncode != 0
        line = proc.stderr.strip().splitlines()[-1].removeprefix("soundstar: error: ")
        _CLI_SAID[as_set] = line.split(": ", 1)[1]
    return _CLI_SAID[as_set]


def _stored(api: Api) -> int:
    return api.store.jobs.history(api.alice_id, limit=1, offset=0, sort="newest").total_count


@pytest.fixture(scope="module")
def cli_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("cli") / "a.wav"
    proc = _cli(*CLI_FAST, "-o", str(out), "--json", *_as_set(SET_SECTION))
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_controls_give_the_parameters_and_plan_the_same_set_gives_on_the_cli(
    api: Api, cli_result: dict[str, Any]
) -> None:
    answer = _generate(api, {"controls": SET_SECTION})
    assert answer["parameters_used"] == cli_result["parameters"]
    assert answer["structural_plan"] == cli_result["plan"]
    assert answer["structural_plan"]["sections"][0]["energy_level"] == 0.15
    progression = answer["structural_plan"]["chord_progression"]
    assert (progression["key"], progression["mode"]) == ("E", "minor")


def test_the_codex_route_reads_controls_the_same_way(api: Api, cli_result: dict[str, Any]) -> None:
    answer = _generate(api, {"controls": SET_SECTION}, route="codex")
    assert answer["parameters_used"] == cli_result["parameters"]


def test_controls_win_over_the_parameters_sent_and_a_sent_plan_is_refitted(
    api: Api, cli_result: dict[str, Any]
) -> None:
    """A key set over parameters and a plan in the old key: the plan is rewritten into
    the new key with a notice, never played in the old one."""
    params, plan = cli_result["parameters"], cli_result["plan"]
    answer = _generate(api, {"parameters": params, "plan": plan, "controls": {"key": "A major"}})
    assert answer["parameters_used"] == {**params, "key": "A major"}
    progression = answer["structural_plan"]["chord_progression"]
    assert (progression["key"], progression["mode"]) == ("A", "major")
    assert [s["name"] for s in answer["structural_plan"]["sections"]] == [
        s["name"] for s in plan["sections"]
    ]
    said = [n["message"] for n in answer["notices"]]
    assert any("refitted" in m and "E minor to A major" in m for m in said), said


def test_parameters_changed_without_a_plan_are_planned_afresh(
    api: Api, cli_result: dict[str, Any]
) -> None:
    params = {**cli_result["parameters"], "key": "D major", "time_signature": "4/4"}
    answer = _generate(api, {"parameters": params})
    progression = answer["structural_plan"]["chord_progression"]
    assert (progression["key"], progression["mode"]) == ("D", "major")
    assert answer["parameters_used"]["time_signature"] == "4/4"


def test_the_plan_returned_sent_again_with_its_seed_plays_the_same_score(api: Api) -> None:
    """The page shows (and "Same again" sends) the plan as played: sent back with the
    parameters used and the seed, it is followed as it is, note for note."""
    first = _generate(api, {"controls": {"key": "F minor", "tempo_bpm": 96}})
    again = _generate(
        api, {"parameters": first["parameters_used"], "plan": first["structural_plan"]}
    )
    assert again["structural_plan"] == first["structural_plan"]
    assert all("refitted" not in n["message"] for n in again["notices"])
    midi = [
        api.client.get(f"/api/v1/generations/{g['generation_id']}/midi", headers=api.alice)
        for g in (first, again)
    ]
    assert all(r.status_code == 200 for r in midi)
    assert midi[0].content == midi[1].content


def test_a_length_set_as_a_control_is_the_length_planned_and_rendered(api: Api) -> None:
    answer = _generate(api, {"controls": {"duration_seconds": 8, "sections.1.energy": 0.3}})
    assert answer["parameters_used"]["duration_seconds"] == 8
    assert answer["duration_seconds"] == pytest.approx(8, abs=0.5)
    assert answer["structural_plan"]["sections"][0]["energy_level"] == 0.3
    assert not [n for n in answer["notices"] if "refitted" in n["message"]], answer["notices"]


BAD = [
    ({"tempo_bpm": 999}, "tempo_bpm=999", "controls.tempo_bpm"),
    ({"valence": 1.5}, "valence=1.5", "controls.valence"),
    ({"key": "H major"}, "key=H major", "controls.key"),
    ({"time_signature": "4"}, "time_signature=4", "controls.time_signature"),
    ({"instruments": ["piano", "kazooblaster"]}, "instruments=piano,kazooblaster",
     "controls.instruments"),
    ({"sections.bridge.energy": 0.5}, "sections.bridge.energy=0.5",
     "controls.sections.bridge.energy"),
    ({"brightness": 1}, "brightness=1", "controls.brightness"),
]  # fmt: skip


@pytest.mark.parametrize("route", ["aurora", "codex"])
@pytest.mark.parametrize(("controls", "as_set", "field"), BAD)
def test_a_bad_control_is_refused_as_set_refuses_it_and_nothing_is_queued(
    api: Api, route: str, controls: dict[str, Any], as_set: str, field: str
) -> None:
    before = _stored(api)
    response = api.client.post(
        f"/api/v1/{route}/generate",
        json={"prompt": PROMPT, "controls": controls, "options": FAST},
        headers=api.alice,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["field"] == field
    assert _stored(api) == before
    # the same words after the control's name: "'999' is not a number of ... from 40 to 240"
    named, said = error["message"].split(": ", 1)
    assert named in (field, "controls")
    assert said == _cli_refusal(as_set)


@pytest.mark.parametrize(
    ("name", "value"),
    [("tempo_bpm", 999), ("energy_level", -0.5), ("key", "C bebop"), ("duration_seconds", 2)],
)
def test_a_bad_control_field_in_the_parameters_names_it_and_its_range(
    api: Api, cli_result: dict[str, Any], name: str, value: Any
) -> None:
    before = _stored(api)
    params = {**cli_result["parameters"], name: value}
    response = api.client.post(
        "/api/v1/aurora/generate",
        json={"prompt": PROMPT, "parameters": params, "options": FAST},
        headers=api.alice,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("VALIDATION_ERROR", f"parameters.{name}")
    assert error["message"].startswith(f"parameters.{name}: {str(value)!r} is not {CONTROLS[name]}")
    assert _stored(api) == before
