"""Broken data is refused at load with an error naming the file, the record and the field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from soundstar.errors import ConfigError
from soundstar.knowledge import DEFAULT_DATA_DIR, KnowledgeError, load_knowledge

Records = list[dict[str, Any]]


def _data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _edit(
    data_dir: Path, table: str, change: Callable[[Records], None], key: str | None = None
) -> None:
    """Change the records under `key` (default: the table's name) of a table's file."""
    path = data_dir / f"{table}.yaml"
    document: dict[str, Records] = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document[key or table])
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def _record(records: Records, key: str, value: str) -> dict[str, Any]:
    return next(r for r in records if r.get(key) == value)


def _expect(data_dir: Path, *parts: str) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data_dir)
    message = str(caught.value)
    for part in parts:
        assert part in message, message
    return caught.value


def test_an_untouched_copy_loads(tmp_path: Path) -> None:
    kb = load_knowledge(_data_copy(tmp_path))
    assert kb.find_genre("lofi") is not None


def test_unknown_parent(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "genres", lambda rs: _record(rs, "id", "chillhop").update(parent="lofi_hop"))
    error = _expect(data, "genres.yaml", "chillhop", "parent", "lofi_hop")
    assert isinstance(error, ConfigError) and error.field == "parent"


def test_parent_loop(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)

    def loop(rs: Records) -> None:
        _record(rs, "id", "lofi_hip_hop").update(parent="chillhop")

    _edit(data, "genres", loop)
    _expect(data, "genres.yaml", "parent", "loops")


def test_root_missing_a_field(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "genres", lambda rs: _record(rs, "id", "pop").pop("swing"))
    _expect(data, "genres.yaml", "'pop'", "swing", "root")


def test_unknown_instrument_in_a_lineup(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)

    def change(rs: Records) -> None:
        _record(rs, "id", "trap")["instrumentation"]["bass"] = ["bass_909"]

    _edit(data, "genres", change)
    _expect(data, "genres.yaml", "trap", "instrumentation.bass", "bass_909")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("drum_grooves", ["no_such_groove"]),
        ("bass_grooves", ["no_such_bass"]),
        ("progressions", ["no_such_progression"]),
        ("structures", ["no_such_structure"]),
        ("moods", ["no_such_mood"]),
    ],
)
def test_unknown_genre_references(tmp_path: Path, field: str, value: list[str]) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "genres", lambda rs: _record(rs, "id", "house").update({field: value}))
    _expect(data, "genres.yaml", "house", field, value[0])


def test_alias_clash_within_a_table(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "genres", lambda rs: _record(rs, "id", "house")["aliases"].append("dnb"))
    _expect(data, "genres.yaml", "aliases", "dnb")


def test_the_same_alias_in_two_tables_is_allowed(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "moods", lambda rs: _record(rs, "id", "happy")["aliases"].append("reggae"))
    kb = load_knowledge(data)
    assert ("moods", "happy") in kb.vocabulary_all()["reggae"]
    assert kb.vocabulary()["reggae"] == ("genres", "reggae")


def test_groove_pattern_of_the_wrong_length(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data,
        "drum_grooves",
        lambda rs: _record(rs, "id", "four_on_floor")["voices"].update(kick="X...X...X...X.."),
    )
    _expect(data, "drum_grooves.yaml", "four_on_floor", "15 characters", "16")


def test_bass_pattern_of_the_wrong_length(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "bass_grooves", lambda rs: _record(rs, "id", "walking").update(pattern="WWW"))
    _expect(data, "bass_grooves.yaml", "walking", "steps is 4")


@pytest.mark.parametrize(
    ("glides", "message"),
    [
        ("........~..~...", "'glides' has 15 characters"),
        ("........~..x....", "'glides' uses 'x'"),
        (".~..............", "glides mark step 1 ('-')"),
        ("...............~", "which plays no note"),
    ],
)
def test_bass_glides_that_do_not_fit_the_pattern(tmp_path: Path, glides: str, message: str) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data, "bass_grooves", lambda rs: _record(rs, "id", "trap_808_slides").update(glides=glides)
    )
    _expect(data, "bass_grooves.yaml", "trap_808_slides", message)


def test_unknown_drum_voice(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data,
        "drum_grooves",
        lambda rs: _record(rs, "id", "disco")["voices"].update(cowbell_big="x" * 16),
    )
    _expect(data, "drum_grooves.yaml", "disco", "cowbell_big")


def test_section_ratios_not_summing_to_one(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data,
        "structures",
        lambda rs: _record(rs, "id", "aaba")["sections"][0].update(ratio=0.5),
    )
    _expect(data, "structures.yaml", "aaba", "sum to 1.25")


def test_unknown_role_and_timbre(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "instruments", lambda rs: _record(rs, "id", "piano").update(role="rhythm"))
    _expect(data, "instruments.yaml", "piano", "role")
    data2 = _data_copy(tmp_path / "second")
    _edit(data2, "instruments", lambda rs: _record(rs, "id", "piano").update(timbre="grand"))
    _expect(data2, "instruments.yaml", "piano", "timbre")


def test_unknown_role_in_a_lineup(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)

    def change(rs: Records) -> None:
        _record(rs, "id", "rock")["instrumentation"]["rhythm"] = ["electric_guitar"]

    _edit(data, "genres", change)
    _expect(data, "genres.yaml", "rock", "instrumentation")


def test_bad_roman_numeral(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data, "progressions", lambda rs: _record(rs, "id", "pop_axis").update(numerals=["I", "Vb9"])
    )
    _expect(data, "progressions.yaml", "pop_axis", "numerals", "Vb9")


def test_misspelt_field_is_refused(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "moods", lambda rs: _record(rs, "id", "calm").update(valance=0.5))
    _expect(data, "moods.yaml", "calm", "valance")


def test_malformed_yaml(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    (data / "eras.yaml").write_text("eras:\n  - {id: 1980s, aliases: [80s\n", encoding="utf-8")
    _expect(data, "eras.yaml", "not valid YAML")


def test_missing_file(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    (data / "artists.yaml").unlink()
    _expect(data, "artists.yaml", "cannot read")


def test_wrong_top_level_key(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    (data / "moods.yaml").write_text("mood:\n  - {id: calm}\n", encoding="utf-8")
    _expect(data, "moods.yaml", "moods:")


def test_an_articulation_word_listed_twice(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "articulations", lambda rs: rs[1]["words"].append(rs[0]["words"][0]))
    _expect(data, "articulations.yaml", "pulsing", "listed twice")


def test_an_articulation_with_an_unknown_bass_groove(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "articulations", lambda rs: rs[0].update(bass_groove="pulse_bass"))
    _expect(data, "articulations.yaml", "bass_groove", "pulse_bass")


def test_an_ensemble_word_listed_twice(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "ensembles", lambda rs: rs.append({"word": "trio", "size": 4}))
    _expect(data, "ensembles.yaml", "trio", "duplicate")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"size": 1}, "size"), ({"word": "piano trio"}, "one lowercase word")],
)
def test_an_ensemble_word_out_of_shape(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "ensembles", lambda rs: rs[0].update(change))
    _expect(data, "ensembles.yaml", field)


def _quartet(records: Records) -> dict[str, Any]:
    return _record(records, "id", "string_quartet")


def test_an_ensemble_member_that_is_not_an_instrument(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data,
        "ensembles",
        lambda rs: _quartet(rs)["members"].update(fiddle2="lead"),
        "named_ensembles",
    )
    _expect(
        data, "ensembles.yaml", "string_quartet", "members", "'fiddle2' is not an instrument id"
    )


@pytest.mark.parametrize(
    ("change", "parts"),
    [
        ({"members": {"violin": "lead", "cello": "bassline"}}, ("members.cello", "should be")),
        ({"members": {"violin": "lead"}}, ("members", "at least 2")),
        ({"members": {"violin": "lead", "drum_kit": "bass"}}, ("members.drum_kit", "drum-kit")),
        ({"genre": "chamber"}, ("genre", "unknown genre id 'chamber'")),
        ({"aliases": ["strings"]}, ("aliases", "'strings' already names the instrument")),
        ({"aliases": ["Quartet Of Strings"]}, ("aliases", "lowercase")),
        ({"second_players": ["flute"]}, ("second_players", "'flute'", "not members")),
    ],
)
def test_a_named_ensemble_out_of_shape(
    tmp_path: Path, change: dict[str, Any], parts: tuple[str, ...]
) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "ensembles", lambda rs: _quartet(rs).update(change), "named_ensembles")
    _expect(data, "ensembles.yaml", "string_quartet", *parts)


def test_a_named_ensemble_alias_used_twice(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data,
        "ensembles",
        lambda rs: _record(rs, "id", "string_trio")["aliases"].append("quartet of strings"),
        "named_ensembles",
    )
    _expect(data, "ensembles.yaml", "string_trio", "aliases", "quartet of strings")


def _keep_only(data: Path, name: str) -> None:
    """Rewrite data/NAME.yaml with its main table NAME only, as older data files were."""
    path = data / f"{name}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({name: document[name]}), encoding="utf-8")


def test_a_file_without_named_ensembles_loads_none(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _keep_only(data, "ensembles")
    assert load_knowledge(data).named_ensembles == {}


def _generic(records: Records, instrument: str) -> dict[str, Any]:
    return _record(records, "instrument", instrument)


@pytest.mark.parametrize(
    ("change", "parts"),
    [
        ({"words": ["bass", "bassline"]}, ("'bassline' is not a name of 'electric_bass'",)),
        ({"words": ["Bass"]}, ("words", "lowercase")),
        ({"kinds": ["double_bass", "bass_fiddle"]}, ("kinds", "unknown instrument id")),
        ({"kinds": ["jazz_kit"]}, ("kinds", "not both drum kits or both pitched")),
        ({"instrument": "electric_bass_guitar"}, ("instrument", "unknown instrument id")),
    ],
)
def test_a_generic_instrument_out_of_shape(
    tmp_path: Path, change: dict[str, Any], parts: tuple[str, ...]
) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data,
        "instruments",
        lambda rs: _generic(rs, "electric_bass").update(change),
        "generic_instruments",
    )
    _expect(data, "instruments.yaml", *parts)


def test_a_generic_word_listed_twice(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data,
        "instruments",
        lambda rs: rs.append({"words": ["bass"], "instrument": "electric_bass"}),
        "generic_instruments",
    )
    _expect(data, "instruments.yaml", "bass", "words", "listed twice")


def test_a_file_without_generic_instruments_loads_none(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _keep_only(data, "instruments")
    assert load_knowledge(data).generic_instruments == {}


@pytest.mark.parametrize(
    ("gid", "change", "parts"),
    [
        ("jazz_ballad", {"form_of": "jazz"}, ("form_of", "'jazz' must have form_words")),
        ("jazz_ballad", {"form_of": "balad"}, ("form_of", "unknown genre id 'balad'")),
        ("ballad", {"form_words": ["torch song"]}, ("form_words", "not a name or alias")),
    ],
)
def test_a_form_out_of_shape(
    tmp_path: Path, gid: str, change: dict[str, Any], parts: tuple[str, ...]
) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "genres", lambda rs: _record(rs, "id", gid).update(change))
    _expect(data, "genres.yaml", gid, *parts)


def test_an_ensemble_word_implying_an_unknown_genre(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "ensembles", lambda rs: _record(rs, "word", "trio").update(genre="chamber"))
    _expect(data, "ensembles.yaml", "trio", "genre", "unknown genre id 'chamber'")


@pytest.mark.parametrize(
    ("instrument", "change", "problem"),
    [
        ("congas", {"voices": []}, "names its drum voices"),
        ("piano", {"voices": ["kick"]}, "has no voices"),
        ("hi_hat", {"plays": "melodic"}, "needs a timbre"),
        ("drum_kit", {"timbre": "piano"}, "timbre null"),
        ("piano", {"plays": "strummed"}, "plays"),
    ],
)
def test_an_instrument_that_does_not_play_as_it_says(
    tmp_path: Path, instrument: str, change: dict[str, Any], problem: str
) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "instruments", lambda rs: _record(rs, "id", instrument).update(change))
    _expect(data, "instruments.yaml", instrument, problem)


def test_an_instrument_must_say_how_it_plays(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(data, "instruments", lambda rs: _record(rs, "id", "piano").pop("plays"))
    _expect(data, "instruments.yaml", "piano", "plays")


@pytest.mark.parametrize(
    ("table", "groove", "change", "problem"),
    [
        ("drum_grooves", "disco", {"plain": True}, "already has this place"),
        ("drum_grooves", "hand_percussion", {"plain": True}, "only a kit groove"),
        ("drum_grooves", "disco", {"role": "hand_percussion"}, "already has this place"),
        ("bass_grooves", "walking", {"plain": True}, "already has this place"),
    ],
)
def test_a_meter_has_one_plain_groove_and_one_hand_percussion_groove(
    tmp_path: Path, table: str, groove: str, change: dict[str, Any], problem: str
) -> None:
    data = _data_copy(tmp_path)
    _edit(data, table, lambda rs: _record(rs, "id", groove).update(change))
    _expect(data, f"{table}.yaml", problem)


def test_a_genre_plays_kit_grooves_only(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    _edit(
        data,
        "genres",
        lambda rs: _record(rs, "id", "salsa").update(drum_grooves=["hand_percussion"]),
    )
    _expect(data, "genres.yaml", "salsa", "not a kit groove")
