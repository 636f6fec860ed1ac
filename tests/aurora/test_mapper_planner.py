"""Mapping to complete parameters, and planning sections and harmony."""

from __future__ import annotations

import pytest

from soundstar.aurora.pipeline import Aurora
from soundstar.models import Implementation, Role
from soundstar.theory import key_scale, parse_chord


def understand(prompt: str, duration: float | None = None):  # type: ignore[no-untyped-def]
    return Aurora().understand(prompt, duration_seconds=duration)


def test_the_foundation_prompt_gives_what_was_asked() -> None:
    u = understand("an upbeat 80s synthwave track at 118 BPM in A minor")
    p = u.parameters
    assert p.tempo_bpm == 118
    assert p.key == "A minor"
    assert p.time_signature == "4/4"
    assert "synthwave" in (p.sub_genre or p.genre).lower()
    assert p.era == "1980s"
    roles = {i.role for i in p.instrumentation}
    assert {Role.DRUMS, Role.BASS, Role.LEAD} <= roles
    assert u.implementation_used == Implementation.RULE_BASED
    assert not u.fallback_used


def test_defaults_fill_what_was_not_said() -> None:
    p = understand("something nice for a sunday morning").parameters
    assert p.duration_seconds == 30
    assert 40 <= p.tempo_bpm <= 240
    assert p.instrumentation


def test_excluded_instruments_never_play() -> None:
    u = understand("a chill lofi hip hop beat with piano but no drums")
    families = {i.role for i in u.parameters.instrumentation}
    assert Role.DRUMS not in families and Role.PERCUSSION not in families
    assert Role.DRUMS in u.parameters.exclusions.roles


def test_solo_instrument_is_not_accompanied() -> None:
    p = understand("solo piano, a calm nocturne").parameters
    assert [i.name for i in p.instrumentation] == ["piano"]


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [("a piano solo", ["piano"]), ("a drum solo at 140 bpm", ["drum_kit"])],
)
def test_an_instrument_s_solo_is_that_instrument_alone(prompt: str, lineup: list[str]) -> None:
    assert [i.name for i in understand(prompt).parameters.instrumentation] == lineup


@pytest.mark.parametrize(
    ("prompt", "soloist"),
    [
        ("a rock song with a guitar solo", "lead_guitar"),
        ("an 80s power ballad with a screaming sax solo", "tenor_sax"),
        ("a blues tune featuring a harmonica solo", "harmonica"),
    ],
)
def test_a_song_with_a_solo_keeps_its_band(prompt: str, soloist: str) -> None:
    """A solo featured in a song is a part of the band's arrangement, not the lineup."""
    lineup = [(i.name, i.role) for i in understand(prompt).parameters.instrumentation]
    assert lineup[0] == (soloist, Role.LEAD)
    assert {Role.DRUMS, Role.BASS} <= {role for _, role in lineup}


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [
        ("a quiet folk song, just acoustic guitar and voice", ["acoustic_guitar", "vocals"]),
        ("a jazz ballad with only piano and upright bass", ["piano", "double_bass"]),
        ("nothing but strings and a harp, a gentle lullaby", ["string_ensemble", "harp"]),
        (
            "a calm piano and upright bass duet at 72 bpm in F major, no drums",
            ["piano", "double_bass"],
        ),
        ("a clarinet, cello and viola trio, no drums", ["clarinet", "cello", "viola"]),
    ],
)
def test_instruments_named_as_the_whole_lineup_are_all_that_play(
    prompt: str, lineup: list[str]
) -> None:
    """After "just"/"only"/"nothing but", or as many as an ensemble word says."""
    assert [i.name for i in understand(prompt).parameters.instrumentation] == lineup


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [
        ("a folk duo with fiddle", ["fiddle", "acoustic_guitar"]),
        ("a blues trio with electric guitar", ["electric_guitar", "electric_bass", "drum_kit"]),
        # the singer named twice ("a male vocalist ... singing") is one player of the three
        (
            "a trio with a male vocalist singing and piano",
            ["male_vocals", "piano", "electric_bass"],
        ),
        # kit pieces are one drummer: a bass makes the third player
        (
            "a trio with piano, hi-hats and a kick drum",
            ["piano", "hi_hat", "kick_drum", "electric_bass"],
        ),
    ],
)
def test_an_ensemble_short_of_instruments_is_filled_up_to_its_size(
    prompt: str, lineup: list[str]
) -> None:
    """The genre adds what a small group most needs (harmony, then bass, then drums)."""
    assert [i.name for i in understand(prompt).parameters.instrumentation] == lineup


