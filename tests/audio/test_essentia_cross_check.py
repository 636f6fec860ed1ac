"""The benchmarks' second opinion from essentia, and the rule that keeps it out of the package."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from benchmarks.adherence import Gold, _essentia_summary, essentia_row
from benchmarks.support.essentia_check import essentia_key, essentia_tempo
from benchmarks.support.metronome import click_track
from soundstar.audio.analysis import keys_equal

SR = 44100
PACKAGE = Path(__file__).resolve().parents[2] / "soundstar"
# DESIGN.md "Licence and dependencies": benchmarks and development tooling only.
COPYLEFT_ONLY_FOR_BENCHMARKS = {"essentia", "pedalboard"}


@pytest.fixture(scope="module")
def es() -> ModuleType:
    essentia = pytest.importorskip(
        "essentia", reason="essentia is not installed (./setup.sh --dev installs it)"
    )
    essentia.log.infoActive = False
    return pytest.importorskip("essentia.standard")


def cadence(chords: list[tuple[int, ...]], *, sample_rate: int, chord_s: float = 1.0) -> np.ndarray:
    """Each chord as summed sines with three harmonics, faded in and out, played twice."""
    t = np.arange(int(chord_s * sample_rate)) / sample_rate
    fade = np.minimum(1.0, np.minimum(t / 0.01, (chord_s - t) / 0.05))
    parts = []
    for chord in chords * 2:
        tone = sum(
            gain * np.sin(2 * np.pi * 440.0 * 2 ** ((midi - 69) / 12) * harmonic * t)
            for midi in chord
            for harmonic, gain in ((1, 1.0), (2, 0.5), (3, 0.25))
        )
        parts.append(tone * fade)
    audio = np.concatenate(parts)
    return np.asarray(0.3 * audio / np.max(np.abs(audio)), dtype=np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("sample_rate", [SR, 22050])
def test_essentia_reads_a_metronome_at_its_tempo_at_any_sample_rate(
    es: ModuleType, sample_rate: int
) -> None:
    audio = click_track(128.0, sample_rate=sample_rate, seconds=20.0)
    assert essentia_tempo(es, audio, sample_rate=sample_rate) == pytest.approx(128.0, rel=0.02)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("chords", "key"),
    [
        ([(57, 60, 64), (62, 65, 69), (64, 68, 71), (57, 60, 64)], "A minor"),
        ([(63, 67, 70), (68, 72, 75), (70, 74, 77), (63, 67, 70)], "Eb major"),
    ],
)
def test_essentia_s_key_is_spelled_so_ours_compare_with_it(
    es: ModuleType, chords: list[tuple[int, ...]], key: str
) -> None:
    stereo = np.stack([cadence(chords, sample_rate=SR)] * 2)
    heard = essentia_key(es, stereo, sample_rate=SR)
    assert keys_equal(heard, key), f"essentia heard {heard}, expected {key}"


@pytest.mark.slow
def test_a_cross_check_row_counts_a_compound_meter_s_felt_beat_and_mustango_s_bins(
    es: ModuleType,
) -> None:
    audio = click_track(80.0, sample_rate=SR, seconds=20.0)
    gold = Gold(bpm=120.0, key="C major")
    felt = essentia_row(es, audio, gold, asked_bpm=120.0, felt_bpm=80.0, asked_key="C major")
    assert felt["essentia_tempo_ok"] is True
    assert felt["essentia_TB"] is False  # 80 and 120 BPM lie in different tempo bins
    assert set(felt) >= {"essentia_key", "essentia_key_ok", "essentia_CK", "essentia_CKD"}
    plain = essentia_row(es, audio, Gold(), asked_bpm=160.0, felt_bpm=160.0, asked_key="C major")
    assert plain["essentia_tempo_ok"] is False
    assert "essentia_TB" not in plain and "essentia_CK" not in plain


def _row(item_id: str, *, tempo: bool, ess_tempo: bool, key: bool, ess_key: bool) -> dict[str, Any]:
    return {
        "id": item_id,
        "tempo_explicit": True,
        "tempo_ok": tempo,
        "key_ok": key,
        "essentia_tempo": 120.0,
        "essentia_tempo_ok": ess_tempo,
        "essentia_key_ok": ess_key,
        "essentia_TB": ess_tempo,
    }


def test_the_cross_check_names_the_prompts_each_estimator_misses() -> None:
    rows = [
        _row("a", tempo=True, ess_tempo=True, key=True, ess_key=True),
        _row("b", tempo=False, ess_tempo=False, key=True, ess_key=False),
        _row("c", tempo=False, ess_tempo=True, key=False, ess_key=False),
        _row("d", tempo=True, ess_tempo=False, key=False, ess_key=True),
    ]
    summary = _essentia_summary(rows)
    assert summary is not None
    assert summary["tempo_within_2pct_explicit_bpm"] == 0.5
    assert summary["key_exact"] == 0.5
    assert summary["mustango_audio"]["TB"] == 0.5
    assert summary["mustango_audio"]["CK"] is None
    assert summary["explicit_bpm_missed"] == {
        "by_both": ["b"],
        "by_librosa_only": ["c"],
        "by_essentia_only": ["d"],
    }
    assert summary["key_missed"] == {
        "by_both": ["c"],
        "by_librosa_only": ["d"],
        "by_essentia_only": ["b"],
    }


def test_without_essentia_the_results_carry_no_cross_check() -> None:
    rows = [{"id": "a", "tempo_explicit": True, "tempo_ok": True, "key_ok": True}]
    assert _essentia_summary(rows) is None


def test_the_package_imports_no_library_kept_for_the_benchmarks() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [str(node.args[0].value)]
            offenders += [
                f"{path.relative_to(PACKAGE.parent)}: {name}"
                for name in names
                if name.split(".")[0] in COPYLEFT_ONLY_FOR_BENCHMARKS
            ]
    assert not offenders, offenders
