"""The offline parser reads what is stated and infers the rest, with confidences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.aurora.preprocess import preprocess
from soundstar.aurora.rules.parse import parse_rules, stated_progression
from soundstar.knowledge import load_knowledge


def read(prompt: str, *, check_length: bool = True):  # type: ignore[no-untyped-def]
    pre = preprocess(prompt, check_length=check_length)
    return parse_rules(pre.text, original=pre.original)


def test_explicit_bpm_is_explicit_and_confident() -> None:
    tempo = read("an upbeat 80s synthwave track at 118 BPM in A minor").parsed.tempo
    assert (tempo.type, tempo.bpm) == ("explicit", 118)
    assert tempo.confidence >= 0.9


def test_inferred_tempo_comes_from_the_genre() -> None:
    reading = read("a rolling drum and bass tune with heavy reese bass")
    genre = load_knowledge().find_genre(
        reading.parsed.sub_genre.value or reading.parsed.genre.value
    )
    assert genre is not None
    assert reading.parsed.tempo.type == "inferred"
    assert genre.bpm[0] <= reading.parsed.tempo.bpm <= genre.bpm[1]


@pytest.mark.parametrize(
    ("prompt", "key"),
    [
        ("a sad ballad in F# minor with piano", "F# minor"),
        ("bright pop song in the key of Eb major", "Eb major"),
        ("a jazz tune in bb minor", "Bb minor"),
        ("synth pop in a minor with bright pads", "A minor"),
        ("modal jam in d dorian with flute", "D dorian"),
    ],
)
def test_stated_keys(prompt: str, key: str) -> None:
    assert read(prompt).parsed.key_signature.value == key


def test_an_article_is_not_a_key() -> None:
    assert read("a minor change of plans, make a rock song").parsed.key_signature.value is None


@pytest.mark.parametrize(
    ("prompt", "meter"),
    [
        ("a slow waltz for strings", "3/4"),
        ("folk song in 6/8 with fiddle", "6/8"),
        ("progressive rock in 7/8", "7/8"),
        ("a pop song with guitar", "4/4"),
    ],
)
def test_time_signatures(prompt: str, meter: str) -> None:
    assert read(prompt).parsed.time_signature.value == meter


def test_instruments_carry_roles_and_descriptors() -> None:
    parsed = read("an upbeat synthwave track with pulsing bass and dreamy pads").parsed
    by_role = {i.role: i for i in parsed.instrumentation}
    assert "bass" in by_role and by_role["bass"].descriptor == "pulsing"
    assert "pad" in by_role


def test_two_words_of_playing_both_reach_the_instrument() -> None:
    """ "pulsing low strings": both words say how the strings play (pattern and octave);
    a word that is not about playing ("synthwave pulsing bass") is not taken along."""
    strings = read("a thriller cue with pulsing low strings").parsed.instrumentation[0]
    assert strings.descriptor == "pulsing low"
    bass = read("dark synthwave pulsing bass and drums").parsed.instrumentation
    assert {i.name: i.descriptor for i in bass}["synth_bass"] == "pulsing"
    kb = load_knowledge()
    assert kb.articulation("pulsing low") == ("pulse", "root_eighths", -1)
    assert kb.articulation("dreamy") == (None, None, 0)


@pytest.mark.parametrize(
    ("prompt", "parts"),
    [
        # the melody after the comma's left side is the guitar's, not the accordion's
        (
            "a male vocal singing over acoustic guitar melody, accordion and a sustained "
            "brass section melody",
            {"acoustic_guitar": "lead", "accordion": "chords", "brass_section": "lead"},
        ),
        # "lead" before the guitar across a comma from the piano is the guitar's
        ("a rock song with piano, lead guitar and bass", {"piano": "chords"}),
        ("a track with piano chords and a violin melody", {"piano": "chords", "violin": "lead"}),
    ],
)
def test_a_role_word_belongs_to_the_instrument_on_its_side_of_a_comma(
    prompt: str, parts: dict[str, str]
) -> None:
    lineup = {i.name: i.role for i in read(prompt).parsed.instrumentation}
    assert {name: lineup.get(name) for name in parts} == parts


@pytest.mark.parametrize(
    ("prompt", "named"),
    [
        ("a folk song with a male vocal singing over acoustic guitar", "acoustic_guitar"),
        ("the song features a piano, lead guitar and drums", "lead_guitar"),
        ("a song that contains a groovy bass, as well as drums", "drum_kit"),
    ],
)
def test_a_word_that_does_not_describe_the_instrument_is_not_its_descriptor(
    prompt: str, named: str
) -> None:
    lineup = {i.name: i.descriptor for i in read(prompt).parsed.instrumentation}
    assert named in lineup and lineup[named] is None


@pytest.mark.parametrize(
    ("prompt", "pad"),
    [
        ("a heavy metal piece. The atmosphere of this piece is loud and hard-hitting", False),
        ("a folk song with guitar; there is an eccentric atmosphere", False),
        ("an ambient track with atmospheric pads and piano", True),
        ("a drone piece with swells and soundscapes", True),
    ],
)
def test_the_atmosphere_of_a_piece_is_not_an_instrument(prompt: str, pad: bool) -> None:
    """ "The atmosphere is hopeful" says how it feels (660 MusicCaps captions say it); an
    atmosphere pad is asked for by name ("atmospheric pads", "soundscapes")."""
    lineup = {i.name for i in read(prompt).parsed.instrumentation}
    assert ("atmosphere_pad" in lineup) is pad


def test_e_guitar_and_e_bass_are_electric() -> None:
    lineup = {
        i.name: i.descriptor
        for i in read(
            "a funky song with an e-bass, e-guitars and an acoustic guitar"
        ).parsed.instrumentation
    }
    assert lineup.get("electric_bass", "missing") is None
    assert lineup.get("electric_guitar", "missing") is None
    assert "acoustic_guitar" in lineup and "double_bass" not in lineup


@pytest.mark.parametrize(
    ("prompt", "word"),
    [
        ("chill lofi beat, no drums, with piano", "drums"),
        ("an ambient piece without vocals", "vocal"),
    ],
)
def test_negations_exclude(prompt: str, word: str) -> None:
    exclusions = read(prompt).parsed.exclusions
    assert word in {*exclusions.roles, *exclusions.families}


def test_durations() -> None:
    assert read("a 2 minute piano piece, calm and slow").parsed.duration_seconds == 120
    assert read("a 45 second jingle for a podcast").parsed.duration_seconds == 45


def test_artists_and_eras() -> None:
    parsed = read("nostalgic synthwave like The Midnight, very 80s").parsed
    assert any(a.name.lower() == "the midnight" for a in parsed.reference_artists)
    assert parsed.era is not None and parsed.era.value == "1980s"


def test_chord_symbols_are_read_with_case() -> None:
    assert stated_progression("The chord progression in this song is Am, F, C.", None) == [
        "Am",
        "F",
        "C",
    ]
    assert stated_progression("play Dm7 G7 Cmaj7 over brushes", None) == ["Dm7", "G7", "Cmaj7"]


def test_roman_numerals_follow_the_key() -> None:
    assert stated_progression("a ii–V–I in Bb", "Bb major") == ["Cm", "F", "Bb"]
    assert stated_progression("i-VI-III-VII progression", "A minor") == ["Am", "F", "C", "G"]


def test_every_field_has_a_confidence_in_range() -> None:
    parsed = read("energetic funk with slap bass and horns at 105 bpm").parsed
    data = parsed.model_dump()
    for name in (
        "genre",
        "sub_genre",
        "tempo",
        "structure",
        "key_signature",
        "time_signature",
        "energy_level",
    ):
        assert 0.0 <= data[name]["confidence"] <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=10, max_size=200))
def test_any_text_parses_without_error(text: str) -> None:
    parse_rules(text.lower())


def test_a_term_never_spans_two_clauses() -> None:
    from soundstar.aurora.rules.parse import parse_rules

    parsed = parse_rules("ambient, no bass. drone and pads").parsed
    assert "drone" not in parsed.exclusions.instruments
    assert "drone" in {m.name for m in parsed.instrumentation}


@pytest.mark.parametrize(
    ("caption", "key"),
    [
        ("Some drums. The key of this song is Dm.", "D minor"),
        ("Some drums. The key is DM.", "D major"),
        ("Some drums. This piece is either in the key of G#M or C# minor.", "G# major"),
        ("Some drums. The key of this song is D#m.", "D# minor"),
        ("Some drums. This song is in the key of EbM.", "Eb major"),
    ],
)
def test_chord_symbol_keys_keep_the_case_of_m(caption: str, key: str) -> None:
    assert read(caption).parsed.key_signature.value == key


@pytest.mark.parametrize(
    ("caption", "bpm"),
    [("Guitar. The bpm is 95.0. The key is C.", 95.0), ("A beat. The tempo is 128.", 128.0)],
)
def test_a_stated_bpm_after_the_word_is_read(caption: str, bpm: float) -> None:
    tempo = read(caption).parsed.tempo
    assert (tempo.type, tempo.bpm) == ("explicit", bpm)


def test_a_negation_ends_at_the_clause() -> None:
    parsed = read("sad folk song without drums, just fingerpicked guitar and cello").parsed
    assert "drums" in parsed.exclusions.roles and "drum_kit" in parsed.exclusions.instruments
    assert not {"guitar", "acoustic_guitar", "cello"} & set(parsed.exclusions.instruments)
    assert "guitar" not in parsed.exclusions.families
    guitar = next(i for i in parsed.instrumentation if i.name == "acoustic_guitar")
    assert guitar.descriptor == "fingerpicked"


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [
        (
            "a calm piano and upright bass duet at 72 bpm in F major, no drums",
            {"piano", "double_bass"},
        ),
        ("a flute and harp duo for a lullaby", {"flute", "harp"}),
        ("a piano, bass and drums trio, no vocals", {"piano", "electric_bass", "drum_kit"}),
        ("a clarinet, cello and viola trio without drums", {"clarinet", "cello", "viola"}),
    ],
)
def test_an_ensemble_word_with_that_many_instruments_is_the_whole_lineup(
    prompt: str, lineup: set[str]
) -> None:
    """ "duet" with two named, "trio" with three: nothing else plays, and an instrument
    negated ("no drums", "without drums") is not one of them."""
    reading = read(prompt)
    assert reading.parsed.exclusions.only
    assert {i[0] for i in reading.instrument_ids} == lineup
    assert reading.ensemble_size is None


@pytest.mark.parametrize(
    ("prompt", "size"),
    [
        ("a folk duo with fiddle", 2),
        ("a blues trio with electric guitar", 3),
        ("a quartet led by tenor sax, smoky", 4),
        ("a trio, warm and late at night", 3),
    ],
)
def test_fewer_instruments_than_the_ensemble_leave_room_up_to_its_size(
    prompt: str, size: int
) -> None:
    reading = read(prompt)
    assert not reading.parsed.exclusions.only
    assert reading.ensemble_size == size


@pytest.mark.parametrize(
    "prompt",
    [
        "dave brubeck quartet style, cool and swinging",  # an artist's alias
        "a duo with violin, cello and piano",  # more named than the word says
        "a violin and cello piece, not a duet",  # negated
        "a duet, later a trio, with violin and cello",  # two sizes disagree
    ],
)
def test_an_ensemble_word_in_an_artist_or_out_of_step_states_no_lineup(prompt: str) -> None:
    reading = read(prompt)
    assert not reading.parsed.exclusions.only
    assert reading.ensemble_size is None


@pytest.mark.parametrize(
    ("prompt", "solo", "size"),
    [
        ("a string quartet, sad and slow", True, None),  # an ensemble by name: its members
        ("a jazz trio, late night", False, 3),  # a style by three players
        ("a jazz trio with piano, bass and drums", True, None),
        ("a piano trio with violin and cello", True, None),  # piano, violin, cello
        ("a piano trio, late night", False, 3),
    ],
)
def test_an_ensemble_word_inside_a_style_or_an_ensemble_name_still_counts(
    prompt: str, solo: bool, size: int | None
) -> None:
    reading = read(prompt)
    assert reading.parsed.exclusions.only == solo
    assert reading.ensemble_size == size


_QUARTET = [("violin", "lead"), ("violin", "lead"), ("viola", "chords"), ("cello", "bass")]


def _parts(reading) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(iid, role) for iid, role, _ in reading.instrument_ids]


@pytest.mark.parametrize(
    "prompt",
    [
        "a string quartet in D minor, slow and mournful",
        "a string-quartet piece",
        "a quartet of strings",
        "A String Quartet",
    ],
)
def test_a_named_ensemble_is_its_members_in_their_parts(prompt: str) -> None:
    """Two violins play the melody (the second partners the first), the viola comps, the
    cello plays the bass line; nothing else plays, and with no genre named the ensemble's
    genre is used."""
    reading = read(prompt)
    assert _parts(reading) == _QUARTET
    assert reading.ensemble_ids == ("string_quartet",)
    assert reading.parsed.exclusions.only and reading.ensemble_size is None
    assert (reading.genre_id, reading.sub_genre_id) == ("classical", "chamber_music")
    assert reading.parsed.genre.confidence < 0.9  # implied, not stated


def test_a_genre_named_beside_an_ensemble_wins_over_its_genre() -> None:
    reading = read("a jazz string quartet, late night")
    assert (reading.genre_id, reading.sub_genre_id) == ("jazz", None)
    assert _parts(reading) == _QUARTET


def test_a_parent_genre_named_beside_an_ensemble_narrows_to_its_genre() -> None:
    reading = read("a classical string quartet")
    assert (reading.genre_id, reading.sub_genre_id) == ("classical", "chamber_music")
    assert reading.parsed.genre.confidence >= 0.9  # classical was named


def test_instruments_named_beside_an_ensemble_join_it() -> None:
    reading = read("a string quartet with piano")
    assert [i[0] for i in reading.instrument_ids] == ["violin", "violin", "viola", "cello", "piano"]
    assert reading.parsed.exclusions.only and reading.ensemble_size is None


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [
        # a member named on its own keeps its part in the ensemble (the cello is not a lead)
        ("violin, viola and cello: a string quartet", _QUARTET),
        # a role word for a member wins
        ("a string quartet, cello solo", [*_QUARTET[:3], ("cello", "lead")]),
        # an excluded member does not play
        ("a string quartet without cello", _QUARTET[:3]),
    ],
)
def test_members_of_an_ensemble_named_again_or_excluded(
    prompt: str, lineup: list[tuple[str, str]]
) -> None:
    assert _parts(read(prompt)) == lineup


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [
        # a number before an instrument is that many players; the cello, lowest of the
        # melody players with no bass named, takes the bass line as in chamber music
        (
            "two violins, a viola and a cello",
            [("violin", "lead"), ("violin", "lead"), ("viola", "chords"), ("cello", "bass")],
        ),
        ("a duet for two violins", [("violin", "lead"), ("violin", "lead")]),
        ("a pair of trumpets", [("trumpet", "lead"), ("trumpet", "lead")]),
        ("violin and cello", [("violin", "lead"), ("cello", "bass")]),
        # a part that was asked for stays; a style that does not give the cello the bass
        # keeps it on the melody (the genre adds its own bass)
        ("a cello melody with violin", [("cello", "lead"), ("violin", "lead")]),
        ("a pop song with violin and cello", [("violin", "lead"), ("cello", "lead")]),
    ],
)
def test_how_many_play_an_instrument_and_who_takes_the_bass(
    prompt: str, lineup: list[tuple[str, str]]
) -> None:
    assert _parts(read(prompt)) == lineup


def test_a_number_before_an_instrument_is_not_how_it_plays() -> None:
    reading = read("twin lead guitars over a heavy metal riff")
    guitars = [(iid, role, desc) for iid, role, desc in reading.instrument_ids if role == "lead"]
    assert len(guitars) == 2 and guitars[0] == guitars[1]
    assert guitars[0][2] is None
    assert read("a duet for two violins").ensemble_size is None  # two players: the duet


def test_a_descriptor_of_an_ensemble_colours_every_member() -> None:
    reading = read("a pulsing string quartet")
    assert {desc for _, _, desc in reading.instrument_ids} == {"pulsing"}


def test_a_negated_ensemble_excludes_its_members() -> None:
    reading = read("a pop song, no string quartet")
    assert {"violin", "viola", "cello"} <= set(reading.parsed.exclusions.instruments)
    assert not reading.instrument_ids and not reading.ensemble_ids
    assert reading.genre_id == "pop"


def test_every_named_ensemble_reads_back_as_itself() -> None:
    kb = load_knowledge()
    for ensemble in kb.named_ensembles.values():
        reading = read(f"a {ensemble.name.lower()}")
        assert reading.ensemble_ids == (ensemble.id,)
        assert _parts(reading) == [
            (iid, role)
            for iid, role in ensemble.members.items()
            for _ in range(2 if iid in ensemble.second_players else 1)
        ]


_PLAIN_INSTRUMENTS = ("violin", "cello", "flute", "clarinet", "harp", "trumpet", "banjo", "oboe")


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.sampled_from(_PLAIN_INSTRUMENTS), min_size=1, max_size=6, unique=True),
    word=st.sampled_from(sorted(load_knowledge().ensembles)),
)
def test_the_ensemble_size_against_the_named_count(names: list[str], word: str) -> None:
    """Named == size: exactly those play; fewer: room up to the size; more: no statement."""
    size = load_knowledge().ensembles[word].size
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    reading = read(f"a gentle {listed} {word}")
    assert {i[0] for i in reading.instrument_ids} == set(names)
    assert reading.parsed.exclusions.only == (len(names) == size)
    assert reading.ensemble_size == (size if len(names) < size else None)


def _ids(reading) -> list[str]:  # type: ignore[no-untyped-def]
    return [iid for iid, _, _ in reading.instrument_ids]


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [
        # a generic word is the style's kind of the instrument
        ("a jazz trio with piano, bass and drums", ["piano", "double_bass", "jazz_kit"]),
        ("a jazz ballad with piano, bass and drums", ["piano", "double_bass", "brushes"]),
        ("bossa nova with guitar and bass", ["nylon_guitar", "double_bass"]),
        ("a metal song with guitar, bass and drums", ["distorted_guitar", "picked_bass", "drum_kit"]),
        ("a trap beat with bass and drums", ["bass_808", "drums_808"]),
        # not a kind that is excluded: then the plain instrument
        ("a jazz ballad with piano and drums, no brushes", ["piano", "drum_kit"]),
        # a specific name says which one, whatever the style
        ("a jazz trio with piano, electric bass and rock drums", ["piano", "electric_bass", "acoustic_drums"]),
        ("bossa nova with electric guitar and fretless bass", ["electric_guitar", "fretless_bass"]),
        # the style plays the plain instrument, or no style is named: the plain instrument
        ("a rock band with guitar, bass and drums", ["electric_guitar", "electric_bass", "drum_kit"]),
        ("a piano, bass and drums trio", ["piano", "electric_bass", "drum_kit"]),
    ],
)  # fmt: skip
def test_a_generic_instrument_word_is_the_kind_the_style_plays(
    prompt: str, lineup: list[str]
) -> None:
    assert _ids(read(prompt)) == lineup


def test_a_generic_word_keeps_its_descriptor_and_role() -> None:
    reading = read("a jazz trio with walking bass, piano and brushed drums")
    parts = {iid: (role, desc) for iid, role, desc in reading.instrument_ids}
    assert parts["double_bass"] == ("bass", "walking")
    assert reading.parsed.exclusions.only


@pytest.mark.parametrize(
    ("prompt", "genre", "sub_genre"),
    [
        # a form named beside a style is that style's version of it
        ("a jazz trio playing a ballad", "jazz", "jazz_ballad"),
        ("a jazz quartet playing ballads, late at night", "jazz", "jazz_ballad"),
        ("a rock song, a ballad", "arena_rock", "power_ballad"),
        ("a blues band playing a slow song", "blues", "slow_blues"),
        # the form belongs to the style named, or none is: the form's genre as before
        ("a pop song, a ballad", "pop", "ballad"),
        ("a soft pop ballad with a slight rock influence", "pop", "ballad"),
        ("a sad ballad with piano", "pop", "ballad"),
    ],
)
def test_a_form_beside_a_style_is_the_styles_version(
    prompt: str, genre: str, sub_genre: str
) -> None:
    reading = read(prompt)
    assert (reading.genre_id, reading.sub_genre_id) == (genre, sub_genre)


def test_a_style_without_a_version_of_the_form_takes_its_tempo() -> None:
    """ "a metal ballad": still metal, at a ballad's tempo, unless a tempo is stated."""
    kb = load_knowledge()
    reading = read("a metal ballad")
    assert (reading.genre_id, reading.sub_genre_id) == ("metal", None)
    tempo = reading.parsed.tempo
    assert (tempo.type, tempo.bpm) == ("inferred", kb.genres["ballad"].default_bpm)
    assert tempo.bpm < kb.genres["metal"].bpm[0]
    assert read("a metal ballad at 96 bpm").parsed.tempo.bpm == 96
    assert read("a fast metal ballad").parsed.tempo.bpm > kb.genres["ballad"].default_bpm