QUARTET = [
    ("violin", Role.LEAD),
    ("violin", Role.LEAD),
    ("viola", Role.CHORDS),
    ("cello", Role.BASS),
]


def test_a_string_quartet_is_its_players_in_their_parts() -> None:
    """ "string quartet" is two violins on the melody (the second partners the first), viola
    comping, cello on the bass line, and nothing else; with no genre named it is chamber
    music."""
    p = understand("a string quartet, sad and slow").parameters
    lineup = [(i.name, i.role) for i in p.instrumentation]
    assert lineup == QUARTET
    assert (p.genre, p.sub_genre) == ("Classical", "Chamber Music")


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [
        (
            "a brass quintet, triumphant",
            [
                ("trumpet", Role.LEAD),
                ("trumpet", Role.LEAD),
                ("french_horn", Role.CHORDS),
                ("trombone", Role.CHORDS),
                ("tuba", Role.BASS),
            ],
        ),
        (
            "a woodwind quintet, pastoral",
            [
                ("flute", Role.LEAD),
                ("oboe", Role.CHORDS),
                ("clarinet", Role.CHORDS),
                ("french_horn", Role.CHORDS),
                ("bassoon", Role.BASS),
            ],
        ),
    ],
)
def test_a_named_ensemble_brings_its_members(prompt: str, lineup: list[tuple[str, Role]]) -> None:
    p = understand(prompt).parameters
    assert [(i.name, i.role) for i in p.instrumentation] == lineup


def test_instruments_named_beside_an_ensemble_join_it_and_the_genre_adds_none() -> None:
    """ "a string quartet with piano" is a piano quintet."""
    p = understand("a string quartet with piano, tender").parameters
    assert [i.name for i in p.instrumentation] == ["violin", "violin", "viola", "cello", "piano"]


@pytest.mark.parametrize(
    "prompt",
    ["a string quartet with piano, a jazz ballad", "a lo-fi hip hop beat with a string quartet"],
)
def test_an_ensemble_in_another_style_joins_that_styles_band(prompt: str) -> None:
    """Named with a style of its own, the ensemble plays inside that style's band: the
    hip hop beat keeps its drums."""
    lineup = understand(prompt).parameters.instrumentation
    assert [(i.name, i.role) for i in lineup][:4] == QUARTET
    assert any(i.role == Role.DRUMS for i in lineup)


def _mapped_with_a_string_quartet(prompt: str) -> list[tuple[str, Role]]:
    """The lineup when an LLM or a caller names "String Quartet" for `prompt`."""
    from soundstar.aurora.mapper import map_parameters
    from soundstar.aurora.rules.parse import parse_rules
    from soundstar.models import InstrumentMention

    parsed = parse_rules(prompt).parsed.model_copy(
        update={
            "instrumentation": [
                InstrumentMention(name="String Quartet", role="pad", confidence=0.8)
            ]
        }
    )
    mapped = map_parameters(parsed)
    assert not mapped.notices
    return [(i.name, i.role) for i in mapped.parameters.instrumentation]


def test_an_ensemble_name_from_an_llm_or_a_caller_is_its_members() -> None:
    lineup = _mapped_with_a_string_quartet("a sad classical piece")
    assert lineup == QUARTET


