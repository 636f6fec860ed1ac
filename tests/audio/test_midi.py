"""Score -> standard MIDI file: conductor track, parts, timing, and reading it back."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.audio.midi import (
    DRUM_CHANNEL,
    TICKS_PER_BEAT,
    assign_channels,
    key_signature_name,
    midi_to_summary,
    read_midi_notes,
    score_to_midi,
    write_midi,
)
from soundstar.errors import NotFoundError, OutputError, ParameterError
from soundstar.models import ChordEvent, Note, Role, Score, ScoreSection, Track


def n(pitch: int, start: float, duration: float, velocity: int = 90) -> Note:
    return Note(pitch=pitch, start_beat=start, duration_beats=duration, velocity=velocity)


def make_score(
    *,
    tempo_bpm: float = 92.5,
    meter: str = "6/8",
    key: str = "A minor",
    tracks: list[Track] | None = None,
) -> Score:
    piano = Track(
        name="piano",
        instrument="piano",
        role=Role.CHORDS,
        program=0,
        notes=[n(57, 0, 3), n(60, 0, 3), n(64, 0, 3), n(62, 3, 1.5), n(65, 4.5, 1.5, 70)],
    )
    bass = Track(
        name="bass",
        instrument="fingered bass",
        role=Role.BASS,
        program=33,
        notes=[n(45, 0, 1.5), n(45, 1.5, 1.5), n(50, 3, 3)],
    )
    drums = Track(
        name="drums",
        instrument="kit",
        role=Role.DRUMS,
        program=0,
        is_drum=True,
        notes=[n(36, 0, 0.25, 110), n(42, 0.5, 0.25), n(38, 1.5, 0.25, 100), n(36, 3, 0.25)],
    )
    return Score(
        tempo_bpm=tempo_bpm,
        time_signature=meter,
        key=key,
        total_beats=12.0,
        sections=[
            ScoreSection(name="verse", start_bar=2, end_bar=4, energy_level=0.7),
            ScoreSection(name="intro", start_bar=0, end_bar=2, energy_level=0.3),
        ],
        chords=[ChordEvent(symbol="Am", start_beat=0, duration_beats=3)],
        tracks=tracks if tracks is not None else [piano, bass, drums],
    )


def test_round_trip_keeps_tempo_meter_key_markers_and_parts(tmp_path: Path) -> None:
    score = make_score()
    path = write_midi(tmp_path / "song.mid", score)
    summary = midi_to_summary(path)
    assert summary["type"] == 1 and summary["ticks_per_beat"] == TICKS_PER_BEAT
    assert summary["tempo_bpm"] == pytest.approx(92.5, abs=1e-3)
    assert summary["time_signature"] == "6/8"
    assert summary["key_signature"] == "Am" and summary["key"] == "A minor"
    # 6/8 is three quarter notes per bar: the verse starts at bar 2 = beat 6.
    assert summary["markers"] == [("intro", 0.0), ("verse", 6.0)]
    assert summary["track_names"] == ["piano", "bass", "drums"]
    assert summary["programs"] == {"piano": 0, "bass": 33, "drums": None}
    assert summary["note_counts"] == {"piano": 5, "bass": 3, "drums": 4}
    channels = {t["name"]: t["channel"] for t in summary["tracks"]}
    assert channels == {"piano": 0, "bass": 1, "drums": DRUM_CHANNEL}
    assert summary["length_s"] == pytest.approx(score.duration_seconds, abs=1e-3)


def test_note_timings_survive_the_round_trip(tmp_path: Path) -> None:
    score = make_score()
    notes = read_midi_notes(write_midi(tmp_path / "song.mid", score))
    for track in score.tracks:
        expected = sorted(
            (p.pitch, p.start_beat, p.duration_beats, p.velocity) for p in track.notes
        )
        got = sorted((pitch, s, d, v) for _ch, pitch, s, d, v in notes[track.name])
        assert got == expected


def test_note_off_comes_before_note_on_at_the_same_tick() -> None:
    midi = score_to_midi(make_score())
    bass = midi.tracks[2]
    now, seen = 0, []
    for message in bass:
        now += message.time
        assert message.time >= 0
        if message.type in ("note_on", "note_off"):
            seen.append((now, message.type, message.note))
    # The first A1 ends exactly where the second begins (beat 1.5 = 720 ticks).
    at_720 = [e for e in seen if e[0] == 720]
    assert at_720 == [(720, "note_off", 45), (720, "note_on", 45)]


def test_overlapping_same_pitch_notes_are_cut_and_duplicates_merged(tmp_path: Path) -> None:
    lead = Track(
        name="lead",
        instrument="synth",
        role=Role.LEAD,
        program=81,
        notes=[n(72, 0, 4, 80), n(72, 1, 1, 100), n(72, 1, 2, 60), n(74, 0.5, 1)],
    )
    path = write_midi(tmp_path / "o.mid", make_score(tracks=[lead]))
    got = sorted((p, s, d, v) for _c, p, s, d, v in read_midi_notes(path)["lead"])
    assert got == [(72, 0.0, 1.0, 80), (72, 1.0, 2.0, 100), (74, 0.5, 1.0, 90)]
    midi = mido.MidiFile(str(path))
    sounding: set[int] = set()
    for message in midi.tracks[1]:
        if message.type == "note_on":
            assert message.note not in sounding, "a pitch restarted while still sounding"
            sounding.add(message.note)
        elif message.type == "note_off":
            sounding.discard(message.note)
    assert not sounding


@pytest.mark.parametrize(
    ("key", "signature"),
    [
        ("A minor", "Am"),
        ("F# minor", "F#m"),
        ("Bb major", "Bb"),
        ("C# major", "C#"),
        ("D dorian", "C"),
        ("E phrygian", "C"),
        ("F lydian", "C"),
        ("G mixolydian", "C"),
        ("B locrian", "C"),
        ("Eb dorian", "Db"),
        ("F locrian", "Gb"),
        ("F# phrygian", "D"),
        ("A harmonic minor", "Am"),
        ("Gb minor", "F#m"),
        ("G# major", "Ab"),
        ("A# mixolydian", "Eb"),
    ],
)
def test_key_signature_names(key: str, signature: str) -> None:
    assert key_signature_name(key) == signature


@pytest.mark.parametrize("key", ["H minor", "A", "C bebop", ""])
def test_malformed_key_raises_parameter_error(key: str) -> None:
    with pytest.raises(ParameterError, match="score key"):
        score_to_midi(make_score(key=key))


@pytest.mark.parametrize(
    ("meter", "clocks"),
    [("4/4", 24), ("3/4", 24), ("2/2", 48), ("6/8", 36), ("7/8", 12), ("12/8", 36), ("5/16", 6)],
)
def test_time_signature_has_the_right_denominator_and_click(meter: str, clocks: int) -> None:
    conductor = score_to_midi(make_score(meter=meter)).tracks[0]
    (message,) = [m for m in conductor if m.type == "time_signature"]
    assert f"{message.numerator}/{message.denominator}" == meter
    assert message.clocks_per_click == clocks


def test_tempo_is_microseconds_per_quarter_note() -> None:
    conductor = score_to_midi(make_score(tempo_bpm=120.0, meter="6/8")).tracks[0]
    (message,) = [m for m in conductor if m.type == "set_tempo"]
    assert message.tempo == 500_000


def test_channels_skip_nine_for_melodic_tracks() -> None:
    melodic = [
        Track(name=f"t{i}", instrument="x", role=Role.PAD, program=i, notes=[n(60, 0, 1)])
        for i in range(15)
    ]
    drums = Track(name="d", instrument="kit", role=Role.DRUMS, program=0, is_drum=True)
    channels = assign_channels([drums, *melodic])
    assert channels[0] == DRUM_CHANNEL
    assert channels[1:] == [c for c in range(16) if c != DRUM_CHANNEL]


def test_sixteenth_melodic_track_shares_a_channel_only_with_its_program() -> None:
    melodic = [
        Track(name=f"t{i}", instrument="x", role=Role.PAD, program=i, notes=[n(60, 0, 1)])
        for i in range(15)
    ]
    same = Track(name="again", instrument="x", role=Role.PAD, program=4)
    assert assign_channels([*melodic, same])[-1] == assign_channels(melodic)[4]
    other = Track(name="new", instrument="x", role=Role.PAD, program=100)
    with pytest.raises(ParameterError, match="too many melodic tracks"):
        assign_channels([*melodic, other])


def test_write_midi_is_atomic_and_checks_its_path(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_midi(tmp_path / "missing" / "a.mid", make_score())
    with pytest.raises(ParameterError, match=r"\.mid"):
        write_midi(tmp_path / "a.wav", make_score())
    with pytest.raises(ParameterError):
        write_midi(tmp_path / "a.mid", make_score(key="X minor"))
    assert list(tmp_path.iterdir()) == []
    write_midi(tmp_path / "a.mid", make_score())
    assert [p.name for p in tmp_path.iterdir()] == ["a.mid"]


def test_pretty_midi_reads_the_same_facts(tmp_path: Path) -> None:
    pretty_midi = pytest.importorskip("pretty_midi")
    score = make_score(tempo_bpm=128.0, meter="3/4", key="Eb major")
    pm = pretty_midi.PrettyMIDI(str(write_midi(tmp_path / "p.mid", score)))
    _times, tempi = pm.get_tempo_changes()
    assert tempi[0] == pytest.approx(128.0, abs=1e-3)
    (ts,) = pm.time_signature_changes
    assert (ts.numerator, ts.denominator) == (3, 4)
    (ks,) = pm.key_signature_changes
    assert pretty_midi.key_number_to_key_name(ks.key_number) == "Eb Major"
    by_name = {inst.name: inst for inst in pm.instruments}
    assert by_name["bass"].program == 33 and not by_name["bass"].is_drum
    assert by_name["drums"].is_drum
    spb = 60.0 / 128.0
    starts = sorted(note.start for note in by_name["piano"].notes)
    assert starts == pytest.approx([0.0, 0.0, 0.0, 3 * spb, 4.5 * spb])
    assert pm.get_end_time() == pytest.approx(4.5 * spb + 1.5 * spb)


note_strategy = st.builds(
    n,
    st.integers(min_value=40, max_value=45),
    st.integers(min_value=0, max_value=64).map(lambda q: q / 4),
    st.integers(min_value=1, max_value=16).map(lambda q: q / 8),
    st.integers(min_value=1, max_value=127),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(note_strategy, min_size=1, max_size=40))
def test_any_notes_give_well_formed_non_overlapping_midi(notes: list[Note]) -> None:
    track = Track(name="t", instrument="x", role=Role.LEAD, program=5, notes=notes)
    midi = score_to_midi(make_score(tracks=[track]))
    sounding: set[int] = set()
    starts: set[tuple[int, int]] = set()
    now = 0
    for message in midi.tracks[1]:
        now += message.time
        assert message.time >= 0
        if message.type == "note_on":
            assert message.note not in sounding
            sounding.add(message.note)
            starts.add((message.note, now))
        elif message.type == "note_off":
            assert message.note in sounding
            sounding.discard(message.note)
    assert not sounding
    expected = {(p.pitch, round(p.start_beat * TICKS_PER_BEAT)) for p in notes}
    assert starts == expected


def test_reading_a_missing_or_corrupt_file_raises_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        midi_to_summary(tmp_path / "missing.mid")
    bogus = tmp_path / "bogus.mid"
    bogus.write_bytes(b"not a midi file at all")
    with pytest.raises(ParameterError, match="not a readable MIDI file"):
        read_midi_notes(bogus)


# --------------------------------------------------------------------------- glides


def _gliding_score() -> Score:
    """The bass slides up an octave into its second note and down a fifth into its third."""
    bass = Track(
        name="808",
        instrument="808 bass",
        role=Role.BASS,
        program=38,
        notes=[
            n(33, 0, 1.5),
            Note(pitch=45, start_beat=1.5, duration_beats=1.0, velocity=90, glide_from=33,
                 glide_beats=0.25),
            Note(pitch=38, start_beat=3.0, duration_beats=2.0, velocity=90, glide_from=45,
                 glide_beats=0.5),
        ],
    )  # fmt: skip
    return make_score(meter="4/4", tracks=[bass])


def _part_messages(midi: mido.MidiFile) -> list[tuple[int, mido.Message]]:
    now, out = 0, []
    for message in midi.tracks[1]:
        now += message.time
        out.append((now, message))
    return out


def test_glides_are_written_as_bend_ramps_under_an_octave_bend_range(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "glide.mid", _gliding_score())
    messages = _part_messages(mido.MidiFile(filename=str(path)))
    controls = [(m.control, m.value) for t, m in messages if m.type == "control_change"]
    assert controls[:4] == [(101, 0), (100, 0), (6, 12), (38, 0)], "RPN 0: 12 semitones"
    assert controls[4:] == [(101, 127), (100, 127)], "then the null RPN"
    bends = [(t, m.pitch) for t, m in messages if m.type == "pitchwheel"]
    ons = {m.note: t for t, m in messages if m.type == "note_on" and m.velocity > 0}
    up = [(t, p) for t, p in bends if ons[45] <= t <= ons[45] + 120]
    down = [(t, p) for t, p in bends if ons[38] <= t <= ons[38] + 240]
    assert up[0] == (ons[45], -8192) and up[-1] == (ons[45] + 120, 0)
    assert down[0] == (ons[38], round(7 / 12 * 8192)) and down[-1] == (ons[38] + 240, 0)
    for ramp in (up, down):
        values = [abs(p) for _, p in ramp]
        assert values == sorted(values, reverse=True) and len(ramp) >= 10
    # each bend comes before the note it bends, at the same tick
    order = [(t, m.type) for t, m in messages if m.type in ("pitchwheel", "note_on")]
    assert order.index((ons[45], "pitchwheel")) < order.index((ons[45], "note_on"))


def test_a_score_without_glides_writes_no_bend_and_glides_keep_the_notes(tmp_path: Path) -> None:
    plain = make_score()
    messages = _part_messages(score_to_midi(plain))
    assert not [m for _, m in messages if m.type in ("pitchwheel", "control_change")]
    gliding = _gliding_score()
    stripped = gliding.model_copy(
        update={
            "tracks": [
                t.model_copy(update={"notes": [x.retimed(glide=False) for x in t.notes]})
                for t in gliding.tracks
            ]
        }
    )
    assert read_midi_notes(write_midi(tmp_path / "a.mid", gliding)) == read_midi_notes(
        write_midi(tmp_path / "b.mid", stripped)
    )


def test_a_glide_wider_than_an_octave_widens_the_bend_range() -> None:
    bass = Track(
        name="808", instrument="808 bass", role=Role.BASS, program=38,
        notes=[Note(pitch=60, start_beat=0, duration_beats=1.0, velocity=90, glide_from=40,
                    glide_beats=0.5)],
    )  # fmt: skip
    messages = _part_messages(score_to_midi(make_score(meter="4/4", tracks=[bass])))
    controls = [(m.control, m.value) for _, m in messages if m.type == "control_change"]
    assert (6, 20) in controls
    assert next(m.pitch for _, m in messages if m.type == "pitchwheel") == -8192