@pytest.mark.parametrize(
    ("prompt", "genre", "sub_genre", "size"),
    [
        ("a jazz quintet", "jazz", None, 5),  # a style and five players
        ("a jazz quintet with tenor sax and trumpet", "jazz", None, 5),
        ("a quintet, warm and intimate", "classical", "chamber_music", 5),  # no style named
        ("a quintet in the style of miles davis", "jazz", "cool_jazz", 5),  # an artist's style
        ("a funk quintet", "funk", None, 5),
    ],
)
def test_an_ensemble_word_implies_chamber_music_only_when_no_style_is_named(
    prompt: str, genre: str, sub_genre: str | None, size: int
) -> None:
    reading = read(prompt)
    assert (reading.genre_id, reading.sub_genre_id) == (genre, sub_genre)
    assert reading.ensemble_size == size


_STYLE_NAMES = sorted(
    g.name for g in load_knowledge().genres.values() if not g.form_words and not g.form_of
)


@settings(max_examples=60, deadline=None)
@given(
    style=st.sampled_from(_STYLE_NAMES),
    word=st.sampled_from(sorted(load_knowledge().ensembles)),
)
def test_a_named_style_is_never_replaced_by_an_ensemble_word(style: str, word: str) -> None:
    """Whatever the style and the ensemble word, "a <style> <word>" keeps the style."""
    kb = load_knowledge()
    reading = read(f"a {style} {word}", check_length=False)
    named = kb.find_genre(style)
    assert named is not None
    assert named.id in {reading.genre_id, reading.sub_genre_id}


