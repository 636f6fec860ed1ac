"""The composer writes the piece that was asked for: length, key, meter, lineup, seed."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import beat_keeper, build_timeline, compose
from soundstar.engine.composer.feel import SLOW_BPM
from soundstar.engine.composer.melody import write_melody
from soundstar.engine.composer.strokes import _TIMEKEEPERS
from soundstar.engine.composer.timeline import SectionSpan, Timeline, allocate_bars
from soundstar.engine.composer.voicing import power_chord
from soundstar.engine.drums import GM_DRUM_NOTES
from soundstar.knowledge import load_knowledge
from soundstar.models import MusicalParameters, Role, Score, StructuralPlan
from soundstar.theory import key_scale, parse_chord


def _understand(prompt: str, duration: float = 30.0) -> tuple[MusicalParameters, StructuralPlan]:
    u = Aurora().understand(prompt, duration_seconds=duration)
    return u.parameters, u.plan


def _pitched_notes(score: Score, role: Role) -> list[int]:
    return [n.pitch for t in score.tracks if t.role == role for n in t.notes]


def test_duration_is_exact_and_the_piece_ends_on_the_tonic() -> None:
    params, plan = _understand("an upbeat 80s synthwave track at 118 BPM in A minor")
    score = compose(params, plan, seed=1)
    assert score.duration_seconds == pytest.approx(30.0, abs=1e-6)
    assert score.chords[-1].symbol == "Am"
    for track in score.tracks:
        for note in track.notes:
            assert note.start_beat + note.duration_beats <= score.total_beats + 1e-6


def test_melody_and_chords_stay_in_the_key() -> None:
    params, plan = _understand("an upbeat 80s synthwave track at 118 BPM in A minor")
    score = compose(params, plan, seed=3)
    scale = set(key_scale("A minor")) | {
        8
    }  # G# from the dominant E major is part of A minor harmony
    lead = _pitched_notes(score, Role.LEAD)
    assert lead, "the lead must play"
    in_key = sum(1 for p in lead if p % 12 in scale) / len(lead)
    assert in_key >= 0.95
    pcs = Counter(p % 12 for t in score.tracks if not t.is_drum for n in t.notes for p in [n.pitch])
    assert pcs.most_common(1)[0][0] in (9, 4, 0)  # A, E or C dominate


def test_same_seed_same_score_different_seed_different_music() -> None:
    params, plan = _understand("a funky disco groove with strings and slap bass")
    assert compose(params, plan, seed=5) == compose(params, plan, seed=5)
    assert compose(params, plan, seed=5) != compose(params, plan, seed=6)


def test_every_requested_instrument_plays_and_excluded_ones_do_not() -> None:
    params, plan = _understand("lofi hip hop with rhodes and upright bass, no drums")
    score = compose(params, plan, seed=2)
    assert not any(t.is_drum for t in score.tracks)
    for spec in params.instrumentation:
        track = next(t for t in score.tracks if t.instrument == spec.name)
        assert track.notes, f"{spec.name} is silent"


def test_a_string_quartet_plays_a_melody_inner_chords_and_a_bass_line() -> None:
    """First violin on the tune, the second under it, above the viola's chords above the
    cello's bass line; each part is its own track, named apart."""
    params, plan = _understand("a string quartet in D minor, slow and mournful", 20.0)
    score = compose(params, plan, seed=2)
    assert [(t.name, t.instrument, t.role) for t in score.tracks] == [
        ("Violin", "violin", Role.LEAD),
        ("Violin 2", "violin", Role.LEAD),
        ("Viola", "viola", Role.CHORDS),
        ("Cello", "cello", Role.BASS),
    ]
    assert all(t.notes for t in score.tracks)
    first, second, viola, cello = score.tracks
    mean = {t.name: sum(n.pitch for n in t.notes) / len(t.notes) for t in score.tracks}
    assert mean["Violin"] > mean["Viola"] > mean["Cello"]
    assert mean["Violin 2"] < mean["Violin"]
    onsets = Counter(n.start_beat for n in viola.notes)
    assert max(onsets.values()) >= 3  # chords, not a line
    for line in (first, second, cello):
        assert max(Counter(n.start_beat for n in line.notes).values()) == 1


