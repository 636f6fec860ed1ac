"""The shipped knowledge base: sizes, references, inheritance, lookups and musical sanity."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from soundstar.knowledge import DEFAULT_DATA_DIR, KnowledgeBase, load_knowledge
from soundstar.knowledge.vocab import DRUM_VOICES
from soundstar.theory import numeral_to_chord


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def _raw(table: str) -> list[dict[str, object]]:
    data = yaml.safe_load((DEFAULT_DATA_DIR / f"{table}.yaml").read_text(encoding="utf-8"))
    records: list[dict[str, object]] = data[table]
    return records


def test_tables_meet_the_minimum_sizes(kb: KnowledgeBase) -> None:
    assert len(kb.genres) >= 150
    assert len(kb.moods) >= 100
    assert len(kb.instruments) >= 120
    assert len(kb.artists) >= 150
    assert {f"{decade}s" for decade in range(1920, 2030, 10)} <= set(kb.eras)
    assert len(kb.tempo_terms) >= 20
    assert len(kb.abbreviations) >= 10


def test_required_grooves_and_forms_exist(kb: KnowledgeBase) -> None:
    drums = {
        "four_on_floor", "backbeat_rock", "pop_backbeat", "boom_bap", "trap", "jazz_ride",
        "bossa_nova", "reggae_one_drop", "waltz", "six_eight", "half_time", "breakbeat_dnb",
        "funk", "shuffle", "motorik", "afrobeat", "reggaeton", "disco", "synthwave_drive",
        "lofi", "salsa_clave", "seven_eight",
    }  # fmt: skip
    bass = {
        "root_eighths", "root_quarters", "root_fifth", "octave_pop", "walking", "bossa",
        "reggae", "sub_808", "funk_sixteenths", "rock_eighths", "waltz_root", "six_eight",
        "dnb_rolling", "house_offbeat", "lofi_laid_back", "tumbao",
    }  # fmt: skip
    forms = {
        "verse_chorus", "verse_chorus_bridge", "aaba", "abab", "ab", "aba", "rondo",
        "twelve_bar_blues", "edm_drop", "loop_based", "through_composed", "minimal_short",
        "jazz_head_solos",
    }  # fmt: skip
    assert drums <= set(kb.drum_grooves)
    assert bass <= set(kb.bass_grooves)
    assert forms <= set(kb.structures)


def test_every_genre_reference_resolves(kb: KnowledgeBase) -> None:
    for g in kb.genres.values():
        assert g.parent is None or g.parent in kb.genres
        assert set(g.drum_grooves) <= set(kb.drum_grooves), g.id
        assert set(g.bass_grooves) <= set(kb.bass_grooves), g.id
        assert set(g.progressions) <= set(kb.progressions), g.id
        assert set(g.structures) <= set(kb.structures), g.id
        assert set(g.moods) <= set(kb.moods), g.id
        for ids in g.instrumentation.values():
            assert set(ids) <= set(kb.instruments), g.id
    for a in kb.artists:
        assert set(a.genres) <= set(kb.genres), a.name
        assert set(a.instruments) <= set(kb.instruments), a.name
        assert a.era is None or a.era in kb.eras


def test_children_inherit_what_they_do_not_state(kb: KnowledgeBase) -> None:
    raw = {r["id"]: r for r in _raw("genres")}
    assert "drum_grooves" not in raw["chillhop"]
    assert kb.genres["chillhop"].drum_grooves == kb.genres["lofi_hip_hop"].drum_grooves
    assert kb.genres["chillhop"].bpm != kb.genres["lofi_hip_hop"].bpm
    # three levels down: uk_drill -> drill -> trap -> hip_hop
    assert kb.genre_ancestors("uk_drill") == ["drill", "trap", "hip_hop"]
    assert kb.genres["uk_drill"].drum_kit == kb.genres["trap"].drum_kit == "electronic_808"
    # instrumentation merges by role: chillhop names only its lead
    assert (
        kb.genres["chillhop"].instrumentation["bass"]
        == (kb.genres["lofi_hip_hop"].instrumentation["bass"])
    )
    # an empty list removes a role
    assert "drums" not in kb.genres["gypsy_jazz"].instrumentation
    assert "drums" in kb.genres["swing"].instrumentation


def test_root_has_no_ancestors(kb: KnowledgeBase) -> None:
    assert kb.genre_ancestors("pop") == []
    assert kb.genre_ancestors("no_such_genre") == []


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("lofi", "lofi_hip_hop"),
        ("lo-fi hip hop", "lofi_hip_hop"),
        ("Lo Fi", "lofi_hip_hop"),
        ("chillhop", "lofi_hip_hop"),
        ("DnB", "drum_and_bass"),
        ("d&b", "drum_and_bass"),
        ("liquid funk", "drum_and_bass"),
        ("EDM", "edm"),
        ("retrowave", "synthwave"),
        ("bossa nova", "bossa_nova"),
        ("R&B", "rnb"),
        ("ukg", "uk_garage"),
    ],
)
def test_genre_aliases_resolve_to_their_family(kb: KnowledgeBase, text: str, family: str) -> None:
    genre = kb.find_genre(text)
    assert genre is not None
    assert family == genre.id or family in kb.genre_ancestors(genre.id)


@pytest.mark.parametrize("text", ["80s", "'80s", "eighties", "1980s", "the 80s", "\u201980s"])
def test_eighties_spellings_resolve(kb: KnowledgeBase, text: str) -> None:
    era = kb.find_era(text)
    assert era is not None and era.id == "1980s"


def test_artist_lookup_ignores_case_and_article(kb: KnowledgeBase) -> None:
    for text in ("The Midnight", "the midnight", "THE MIDNIGHT"):
        artist = kb.find_artist(text)
        assert artist is not None and artist.name == "The Midnight"
        assert "synthwave" in artist.genres and artist.era == "2010s"
    assert kb.find_artist("Rolling Stones") is not None
    assert kb.find_artist("nobody at all") is None


@pytest.mark.parametrize(
    ("text", "instrument"),
    [
        ("bass synthesizer", "synth_bass"),
        ("upright bass", "double_bass"),
        ("tenor saxophone", "tenor_sax"),
        ("808", "bass_808"),
        ("808 drums", "drums_808"),
        ("hi-hat", "hi_hat"),
        ("strings", "string_ensemble"),
        ("nylon guitar", "nylon_guitar"),
        ("pedal steel guitar", "pedal_steel"),
        ("Rhodes", "rhodes"),
    ],
)
def test_instrument_aliases(kb: KnowledgeBase, text: str, instrument: str) -> None:
    found = kb.find_instrument(text)
    assert found is not None and found.id == instrument


def test_other_lookups(kb: KnowledgeBase) -> None:
    assert kb.find_mood("melancholy") == kb.moods["melancholic"]
    structure = kb.find_structure("verse chorus")
    assert structure is not None and structure.id == "verse_chorus"
    progression = kb.find_progression("ii-V-I")
    assert progression is not None and progression.id == "ii_v_i"
    assert kb.find_progression("andalusian") == kb.progressions["andalusian"]
    assert kb.find_genre("") is None and kb.find_genre("not a genre at all") is None


def test_every_groove_pattern_fills_its_steps(kb: KnowledgeBase) -> None:
    for groove in kb.drum_grooves.values():
        bars = [groove.voices]
        bars += [v.voices for v in groove.variations]
        bars += [b.voices for b in (groove.fill, groove.alternate) if b is not None]
        for voices in bars:
            for voice, pattern in voices.items():
                assert voice in DRUM_VOICES
                assert len(pattern) == groove.steps, (groove.id, voice)
    for bass in kb.bass_grooves.values():
        assert len(bass.pattern) == bass.steps, bass.id


def test_genre_tempos_are_sane(kb: KnowledgeBase) -> None:
    for g in kb.genres.values():
        lo, hi = g.bpm
        assert 40 <= lo <= hi <= 240, g.id
        assert lo <= g.default_bpm <= hi, g.id


@pytest.mark.parametrize(
    ("genre", "lo", "hi"),
    [
        ("drum_and_bass", 160, 180),
        ("house", 118, 130),
        ("lofi_hip_hop", 70, 90),
        ("bossa_nova", 110, 145),
        ("reggae", 60, 95),
        ("synthwave", 80, 118),
        ("trap", 130, 150),
        ("dubstep", 138, 150),
        ("techno", 120, 150),
    ],
)
def test_genre_tempo_follows_practice(kb: KnowledgeBase, genre: str, lo: int, hi: int) -> None:
    g = kb.genres[genre]
    assert lo <= g.bpm[0] and g.bpm[1] <= hi
    assert lo <= g.default_bpm <= hi


def test_meters_follow_practice(kb: KnowledgeBase) -> None:
    assert kb.genres["waltz"].meters[0] == "3/4"
    assert kb.genres["jazz_waltz"].meters[0] == "3/4"
    assert kb.drum_grooves["waltz"].meter == "3/4"
    assert kb.drum_grooves["six_eight"].meter == "6/8"
    assert kb.drum_grooves["seven_eight"].steps == 14


def test_a_genre_only_uses_grooves_in_its_meters(kb: KnowledgeBase) -> None:
    for g in kb.genres.values():
        for gid in g.drum_grooves:
            assert kb.drum_grooves[gid].meter in g.meters, (g.id, gid)
        if g.drum_grooves:
            assert any(kb.drum_grooves[d].meter == g.meters[0] for d in g.drum_grooves), g.id


def test_general_midi_programs_are_zero_based(kb: KnowledgeBase) -> None:
    expected = {
        "piano": 0, "electric_bass": 33, "synth_lead": 81, "new_age_pad": 88,
        "string_ensemble": 48, "double_bass": 32, "tenor_sax": 66, "flute": 73,
        "trumpet": 56, "nylon_guitar": 24, "acoustic_guitar": 25, "fiddle": 110, "timpani": 47,
    }  # fmt: skip
    for inst_id, program in expected.items():
        assert kb.instruments[inst_id].gm_program == program, inst_id


def test_drum_entries_have_no_timbre_and_pitched_ones_do(kb: KnowledgeBase) -> None:
    for inst in kb.instruments.values():
        assert (inst.timbre is None) == inst.drum, inst.id
        lo, hi = inst.register
        assert 0 <= lo <= hi <= 127


def test_bass_registers_sit_low(kb: KnowledgeBase) -> None:
    for inst in kb.instruments.values():
        if inst.family == "bass":
            assert inst.register[0] <= 40 and inst.register[1] <= 67, inst.id


def test_progressions_spell_real_chords(kb: KnowledgeBase) -> None:
    for p in kb.progressions.values():
        chords = [numeral_to_chord(n, f"A {p.mode}") for n in p.numerals]
        assert len(chords) == len(p.numerals)
    epic = [numeral_to_chord(n, "A minor") for n in kb.progressions["epic_minor"].numerals]
    assert epic == ["Am", "F", "C", "G"]


def test_structure_ratios_sum_to_one_and_short_forms_exist(kb: KnowledgeBase) -> None:
    for s in kb.structures.values():
        assert abs(sum(sec.ratio for sec in s.sections) - 1.0) < 1e-6, s.id
    assert any(len(s.sections) <= 2 for s in kb.structures.values())
    drop = kb.structures["edm_drop"]
    assert "drop" in {sec.name for sec in drop.sections}
    energies = [sec.energy for sec in kb.structures["through_composed"].sections]
    assert max(energies) > energies[0] and energies[-1] < max(energies)


def test_tempo_terms_carry_one_kind_of_value(kb: KnowledgeBase) -> None:
    terms = {t.term: t for t in kb.tempo_terms}
    assert terms["double-time"].multiplier == 2.0
    assert terms["half-time"].multiplier == 0.5
    assert terms["largo"].bpm is not None and terms["largo"].bpm[1] <= 66
    assert terms["presto"].bpm is not None and terms["presto"].bpm[0] >= 160
    for t in kb.tempo_terms:
        assert (t.bpm is None) != (t.multiplier is None)


def test_ensemble_words_state_their_sizes(kb: KnowledgeBase) -> None:
    sizes = {word: e.size for word, e in kb.ensembles.items()}
    assert sizes == {"duet": 2, "duo": 2, "trio": 3, "quartet": 4, "quintet": 5, "sextet": 6}


def test_named_ensembles_are_their_members_in_playing_parts(kb: KnowledgeBase) -> None:
    """Each named ensemble has a melody (lead) and a bass part, and members that exist."""
    quartet = kb.find_ensemble("string-quartet")
    assert quartet is not None and quartet.id == "string_quartet"
    assert quartet.members == {"violin": "lead", "viola": "chords", "cello": "bass"}
    assert quartet.genre == "chamber_music"
    assert kb.find_instrument("string quartet") is None  # the group, not the string section
    assert kb.find_ensemble("piano trio") is None  # classical or jazz: the genre decides
    for ensemble in kb.named_ensembles.values():
        roles = list(ensemble.members.values())
        assert roles[0] == "lead" and roles[-1] == "bass" and roles.count("lead") == 1
        for iid in ensemble.members:
            assert iid in kb.instruments and not kb.instruments[iid].drum
        assert ensemble.genre is None or ensemble.genre in kb.genres
        assert kb.vocabulary()[ensemble.name.lower()] == ("named_ensembles", ensemble.id)


def test_abbreviations_expand_to_known_genres(kb: KnowledgeBase) -> None:
    for short in ("edm", "dnb", "d&b", "ukg", "idm", "r&b", "lofi"):
        expansion = kb.abbreviations[short]
        assert kb.find_genre(expansion) is not None, (short, expansion)
    assert kb.find_instrument(kb.abbreviations["808"]) == kb.instruments["bass_808"]


def test_vocabulary_covers_every_table(kb: KnowledgeBase) -> None:
    vocab = kb.vocabulary()
    assert vocab["lofi"] == ("genres", "lofi_hip_hop")
    assert vocab["the midnight"] == ("artists", "The Midnight")
    assert vocab["80s"] == ("eras", "1980s")
    assert vocab["melancholy"] == ("moods", "melancholic")
    assert vocab["largo"] == ("tempo_terms", "largo")
    tables: dict[str, set[str]] = {
        "genres": set(kb.genres), "moods": set(kb.moods), "instruments": set(kb.instruments),
        "eras": set(kb.eras), "structures": set(kb.structures),
        "progressions": set(kb.progressions),
    }  # fmt: skip
    for surface, refs in kb.vocabulary_all().items():
        assert surface == surface.lower()
        for table, ref in refs:
            if table in tables:
                assert ref in tables[table], (surface, table, ref)
    assert set(kb.genre_vocabulary().values()) == {("genres", g) for g in kb.genres}


def test_eval_prompts_are_not_copied_into_the_data() -> None:
    eval_file = Path("/work/shared/eval/prompts.jsonl")
    if not eval_file.exists():
        pytest.skip("no dev set on this machine")
    import json

    data = "\n".join(p.read_text(encoding="utf-8").lower() for p in DEFAULT_DATA_DIR.glob("*.yaml"))
    for line in eval_file.read_text(encoding="utf-8").splitlines():
        prompt = json.loads(line)["prompt"].lower()
        assert prompt not in data


def test_generic_drums_play_the_genre_kit(kb: KnowledgeBase) -> None:
    assert kb.instruments["drum_kit"].kit is None
    assert kb.instruments["acoustic_drums"].kit == "acoustic"
    assert kb.instruments["drums_808"].kit == "electronic_808"
    for g in kb.genres.values():
        if "drums" in g.instrumentation:
            assert g.drum_grooves and g.drum_kit is not None, g.id


def test_variants_name_their_base_instrument(kb: KnowledgeBase) -> None:
    assert kb.instruments["distorted_guitar"].variant_of == "electric_guitar"
    assert kb.instruments["bass_808"].variant_of == "synth_bass"
    for inst in kb.instruments.values():
        if inst.variant_of is not None:
            base = kb.instruments[inst.variant_of]
            assert base.variant_of is None and base.drum == inst.drum, inst.id


def test_generic_instrument_words_name_their_plain_instrument(kb: KnowledgeBase) -> None:
    """ "bass" and "drums" are generic; "electric bass" and "rock drums" are specific."""
    bass = kb.generic_instrument("Bass")
    assert bass is not None and bass.instrument == "electric_bass"
    assert {"double_bass", "picked_bass", "synth_bass", "bass_808"} <= set(kb.kinds(bass))
    drums = kb.generic_instrument("drums")
    assert drums is not None and {"jazz_kit", "brushes"} <= set(kb.kinds(drums))
    for specific in ("electric bass", "upright bass", "rock drums", "jazz drums", ""):
        assert kb.generic_instrument(specific) is None
    for word, generic in kb.generic_instruments.items():
        assert kb.find_instrument(word) == kb.instruments[generic.instrument], word
        kinds = kb.kinds(generic)
        assert kinds[0] == generic.instrument and len(kinds) == len(set(kinds))
        assert {kb.instruments[k].drum for k in kinds} == {kb.instruments[generic.instrument].drum}
        assert set(kb.variants(generic.instrument)) <= set(kinds)


def test_a_ballad_is_a_form_with_versions_in_other_styles(kb: KnowledgeBase) -> None:
    """ "ballad" names a form any style can take; "pop ballad" names pop's own. The
    fields are not inherited: a ballad's sub-genres are not forms themselves."""
    ballad = kb.genres["ballad"]
    assert "ballad" in ballad.form_words and "pop ballad" not in ballad.form_words
    versions = {g.id for g in kb.genres.values() if g.form_of == "ballad"}
    assert {"jazz_ballad", "power_ballad"} <= versions
    for g in kb.genres.values():
        if g.form_of is not None:
            assert kb.genres[g.form_of].form_words and g.parent is not None, g.id
        if g.parent is not None and kb.genres[g.parent].form_of is not None:
            assert g.form_of is None, g.id


def test_an_ensemble_word_names_no_genre_but_may_imply_one(kb: KnowledgeBase) -> None:
    """ "quintet" is not a name of chamber music (so "a jazz quintet" stays jazz); the word
    implies chamber music only when no style is named (the parser's rule)."""
    assert kb.find_genre("quintet") is None
    assert kb.ensembles["quintet"].genre == "chamber_music"
    for word, ensemble in kb.ensembles.items():
        assert kb.find_genre(word) is None, word
        assert ensemble.genre is None or ensemble.genre in kb.genres
