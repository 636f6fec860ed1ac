"""Stage 1: normalization, spelling, abbreviations, moderation, length."""

from __future__ import annotations

import pytest

from soundstar.aurora.preprocess import normalize, preprocess
from soundstar.errors import ContentPolicyError, InvalidPromptError


def test_normalization_lowercases_and_collapses_whitespace() -> None:
    assert normalize("  A FAST   rock\tsong  ") == "a fast rock song"


@pytest.mark.parametrize(
    ("typo", "fixed"), [("bossa noav", "bossa nova"), ("synthwav", "synthwave")]
)
def test_misspelt_music_terms_are_corrected(typo: str, fixed: str) -> None:
    result = preprocess(f"a relaxed {typo} track for the evening")
    assert fixed in result.text
    assert (typo, fixed) in result.corrections


def test_ordinary_words_are_left_alone() -> None:
    text = "a dreamy track with pulsing bass and shimmering pads for late night driving"
    assert preprocess(text).text == text


@pytest.mark.parametrize(
    ("short", "word"), [("edm", "electronic dance music"), ("dnb", "drum and bass")]
)
def test_abbreviations_expand(short: str, word: str) -> None:
    result = preprocess(f"high energy {short} banger for the club")
    assert word in result.text
    assert any(s == short for s, _ in result.expansions)


@pytest.mark.parametrize("text", ["", "   ", "rock", "x" * 9])
def test_too_short_prompts_are_invalid(text: str) -> None:
    with pytest.raises(InvalidPromptError) as info:
        preprocess(text)
    assert info.value.code == "INVALID_PROMPT"


def test_too_long_prompts_are_invalid_but_library_callers_may_skip_the_rule() -> None:
    long = "a calm piano piece " * 30
    with pytest.raises(InvalidPromptError, match="too long"):
        preprocess(long)
    assert preprocess(long, check_length=False).text.startswith("a calm piano piece")


@pytest.mark.parametrize(
    "text",
    [
        "a murder ballad in the style of nick cave",
        "killer bass and aggressive drums",
        "a sexy slow jam rnb song",
    ],
)
def test_dark_themes_in_music_are_allowed(text: str) -> None:
    preprocess(text)


def test_threats_are_refused_with_the_spec_code() -> None:
    with pytest.raises(ContentPolicyError) as info:
        preprocess("i will kill you and everyone, make a song about it")
    assert info.value.code == "CONTENT_POLICY_VIOLATION"


@pytest.mark.parametrize(
    "prompt",
    [
        "orchestral piece with strings, brass and timpani",
        "a slow, melancholic piano ballad, bass, drums",
        "lo-fi hip hop with a lo-fi beat",
    ],
)
def test_separate_or_hyphenated_words_are_not_corrected_into_one_term(prompt: str) -> None:
    assert preprocess(prompt).corrections == []


@pytest.mark.parametrize(
    "prompt",
    [
        "the strings are playing a melody",  # not "string quartet"
        "multiple synths are used",  # not "synth arp"
        "the guitar is strummed",  # not "guitar solo"
    ],
)
def test_a_term_and_an_ordinary_word_are_not_corrected_into_another_term(prompt: str) -> None:
    assert preprocess(prompt).corrections == []


def test_a_misspelt_ensemble_name_is_corrected() -> None:
    assert ("strng quartet", "string quartet") in preprocess("a strng quartet, sad").corrections


def test_an_abbreviation_inside_a_music_term_stays() -> None:
    pre = preprocess("alternative r&b with some edm energy")
    assert pre.text.startswith("alternative r&b with")
    assert ("edm", "electronic dance music") in pre.expansions


def test_corrected_original_keeps_casing_and_applies_corrections() -> None:
    pre = preprocess("A dreamy Synthwav track in Am")
    assert pre.corrected_original == "A dreamy synthwave track in Am"