def test_waltz_is_in_three() -> None:
    params, plan = _understand("a gentle waltz in D major for strings and piano")
    score = compose(params, plan, seed=4)
    assert score.time_signature == "3/4"
    assert score.beats_per_bar == 3.0
    assert score.sections[0].start_bar == 0


@pytest.mark.parametrize(
    ("prompt", "ride", "walking"),
    [("a pop song in 3/4 with drums, bass guitar and piano", False, False),
     ("a swing tune in 3/4 with drums, double bass and piano", True, True)],
)  # fmt: skip
def test_a_style_without_grooves_in_a_meter_takes_its_parents_or_the_plain_one(
    prompt: str, ride: bool, walking: bool
) -> None:
    params, plan = _understand(prompt)
    assert params.time_signature == "3/4"
    score = compose(params, plan, seed=2)
    drums = [n for t in score.tracks if t.is_drum for n in t.notes]
    assert any(n.pitch == GM_DRUM_NOTES["ride"] for n in drums) is ride
    bass = [n for t in score.tracks if t.role == Role.BASS for n in t.notes]
    # a walking bass strikes every beat; a waltz bass, the downbeat (and the fifth)
    on_beat_two = [n for n in bass if math.isclose(n.start_beat % 3.0, 1.0)]
    assert bool(on_beat_two) is walking


def test_a_folk_song_with_drums_gets_a_backbeat_not_four_on_the_floor() -> None:
    params, plan = _understand("a folk song with acoustic guitar, drums and bass at 100 bpm")
    score = compose(params, plan, seed=1)
    kicks = {n.start_beat % 4.0 for t in score.tracks if t.is_drum for n in t.notes
             if n.pitch == GM_DRUM_NOTES["kick"]}  # fmt: skip
    snares = {n.start_beat % 4.0 for t in score.tracks if t.is_drum for n in t.notes
              if n.pitch == GM_DRUM_NOTES["snare"]}  # fmt: skip
    assert 1.0 not in kicks and {1.0, 3.0} <= snares