_FORM_WORDS = sorted({w for g in load_knowledge().genres.values() for w in g.form_words})
_UNRELATED_STYLES = sorted(
    g.name
    for g in load_knowledge().genres.values()
    if "pop" not in (g.id, *load_knowledge().genre_ancestors(g.id))
)


@settings(max_examples=80, deadline=None)
@given(style=st.sampled_from(_UNRELATED_STYLES), form=st.sampled_from(_FORM_WORDS))
def test_a_form_never_replaces_the_style_it_is_named_with(style: str, form: str) -> None:
    """ "a <style> <form>" is that style or a sub-genre of it (its version of the form),
    never the form's own genre from another family."""
    kb = load_knowledge()
    reading = read(f"a {style} {form}", check_length=False)
    named = kb.find_genre(style)
    chosen = reading.sub_genre_id or reading.genre_id
    assert named is not None and chosen is not None
    assert chosen == named.id or named.id in kb.genre_ancestors(chosen), chosen


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        # a generic word after a kind of it names the same player again
        ("bluegrass gospel: a male vocalist is singing, banjo and violin", ["male_vocals"]),
        ("jazz with an upright bass; the bass walks", ["double_bass"]),
        # a kind named after the generic word takes its place
        ("a singer with female vocals over a piano", ["female_vocals"]),
        ("rock with a bass, an upright bass in the bridge", ["double_bass"]),
    ],
)
def test_a_generic_word_and_a_kind_of_it_are_one_player(prompt: str, expected: list[str]) -> None:
    names = [m.name for m in read(prompt).parsed.instrumentation]
    family = {"male_vocals", "female_vocals", "vocals", "double_bass", "electric_bass"}
    assert [n for n in names if n in family] == expected