def test_a_member_named_beside_its_ensemble_is_that_member() -> None:
    """Each entry is a player ("piano" twice: two pianos, as the parser writes "two
    pianos"); a member named beside its ensemble is that member (the quartet's second
    violin stays). An LLM's repeated name is made one player where its answer is read
    (test_llm_backend)."""
    from soundstar.aurora.mapper import map_parameters
    from soundstar.aurora.rules.parse import parse_rules
    from soundstar.models import InstrumentMention

    names = ["String Quartet", "cello", "piano", "piano"]
    parsed = parse_rules("a sad classical piece").parsed.model_copy(
        update={
            "instrumentation": [
                InstrumentMention(name=n, role="lead", confidence=0.8) for n in names
            ]
        }
    )
    lineup = [i.name for i in map_parameters(parsed).parameters.instrumentation]
    assert lineup == ["violin", "violin", "viola", "cello", "piano", "piano"]


def test_an_ensemble_name_from_an_llm_in_another_style_joins_its_band() -> None:
    """As in the offline parser: a lo-fi hip hop beat keeps its drums."""
    lineup = _mapped_with_a_string_quartet("a sad lo-fi hip hop beat")
    assert lineup[:4] == QUARTET
    assert any(role == Role.DRUMS for _, role in lineup)


def test_a_jazz_trio_with_its_players_named_is_those_three() -> None:
    p = understand("a jazz trio with piano, upright bass and brushed drums").parameters
    assert len(p.instrumentation) == 3
    assert {"piano", "double_bass"} <= {i.name for i in p.instrumentation}


def test_a_piano_trio_is_the_piano_and_two_more() -> None:
    p = understand("a piano trio in the style of bill evans").parameters
    assert len(p.instrumentation) == 3
    assert p.instrumentation[0].name == "piano"


def test_not_only_x_but_also_y_still_gets_a_full_band() -> None:
    p = understand("not only piano but also strings, a warm pop ballad").parameters
    assert {"piano", "string_ensemble"} < {i.name for i in p.instrumentation}
    assert len(p.instrumentation) > 2


@pytest.mark.parametrize(
    "prompt", ["a very calm solo piano piece with a flute melody", "neoclassical piano, rainy"]
)
def test_a_genre_named_for_the_piano_still_plays_the_piano(prompt: str) -> None:
    p = understand(prompt).parameters
    assert p.sub_genre == "Modern Classical"
    assert "piano" in {i.name for i in p.instrumentation}


def test_tempo_far_outside_the_genre_is_kept_and_reported() -> None:
    u = understand("drum and bass at 90 bpm, dark and heavy")
    assert u.parameters.tempo_bpm == 90
    assert any("90 BPM" in n.message for n in u.notices)


def test_a_named_tempo_is_marked_stated_and_an_inferred_one_is_not() -> None:
    assert understand("a funk groove at 104 bpm with slap bass").parameters.tempo_stated
    assert not understand("a funk groove with slap bass").parameters.tempo_stated
    assert not understand("a fast funk groove with slap bass").parameters.tempo_stated


def test_duration_from_the_caller_wins_over_the_prompt() -> None:
    assert understand("a 2 minute piano piece", duration=20).parameters.duration_seconds == 20
    assert understand("a 2 minute piano piece").parameters.duration_seconds == 120


@pytest.mark.parametrize(
    "prompt",
    [
        "an upbeat 80s synthwave track at 118 BPM in A minor",
        "a melancholic jazz ballad with brushes and upright bass",
        "aggressive techno at 135 bpm",
        "a gentle waltz in D major for strings",
        "celtic folk jig with fiddle and bodhran",
    ],
)
def test_plans_are_coherent(prompt: str) -> None:
    u = understand(prompt)
    plan = u.plan
    assert abs(sum(s.duration_ratio for s in plan.sections) - 1.0) < 1e-6
    assert all(0 <= s.energy_level <= 1 for s in plan.sections)
    assert len(plan.transitions) == len(plan.sections) - 1
    scale = set(key_scale(u.parameters.key))
    assert f"{plan.chord_progression.key} {plan.chord_progression.mode}" == u.parameters.key
    root = parse_chord(plan.chord_progression.chords[0]).root_pc
    assert root in scale


