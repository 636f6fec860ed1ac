"""The shared inference rules: which kind a generic instrument word is in a style, and how
a stated ensemble size is filled from the style's band."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.aurora.infer import genre_kind
from soundstar.aurora.lineup import resolve_lineup
from soundstar.aurora.mapper import map_parameters
from soundstar.aurora.preprocess import preprocess
from soundstar.aurora.rules.parse import parse_rules
from soundstar.knowledge import load_knowledge
from soundstar.models import Exclusions, InstrumentMention

KB = load_knowledge()
GENRES = sorted(KB.genres)
GENERIC_WORDS = sorted(KB.generic_instruments)
SPECIFIC_NAMES = sorted(
    {
        form
        for inst in KB.instruments.values()
        for form in (inst.name.lower(), *inst.aliases)
        if KB.generic_instrument(form) is None
    }
)


@pytest.mark.parametrize(
    ("word", "genre", "kind"),
    [
        ("bass", "jazz", "double_bass"),
        ("drums", "jazz", "jazz_kit"),
        ("drums", "jazz_ballad", "brushes"),
        ("guitar", "bossa_nova", "nylon_guitar"),
        ("guitar", "metal", "distorted_guitar"),
        ("bass", "metal", "picked_bass"),
        ("bass", "trap", "bass_808"),
        ("sax", "smooth_jazz", "soprano_sax"),
        ("organ", "hymn", "church_organ"),
        ("drums", "salsa", "latin_kit"),
        # the style plays the plain instrument itself: it stays
        ("bass", "rock", "electric_bass"),
        ("drums", "rock", "drum_kit"),
        ("guitar", "rock", "electric_guitar"),
        ("bass", "lofi_hip_hop", "electric_bass"),
        # the style has no kind of it: the plain instrument
        ("guitar", "techno", "electric_guitar"),
        ("drums", "ambient", "drum_kit"),
        # a player's kit is never a drum machine
        ("drum kit", "techno", "drum_kit"),
    ],
)
def test_a_generic_word_is_the_styles_kind(word: str, genre: str, kind: str) -> None:
    found = genre_kind(KB, word, KB.genres[genre])
    assert found is not None and found.id == kind


def test_a_specific_name_or_no_style_is_not_resolved() -> None:
    assert genre_kind(KB, "electric bass", KB.genres["jazz"]) is None
    assert genre_kind(KB, "rock drums", KB.genres["jazz"]) is None
    plain = genre_kind(KB, "bass", None)
    assert plain is not None and plain.id == "electric_bass"


def test_a_kind_already_taken_is_passed_over() -> None:
    """ "bossa nova with nylon guitar and guitar": the second guitar is not the same one."""
    found = genre_kind(KB, "guitar", KB.genres["bossa_nova"], taken={"nylon_guitar"})
    assert found is not None and found.id == "electric_guitar"


@settings(max_examples=150, deadline=None)
@given(word=st.sampled_from(GENERIC_WORDS), genre=st.sampled_from(GENRES))
def test_a_generic_word_resolves_to_the_plain_instrument_or_a_listed_kind(
    word: str, genre: str
) -> None:
    """Whatever the style: the plain instrument, or one of the word's kinds that the style
    lists; and the plain one whenever the style lists it."""
    generic = KB.generic_instrument(word)
    assert generic is not None
    style = KB.genres[genre]
    listed = {iid for ids in style.instrumentation.values() for iid in ids}
    found = genre_kind(KB, word, style)
    assert found is not None
    if generic.instrument in listed or not listed & set(KB.kinds(generic)):
        assert found.id == generic.instrument
    else:
        assert found.id in listed & set(KB.kinds(generic))
    assert found.drum == KB.instruments[generic.instrument].drum


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(SPECIFIC_NAMES), genre=st.sampled_from(GENRES))
def test_a_specific_name_is_never_resolved(name: str, genre: str) -> None:
    assert genre_kind(KB, name, KB.genres[genre]) is None


@settings(max_examples=80, deadline=None)
@given(word=st.sampled_from(GENERIC_WORDS), genre=st.sampled_from(GENRES))
def test_the_parser_and_the_mapper_resolve_a_generic_word_alike(word: str, genre: str) -> None:
    """Read offline, "<style> with <word>" plays the style's kind; an LLM answer naming the
    same style and the bare word maps to the same instrument."""
    style = KB.genres[genre]
    pre = preprocess(f"{style.name} with {word}", check_length=False)
    reading = parse_rules(pre.text, original=pre.original)
    if (reading.sub_genre_id or reading.genre_id) != genre:
        return  # the style's name reads as another genre here; nothing to compare
    kind = genre_kind(KB, word, style)
    assert kind is not None
    assert kind.id in {iid for iid, _, _ in reading.instrument_ids}
    llm = reading.parsed.model_copy(
        update={"instrumentation": [InstrumentMention(name=word, role=kind.role, confidence=0.8)]}
    )
    mapped = map_parameters(llm).parameters
    assert mapped.instrumentation[0].name == kind.id


@pytest.mark.parametrize(
    ("genre", "present", "size", "added"),
    [
        # a jazz quintet: the rhythm section, then a second horn (not a second kit)
        ("jazz", [], 5, ["piano", "double_bass", "jazz_kit", "tenor_sax", "trumpet"]),
        ("jazz", ["tenor_sax"], 5, ["piano", "double_bass", "jazz_kit", "trumpet"]),
    ],
)
def test_filling_an_ensemble_takes_a_second_player_for_a_role(
    genre: str, present: list[str], size: int, added: list[str]
) -> None:
    named = [
        InstrumentMention(name=i, role=KB.instruments[i].role, confidence=1.0) for i in present
    ]
    lineup = resolve_lineup(named, KB.genres[genre], Exclusions(), ensemble_size=size, kb=KB)
    assert lineup.ids()[len(present) :] == added


@settings(max_examples=120, deadline=None)
@given(genre=st.sampled_from(GENRES), limit=st.integers(min_value=0, max_value=8))
def test_filling_never_repeats_an_instrument_or_adds_a_second_kit(genre: str, limit: int) -> None:
    """Up to a limit or an ensemble's size: at most that many, no instrument twice, one
    drum kit at most, never a voice."""
    style = KB.genres[genre]
    for lineup in (
        resolve_lineup([], style, Exclusions(), limit=limit, kb=KB),
        resolve_lineup([], style, Exclusions(), ensemble_size=limit, kb=KB),
    ):
        ids = lineup.ids()
        assert len(ids) <= max(limit, 1) and len(ids) == len(set(ids))
        assert sum(1 for i in lineup.instruments if i.role == "drums") <= 1
        assert not any(KB.instruments[i].plays == "voice" for i in ids)
