"""The one lineup resolver and the negation grammar: what is left out never plays, "only"
adds nothing, a voice plays only when asked, and nothing musical is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.aurora.lineup import resolve_lineup, sings, voice_notice
from soundstar.aurora.mapper import map_parameters
from soundstar.aurora.pipeline import Aurora
from soundstar.aurora.preprocess import preprocess
from soundstar.aurora.rules.parse import parse_rules
from soundstar.errors import InvalidPromptError
from soundstar.knowledge import load_knowledge
from soundstar.knowledge.exclusion import excludes
from soundstar.models import Exclusions, InstrumentMention, ParsedParameters, Role

KB = load_knowledge()
GENRES = sorted(KB.genres)


def _read(prompt: str) -> ParsedParameters:
    pre = preprocess(prompt, check_length=False)
    return parse_rules(pre.text, original=pre.original).parsed


def _lineup(prompt: str) -> list[str]:
    return [i.name for i in Aurora().understand(prompt).parameters.instrumentation]


@pytest.mark.parametrize(
    ("prompt", "left_out"),
    [
        ("a bluegrass tune without banjo", "banjo"),
        ("a bluegrass tune, no banjo", "banjo"),
        ("a banjo-free bluegrass tune", "banjo"),
        ("a banjo free bluegrass tune", "banjo"),
        ("leave out the banjo, a bluegrass tune", "banjo"),
        ("a bluegrass tune, hold the banjo", "banjo"),
        ("a bluegrass tune with no banjo at all", "banjo"),
    ],
)
def test_each_negation_form_leaves_the_instrument_out(prompt: str, left_out: str) -> None:
    parsed = _read(prompt)
    assert left_out in parsed.exclusions.instruments
    assert left_out not in _lineup(prompt)


@pytest.mark.parametrize(
    ("prompt", "role", "family"),
    [
        ("a drumless lo-fi hip hop beat", Role.DRUMS, None),
        ("ambient, no beat at all", Role.DRUMS, None),
        ("a pop song with no drums", Role.DRUMS, None),
        ("a sad ballad, no strings", None, "strings"),
        ("an instrumental pop song", None, "vocal"),
        ("a vocal-free house track", None, "vocal"),
    ],
)
def test_roles_and_families_are_kept_apart(
    prompt: str, role: Role | None, family: str | None
) -> None:
    exclusions = _read(prompt).exclusions
    assert (role is None) or role in exclusions.roles
    assert (family is None) or family in exclusions.families
    assert (role is not None) or not exclusions.roles


def test_a_mood_negated_is_a_mood_left_out() -> None:
    assert "sad" in _read("a pop song, not sad").exclusions.moods
    assert "sad" not in Aurora().understand("a pop song, not sad").parameters.mood


def test_a_name_inside_a_longer_name_is_not_a_family() -> None:
    exclusions = _read("synthwave at 100 bpm, hold the synth leads").exclusions
    assert "synth_lead" in exclusions.instruments and "synth" not in exclusions.families


@pytest.mark.parametrize(
    ("prompt", "lineup"),
    [
        ("piano only, a calm piece", ["piano"]),
        ("only piano, a calm piece", ["piano"]),
        ("just guitar and cello", ["electric_guitar", "cello"]),
        ("nothing but strings", ["string_ensemble"]),
        ("a folk song with banjo and fiddle, nothing else", ["banjo", "fiddle"]),
        ("an a cappella pop song", ["vocals"]),
    ],
)
def test_only_forms_add_nothing(prompt: str, lineup: list[str]) -> None:
    assert _read(prompt).exclusions.only
    assert sorted(_lineup(prompt)) == sorted(lineup)


def test_without_piano_drops_every_electric_piano() -> None:
    out = Exclusions(instruments=["piano"])
    for iid in ("piano", "upright_piano", "rhodes", "wurlitzer", "fm_piano"):
        assert excludes(out, KB.instruments[iid], "chords"), iid
    assert not excludes(out, KB.instruments["hammond_organ"], "chords")


def test_a_jazz_quartet_without_piano_keeps_its_chords() -> None:
    p = Aurora().understand("a jazz quartet without piano").parameters
    names = [i.name for i in p.instrumentation]
    assert len(names) == 4 and "piano" not in names
    assert Role.CHORDS in {i.role for i in p.instrumentation}


@settings(max_examples=150, deadline=None)
@given(genre=st.sampled_from(GENRES))
def test_a_genre_default_never_adds_a_voice(genre: str) -> None:
    lineup = resolve_lineup([], KB.genres[genre], Exclusions(), kb=KB)
    assert not any(sings(KB.instruments[i]) for i in lineup.ids())


def test_a_voice_asked_for_is_said_to_be_wordless() -> None:
    params = Aurora().understand("a pop song with female vocals").parameters
    assert any(sings(KB.instruments[i.name]) for i in params.instrumentation)
    assert voice_notice(params) and "wordless" in voice_notice(params)[0].message
    assert not voice_notice(Aurora().understand("a pop song with piano").parameters)


_NAMES = sorted(
    i.id for i in KB.instruments.values() if not i.drum and i.family not in ("fx", "vocal")
)


@settings(max_examples=80, deadline=None)
@given(
    genre=st.sampled_from(GENRES),
    kept=st.sampled_from(_NAMES),
    left=st.sampled_from(_NAMES),
    form=st.sampled_from(["without {x}", "no {x}", "leave out the {x}", "hold the {x}"]),
)
def test_nothing_left_out_reaches_the_parameters(
    genre: str, kept: str, left: str, form: str
) -> None:
    """Over generated prompts: no instrument left out (by id, family or role) is in the
    parameters."""
    kept_name, left_name = KB.instruments[kept].name, KB.instruments[left].name
    prompt = f"{KB.genres[genre].name} with {kept_name}, " + form.format(x=left_name)
    try:
        params = Aurora().understand(prompt, check_length=False).parameters
    except InvalidPromptError:
        return
    for spec in params.instrumentation:
        assert not excludes(params.exclusions, KB.instruments[spec.name], spec.role.value)


def test_the_same_exclusion_through_parser_llm_answer_and_fields_gives_one_lineup() -> None:
    """ "Jazz with piano and no drums" read offline, given as an LLM's answer (old-style
    `excluded` words) and as typed fields: one lineup."""
    offline = Aurora().understand("jazz with piano and no drums").parameters
    base = _read("jazz")
    names = [InstrumentMention(name="piano", role="chords", confidence=0.9)]
    as_llm = ParsedParameters.model_validate(
        {**base.model_dump(exclude={"exclusions"}), "instrumentation": names, "excluded": ["drums"]}
    )
    as_fields = base.model_copy(
        update={"instrumentation": names, "exclusions": Exclusions(roles=[Role.DRUMS])}
    )
    lineups = [
        [(i.name, i.role) for i in p.instrumentation]
        for p in (offline, map_parameters(as_llm).parameters, map_parameters(as_fields).parameters)
    ]
    assert lineups[0] == lineups[1] == lineups[2]
    assert all(role not in (Role.DRUMS, Role.PERCUSSION) for _, role in lineups[0])


@pytest.mark.parametrize("junk", ["asdf qwer zxcv uiop", "lorem ipsum dolor sit amet"])
def test_nothing_musical_is_refused(junk: str) -> None:
    with pytest.raises(InvalidPromptError, match="nothing musical understood"):
        Aurora().understand(junk)
    with pytest.raises(InvalidPromptError, match="nothing musical understood"):
        Aurora().enhance(junk)


_JUNK_WORDS = st.text(alphabet="qwrtzpsdfghjklxcvbnm", min_size=4, max_size=7)


@settings(max_examples=150, deadline=None)
@given(st.lists(_JUNK_WORDS, min_size=3, max_size=8))
def test_random_junk_is_refused_as_nothing_musical(words: list[str]) -> None:
    """Strings of vowelless made-up words read nothing musical: the offline parse and
    enhance refuse them."""
    from soundstar.aurora.backends.rules import RuleBasedBackend

    text = " ".join(words)
    with pytest.raises(InvalidPromptError, match="nothing musical understood"):
        RuleBasedBackend().parse(text)
    with pytest.raises(InvalidPromptError, match="nothing musical understood"):
        RuleBasedBackend().enhance(text)


def test_no_eval_prompt_or_musiccaps_caption_is_refused() -> None:
    """A real musical prompt is never refused: none of the dev prompts, MusicBench and
    MusicCaps captions reads as nothing musical."""
    import json
    import os
    from pathlib import Path

    root = Path(os.environ.get("SOUNDSTAR_EVAL_DIR", "/work/shared/eval"))
    files = {
        root / "prompts.jsonl": "prompt",
        root / "external" / "musicbench_test100.jsonl": "caption",
        root / "external" / "musiccaps_captions.jsonl": "caption",
    }
    if not all(path.exists() for path in files):
        pytest.skip(f"evaluation prompts not found under {root}")
    refused = []
    for path, key in files.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)[key]
            pre = preprocess(text, check_length=False)
            if not parse_rules(pre.text, original=pre.original).understood:
                refused.append(text)
    assert refused == []


def _llm_lineup(fake: object, prompt: str, answer: dict[str, object] | None = None) -> list:
    """The lineup an LLM's parse answer (the fake server's, or `answer`) maps to."""
    import json

    from fake_openai import FakeOpenAI, Reply

    from soundstar.aurora.backends.llm import LLMBackend
    from soundstar.models import Implementation

    assert isinstance(fake, FakeOpenAI)
    if answer is not None:
        fake.script(Reply.of("content", content=json.dumps(answer)))
    backend = LLMBackend(
        Implementation.CODEX,
        base_url=fake.base_url,
        api_key="sk-test",
        model="gpt-test",
        timeout_s=2.0,
        max_retries=0,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
    )
    parsed = backend.parse(prompt)
    return [(i.name, i.role) for i in map_parameters(parsed).parameters.instrumentation]


def test_an_exclusion_from_the_llm_server_gives_the_offline_lineup(fake_openai: object) -> None:
    """Through the fake OpenAI server: its old-style answer (`excluded: ["drums"]`) and a typed
    one (`exclusions.roles`) give the lineup the offline parser gives."""
    prompt = "a lo-fi track with piano and bass, no drums"
    offline = [(i.name, i.role) for i in Aurora().understand(prompt).parameters.instrumentation]
    assert all(role not in (Role.DRUMS, Role.PERCUSSION) for _, role in offline)
    old_style = _llm_lineup(fake_openai, prompt)
    from fake_openai import _parse_answer

    typed = {k: v for k, v in _parse_answer(prompt).items() if k != "excluded"}
    typed["exclusions"] = {
        "instruments": [],
        "families": [],
        "roles": ["drums"],
        "moods": [],
        "only": False,
    }
    assert old_style == _llm_lineup(fake_openai, prompt, typed) == offline


def test_an_exclusion_in_api_fields_gives_the_offline_lineup() -> None:
    """The plan endpoint's fields (genre, instruments, exclusions) resolve by the same rule."""
    from soundstar.api.schemas import PlanParameters
    from soundstar.api.service import parameters_from_fields

    prompt = "jazz with piano and bass at 120 bpm, no drums"
    offline = [(i.name, i.role) for i in Aurora().understand(prompt).parameters.instrumentation]
    fields = PlanParameters(
        genre="jazz",
        mood="calm",
        tempo_bpm=120,
        duration_seconds=30,
        instrumentation=["piano", "bass"],
        exclusions=Exclusions(roles=[Role.DRUMS]),
    )
    api = [(i.name, i.role) for i in parameters_from_fields(fields).instrumentation]
    assert api == offline


def test_the_contracts_families_are_the_knowledge_bases() -> None:
    from typing import get_args

    from soundstar.knowledge.vocab import FamilyName
    from soundstar.models import INSTRUMENT_FAMILIES

    assert set(INSTRUMENT_FAMILIES) == set(get_args(FamilyName))


def test_old_style_excluded_words_are_read_once_into_exclusions() -> None:
    """An older client's `excluded` list on MusicalParameters becomes the typed value; role
    words are roles, family words families ("drums" and "bass" are both), "mood:" words
    moods, any other word an instrument."""
    from soundstar.models import MusicalParameters

    params = MusicalParameters.model_validate(
        {
            "genre": "Pop",
            "tempo_bpm": 100,
            "instrumentation": [{"name": "piano", "role": "chords"}],
            "excluded": ["drums", "strings", "bass", "rhodes", "mood:sad"],
        }
    )
    assert params.exclusions == Exclusions(
        instruments=["rhodes"],
        families=["drums", "strings", "bass"],
        roles=[Role.DRUMS, Role.BASS],
        moods=["sad"],
    )
    assert "excluded" not in params.model_dump()