def test_a_stated_progression_is_the_progression_used() -> None:
    u = understand("a dreamy pop song in C major, the chord progression is Am F C G")
    assert u.plan.chord_progression.chords == ["Am", "F", "C", "G"]


def test_a_stated_section_list_is_the_structure_used() -> None:
    stated = "rock song: intro, verse, chorus, verse, chorus, outro"
    u = understand(stated, duration=60)  # 30 bars at 120 BPM hold all six
    assert [s.name for s in u.plan.sections] == [
        "intro",
        "verse 1",
        "chorus 1",
        "verse 2",
        "chorus 2",
        "outro",
    ]
    chorus = next(s for s in u.plan.sections if s.name.startswith("chorus"))
    intro = u.plan.sections[0]
    assert chorus.energy_level > intro.energy_level
    names = [s.name for s in u.plan.sections]
    short = [s.name for s in understand(stated, duration=30).plan.sections]
    assert 1 < len(short) < len(names)  # 15 bars hold fewer: the plan states those played
    assert short == [n for n in names if n in short]


def test_the_same_parameters_give_the_same_plan() -> None:
    a = understand("dark cinematic ambient with drones").plan
    b = understand("dark cinematic ambient with drones").plan
    assert a == b


def test_a_mode_the_genre_has_no_progression_for_takes_one_from_its_family() -> None:
    """Ballads list only major loops; in D minor the loop comes from pop (the family), not
    from jazz: no chord outside D natural minor, and it opens on the tonic."""
    u = Aurora().understand("A slow, melancholic piano ballad in D minor")
    chords = u.plan.chord_progression.chords
    scale = set(key_scale("D minor"))
    assert chords[0] == "Dm"
    assert all(set(parse_chord(c).pitch_classes) <= scale for c in chords), chords


def test_an_unnamed_key_follows_the_genre() -> None:
    rock = Aurora().understand("a driving rock song with electric guitars").parameters
    hip_hop = Aurora().understand("a dark hip hop beat with heavy 808s").parameters
    assert rock.key == "E major" and hip_hop.key == "C# minor"


def test_a_jazz_trio_with_generic_names_plays_jazz_instruments() -> None:
    """ "bass" and "drums" in jazz are its double bass and jazz kit; named ones still win."""
    p = understand("a jazz trio with piano, bass and drums").parameters
    assert [i.name for i in p.instrumentation] == ["piano", "double_bass", "jazz_kit"]
    p = understand("a jazz trio with piano, electric bass and rock drums").parameters
    assert [i.name for i in p.instrumentation] == ["piano", "electric_bass", "acoustic_drums"]


def _mapped(prompt: str, names: list[tuple[str, str]]) -> list[str]:
    """The lineup when an LLM or a caller names `names` (nothing else) for the style of
    `prompt`."""
    from soundstar.aurora.mapper import map_parameters
    from soundstar.aurora.rules.parse import parse_rules
    from soundstar.models import InstrumentMention

    parsed = parse_rules(prompt).parsed
    parsed = parsed.model_copy(
        update={
            "instrumentation": [
                InstrumentMention(name=name, role=role, confidence=0.8) for name, role in names
            ],
            "exclusions": parsed.exclusions.model_copy(update={"only": True}),
        }
    )
    return [i.name for i in map_parameters(parsed).parameters.instrumentation]


def test_generic_names_from_an_llm_are_the_styles_kinds() -> None:
    names = [("piano", "chords"), ("bass", "bass"), ("Drums", "drums")]
    assert _mapped("a straight-ahead jazz piece", names) == ["piano", "double_bass", "jazz_kit"]
    specific = [("electric bass", "bass"), ("rock drums", "drums")]
    assert _mapped("a straight-ahead jazz piece", specific) == ["electric_bass", "acoustic_drums"]


