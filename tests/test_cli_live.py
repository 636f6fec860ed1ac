"""`soundstar live`: the length asked for, changes heard from the next bar (the MIDI shows
tempo, lineup and velocities changing there and not before), bad changes write nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import soundfile as sf

PROMPT = "an upbeat synthwave track with pulsing bass, drums and dreamy pads"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundstar.cli", "live", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _bar_ticks_and_tempi(midi: mido.MidiFile) -> list[tuple[int, float]]:
    tick, out = 0, []
    for msg in midi.tracks[0]:
        tick += msg.time
        if msg.type == "set_tempo":
            out.append((tick, mido.tempo2bpm(msg.tempo)))
    return out


def _notes(track: mido.MidiTrack) -> list[tuple[int, int]]:
    tick, out = 0, []
    for msg in track:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            out.append((tick, msg.velocity))
    return out


def test_live_plays_the_length_and_changes_at_the_next_bar(tmp_path: Path) -> None:
    wav, mid = tmp_path / "live.wav", tmp_path / "live.mid"
    proc = run(
        PROMPT, "--seconds", "14", "--seed", "2", "--sample-rate", "22050",
        "--change", "5:tempo_bpm=150", "--change", "5:mute=drums",
        "--change", "5:energy_level=1.0", "-o", str(wav), "--midi", str(mid),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    info = sf.info(wav)
    assert (info.samplerate, info.channels, info.frames) == (22050, 2, 14 * 22050)
    midi = mido.MidiFile(mid)
    tempi = _bar_ticks_and_tempi(midi)
    (start, first_bpm), (change_tick, new_bpm) = tempi
    assert start == 0 and round(new_bpm) == 150 and round(first_bpm) != 150
    seconds_before = change_tick / midi.ticks_per_beat * 60.0 / first_bpm
    bar_seconds = 4 * 60.0 / first_bpm
    assert 5.0 <= seconds_before < 5.0 + bar_seconds  # the first bar line at or after 5 s
    assert round(change_tick / midi.ticks_per_beat) % 4 == 0
    parts = {t.name: _notes(t) for t in midi.tracks[1:]}
    drums = next(name for name in parts if "drum" in name.lower())
    assert parts[drums] and max(t for t, _ in parts[drums]) < change_tick
    pitched = [n for name, notes in parts.items() if name != drums for n in notes]
    before = [v for t, v in pitched if t < change_tick]
    after = [v for t, v in pitched if t >= change_tick]
    assert after and sum(after) / len(after) > sum(before) / len(before)
    assert "changes at" in proc.stdout


def test_a_bad_change_writes_nothing(tmp_path: Path) -> None:
    wav = tmp_path / "x.wav"
    for change in ("5:tempo_bpm=999", "5:mute=vocals", "soon:key=C major", "5:loudness=3"):
        proc = run(PROMPT, "--seconds", "4", "--change", change, "-o", str(wav))
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("soundstar: error: ") and "Traceback" not in proc.stderr
        assert not wav.exists()
