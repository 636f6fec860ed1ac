"""`soundstar remake | extend | vary` on a project `generate --project` wrote: exit codes,
what they print, sample identity of what they keep, and one-line errors with no file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

PROMPT = "an upbeat synthwave track with pulsing bass and dreamy pads"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundstar.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "SOUNDSTAR_ENGINE__RENDER_MODE": "ddsp"},
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    here = tmp_path_factory.mktemp("cli_edit")
    proc = run(
        "generate", PROMPT, "--duration", "30", "--seed", "7", "-o", "a.wav",
        "--project", "a.json", cwd=here,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return here


def _audio(path: Path) -> np.ndarray:
    data, _ = sf.read(str(path), dtype="int16", always_2d=True)
    return data


def test_generate_writes_a_project_naming_its_audio(folder: Path) -> None:
    project = json.loads((folder / "a.json").read_text())
    assert project["audio"]["file"] == "a.wav"
    assert [s["seed"] for s in project["sections"]] == [7] * len(project["sections"])


def test_remake_keeps_the_other_sections_sample_identical(folder: Path) -> None:
    proc = run(
        "remake", "a.json", "--section", "1", "--seed", "11", "-o", "b.wav", "--project",
        "b.json", "--json", cwd=folder,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert [c["section"] for c in summary["changed"]] == [1]
    ((start, _end),) = summary["identical_seconds"]
    a, b = _audio(folder / "a.wav"), _audio(folder / "b.wav")
    assert a.shape == b.shape
    i = round(start * 44100) + 1  # the span's start, rounded to ms in the summary
    assert np.array_equal(a[i:], b[i:])
    assert not np.array_equal(a[:i], b[:i])
    assert json.loads((folder / "b.json").read_text())["sections"][0]["seed"] == 11


def test_extend_and_vary_write_their_tracks(folder: Path) -> None:
    proc = run("extend", "a.json", "--to", "45", "-o", "c.wav", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert "changed:" in proc.stdout and "kept:" in proc.stdout
    assert sf.info(str(folder / "c.wav")).frames == 45 * 44100
    proc = run("vary", "a.json", "--seed", "3", "-o", "v.wav", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert sf.info(str(folder / "v.wav")).frames == 30 * 44100


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("remake", "a.json", "--section", "9"), "out of range"),
        (("remake", "a.json", "--section", "0"), "out of range"),
        (("remake", "missing.json", "--section", "1"), "does not exist"),
        (("remake", "bad.json", "--section", "1"), "not a valid Soundstar project"),
        (("remake", "a.json", "--section", "1", "--seed", "-1"), "--seed"),
        (("extend", "a.json", "--to", "10"), "longer than the piece"),
        (("extend", "a.json"), "--to"),
        (("vary", "notjson.json"), "is not JSON"),
        (("remake", "a.json", "--section", "1", "--audio", "none.wav"), "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_file(
    folder: Path, args: tuple[str, ...], needle: str
) -> None:
    (folder / "bad.json").write_text(json.dumps({"prompt": "x"}))
    (folder / "notjson.json").write_text("{")
    proc = run(*args, "-o", "out.wav", cwd=folder)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert not (folder / "out.wav").exists()
