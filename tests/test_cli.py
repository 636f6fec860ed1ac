"""The command line: outputs, and bad input that exits non-zero with one line and no file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mido
import pytest
import soundfile as sf

GOOD = "a calm piano and strings piece in e minor"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundstar.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("",), "too short"),
        (("x" * 501,), "too long"),
        ((GOOD, "--duration", "4"), "--duration"),
        ((GOOD, "--duration", "601"), "--duration"),
        ((GOOD, "--format", "ogg"), "unknown format"),
        ((GOOD, "--sample-rate", "12345"), "sample rate"),
        ((GOOD, "--duration", "abc"), "duration"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line_and_no_file(
    tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    out = tmp_path / "out.wav"
    proc = run("generate", *args, "-o", str(out))
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "needle"),
    [("quartet.mid", "--midi quartet.mid"), ("track.ogg", "cannot tell an audio format")],
)
def test_an_output_name_that_is_not_audio_is_refused(
    tmp_path: Path, name: str, needle: str
) -> None:
    """Not a WAV written under a .mid or .ogg name: one line saying what to do instead."""
    proc = run("generate", GOOD, "-o", str(tmp_path / name))
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_path_fails_before_rendering(tmp_path: Path) -> None:
    proc = run("generate", GOOD, "-o", str(tmp_path / "missing" / "dir" / "t.wav"))
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "missing").exists()


def test_output_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    proc = run("generate", GOOD, "-o", str(blocker / "t.wav"))
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-dir"]


def test_generate_writes_flac_midi_stems_and_plan(tmp_path: Path) -> None:
    out = tmp_path / "t.flac"
    proc = run(
        "generate", GOOD, "-o", str(out), "--duration", "8", "--seed", "3", "--sample-rate", "22050",
        "--midi", str(tmp_path / "t.mid"), "--stems", str(tmp_path / "stems"), "--plan", str(tmp_path / "plan.json"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    info = sf.info(str(out))
    assert info.format == "FLAC" and info.samplerate == 22050
    assert abs(info.frames / info.samplerate - 8.0) <= 0.1
    midi = mido.MidiFile(str(tmp_path / "t.mid"))
    assert midi.type == 1 and len(midi.tracks) >= 3
    stems = list((tmp_path / "stems").iterdir())
    assert len(stems) >= 2
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["sections"]


def test_parse_and_plan_print_json() -> None:
    parsed = run("parse", "a gentle waltz in D major for strings", "--json")
    assert parsed.returncode == 0, parsed.stderr
    data = json.loads(parsed.stdout)
    assert data["parameters"]["time_signature"] == "3/4"
    assert data["implementation_used"] == "rule_based"
    planned = run("plan", "a gentle waltz in D major for strings", "--duration", "60", "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["structural_plan"]["chord_progression"]["key"] == "D"


def test_serve_refuses_a_bad_port_with_one_line() -> None:
    proc = run("serve", "--port", "70000")
    assert proc.returncode == 2
    assert proc.stderr.startswith("soundstar: error:") and "--port" in proc.stderr
