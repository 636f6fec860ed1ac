"""The command line's loops, `analyze` and `--like`: exact loop files with their tempo in the
metadata, a clip heard, and bad input refused with one line and no file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

PROMPT = "an upbeat synthwave loop with pulsing bass at 120 bpm in A minor"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundstar.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_a_loop_is_whole_bars_at_the_tempo_with_the_tempo_in_its_metadata(tmp_path: Path) -> None:
    out = tmp_path / "loop.wav"
    proc = run("generate", PROMPT, "--loop", "--bars", "4", "--seed", "1", "-o", str(out),
               "--sample-rate", "22050")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with sf.SoundFile(out) as f:
        assert f.frames == 4 * 4 * 60 * 22050 // 120
        tags = f.copy_metadata()
    assert "120bpm" in tags["title"] and "tempo=120 bpm" in tags["comment"]
    audio = sf.read(out, always_2d=True)[0]
    seam = np.abs(audio[0] - audio[-1]).max()
    assert seam <= np.percentile(np.abs(np.diff(audio, axis=0)), 99)


def test_analyze_reports_a_clip_and_like_takes_it(tmp_path: Path) -> None:
    clip = tmp_path / "clip.flac"
    made = run("generate", PROMPT, "--duration", "12", "--seed", "2", "-o", str(clip))
    assert made.returncode == 0, made.stderr
    proc = run("analyze", str(clip), "--json")
    assert proc.returncode == 0, proc.stderr
    heard = json.loads(proc.stdout)
    assert abs(heard["tempo_bpm"] - 120) < 2.5 and heard["format"] == "flac"
    assert {"key", "time_signature", "integrated_lufs", "brightness_hz", "sections"} <= set(heard)
    text = run("analyze", str(clip))
    assert "tempo" in text.stdout and "sections:" in text.stdout
    out = tmp_path / "like.wav"
    liked = run("generate", "a mellow piano piece", "--like", str(clip), "--duration", "8",
                "-o", str(out), "--json")  # fmt: skip
    assert liked.returncode == 0, liked.stderr
    params = json.loads(liked.stdout)["parameters"]
    assert abs(params["tempo_bpm"] - heard["tempo_bpm"]) < 0.01
    assert params["key"] == heard["key"]


def test_bad_clips_and_options_exit_non_zero_with_one_line_and_no_file(tmp_path: Path) -> None:
    script = tmp_path / "clip.wav"
    script.write_text("#!/bin/sh\nrm -rf /\n")
    out = tmp_path / "out.wav"
    for args, needle in (
        (("analyze", str(script)), "not audio"),
        (("generate", PROMPT, "--like", str(script), "-o", str(out)), "not audio"),
        (("generate", PROMPT, "--bars", "4", "-o", str(out)), "--loop"),
        (("generate", PROMPT, "--loop", "--bars", "1", "-o", str(out)), "more or fewer bars"),
    ):
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.wav"]


def test_a_loop_has_no_project_to_edit_and_says_so(tmp_path: Path) -> None:
    out, project = tmp_path / "loop.wav", tmp_path / "loop.json"
    proc = run("generate", PROMPT, "--loop", "-o", str(out), "--project", str(project))
    assert proc.returncode == 2
    assert "loop has no project" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists() and not project.exists()
