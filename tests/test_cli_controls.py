"""`soundstar generate --set / --params / --plan-in`: controls set from the command line
reach the music, edited parameters and plans render, bad ones write nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mido
import pytest

PROMPT = "a gentle pop song with piano and bass"
FAST = ("--duration", "6", "--sample-rate", "22050", "--seed", "4")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundstar.cli", "generate", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _midi_meta(path: Path) -> tuple[float, str, str]:
    tempo, meter, key = 0.0, "", ""
    for msg in mido.MidiFile(path).tracks[0]:
        if msg.type == "set_tempo":
            tempo = mido.tempo2bpm(msg.tempo)
        elif msg.type == "time_signature":
            meter = f"{msg.numerator}/{msg.denominator}"
        elif msg.type == "key_signature":
            key = msg.key
    return tempo, meter, key


def test_set_reaches_the_result_the_plan_and_the_midi(tmp_path: Path) -> None:
    proc = run(
        PROMPT, *FAST, "-o", str(tmp_path / "a.wav"), "--midi", str(tmp_path / "a.mid"),
        "--json", "--set", "tempo_bpm=100", "--set", "key=E minor",
        "--set", "time_signature=3/4", "--set", "valence=0.2",
        "--set", "sections.1.energy=0.15",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    params, plan = result["parameters"], result["plan"]
    assert (params["tempo_bpm"], params["key"], params["time_signature"]) == (
        100.0,
        "E minor",
        "3/4",
    )
    assert params["valence"] == 0.2
    assert (plan["chord_progression"]["key"], plan["chord_progression"]["mode"]) == ("E", "minor")
    assert plan["sections"][0]["energy_level"] == 0.15
    tempo, meter, key = _midi_meta(tmp_path / "a.mid")
    assert (round(tempo), meter, key) == (100, "3/4", "Em")


def test_params_and_plan_files_written_by_json_and_plan_render_again(tmp_path: Path) -> None:
    first = run(
        PROMPT, *FAST, "-o", str(tmp_path / "a.wav"), "--plan", str(tmp_path / "plan.json"),
        "--json",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    (tmp_path / "result.json").write_text(first.stdout, encoding="utf-8")
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    plan["sections"][-1]["energy_level"] = 0.99
    (tmp_path / "edited.json").write_text(json.dumps(plan), encoding="utf-8")
    again = run(
        PROMPT, *FAST, "-o", str(tmp_path / "b.wav"), "--json",
        "--params", str(tmp_path / "result.json"), "--plan-in", str(tmp_path / "edited.json"),
        "--set", "key=A major",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    first_params = json.loads(first.stdout)["parameters"]
    # a key set keeps its mode: it is no longer the key Soundstar chose
    assert result["parameters"] == {**first_params, "key": "A major", "key_chosen": None}
    assert result["plan"]["sections"][-1]["energy_level"] == 0.99
    assert result["plan"]["chord_progression"]["key"] == "A"
    assert any("refitted" in n["message"] for n in result["notices"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--set", "tempo_bpm=999"), "--set tempo_bpm: '999' is not a number of beats per minute"),
        (("--set", "brightness=1"), "unknown control 'brightness'"),
        (("--set", "valence"), "--set takes NAME=VALUE"),
        (("--set", "sections.bridge.energy=0.5"), "no section 'bridge'"),
        (("--params", "missing.json"), "--params: cannot read"),
        (("--plan-in", "bad.json"), "--plan-in"),
    ],
)
def test_a_bad_control_is_one_line_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    (tmp_path / "bad.json").write_text('{"sections": []}', encoding="utf-8")
    args = tuple(str(tmp_path / a) if a.endswith(".json") else a for a in args)
    before = set(tmp_path.iterdir())
    proc = run(PROMPT, *FAST, "-o", str(tmp_path / "out.wav"), *args)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert set(tmp_path.iterdir()) == before