@pytest.mark.parametrize(
    ("text", "chords"),
    [
        ("a song in D major with chords Cmaj7", ["Cmaj7"]),
        ("the chord: D7, funky", ["D7"]),
        ("a vamp on a chord of Bb7", ["Bb7"]),
        ("play the chords A please", None),  # a lone capital could be a word
        ("a chord A sound", None),
    ],
)
def test_one_chord_named_after_the_word_chord_is_the_progression(
    text: str, chords: list[str] | None
) -> None:
    assert stated_progression(text, None) == chords


@pytest.mark.parametrize(
    ("prompt", "genre_id"),
    [
        ("a blues melody on piano; a voice that is not part of the musical composition", "blues"),
        ("a home recording of a musical piece on a bass guitar, funk", "funk"),
        ("a show tune from a broadway musical", "musical_theatre"),
        ("songs from stage musicals", "musical_theatre"),
    ],
)
def test_musical_as_an_adjective_names_no_genre(prompt: str, genre_id: str) -> None:
    """ "musical composition", "musical piece" describe music in general; only the noun
    ("a broadway musical", "musicals") names Musical Theatre."""
    reading = read(prompt)
    assert genre_id in (reading.genre_id, reading.sub_genre_id)


@pytest.mark.parametrize(
    ("prompt", "genre_id"),
    [
        (
            "This is a Hungarian pop music piece. It could be used in the soundtrack of a movie",
            "pop",
        ),
        ("This is a groovy R&B piece that is used as a soundtrack for a short film", "rnb"),
        ("A jazzy boom bap hip-hop instrumental like J Dilla", "boom_bap"),
        ("electronic music with deep house chords", "deep_house"),
    ],
)
def test_the_style_a_prompt_leads_with_is_not_replaced_by_a_later_one(
    prompt: str, genre_id: str
) -> None:
    """The most specific genre is taken within the lineage of the one the prompt leads with
    (the head of its first genre words); a later, unrelated style is context, not the genre."""
    reading = read(prompt)
    assert genre_id in (reading.genre_id, reading.sub_genre_id), (
        reading.genre_id,
        reading.sub_genre_id,
    )
