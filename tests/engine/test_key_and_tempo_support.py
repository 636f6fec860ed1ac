"""What helps key and tempo adherence: key-tuned drums, a tonic bass pedal at section
starts, softer off-beat hats and a melody that moves on the beat at slow tempos, and
sub-frame tempo measurement."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from soundstar.audio.analysis import refine_tempo_acf
from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import build_timeline, compose
from soundstar.engine.composer.bass_part import (
    basic_bass,
    beat_bass,
    marks_every_beat,
    write_bass,
)
from soundstar.engine.composer.drums_part import basic_groove, write_drums
from soundstar.engine.composer.melody import offbeat_chance, write_melody
from soundstar.engine.composer.strokes import slow_tempo_scale
from soundstar.engine.composer.timeline import SectionSpan, Timeline
from soundstar.engine.composer.tonality import tonality
from soundstar.engine.drums import GM_DRUM_NOTES, key_tuning, render_drum_hits
from soundstar.errors import ParameterError
from soundstar.knowledge import load_knowledge
from soundstar.theory import key_scale, parse_chord


def _timeline() -> Timeline:
    sections = (SectionSpan(0, "verse", 0, 4, 0.6), SectionSpan(1, "chorus", 4, 8, 0.8))
    chords = ("Am", "F", "C", "G", "Am", "F", "G", "C")
    return Timeline(4.0, 8, 32.0, sections, chords)


# --------------------------------------------------------------------------- drums in key


@pytest.mark.parametrize("key_pc", range(12))
def test_key_tuning_lands_on_the_tonic_within_a_tritone(key_pc: int) -> None:
    for freq in (52.0, 185.0, 420.0):
        factor = key_tuning(freq, key_pc)
        midi = 69.0 + 12.0 * math.log2(freq * factor / 440.0)
        assert round(midi) % 12 == key_pc and abs(midi - round(midi)) < 1e-9
        assert abs(12.0 * math.log2(factor)) <= 6.0 + 1e-9
    assert key_tuning(52.0, None) == 1.0


def test_key_tuned_kick_differs_and_bad_key_is_rejected() -> None:
    args = (np.array([0.0]), ["kick"], np.array([0.9]))
    kw = {"kit": "acoustic", "sample_rate": 22050, "n_samples": 8000}
    plain = render_drum_hits(*args, **kw, rng=np.random.default_rng(0))  # type: ignore[arg-type]
    in_d = render_drum_hits(*args, **kw, rng=np.random.default_rng(0), key_pc=2)  # type: ignore[arg-type]
    assert not np.allclose(plain, in_d) and np.all(np.isfinite(in_d))
    with pytest.raises(ParameterError, match="key_pc"):
        render_drum_hits(*args, **kw, rng=np.random.default_rng(0), key_pc=12)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- tonic pedal


def _bar_pcs(notes: list, bar: int) -> set[int]:
    return {n.pitch % 12 for n in notes if bar * 4 <= n.start_beat < (bar + 1) * 4}


def test_bass_holds_the_tonic_where_a_section_starts_off_the_tonic_chord() -> None:
    timeline = _timeline()
    groove = basic_bass(4.0, 4)
    plain = write_bass(
        timeline, groove, (28, 55), (0, 2, 4, 5, 7, 9, 11), np.random.default_rng(0), swing=0.0
    )
    pedal = write_bass(
        timeline, groove, (28, 55), (0, 2, 4, 5, 7, 9, 11), np.random.default_rng(0),
        swing=0.0, tonic_pc=0,
    )  # fmt: skip
    assert _bar_pcs(plain, 0) == {9, 4}  # A minor: root and fifth
    for bar in (0, 4):  # section starts on Am: C pedal, same rhythm
        assert _bar_pcs(pedal, bar) <= {0, 7}
    assert [n.start_beat for n in plain] == [n.start_beat for n in pedal]
    for bar in (1, 2, 3, 5, 6, 7):  # elsewhere the chords' roots are unchanged
        assert _bar_pcs(pedal, bar) == _bar_pcs(plain, bar)


def test_a_pedal_under_unstated_chords_keeps_the_chords_that_lack_the_tonic() -> None:
    """C# minor over "C#, G#m, F#, E" (chords that alone say another key): the bass holds
    C# under the chords that hold it (C#, F#), but G#m and E keep their roots, or they
    would be heard as other chords."""
    sections = (SectionSpan(0, "verse", 0, 4, 0.6), SectionSpan(1, "chorus", 4, 8, 0.8))
    chords = ("C#", "G#m", "F#", "E") * 2
    timeline = Timeline(4.0, 8, 32.0, sections, chords, tonality("C# minor"), key_stated=False)
    groove = basic_bass(4.0, 4)
    scale = (1, 3, 4, 6, 8, 9, 11)
    bass = write_bass(
        timeline, groove, (28, 55), scale, np.random.default_rng(0), swing=0.0, tonic_pc=1
    )
    assert _bar_pcs(bass, 2) <= {1, 8}  # F#: C# pedal
    assert 8 in _bar_pcs(bass, 1) and 1 not in _bar_pcs(bass, 1)  # G#m on G#
    assert 4 in _bar_pcs(bass, 3) and 1 not in _bar_pcs(bass, 3)  # E on E


@pytest.mark.parametrize(
    ("key", "chords", "held", "kept"),
    [
        # D7 holds C only as its seventh: over a C pedal it is heard as another chord.
        ("C major", ("F", "C", "F", "D7"), (2,), (3,)),
        # Eb6 over C is Cm7, the tonic chord itself: the pedal stays.
        ("C minor", ("Cm", "Eb6", "Bb", "G"), (1,), (2, 3)),
        # F over C is an inversion; Dm7 holds C only as its seventh.
        ("C major", ("Am", "F", "Dm7", "G"), (1,), (2, 3)),
    ],
)
def test_the_tonic_pedal_holds_only_under_chords_it_leaves_whole(
    key: str, chords: tuple[str, ...], held: tuple[int, ...], kept: tuple[int, ...]
) -> None:
    sections = (SectionSpan(0, "verse", 0, 4, 0.6), SectionSpan(1, "chorus", 4, 8, 0.8))
    timeline = Timeline(4.0, 8, 32.0, sections, chords * 2, tonality(key), key_stated=False)
    bass = write_bass(
        timeline,
        basic_bass(4.0, 4),
        (28, 55),
        key_scale(key),
        np.random.default_rng(0),
        swing=0.0,
        tonic_pc=0,
    )
    for index in held:
        assert _bar_pcs(bass, index) <= {0, 7}, chords[index]
    for index in kept:
        root = parse_chord(chords[index]).root_pc
        assert root in _bar_pcs(bass, index) and 0 not in _bar_pcs(bass, index), chords[index]


# --------------------------------------------------------------------------- slow tempos


def test_slow_tempo_scale_softens_offbeat_hats_and_lifts_the_beat() -> None:
    assert slow_tempo_scale("closed_hat", False, 70.0) < 1.0
    assert slow_tempo_scale("closed_hat", True, 70.0) == 1.0
    assert slow_tempo_scale("kick", True, 70.0) > 1.0
    assert slow_tempo_scale("closed_hat", False, 120.0) == 1.0
    assert slow_tempo_scale("closed_hat", False, None) == 1.0


def test_offbeat_hats_are_softer_at_70_than_at_120_bpm() -> None:
    timeline = _timeline()
    groove = basic_groove(4.0, 4)

    def offbeat_hat_velocity(tempo: float) -> float:
        notes = write_drums(
            timeline, groove, GM_DRUM_NOTES, np.random.default_rng(1), swing=0.0, tempo_bpm=tempo
        )
        hats = [
            n.velocity
            for n in notes
            if n.pitch == GM_DRUM_NOTES["closed_hat"] and n.start_beat % 1.0 != 0.0
        ]
        return float(np.mean(hats))

    assert offbeat_hat_velocity(70.0) < 0.75 * offbeat_hat_velocity(120.0)


@pytest.mark.parametrize(
    ("groove_id", "tempo", "named", "claps"),
    [("pop_backbeat", 120.0, frozenset(), True), ("pop_backbeat", 166.0, frozenset(), False),
     ("four_on_floor", 174.0, frozenset(), False), ("four_on_floor", 174.0, frozenset({"clap"}), True),
     ("trap", 160.0, frozenset(), True)],
)  # fmt: skip
def test_claps_are_left_out_of_a_fast_backbeat_unless_asked_for(
    groove_id: str, tempo: float, named: frozenset[str], claps: bool
) -> None:
    timeline = dataclasses.replace(_timeline(), tempo_bpm=tempo)
    groove = load_knowledge().drum_grooves[groove_id]
    notes = write_drums(timeline, groove, GM_DRUM_NOTES, np.random.default_rng(0), swing=0.0,
                        tempo_bpm=tempo, named_voices=named)  # fmt: skip
    pitches = {n.pitch for n in notes}
    assert (GM_DRUM_NOTES["clap"] in pitches) is claps
    assert GM_DRUM_NOTES["kick"] in pitches


def test_a_fast_pop_song_with_hand_claps_keeps_them() -> None:
    understood = Aurora().understand("upbeat pop song at 170 bpm with hand claps and piano")
    score = compose(understood.parameters, understood.plan, seed=3)
    drums = [t for t in score.tracks if t.is_drum]
    assert any(n.pitch == GM_DRUM_NOTES["clap"] for t in drums for n in t.notes)


def test_the_melody_moves_between_beats_less_the_slower_the_tempo() -> None:
    assert offbeat_chance(60.0) < offbeat_chance(85.0) < offbeat_chance(120.0)
    assert offbeat_chance(None) == offbeat_chance(120.0)


def test_a_slow_melody_puts_fewer_and_softer_notes_between_beats() -> None:
    def offbeats(tempo: float) -> tuple[float, float]:
        share, level = [], []
        for seed in range(12):
            timeline = dataclasses.replace(_timeline(), tempo_bpm=tempo)
            notes = write_melody(timeline, (60, 84), (0, 2, 4, 5, 7, 9, 11), 9,
                                 np.random.default_rng(seed))  # fmt: skip
            off = [n for n in notes if n.start_beat % 1.0 != 0.0]
            on = [n for n in notes if n.start_beat % 1.0 == 0.0]
            share.append(len(off) / len(notes))
            if off:
                level.append(np.mean([n.velocity for n in off]) / np.mean([n.velocity for n in on]))
        return float(np.mean(share)), float(np.mean(level))

    slow_share, slow_level = offbeats(60.0)
    fast_share, fast_level = offbeats(120.0)
    assert slow_share < 0.6 * fast_share
    assert slow_level < fast_level


# --------------------------------------------------------------------------- a stated tempo


@pytest.mark.parametrize(
    ("groove", "every_beat"),
    [("root_quarters", True), ("walking", True), ("rock_eighths", True),
     ("root_halves", False), ("reggae", False), ("dnb_rolling", False)],
)  # fmt: skip
def test_grooves_that_strike_every_beat_are_told_apart(groove: str, every_beat: bool) -> None:
    assert marks_every_beat(load_knowledge().bass_grooves[groove], 4.0) is every_beat


@pytest.mark.parametrize(("beats", "meter"), [(4.0, "4/4"), (3.0, "3/4"), (3.0, "6/8")])
def test_the_beat_bass_strikes_every_beat_in_any_meter(beats: float, meter: str) -> None:
    groove = beat_bass(beats, meter)
    assert marks_every_beat(groove, beats) and groove.meter == meter


def test_a_bass_keeping_the_pulse_keeps_it_in_quiet_sections() -> None:
    sections = (SectionSpan(0, "intro", 0, 4, 0.1), SectionSpan(1, "verse", 4, 8, 0.6))
    timeline = Timeline(4.0, 8, 32.0, sections, ("C", "F", "G", "C") * 2)
    groove = beat_bass(4.0, "4/4")
    scale = (0, 2, 4, 5, 7, 9, 11)
    held = write_bass(timeline, groove, (28, 55), scale, np.random.default_rng(0), swing=0.0)
    kept = write_bass(
        timeline, groove, (28, 55), scale, np.random.default_rng(0), swing=0.0, keep_pulse=True
    )
    assert len([n for n in held if n.start_beat < 16]) == 4  # a note a bar
    assert sorted(n.start_beat for n in kept if n.start_beat < 16) == [float(b) for b in range(16)]


# --------------------------------------------------------------------------- measuring tempo


@pytest.mark.parametrize("bpm", [60.0, 97.3, 155.0, 180.0])
def test_acf_refinement_measures_tempo_to_a_fraction_of_a_frame(bpm: float) -> None:
    fps = 44100 / 512
    n = int(30 * fps)
    envelope = np.zeros(n)
    beats = np.arange(0.0, n / fps, 60.0 / bpm)
    for t in beats:  # a click per beat, spread over the two nearest frames
        pos = t * fps
        i = int(pos)
        if i + 1 < n:
            envelope[i] += 1.0 - (pos - i)
            envelope[i + 1] += pos - i
    quantized = 60.0 * fps / round(60.0 * fps / bpm)
    refined = refine_tempo_acf(envelope, quantized, frames_per_second=fps)
    assert refined is not None
    assert abs(refined / bpm - 1.0) < 0.002


def test_acf_refinement_needs_two_periods() -> None:
    assert refine_tempo_acf(np.ones(10), 60.0, frames_per_second=86.13) is None


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), bpm=st.floats(30.0, 320.0))
@example(seed=1322, bpm=0.0)  # bpm 0: the seed's own draw (a peak at a window edge)
def test_acf_refinement_of_any_envelope_is_none_or_a_tempo(seed: int, bpm: float) -> None:
    """Sparse onsets can put the autocorrelation peak at the edge of its search window,
    where the parabola through it has its vertex far outside: the refinement stays near the
    peak instead of searching a window at a negative lag."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(200, 2000))
    envelope = (rng.random(n) < 0.05) * rng.random(n)
    drawn = float(rng.uniform(30, 320))
    refined = refine_tempo_acf(envelope, bpm or drawn, frames_per_second=86.13)
    assert refined is None or (math.isfinite(refined) and refined > 0)


