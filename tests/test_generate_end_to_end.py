"""The acceptance check of the foundation: the BPM asked is the BPM heard, the key asked the key heard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from soundstar.audio.analysis import estimate_key, estimate_tempo, keys_equal

PROMPT = "an upbeat 80s synthwave track at 118 BPM in A minor"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("e2e") / "t.wav"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "soundstar.cli",
            "generate",
            PROMPT,
            "-o",
            str(out),
            "--json",
            "--seed",
            "11",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(proc.stdout)


def test_file_is_30_seconds_of_44k1_stereo(rendered: tuple[Path, dict[str, object]]) -> None:
    path, _ = rendered
    info = sf.info(str(path))
    assert info.samplerate == 44100
    assert info.channels == 2
    assert abs(info.frames / info.samplerate - 30.0) <= 0.1


@pytest.mark.slow
def test_measured_tempo_is_118_bpm(rendered: tuple[Path, dict[str, object]]) -> None:
    audio, rate = sf.read(str(rendered[0]), always_2d=True)
    tempo = estimate_tempo(audio.T.astype(np.float32), sample_rate=rate)
    assert abs(tempo - 118) / 118 <= 0.02, tempo


@pytest.mark.slow
def test_measured_key_is_a_minor(rendered: tuple[Path, dict[str, object]]) -> None:
    audio, rate = sf.read(str(rendered[0]), always_2d=True)
    key, _ = estimate_key(audio.T.astype(np.float32), sample_rate=rate)
    assert keys_equal(key, "A minor"), key


def test_loudness_is_minus_14_lufs(rendered: tuple[Path, dict[str, object]]) -> None:
    audio, rate = sf.read(str(rendered[0]), always_2d=True)
    lufs = pyloudnorm.Meter(rate).integrated_loudness(audio)
    assert abs(lufs - (-14.0)) <= 1.0, lufs
    assert np.max(np.abs(audio)) < 1.0


def test_json_result_reports_parameters_plan_timings_and_stages(
    rendered: tuple[Path, dict[str, object]],
) -> None:
    _, result = rendered
    assert result["status"] == "completed"
    params = result["parameters"]
    assert isinstance(params, dict) and params["tempo_bpm"] == 118 and params["key"] == "A minor"
    assert isinstance(result["plan"], dict) and result["plan"]["sections"]
    timings = result["timings_ms"]
    assert isinstance(timings, dict)
    for stage in (
        "preprocess",
        "parse",
        "map",
        "plan",
        "compose",
        "synthesis",
        "mix",
        "export",
        "total",
    ):
        assert stage in timings
    assert result["implementation_used"] == "rule_based"
    assert "compose" in result["stages_run"] and "mix" in result["stages_run"]  # type: ignore[operator]
    assert result["seed"] == 11
