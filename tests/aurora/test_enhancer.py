"""The offline enhancer: levels differ, stated values win, exclusions hold, the result parses back."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soundstar.aurora.enhancer import LEVELS, enhance_rules
from soundstar.aurora.preprocess import preprocess
from soundstar.aurora.rules.parse import parse_rules
from soundstar.errors import ParameterError
from soundstar.knowledge import load_knowledge
from soundstar.knowledge.exclusion import excludes
from soundstar.models import Enhancement, ParsedParameters, Role

KB = load_knowledge()


def _enhance(prompt: str, level: str, context: dict[str, object] | None = None) -> Enhancement:
    pre = preprocess(prompt, check_length=False)
    return enhance_rules(pre.text, level=level, context=context, original=pre.corrected_original)


def _parse(text: str) -> ParsedParameters:
    pre = preprocess(text, check_length=False)
    return parse_rules(pre.text, original=text).parsed


def _added(enhancement: Enhancement, kind: str) -> list[str]:
    return [a.value for a in enhancement.additions if a.type == kind]


def test_levels_differ_visibly() -> None:
    prompt = "dreamy pads and a nostalgic synth lead"
    by_level = {level: _enhance(prompt, level) for level in LEVELS}
    minimal, moderate, aggressive = (by_level[level] for level in LEVELS)
    assert len(minimal.additions) <= 2
    assert {a.type for a in minimal.additions} <= {"genre", "tempo"}
    assert {"genre", "tempo", "key", "instrumentation"} <= {a.type for a in moderate.additions}
    assert 2 <= len(_added(moderate, "instrumentation")) <= 3
    assert {"structure", "time_signature"} <= {a.type for a in aggressive.additions}
    assert len(_added(aggressive, "instrumentation")) > len(_added(moderate, "instrumentation"))
    lengths = [len(e.enhanced_prompt) for e in (minimal, moderate, aggressive)]
    assert lengths == sorted(lengths) and len(set(lengths)) == 3


def test_the_persons_words_open_the_enhanced_prompt() -> None:
    prompt = "Chords Am F C G on a warm Rhodes, like Nujabes"
    for level in LEVELS:
        assert _enhance(prompt, level).enhanced_prompt.startswith(prompt)


def test_genre_implied_by_an_artist_is_added_with_reasoning() -> None:
    enhancement = _enhance("something that sounds like The Midnight", "moderate")
    genre = next(a for a in enhancement.additions if a.type == "genre")
    assert genre.value == "Synthwave"
    assert "The Midnight" in genre.reasoning
    assert 0.0 < genre.confidence <= 1.0


def test_genre_implied_by_instruments_and_moods() -> None:
    enhancement = _enhance("dreamy pads and a nostalgic synth lead", "minimal")
    assert _added(enhancement, "genre") == ["Synthwave"]


def test_tempo_follows_genre_and_mood() -> None:
    calm = _enhance("a sad, melancholic house track", "minimal")
    happy = _enhance("a happy, euphoric house track", "minimal")
    lo, hi = KB.genres["house"].bpm
    calm_bpm = float(_added(calm, "tempo")[0].split()[0])
    happy_bpm = float(_added(happy, "tempo")[0].split()[0])
    assert lo <= calm_bpm < happy_bpm <= hi


def test_stated_values_are_never_re_added() -> None:
    enhancement = _enhance("jazz waltz at 150 bpm in Bb major with piano", "aggressive")
    types = {a.type for a in enhancement.additions}
    assert not types & {"tempo", "key", "genre", "time_signature"}
    parsed = _parse(enhancement.enhanced_prompt)
    assert parsed.tempo.bpm == 150
    assert parsed.key_signature.value == "Bb major"
    assert parsed.time_signature.value == "3/4"


def test_no_drums_means_no_drums_added_at_any_level() -> None:
    for level in LEVELS:
        enhancement = _enhance("an energetic rock song, no drums", level)
        for name in _added(enhancement, "instrumentation"):
            inst = KB.find_instrument(name)
            assert inst is not None and not inst.drum and inst.family != "percussion"
        assert Role.DRUMS in _parse(enhancement.enhanced_prompt).exclusions.roles


def test_solo_instrument_gets_no_accompaniment() -> None:
    enhancement = _enhance("solo cello, slow and sad", "aggressive")
    assert _added(enhancement, "instrumentation") == []


def test_an_ensemble_gets_no_more_instruments_than_its_size() -> None:
    full = _enhance("a cello and harp duet, slow and sad", "aggressive")
    assert _added(full, "instrumentation") == []
    one_short = _enhance("a folk duo with fiddle", "aggressive")
    assert len(_added(one_short, "instrumentation")) == 1


def test_context_hints_are_honoured() -> None:
    context: dict[str, object] = {
        "genre_hint": "bossa nova",
        "mood_hint": "romantic",
        "duration_hint": 90,
    }
    enhancement = _enhance("a song for a summer evening", "moderate", context)
    assert _added(enhancement, "genre") == ["Bossa Nova"]
    assert _added(enhancement, "mood") == ["romantic"]
    assert _added(enhancement, "duration") == ["90 seconds"]
    parsed = _parse(enhancement.enhanced_prompt)
    assert parsed.duration_seconds == 90
    assert "romantic" in {m.value for m in parsed.mood}


def test_a_stated_genre_beats_the_genre_hint() -> None:
    enhancement = _enhance("a techno track", "moderate", {"genre_hint": "jazz"})
    assert _added(enhancement, "genre") == []
    parsed = _parse(enhancement.enhanced_prompt)
    assert (parsed.genre.value, parsed.sub_genre.value) == ("Electronic", "Techno")


def test_deterministic() -> None:
    prompt = "moody trip hop with a dusty breakbeat"
    assert _enhance(prompt, "aggressive") == _enhance(prompt, "aggressive")


def test_unknown_level_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError) as info:
        enhance_rules("a jazz tune", level="wild")
    assert info.value.field == "enhancement_level"


def _assert_round_trip(prompt: str, enhancement: Enhancement) -> None:
    """The enhanced prompt parses to the stated values plus exactly the added ones."""
    before = _parse(prompt)
    after = _parse(enhancement.enhanced_prompt)
    if before.tempo.type == "explicit":
        assert after.tempo.bpm == before.tempo.bpm
    for value in _added(enhancement, "tempo"):
        assert f"{after.tempo.bpm:g} BPM" == value
    if before.key_signature.value:
        assert after.key_signature.value == before.key_signature.value
    for value in _added(enhancement, "key"):
        assert after.key_signature.value == value
    if before.genre.confidence >= 0.9:
        assert (after.genre.value, after.sub_genre.value) == (
            before.genre.value,
            before.sub_genre.value,
        ) or _added(enhancement, "sub_genre")
    for value in _added(enhancement, "genre") + _added(enhancement, "sub_genre"):
        assert value in (after.genre.value, after.sub_genre.value)
    present = {m.name for m in after.instrumentation}
    for value in _added(enhancement, "instrumentation"):
        inst = KB.find_instrument(value)
        assert inst is not None and inst.id in present
        assert not excludes(before.exclusions, inst, inst.role)
    for kind in ("instruments", "families", "roles", "moods"):
        assert set(getattr(before.exclusions, kind)) <= set(getattr(after.exclusions, kind))
    for value in _added(enhancement, "mood"):
        mood = KB.find_mood(value)
        assert mood is not None and mood.id in {m.value for m in after.mood}
    assert after.section_names == before.section_names


@pytest.mark.parametrize("level", LEVELS)
def test_eval_prompts_round_trip(level: str, eval_prompts: list[str]) -> None:
    for prompt in eval_prompts:
        _assert_round_trip(prompt, _enhance(prompt, level))


GENRES = sorted({g.name for g in KB.genres.values()})
MOODS = sorted(m.id.replace("_", " ") for m in KB.moods.values())
INSTRUMENTS = sorted(i.name for i in KB.instruments.values() if i.family != "vocal")
TONICS = ["C", "D", "Eb", "F#", "G", "A", "Bb"]
EXCLUSIONS = ["no drums", "without piano", "no vocals", "no bass", "without strings"]


@st.composite
def kb_prompts(draw: st.DrawFn) -> str:
    parts: list[str] = []
    parts += draw(st.lists(st.sampled_from(MOODS), max_size=2, unique=True))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(GENRES)))
    parts.append("track")
    instruments = draw(st.lists(st.sampled_from(INSTRUMENTS), max_size=2, unique=True))
    if instruments:
        parts.append("with " + " and ".join(instruments))
    text = " ".join(parts)
    if draw(st.booleans()):
        text += f", at {draw(st.integers(60, 180))} bpm"
    if draw(st.booleans()):
        text += f", in {draw(st.sampled_from(TONICS))} {draw(st.sampled_from(['major', 'minor']))}"
    if draw(st.booleans()):
        text += ", " + draw(st.sampled_from(EXCLUSIONS))
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prompt=kb_prompts(), level=st.sampled_from(LEVELS))
def test_stated_values_are_never_contradicted(prompt: str, level: str) -> None:
    _assert_round_trip(prompt, _enhance(prompt, level))


@pytest.mark.parametrize("level", ["moderate", "aggressive"])
def test_a_plain_instrument_is_not_added_beside_a_kind_of_it(level: str) -> None:
    """Modern classical fills its lead with "piano" and its chords with an upright piano;
    the two would read back as one ("Upright Piano and Piano"), so only one is added."""
    enhancement = _enhance("track with Slow Strings", level)
    added = _added(enhancement, "instrumentation")
    assert not {"Upright Piano", "Piano"} <= set(added)
    _assert_round_trip("track with Slow Strings", enhancement)


def test_a_named_ensemble_implies_its_genre_and_gets_no_more_instruments() -> None:
    """ "a brass quintet" is chamber music (not a march, as brass alone suggests) and its
    lineup is whole: two trumpets, horn, trombone and tuba."""
    enhancement = _enhance("a brass quintet", "aggressive")
    assert _added(enhancement, "genre") == ["Chamber Music"]
    assert not _added(enhancement, "instrumentation")
    parsed = _parse(enhancement.enhanced_prompt)
    assert [i.name for i in parsed.instrumentation] == [
        "trumpet",
        "trumpet",
        "french_horn",
        "trombone",
        "tuba",
    ]