def test_a_son_clave_plays_both_of_its_sides() -> None:
    params, plan = _understand("salsa at 180 bpm with piano, congas, clave and bass")
    score = compose(params, plan, seed=5)
    clave = [n for t in score.tracks if t.is_drum for n in t.notes
             if n.pitch == GM_DRUM_NOTES["clave"]]  # fmt: skip
    sides = {bar: frozenset(n.start_beat % 4.0 for n in clave if int(n.start_beat // 4.0) == bar)
             for bar in (2, 3)}  # fmt: skip
    assert sides[2] and sides[3] and sides[2] != sides[3]


@pytest.mark.parametrize(
    ("prompt", "instrument"),
    [("an upbeat pop song with congas, piano and bass", "congas"),
     ("a bossa nova with bongos, guitar and bass", "bongos"),
     ("a lullaby with a triangle, harp and strings", "triangle"),
     ("an acoustic folk song with cajon and guitar", "cajon"),
     ("indian classical music with tabla and sitar", "tabla")],
)  # fmt: skip
def test_named_hand_percussion_plays_its_own_drums(prompt: str, instrument: str) -> None:
    params, plan = _understand(prompt)
    score = compose(params, plan, seed=3)
    kb = load_knowledge()
    own = {GM_DRUM_NOTES[v] for v in kb.instruments[instrument].voices}
    track = next(t for t in score.tracks if t.instrument == instrument)
    assert track.is_drum and track.notes
    assert {n.pitch for n in track.notes} <= own


def _drum_tracks(score: Score) -> dict[str, set[int]]:
    return {t.instrument: {n.pitch for n in t.notes} for t in score.tracks if t.is_drum}


@pytest.mark.parametrize(
    ("prompt", "piece", "kit"),
    [("an upbeat salsa with piano, congas and hand claps", "claps", "latin_kit"),
     ("a house track with claps and a deep bass", "claps", "drum_machine"),
     ("a trap beat with rolling hi-hats and 808 bass", "hi_hat", "drums_808"),
     ("a rock song with kick, snare and guitar", "kick_drum", "drum_kit")],
)  # fmt: skip
def test_a_kit_piece_named_plays_its_own_voices_beside_the_style_s_kit(
    prompt: str, piece: str, kit: str
) -> None:
    """The piece asked for is heard on its own track, and the style's kit plays the rest
    of the groove without doubling it: a salsa's claps are not lost in a kit with none."""
    params, plan = _understand(prompt)
    tracks = _drum_tracks(compose(params, plan, seed=3))
    own = {GM_DRUM_NOTES[v] for v in load_knowledge().instruments[piece].voices}
    assert tracks[piece] and tracks[piece] <= own
    others = set().union(*(p for name, p in tracks.items() if name not in (piece, kit)))
    assert not tracks[kit] & own - {GM_DRUM_NOTES["kick"]} - others  # its final downbeat


def test_a_kit_piece_in_a_style_without_drums_plays_alone() -> None:
    params, plan = _understand("a folk song with acoustic guitar and hand claps")
    score = compose(params, plan, seed=3)
    assert _drum_tracks(score) == {"claps": {GM_DRUM_NOTES["clap"]}}
    claps = next(t for t in score.tracks if t.instrument == "claps")
    on_backbeat = [n for n in claps.notes if n.start_beat % 4.0 in (1.0, 3.0)]
    assert len(on_backbeat) >= 0.8 * (len(claps.notes) - 1)


def test_kit_pieces_asked_for_on_their_own_bring_no_kit() -> None:
    params, plan = _understand("only kick and snare, techno")
    tracks = _drum_tracks(compose(params, plan, seed=3))
    assert set(tracks) == {"kick_drum", "snare_drum"}
    assert tracks["kick_drum"] == {GM_DRUM_NOTES["kick"]}


def test_a_kit_piece_the_groove_leaves_silent_plays_the_beats() -> None:
    """A salsa's kick is off the beat, and dropped at a slow tempo: the kick asked for
    then plays the felt beats rather than nothing but the last stroke."""
    params, plan = _understand("a salsa at 76 bpm with a kick drum, congas, piano and bass")
    score = compose(params, plan, seed=3)
    kick = next(t for t in score.tracks if t.instrument == "kick_drum")
    assert len(kick.notes) > score.total_beats / score.beats_per_bar


def test_percussion_named_beside_a_kit_is_not_doubled_in_it() -> None:
    params, plan = _understand("a salsa with drums, congas, piano and bass")
    tracks = _drum_tracks(compose(params, plan, seed=3))
    congas = {GM_DRUM_NOTES["conga_high"], GM_DRUM_NOTES["conga_low"]}
    assert tracks["congas"] == congas
    assert not tracks["latin_kit"] & congas


def _heard(score: Score, voice: str) -> int:
    """Strokes of `voice` on any drum track loud enough to be more than a ghost note,
    before the last bar."""
    last_bar = score.total_beats - score.beats_per_bar
    return sum(
        1
        for t in score.tracks
        if t.is_drum
        for n in t.notes
        if n.pitch == GM_DRUM_NOTES[voice] and n.velocity >= 70 and n.start_beat < last_bar
    )


@pytest.mark.parametrize(
    ("prompt", "voice"),
    [("a salsa at 76 bpm with drums and a kick drum", "kick"),  # off the beat, dropped when slow
     ("a jazz ballad at 76 bpm with drums and a kick drum", "kick"),  # feathered: ghost notes
     ("a techno track at 128 bpm with a snare", "snare"),  # the groove's rim is ghost notes
     ("a techno track at 128 bpm with drums and a snare", "snare"),
     ("a folk song at 140 bpm with a ride cymbal and a drum kit", "ride"),  # rock hats, no ride
     ("a bossa nova at 140 bpm with a ride cymbal and a drum kit", "ride")],
)  # fmt: skip
def test_a_kit_piece_asked_for_is_heard_not_left_to_ghost_notes(prompt: str, voice: str) -> None:
    params, plan = _understand(prompt)
    score = compose(params, plan, seed=3)
    bars = score.total_beats / score.beats_per_bar
    assert _heard(score, voice) >= bars - 1


def test_felt_beats_take_the_place_of_a_voice_s_ghost_notes() -> None:
    params, plan = _understand("a jazz ballad at 76 bpm with drums and a kick drum")
    for track in compose(params, plan, seed=3).tracks:
        onsets = Counter((n.pitch, n.start_beat) for n in track.notes)
        assert max(onsets.values()) == 1, track.name


@pytest.mark.parametrize(
    ("prompt", "piece", "voices"),
    [("a trap beat at 76 bpm with a ride cymbal", "cymbals", {"ride"}),
     ("a rock song with an open hi-hat", "hi_hat", {"open_hat"}),
     ("a folk song with a crash cymbal", "cymbals", {"crash"})],
)  # fmt: skip
def test_a_cymbal_named_plays_that_cymbal(prompt: str, piece: str, voices: set[str]) -> None:
    params, plan = _understand(prompt)
    score = compose(params, plan, seed=3)
    track = next(t for t in score.tracks if t.instrument == piece)
    assert {n.pitch for n in track.notes} == {GM_DRUM_NOTES[v] for v in voices}
    if voices == {"crash"}:  # a crash on every beat is noise: it marks the downbeats
        assert all(n.start_beat % score.beats_per_bar == 0 for n in track.notes)
    if voices == {"open_hat"}:  # the open hat sings between the beats, as in disco
        before_the_end = [n for n in track.notes if n.start_beat < score.total_beats - 4]
        assert all(n.start_beat % 1 == 0.5 for n in before_the_end)


def test_a_named_kit_keeps_the_pieces_it_has() -> None:
    params, plan = _understand("a jazz trio with piano, bass, drums and a ride cymbal")
    tracks = _drum_tracks(compose(params, plan, seed=3))
    assert list(tracks) == ["jazz_kit"] and GM_DRUM_NOTES["ride"] in tracks["jazz_kit"]


def test_timpani_strike_the_roots_of_the_chords_in_their_register() -> None:
    params, plan = _understand("an epic orchestral piece with strings, brass and timpani")
    score = compose(params, plan, seed=3)
    timpani = next(t for t in score.tracks if t.instrument == "timpani")
    lo, hi = load_knowledge().instruments["timpani"].register
    assert not timpani.is_drum and len(timpani.notes) > len(score.chords)
    for note in timpani.notes:
        bar = next(c for c in score.chords if c.start_beat <= note.start_beat < c.start_beat
                   + c.duration_beats)  # fmt: skip
        assert note.pitch % 12 == parse_chord(bar.symbol).root_pc and lo <= note.pitch <= hi


@pytest.mark.parametrize(("tempo", "offbeats"), [(120, True), (172, False)])
def test_a_shaker_moves_on_the_beat_in_a_fast_waltz(tempo: int, offbeats: bool) -> None:
    params, plan = _understand(f"a lively waltz in D major at {tempo} bpm with piano and shaker")
    score = compose(params, plan, seed=2)
    shaker = next(t for t in score.tracks if t.instrument == "shaker")
    assert shaker.notes
    assert any(n.start_beat % 1.0 for n in shaker.notes) is offbeats


@pytest.mark.parametrize(
    "prompt",
    ["a quiet ambient piece in 3/4 with piano, bodhran and a tambourine",
     "very calm ambient music with a drone, timpani and a shaker"],
)  # fmt: skip
def test_percussion_asked_for_plays_even_in_a_quiet_piece(prompt: str) -> None:
    params, plan = _understand(prompt)
    score = compose(params, plan, seed=4)
    assert max(s.energy_level for s in score.sections) < 0.6
    percussion = [t for t in score.tracks if t.role == Role.PERCUSSION]
    assert percussion and all(len(t.notes) > 1 for t in percussion)


def test_sections_cover_every_bar_in_whole_bars() -> None:
    params, plan = _understand("epic trance with a big drop", duration=95)
    timeline = build_timeline(params, plan)
    bars = [b for s in timeline.sections for b in range(s.start_bar, s.end_bar)]
    assert bars == list(range(timeline.n_bars))
    assert len(timeline.chords) == timeline.n_bars


def test_louder_sections_are_denser() -> None:
    params, plan = _understand("house track that builds to a big chorus", duration=60)
    score = compose(params, plan, seed=9)
    bpb = score.beats_per_bar
    notes_per_bar = {}
    for section in score.sections:
        count = sum(
            1
            for t in score.tracks
            for n in t.notes
            if section.start_bar * bpb <= n.start_beat < section.end_bar * bpb
        )
        notes_per_bar[section.name] = (
            section.energy_level,
            count / (section.end_bar - section.start_bar),
        )
    quietest = min(notes_per_bar.values())
    loudest = max(notes_per_bar.values())
    assert loudest[1] > quietest[1]


@settings(max_examples=40, deadline=None)
@given(
    ratios=st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=1, max_size=8),
    n_bars=st.integers(min_value=1, max_value=120),
)
def test_bar_allocation_is_whole_positive_and_complete(ratios: list[float], n_bars: int) -> None:
    if n_bars < len(ratios):
        return
    total = sum(ratios)
    sizes = allocate_bars([r / total for r in ratios], n_bars)
    assert sum(sizes) == n_bars
    assert all(s >= 1 for s in sizes)


@settings(max_examples=15, deadline=None)
@given(
    duration=st.floats(min_value=5.0, max_value=300.0),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_any_duration_composes_to_that_duration(duration: float, seed: int) -> None:
    params, plan = _understand("a calm piano and strings piece in e minor", duration=duration)
    score = compose(params, plan, seed=seed)
    assert score.duration_seconds == pytest.approx(duration, abs=1e-6)


_STYLES = ["salsa", "rock song", "house track", "trap beat", "folk song", "reggae tune",
           "bossa nova", "jazz ballad", "techno track", "ambient piece", "waltz", "march",
           "drum and bass track", "celtic jig in 6/8", "polka in 2/4"]  # fmt: skip
_PIECES = ["drums", "a kick drum", "a snare", "hi-hats", "a ride cymbal", "a crash cymbal",
           "an open hi-hat", "congas", "bongos", "hand claps", "a cowbell", "claves", "a cajon",
           "toms", "a tambourine", "a shaker", "piano", "bass"]  # fmt: skip


@settings(max_examples=60, deadline=None)
@example(style="house track", tempo=60, pieces=["drums", "a kick drum", "a snare"], seed=0)
@given(
    style=st.sampled_from(_STYLES),
    tempo=st.sampled_from([None, 60, 72, 76, 84, 100, 128, 150, 176]),
    pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4, unique=True),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_every_percussion_piece_asked_for_plays(
    style: str, tempo: int | None, pieces: list[str], seed: int
) -> None:
    """Whatever the style, tempo and lineup, each drum or percussion piece named strikes
    its voices before the last bar louder than a ghost note (a timekeeper's off-beats are
    softened below SLOW_BPM, on purpose), and no drum track doubles a stroke."""
    at = f" at {tempo} bpm" if tempo else ""
    params, plan = _understand(f"a {style}{at} with {', '.join(pieces)}")
    score = compose(params, plan, seed=seed)
    last_bar = score.total_beats - score.beats_per_bar
    soft = {GM_DRUM_NOTES[v] for v in _TIMEKEEPERS} if params.tempo_bpm < SLOW_BPM else set()
    struck = Counter(
        n.pitch
        for t in score.tracks
        if t.is_drum
        for n in t.notes
        if n.start_beat < last_bar and (n.velocity >= 60 or n.pitch in soft)
    )
    kb = load_knowledge()
    for spec in params.instrumentation:
        voices = kb.instruments[spec.name].voices
        if voices:
            assert sum(struck[GM_DRUM_NOTES[v]] for v in voices) >= 2, spec.name
    for track in score.tracks:
        if track.is_drum:
            onsets = Counter((n.pitch, n.start_beat) for n in track.notes)
            assert max(onsets.values(), default=1) == 1, track.name


def _part(score: Score, role: Role) -> list[tuple[float, int]]:
    return [(n.start_beat, n.pitch) for t in score.tracks if t.role == role for n in t.notes]


def test_a_pulsing_bass_plays_every_eighth_and_pulsing_strings_repeat_their_chords() -> None:
    params, plan = _understand("dark synthwave at 100 bpm with a pulsing bass and pulsing strings")
    assert {i.name: i.descriptor for i in params.instrumentation}["synth_bass"] == "pulsing"
    score = compose(params, plan, seed=3)
    bar_two = [s for s, _ in _part(score, Role.BASS) if 4.0 <= s < 8.0]
    assert sorted(set(bar_two)) == [4.0 + 0.5 * k for k in range(8)]
    strings = {s for s, _ in _part(score, Role.PAD) if 4.0 <= s < 8.0}
    assert strings == {4.0 + 0.5 * k for k in range(8)}


def test_low_strings_sit_an_octave_below_strings() -> None:
    low = compose(*_understand("a tense cinematic cue with low strings and piano"), seed=2)
    plain = compose(*_understand("a tense cinematic cue with strings and piano"), seed=2)
    low_pitches = [p for _, p in _part(low, Role.PAD)]
    plain_pitches = [p for _, p in _part(plain, Role.PAD)]
    assert low_pitches and len(low_pitches) == len(plain_pitches)
    assert [a - b for a, b in zip(low_pitches, plain_pitches, strict=True)] == [-12] * len(
        low_pitches
    )


def test_distorted_guitars_play_power_chords() -> None:
    params, plan = _understand("a fast punk rock song in E major with distorted guitars")
    score = compose(params, plan, seed=4)
    guitar = next(t for t in score.tracks if t.instrument == "distorted_guitar")
    chords = {c.start_beat: c.symbol for c in score.chords}
    by_onset: dict[float, list[int]] = {}
    for note in guitar.notes:  # a strum spreads a chord's notes over a few hundredths of a beat
        hit = math.floor(note.start_beat * 4 + 1e-6) / 4
        by_onset.setdefault(hit, []).append(note.pitch)
    for onset, pitches in by_onset.items():
        root = min(pitches)
        assert sorted(p - root for p in pitches) == [0, 7, 12], (onset, pitches)
        bar_start = max(b for b in chords if b <= onset + 1e-6)
        assert root % 12 == parse_chord(chords[bar_start]).root_pc


@pytest.mark.parametrize("symbol", ["C/G", "A/E", "Bdim", "F#m7b5", "Caug", "Am7/G"])
def test_a_power_chord_sounds_only_tones_of_its_chord(symbol: str) -> None:
    chord = parse_chord(symbol)
    pitches = power_chord(symbol, None, 40, 64)
    assert pitches[0] % 12 == chord.root_pc
    assert {p % 12 for p in pitches} <= set(chord.pitch_classes)


def _last_bar_start(score: Score) -> float:
    return max(c.start_beat for c in score.chords)


def _beats_struck(score: Score, role: Role) -> set[float]:
    last_bar = _last_bar_start(score)
    return {s for s, _ in _part(score, role) if s < last_bar and float(s).is_integer()}


def test_a_named_tempo_without_drums_is_marked_on_every_beat_by_the_bass() -> None:
    stated = "a tense thriller underscore with low strings, double bass and horn, 90 bpm"
    params, plan = _understand(stated)
    assert params.tempo_stated
    score = compose(params, plan, seed=5)
    last_bar = _last_bar_start(score)
    assert _beats_struck(score, Role.BASS) == {float(b) for b in range(int(last_bar))}
    unstated = params.model_copy(update={"tempo_stated": False})
    loose = compose(unstated, plan, seed=5)
    assert len(_beats_struck(loose, Role.BASS)) < len(_beats_struck(score, Role.BASS))


@pytest.mark.parametrize(("percussion", "keeps"), [("timpani", False), ("congas", True)])
def test_timpani_leave_the_beat_to_the_bass_where_congas_keep_it(
    percussion: str, keeps: bool
) -> None:
    params, plan = _understand(
        f"an orchestral piece at 96 bpm with strings, double bass and {percussion}"
    )
    assert params.tempo_stated and any(s.name == percussion for s in params.instrumentation)
    score = compose(params, plan, seed=5)
    every_beat = {float(b) for b in range(int(_last_bar_start(score)))}
    assert (_beats_struck(score, Role.BASS) == every_beat) is not keeps


def test_without_a_bass_the_chords_mark_every_beat_even_when_quiet() -> None:
    # 90 s: long enough for the quiet ending to be a section of its own, not merged away
    params, plan = _understand(
        "a quiet folk song at 70 bpm, acoustic guitar and voice, no drums", duration=90
    )
    duo = params.model_copy(
        update={"instrumentation": [i for i in params.instrumentation if i.role != Role.BASS]}
    )
    assert duo.tempo_stated and {i.role for i in duo.instrumentation} == {Role.CHORDS, Role.LEAD}
    assert min(s.energy_level for s in plan.sections) < 0.3  # a quiet section holds chords
    score = compose(duo, plan, seed=6)
    last_bar = _last_bar_start(score)
    assert _beats_struck(score, Role.CHORDS) == {float(b) for b in range(int(last_bar))}


def test_drums_keep_the_beat_when_they_play_so_the_bass_keeps_its_groove() -> None:
    params, plan = _understand("a reggae tune at 75 bpm with drums, bass and organ")
    assert params.tempo_stated and beat_keeper(params, load_knowledge()) is None
    bass = compose(params, plan, seed=7)
    plain = compose(params.model_copy(update={"tempo_stated": False}), plan, seed=7)
    assert _part(bass, Role.BASS) == _part(plain, Role.BASS)


def test_two_chord_parts_in_one_range_do_not_double_each_other() -> None:
    """A second chord part takes the genre's next comping style: a piano quintet's piano
    does not play the viola's notes at the viola's times."""
    params, plan = _understand("a string quartet with piano, tender")
    score = compose(params, plan, seed=2)
    chords = [t for t in score.tracks if t.role == Role.CHORDS]
    assert len(chords) == 2
    first, second = ({(n.start_beat, n.pitch) for n in t.notes} for t in chords)
    assert len(first & second) / len(first | second) < 0.6


def test_a_classical_bass_line_breaks_the_chord_and_states_its_third() -> None:
    """An Alberti bass (root, fifth, third, fifth): in D minor the cello plays F, the
    minor third its low D's overtones would otherwise hide."""
    params, plan = _understand("a string quartet in D minor, slow and mournful")
    score = compose(params, plan, seed=1)
    cello = next(t for t in score.tracks if t.instrument == "cello")
    pcs = Counter(n.pitch % 12 for n in cello.notes)
    assert pcs[5] > 0  # F
    assert pcs[6] == 0  # never F#
    assert len({n.start_beat for n in cello.notes}) > 0.6 * score.total_beats  # quarters


def test_a_second_bass_part_doubles_the_first_line() -> None:
    """Two bass players do not each draw a line of their own: the second doubles the first."""
    params, plan = _understand("a funk jam with two bass players")
    score = compose(params, plan, seed=3)
    first, second = [t for t in score.tracks if t.role == Role.BASS]
    assert second.name == f"{first.name} 2"
    assert [(n.start_beat, n.pitch % 12) for n in first.notes] == [
        (n.start_beat, n.pitch % 12) for n in second.notes
    ]


def test_the_tune_of_a_full_chorus_sits_above_a_quiet_verse_and_a_final_chorus_too() -> None:
    """The register follows the plan's energy: over 12 seeds, each section's first note sits
    higher the louder the section, and the final chorus is not sung below the first."""
    sections = (
        SectionSpan(0, "verse", 0, 4, 0.3),
        SectionSpan(1, "chorus", 4, 8, 1.0),
        SectionSpan(2, "verse", 8, 12, 0.3),
        SectionSpan(3, "final chorus", 12, 17, 1.0),
    )
    timeline = Timeline(4.0, 17, 68.0, sections, ("C", "F", "G", "C") * 4 + ("C",))
    firsts: dict[int, list[int]] = {0: [], 1: [], 2: [], 3: []}
    for seed in range(12):
        notes = write_melody(
            timeline, (55, 88), key_scale("C major"), 0, np.random.default_rng(seed)
        )
        for index, span in enumerate(sections):
            first = min(
                (n for n in notes if n.start_beat >= span.start_bar * 4.0),
                key=lambda n: n.start_beat,
            )
            firsts[index].append(first.pitch)
    mean = {index: sum(p) / len(p) for index, p in firsts.items()}
    assert mean[1] - mean[0] >= 7 and mean[3] - mean[2] >= 7
    assert mean[3] >= mean[1] - 2
