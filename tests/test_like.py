"""`--like`: a clip's tempo, key, meter and energy are taken where the prompt is silent,
and the prompt wins wherever it states them."""

from __future__ import annotations

from soundstar.audio.listen import ClipAnalysis
from soundstar.aurora.pipeline import Aurora
from soundstar.controls import apply_to_parameters
from soundstar.like import like

HEARD = ClipAnalysis(
    format="wav", duration_seconds=20.0, sample_rate=44100, channels=2, tempo_bpm=93.5,
    key="F# minor", key_confidence=0.8, time_signature="3/4", integrated_lufs=-12.0,
    brightness_hz=2100.0, energy_level=0.85, sections=[],
)  # fmt: skip


def test_a_silent_prompt_takes_everything_the_clip_has() -> None:
    understood = Aurora().understand("a song with piano and drums")
    taken = like(HEARD, understood.parsed)
    assert all(c.taken for c in taken.choices)
    params = apply_to_parameters(understood.parameters, taken.overrides)
    assert (params.tempo_bpm, params.key, params.time_signature) == (93.5, "F# minor", "3/4")
    assert params.energy_level == 0.85


def test_what_the_prompt_states_stays() -> None:
    understood = Aurora().understand("a calm ambient piece at 70 bpm in C major")
    taken = like(HEARD, understood.parsed)
    kept = {c.name: c.reason for c in taken.choices if not c.taken}
    assert set(kept) == {"tempo_bpm", "key", "energy_level"}
    assert "70 BPM" in kept["tempo_bpm"] and "C major" in kept["key"]
    params = apply_to_parameters(understood.parameters, taken.overrides)
    assert (params.tempo_bpm, params.key, params.time_signature) == (70.0, "C major", "3/4")
    assert params.energy_level < 0.5


def test_given_parameters_state_nothing_so_the_clip_sets_every_control() -> None:
    assert all(c.taken for c in like(HEARD, None).choices)
