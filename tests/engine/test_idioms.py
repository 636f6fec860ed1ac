"""Genre-true playing idioms show in the score, players are humanised within the stated
bounds, the same for a seed, and boom-bap is heard off a record."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
from soundstar.engine.composer.comping import comping_patterns, plays_style
from soundstar.engine.composer.figures import Figure
from soundstar.engine.drums import GM_DRUM_NOTES
from soundstar.engine.effects import vinyl_noise
from soundstar.engine.humanise import Humanise, humanise, humanise_data, humanise_of, perform
from soundstar.engine.production import production_for
from soundstar.engine.render import render_score
from soundstar.knowledge import load_knowledge
from soundstar.knowledge.vocab import COMPING_STYLES
from soundstar.models import Note, Role, Score, Track
from soundstar.theory import parse_chord


@cache
def _score(prompt: str, seed: int = 0) -> Score:
    u = Aurora().understand(prompt, duration_seconds=30.0)
    return compose(u.parameters, u.plan, seed=seed)


def _track(score: Score, instrument: str) -> Track:
    return next(t for t in score.tracks if t.instrument == instrument)


def _by_onset(notes: list[Note], end: float) -> dict[float, list[Note]]:
    """Notes grouped by onset, the held last bar left out."""
    onsets: dict[float, list[Note]] = defaultdict(list)
    for n in notes:
        if n.start_beat < end:
            onsets[round(n.start_beat, 3)].append(n)
    return dict(sorted(onsets.items()))


def _chord_at(score: Score, beat: float) -> str:
    return next(c.symbol for c in score.chords if beat < c.start_beat + c.duration_beats)


def _body(score: Score) -> float:
    """Where the last bar, whose chord every part holds, begins."""
    return score.chords[-1].start_beat


# --------------------------------------------------------------------------- metal


def test_metal_guitar_chugs_palm_muted_eighths_on_root_and_fifth() -> None:
    score = _score("a heavy metal song with distorted guitar")
    guitar = _track(score, "distorted_guitar")
    strikes = _by_onset(guitar.notes, _body(score))
    assert len(strikes) >= 0.9 * 2 * _body(score)  # an eighth-note chug
    for onset, notes in strikes.items():
        root = parse_chord(_chord_at(score, onset)).root_pc
        assert sorted((n.pitch - root) % 12 for n in notes) in ([0, 7], [0, 6], [0, 8])
        assert all(n.pitch < 60 for n in notes)  # low on the neck
        assert all(n.duration_beats <= 0.2 + 1e-9 for n in notes)  # damped
    on_beat = [n.velocity for o, ns in strikes.items() if o % 1 == 0 for n in ns]
    off_beat = [n.velocity for o, ns in strikes.items() if o % 1 != 0 for n in ns]
    assert np.mean(off_beat) < np.mean(on_beat)  # accents on the beat


def test_metal_drummer_plays_double_kick_sixteenths() -> None:
    score = _score("a heavy metal song with distorted guitar")
    kicks = sorted(
        n.start_beat
        for t in score.tracks
        if t.is_drum
        for n in t.notes
        if n.pitch == GM_DRUM_NOTES["kick"]
    )
    gaps = np.diff(kicks)
    assert np.mean(np.isclose(gaps, 0.25)) > 0.6


# --------------------------------------------------------------------------- folk, country


def test_banjo_plays_forward_rolls_single_notes_over_the_chord() -> None:
    score = _score("a bluegrass tune with banjo and fiddle")
    banjo = _track(score, "banjo")
    strikes = _by_onset(banjo.notes, _body(score))
    assert all(len(ns) == 1 for ns in strikes.values())  # one finger at a time
    bars: dict[int, list[int]] = defaultdict(list)
    for onset, (note,) in strikes.items():
        assert parse_chord(_chord_at(score, onset)).pitch_classes.count(note.pitch % 12) == 1
        bars[int(onset // 4)].append(note.pitch)
    rolled = 0
    for pitches in bars.values():
        if len(pitches) == 8 and len(set(pitches)) == 3:
            low, mid, high = sorted(set(pitches))
            rolled += pitches == [low, mid, high, low, mid, high, low, high]
    assert rolled >= 0.8 * len(bars)


def test_indie_folk_guitar_fingerpicks_an_alternating_bass_under_the_banjo_roll() -> None:
    score = _score("an indie folk song with acoustic guitar and banjo")
    assert score.genre == "indie_folk"
    assert _track(score, "banjo").notes and plays_style("roll", "plucked")
    guitar = _track(score, "acoustic_guitar")
    strikes = _by_onset(guitar.notes, _body(score))
    between = [ns for o, ns in strikes.items() if o % 1 != 0]
    assert between and all(len(ns) == 1 for ns in between)  # the fingers, one string each
    beats = [min(n.pitch for n in ns) for o, ns in strikes.items() if o % 1 == 0]
    thumb_moves = np.mean([a != b for a, b in pairwise(beats)])
    assert thumb_moves > 0.7  # the thumb alternates between two bass strings


def test_an_idiom_is_played_only_by_the_families_it_belongs_to() -> None:
    assert plays_style("roll", "plucked") and not plays_style("roll", "keys")
    assert plays_style("palm_mute", "guitar") and not plays_style("palm_mute", "keys")
    assert plays_style("block", "keys")  # a pattern style: anyone
    score = _score("a country song with piano and acoustic guitar")
    piano = _track(score, "piano")
    struck = defaultdict(set)  # pitches struck within an eighth (a strum spreads them)
    for n in piano.notes:
        struck[int(n.start_beat * 2)].add(n.pitch)
    assert max(len(ps) for ps in struck.values()) >= 3  # chords, not a roll


def test_a_pop_pianist_plays_a_left_hand_bass_under_the_right_hand_chord() -> None:
    score = _score("a pop song with piano, bass and drums")
    piano = _track(score, "piano")
    strikes = _by_onset(piano.notes, _body(score))
    with_bass = 0
    for onset, notes in strikes.items():
        pitches = sorted(n.pitch for n in notes)
        bass = parse_chord(_chord_at(score, onset)).bass_pc
        if onset % 2 == 0:  # one and three
            assert pitches[0] % 12 == bass and pitches[1] - pitches[0] >= 8
            with_bass += 1
        assert len(pitches) >= 3
    assert with_bass >= 0.4 * len(strikes)


# --------------------------------------------------------------------------- R&B


def test_neo_soul_keys_voice_ninths_with_ghosted_restrikes() -> None:
    score = _score("a neo soul groove with rhodes")
    keys = _track(score, "rhodes")
    strikes = _by_onset(keys.notes, _body(score))
    with_ninth = 0
    for onset, notes in strikes.items():
        root = parse_chord(_chord_at(score, onset)).root_pc
        with_ninth += any((n.pitch - root) % 12 == 2 for n in notes)
    assert with_ninth >= 0.9 * len(strikes)
    velocities = [np.mean([n.velocity for n in ns]) for ns in strikes.values()]
    assert min(velocities) < 0.6 * max(velocities)  # ghosted strokes beside accents


# --------------------------------------------------------------------------- data


def test_the_idiom_data_names_known_styles_families_and_genres() -> None:
    kb = load_knowledge()
    figures = comping_patterns().figures
    assert {"palm_mute", "roll", "fingerpick", "neo_soul_keys"} <= set(figures)
    assert set(figures) <= set(COMPING_STYLES)
    assert set(humanise_data().styles) <= set(kb.genres)
    used = {c for g in kb.genres.values() for c in g.comping}
    used |= set(comping_patterns().two_hands.values())
    assert set(figures) <= used  # every idiom is some style's, or a keyboard's own


@pytest.mark.parametrize(
    "bad",
    [
        {"tones": [[4]]},  # a fifth voice of four
        {"strokes": "Xq"},
        {"pitch_range": [40, 45]},
    ],
)
def test_a_figure_out_of_bounds_is_rejected(bad: dict[str, object]) -> None:
    good = {"step_beats": 0.5, "strokes": "Xx", "tones": [[0]], "length_beats": 0.5}
    Figure.model_validate(good)
    with pytest.raises(ValidationError):
        Figure.model_validate({**good, **bad})


# --------------------------------------------------------------------------- humanise


def _grid_notes(n: int) -> list[Note]:
    return [
        Note(pitch=60 + (i % 3), start_beat=(i // 3) * 0.5, duration_beats=0.4, velocity=80)
        for i in range(n)
    ]


@settings(max_examples=40, deadline=None)
@given(
    timing_ms=st.floats(0.0, 40.0),
    spread=st.floats(0.0, 20.0),
    behind=st.floats(-20.0, 30.0),
    tempo=st.floats(40.0, 220.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_humanised_timing_stays_within_the_stated_ms(
    timing_ms: float, spread: float, behind: float, tempo: float, seed: int
) -> None:
    feel = Humanise(timing_ms=timing_ms, velocity_spread=spread, behind_ms={Role.CHORDS: behind})
    notes = _grid_notes(60)
    played = humanise(notes, feel, Role.CHORDS, tempo, np.random.default_rng(seed))
    again = humanise(notes, feel, Role.CHORDS, tempo, np.random.default_rng(seed))
    assert played == again  # deterministic for a seed
    ms_per_beat = 60_000.0 / tempo
    moved: dict[float, set[float]] = defaultdict(set)
    for written, heard in zip(notes, played, strict=True):
        shift_ms = (heard.start_beat - written.start_beat) * ms_per_beat
        if heard.start_beat > 0:  # a note is never moved before the start
            assert behind - timing_ms - 1e-3 <= shift_ms <= behind + timing_ms + 1e-3
        moved[written.start_beat].add(heard.start_beat)
        assert 1 <= heard.velocity <= 127
        assert heard.pitch == written.pitch and heard.duration_beats == written.duration_beats
    assert all(len(s) == 1 for s in moved.values())  # a chord is struck at once


def test_a_performance_is_the_same_for_a_seed_and_off_the_grid() -> None:
    score = _score("a neo soul groove with rhodes")
    kb = load_knowledge()
    feel = humanise_of(kb, kb.genres[score.genre])
    assert feel.behind_ms.get(Role.CHORDS, 0) > 0  # neo-soul keys sit behind the beat
    first, again = perform(score, kb, seed=4), perform(score, kb, seed=4)
    assert first == again
    assert perform(score, kb, seed=5) != first
    keys = _track(first, "rhodes")
    written = _track(score, "rhodes")
    late = [h.start_beat - w.start_beat for h, w in zip(keys.notes, written.notes, strict=True)]
    assert np.mean(late) > 0  # laid back
    assert {round(n.start_beat * 4) / 4 for n in keys.notes} != {n.start_beat for n in keys.notes}


def test_sequenced_styles_stay_on_the_grid() -> None:
    score = _score("a techno track with synths")
    kb = load_knowledge()
    assert humanise_of(kb, kb.genres[score.genre]).timing_ms == 0
    assert all(
        played.start_beat == written.start_beat
        for pt, wt in zip(perform(score, kb, seed=1).tracks, score.tracks, strict=True)
        for played, written in zip(pt.notes, wt.notes, strict=True)
    )


def test_neo_soul_drummer_ghosts_snare_strokes_around_the_backbeat() -> None:
    score = _score("a neo soul groove with rhodes")
    snare = [
        n
        for t in score.tracks
        if t.is_drum
        for n in t.notes
        if n.pitch == GM_DRUM_NOTES["snare"] and n.start_beat < _body(score)
    ]
    backbeat = [n.velocity for n in snare if n.start_beat % 2 == 1]
    ghosts = [n.velocity for n in snare if n.start_beat % 1 != 0]
    assert backbeat and len(ghosts) >= len(backbeat)
    assert max(ghosts) < 0.5 * np.mean(backbeat)


# --------------------------------------------------------------------------- vinyl


def test_vinyl_noise_hisses_at_the_stated_level_and_crackles_at_the_stated_rate() -> None:
    sr, seconds = 22050, 4.0

    def surface(rate: float, seed: int = 0) -> np.ndarray:
        return vinyl_noise(
            int(sr * seconds), sample_rate=sr, crackles_per_s=rate, crackle_db=-20.0,
            hiss_db=-50.0, rng=np.random.default_rng(seed),
        )  # fmt: skip

    hiss = surface(0.0)
    assert 20 * np.log10(np.sqrt(np.mean(hiss.astype(np.float64) ** 2))) == pytest.approx(
        -50, abs=0.1
    )
    dense = surface(40.0)
    clicks = int(np.sum(np.abs(dense) > 10 ** (-38 / 20)))
    assert clicks > 4 * int(np.sum(np.abs(surface(4.0)) > 10 ** (-38 / 20)))
    assert np.max(np.abs(dense)) <= 10 ** (-20 / 20) * 1.5
    np.testing.assert_array_equal(surface(6.0, seed=3), surface(6.0, seed=3))
    assert not np.array_equal(surface(6.0, seed=3), surface(6.0, seed=4))


def test_boom_bap_lays_a_record_surface_under_the_mix_and_trap_none() -> None:
    assert production_for(["boom_bap", "hip_hop"]).vinyl is not None
    assert production_for(["drill", "trap", "hip_hop"]).vinyl is None
    score = _score("a boom bap beat with piano")
    rendered = render_score(score, sample_rate=22050, seed=1)
    assert "vinyl" in rendered.stems
    assert np.sqrt(np.mean(rendered.stems["vinyl"] ** 2)) > 0
    plain = render_score(score.model_copy(update={"genre": "trap"}), sample_rate=22050, seed=1)
    assert "vinyl" not in plain.stems
