"""The long tail of how people name music: styles read as themselves rather than their parent,
world and folk instruments as themselves rather than a neighbour, and an instrument named
inside a production phrase ("piano stabs") as that instrument."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.aurora.preprocess import preprocess
from soundstar.aurora.rules.matcher import find_mentions, tokenize
from soundstar.aurora.rules.parse import Reading, parse_rules
from soundstar.knowledge import DEFAULT_DATA_DIR, KnowledgeBase, load_knowledge, normalize
from soundstar.knowledge.vocab import TIMBRES

ENGINE_TIMBRES = Path(DEFAULT_DATA_DIR).parent.parent / "engine" / "data" / "timbres.yaml"
WORLD_BLOCK = "# world and folk instruments (issue 24)"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def _read(prompt: str) -> Reading:
    pre = preprocess(prompt, check_length=False)
    return parse_rules(pre.text, original=pre.original)


def _world_instruments() -> list[str]:
    """Ids of the world and folk instruments block at the end of instruments.yaml."""
    text = (DEFAULT_DATA_DIR / "instruments.yaml").read_text(encoding="utf-8")
    block = text[text.index(WORLD_BLOCK) :].split("\n\n", 1)[0]
    return [record["id"] for record in yaml.safe_load(block.split("\n", 1)[1])]


WORLD = _world_instruments()


def _new_genres() -> list[str]:
    text = (DEFAULT_DATA_DIR / "genres.yaml").read_text(encoding="utf-8")
    block = text[text.index("# ---------------------------------------------------------------"
                            "--- the long tail") :]  # fmt: skip
    return [record["id"] for record in yaml.safe_load(block) or [] if isinstance(record, dict)]


NEW_GENRES = _new_genres()

# genres --------------------------------------------------------------------------------------


def test_the_long_tail_block_holds_dozens_of_styles() -> None:
    assert len(NEW_GENRES) >= 50


@pytest.mark.parametrize("genre_id", NEW_GENRES)
def test_every_new_genre_has_a_known_parent_tempo_and_lineup(
    kb: KnowledgeBase, genre_id: str
) -> None:
    genre = kb.genres[genre_id]
    assert genre.parent in kb.genres
    assert kb.genre_ancestors(genre_id)[-1] in {
        g.id for g in kb.genres.values() if g.parent is None
    }
    assert genre.bpm[0] <= genre.default_bpm <= genre.bpm[1]
    pitched = {role: ids for role, ids in genre.instrumentation.items() if role != "drums"}
    assert any(ids for ids in pitched.values()), genre_id
    for ids in genre.instrumentation.values():
        assert all(i in kb.instruments for i in ids)


@pytest.mark.parametrize("genre_id", NEW_GENRES)
def test_a_style_named_is_read_as_itself_not_its_parent(kb: KnowledgeBase, genre_id: str) -> None:
    name = kb.genres[genre_id].name
    reading = _read(f"a {name} track")
    assert genre_id in (reading.genre_id, reading.sub_genre_id), name


@pytest.mark.parametrize(
    ("style", "faster_than"),
    [("gabber", "hardstyle"), ("speedcore", "gabber"), ("soca", "calypso"), ("footwork", "house")],
)
def test_a_sub_style_keeps_its_own_tempo(kb: KnowledgeBase, style: str, faster_than: str) -> None:
    found, other = kb.find_genre(style), kb.find_genre(faster_than)
    assert found is not None and other is not None
    assert found.default_bpm > other.default_bpm


# world and folk instruments ------------------------------------------------------------------


def test_several_dozen_world_instruments_are_their_own_entries() -> None:
    assert len(WORLD) >= 36


def test_world_instruments_have_gm_programs_registers_and_existing_timbres(
    kb: KnowledgeBase,
) -> None:
    engine = set(yaml.safe_load(ENGINE_TIMBRES.read_text(encoding="utf-8"))["timbres"])
    for iid in WORLD:
        inst = kb.instruments[iid]
        assert 0 <= inst.gm_program <= 127
        low, high = inst.register
        assert inst.timbre in TIMBRES and inst.timbre in engine, iid
        if inst.voices:  # hand percussion: GM drum-channel notes, played by a kit
            assert 35 <= low <= high <= 81, iid
            assert inst.kit is not None and inst.family == "percussion"
        else:  # pitched: inside the piano's compass, as GM melodic sounds are
            assert 21 <= low < high <= 108, iid


@pytest.mark.parametrize("instrument_id", WORLD)
def test_a_world_instrument_named_is_read_as_itself(kb: KnowledgeBase, instrument_id: str) -> None:
    name = kb.instruments[instrument_id].name
    reading = _read(f"a slow tune for {name}")
    assert instrument_id in [iid for iid, _, _ in reading.instrument_ids], name


# production phrases --------------------------------------------------------------------------


def test_a_playing_noun_alone_or_in_a_written_name_keeps_its_meaning(kb: KnowledgeBase) -> None:
    assert kb.find_instrument("stabs") == kb.instruments["stab_synth"]
    assert kb.find_instrument("brass stabs") == kb.instruments["brass_section"]
    assert kb.find_instrument("vocal chops") == kb.instruments["vocal_chops"]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_an_instrument_named_before_a_playing_noun_is_that_instrument(
    kb: KnowledgeBase, data: st.DataObject
) -> None:
    inst = data.draw(st.sampled_from([i for i in kb.instruments.values() if not i.drum]))
    name = normalize(data.draw(st.sampled_from((inst.name, *inst.aliases))))
    noun = data.draw(st.sampled_from(kb.playing_nouns))
    named = kb.find_instrument(name)
    assert named is not None
    if f"{name} {noun}" not in kb.vocabulary_all():  # not a written name of its own
        assert kb.find_instrument(f"{name} {noun}") == named
        mentions = [
            m for m in find_mentions(f"with {name} {noun}, please") if m.table == "instruments"
        ]
        assert [m.id for m in mentions] == [named.id]
        assert mentions[0].end == len(tokenize(f"with {name} {noun}"))


@pytest.mark.parametrize(
    ("phrase", "instrument"),
    [
        ("piano stabs", "piano"),
        ("guitar chops", "guitar"),
        ("string swells", "strings"),
        ("horn hits", "brass"),
        ("organ stabs", "organ"),
        ("rhodes licks", "rhodes"),
        ("flute loops", "flute"),
    ],
)
def test_a_production_phrase_reads_the_instrument_not_a_synth(
    kb: KnowledgeBase, phrase: str, instrument: str
) -> None:
    reading = _read(f"a house track with {phrase}, 124 bpm")
    named = kb.find_instrument(instrument)
    assert named is not None
    have = [iid for iid, _, _ in reading.instrument_ids]
    kinds = {named.id, *kb.variants(named.id)}
    generic = kb.generic_instrument(instrument)
    if generic is not None:
        kinds |= set(kb.kinds(generic))
    assert kinds & set(have), (phrase, have)
    assert "stab_synth" not in have or named.id == "stab_synth"


# moods inside a style's name -------------------------------------------------------------------


def _styles_naming_a_mood(own: bool) -> list[tuple[str, str, str]]:
    """(genre id, name, mood id) for multi-word style names containing a mood word that the
    style itself has (`own`) or has not."""
    kb = load_knowledge()
    moods = {
        tuple(w for w, _ in tokenize(form)): mood_id
        for mood_id, mood in kb.moods.items()
        for form in (mood_id.replace("_", " "), *mood.aliases)
    }
    out = []
    for genre in kb.genres.values():
        for name in {genre.name.lower(), *genre.aliases}:
            words = tuple(w for w, _ in tokenize(name))
            for size in range(1, len(words)):
                for start in range(len(words) - size + 1):
                    mood_id = moods.get(words[start : start + size])
                    if mood_id is not None and (mood_id in genre.moods) == own:
                        out.append((genre.id, name, mood_id))
    return sorted(set(out))


@pytest.mark.parametrize(("genre_id", "name", "mood_id"), _styles_naming_a_mood(own=True))
def test_a_style_whose_name_states_its_own_mood_names_the_mood(
    genre_id: str, name: str, mood_id: str
) -> None:
    reading = _read(f"{name}, please")
    assert genre_id in (reading.genre_id, reading.sub_genre_id), name
    assert mood_id in reading.mood_ids, name


@pytest.mark.parametrize(("genre_id", "name", "mood_id"), _styles_naming_a_mood(own=False))
def test_a_word_in_a_style_name_is_no_mood_the_style_lacks(
    genre_id: str, name: str, mood_id: str
) -> None:
    """ "free jazz" is no call for freedom, nor "power pop" for power."""
    reading = _read(f"{name}, please")
    assert genre_id in (reading.genre_id, reading.sub_genre_id), name
    assert mood_id not in reading.mood_ids, name