@pytest.mark.parametrize(
    ("chords", "prefer", "stated", "key"),
    [
        (["Am", "F", "C", "G"], None, False, "A minor"),  # a loop starts at home
        (["C", "G", "Am", "F"], "minor", False, "C major"),  # the chords before the mood
        (["C", "G", "Am", "F"], "minor", True, "A minor"),  # "in a minor key" before both
        (["Bb", "Dm", "F", "C"], "minor", False, "D minor"),  # ends on neither home: mood
        (["Dm7", "G7", "Cmaj7"], None, False, "C major"),  # a cadence ends at home
        (["Em7", "A7", "Dmaj7"], "minor", False, "D major"),
        (["D7"], None, False, "D major"),
        (["D", "B7", "G", "C6"], None, False, "G major"),
    ],
)
def test_the_key_chords_are_in(
    chords: list[str], prefer: str | None, stated: bool, key: str
) -> None:
    from soundstar.keys import key_of_chords

    assert key_of_chords(chords, prefer, mode_stated=stated) == key


def test_chords_stated_in_the_key_they_are_in_play_as_written() -> None:
    """ "Am F C G" is in A minor: chosen from the chords or stated, the loop plays as
    written; stated in C major (it starts away from C) it gets cadences home to C."""
    from soundstar.engine.composer.tonality import chords_fit_key, tonality

    loop = ["Am", "F", "C", "G"]
    assert chords_fit_key(loop, tonality("A minor"))
    assert not chords_fit_key(loop, tonality("C major"))
    assert not chords_fit_key(["Gm", "C"], tonality("C major"))
    for prompt in ("an indie song with the chords Am F C G", "a song in A minor, chords Am F C G"):
        u = Aurora().understand(prompt, duration_seconds=30.0)
        timeline = build_timeline(u.parameters, u.plan)
        assert timeline.key_stated, prompt
        assert set(timeline.chords[:-1]) == set(loop), prompt
    u = Aurora().understand("a song in C major, chords Am F C G", duration_seconds=30.0)
    assert not build_timeline(u.parameters, u.plan).key_stated


@pytest.mark.parametrize(
    "prompt",
    [
        "a song in C major in 2/4 at 96 bpm, chords F C F D7",
        "a song in C major, chords F C F D7",
        "a waltz in Bb minor at 171 bpm, chords Bbm Fm7 Dm G7",
    ],
)
def test_cadences_home_never_silence_a_chord_that_was_asked(prompt: str) -> None:
    """Chords that do not state the key get cadences home, but only on a bar that repeats
    a chord of its section: every section long enough for the loop plays all of it."""
    u = Aurora().understand(prompt, duration_seconds=30.0)
    timeline = build_timeline(u.parameters, u.plan)
    loop = u.parameters.chord_progression
    assert loop is not None and not timeline.key_stated
    for span in timeline.sections[:-1]:  # the last section ends on the closing cadence
        played = timeline.chords[span.start_bar : span.end_bar]
        if span.n_bars >= len(loop):
            assert set(loop) <= set(played), (span.name, played)