def test_a_general_word_is_the_styles_kind_and_a_specific_one_what_it_says() -> None:
    """In rock and roll "piano" (from an LLM, a caller or a person) is the style's honky-tonk
    piano; "grand piano" stays the grand: the parser passes the person's words on where the
    id alone ("piano") would read as the general word."""
    assert _mapped("rock and roll", [("piano", "chords")]) == ["honky_tonk_piano"]
    assert _mapped("rock and roll", [("grand piano", "chords")]) == ["piano"]
    p = understand("rock and roll with a grand piano").parameters
    assert "piano" in {i.name for i in p.instrumentation}
    p = understand("rock and roll with piano").parameters
    assert "honky_tonk_piano" in {i.name for i in p.instrumentation}


def test_a_jazz_quintet_is_jazz_by_five_players() -> None:
    p = understand("a jazz quintet").parameters
    assert (p.genre, p.sub_genre) == ("Jazz", None)
    names = [i.name for i in p.instrumentation]
    assert len(names) == 5 and {"tenor_sax", "trumpet", "double_bass", "jazz_kit"} <= set(names)
    assert sum(1 for i in p.instrumentation if i.role == Role.DRUMS) == 1
    p = understand("a quintet, warm and intimate").parameters
    assert (p.genre, p.sub_genre) == ("Classical", "Chamber Music")


def test_a_jazz_trio_playing_a_ballad_is_a_slow_jazz_trio() -> None:
    p = understand("a jazz trio playing a ballad").parameters
    assert (p.genre, p.sub_genre) == ("Jazz", "Jazz Ballad")
    assert [i.name for i in p.instrumentation] == ["piano", "double_bass", "brushes"]
    assert p.tempo_bpm <= 90


def test_a_forms_tempo_survives_the_moods() -> None:
    """A sad metal ballad is slow: the mood does not pull the tempo back into metal's range."""
    p = understand("a sad metal ballad").parameters
    assert (p.genre, p.sub_genre) == ("Heavy Metal", None)
    assert p.tempo_bpm == 72


@pytest.mark.parametrize(
    ("prompt", "mode"),
    [
        ("an adventurous and tribal piece of world music", "major"),
        ("a tribal and adventurous piece of world music", "minor"),
    ],
)
def test_moods_tied_on_mode_take_the_first_named(prompt: str, mode: str) -> None:
    """One major-leaning and one minor-leaning mood: the first named decides, the same in
    every process (a set's order, which follows the hash seed, decided it before)."""
    parameters = Aurora().understand(prompt, duration_seconds=30.0).parameters
    assert parameters.key.endswith(f" {mode}")


def test_an_llms_generic_word_and_a_kind_of_it_are_one_player() -> None:
    """An LLM naming "vocals" and "female vocals" (either order), or "double bass" and
    "bass", means one singer and one bass."""
    for names in (["vocals", "female vocals"], ["female vocals", "vocals"]):
        lineup = _mapped("a pop song", [(n, "lead") for n in names] + [("piano", "chords")])
        assert lineup == ["female_vocals", "piano"]
    lineup = _mapped(
        "a jazz tune", [("double bass", "bass"), ("bass", "bass"), ("piano", "chords")]
    )
    assert lineup == ["double_bass", "piano"]


@pytest.mark.parametrize(
    ("prompt", "key"),
    [
        ("a sad indie song with the chords Am F C G", "A minor"),
        ("a happy song with the chords C G Am F", "C major"),
        ("a song in a minor key with the chords C G Am F", "A minor"),
        ("a song in E minor with the chords C G D", "E minor"),  # a stated key stays
    ],
)
def test_stated_chords_without_a_key_set_the_key_they_are_in(prompt: str, key: str) -> None:
    assert understand(prompt).parameters.key == key
