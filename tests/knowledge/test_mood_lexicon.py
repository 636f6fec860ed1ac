"""The mood lexicon: words placed on valence/arousal read as the nearest mood, and the parser
reads every one of them as that mood."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from soundstar.aurora.preprocess import preprocess
from soundstar.aurora.rules.parse import parse_rules
from soundstar.knowledge import DEFAULT_DATA_DIR, KnowledgeBase, KnowledgeError, load_knowledge
from soundstar.knowledge.derived import MoodLexicon, lexicon_moods, nearest_mood
from soundstar.knowledge.records import Mood


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="module")
def lexicon() -> MoodLexicon:
    raw = yaml.safe_load((DEFAULT_DATA_DIR / "mood_lexicon.yaml").read_text(encoding="utf-8"))
    return MoodLexicon.model_validate(raw)


def _mood(mood_id: str, valence: float, arousal: float) -> Mood:
    return Mood(id=mood_id, valence=valence, arousal=arousal, tempo_bias=0.0)


def test_the_lexicon_places_several_hundred_words(lexicon: MoodLexicon) -> None:
    assert len(lexicon.words) + len(lexicon.scenes) >= 300


def test_every_word_reads_as_a_mood(kb: KnowledgeBase, lexicon: MoodLexicon) -> None:
    for word in (*lexicon.words, *lexicon.scenes):
        mood = kb.find_mood(word)
        assert mood is not None, word
        assert kb.mood_words[word] == mood.id


def test_each_word_reads_as_the_nearest_mood_by_coordinates(
    kb: KnowledgeBase, lexicon: MoodLexicon
) -> None:
    feelings = [m for m in kb.moods.values() if m.id not in lexicon.scene_moods]
    for word, (valence, arousal) in lexicon.words.items():
        best = min(math.hypot(valence - m.valence, arousal - m.arousal) for m in feelings)
        got = kb.moods[kb.mood_words[word]]
        assert math.hypot(valence - got.valence, arousal - got.arousal) == pytest.approx(best)
    for word, (valence, arousal) in lexicon.scenes.items():
        best = min(math.hypot(valence - m.valence, arousal - m.arousal) for m in kb.moods.values())
        got = kb.moods[kb.mood_words[word]]
        assert math.hypot(valence - got.valence, arousal - got.arousal) == pytest.approx(best)


def test_a_feeling_word_never_lands_on_a_scene_mood(
    kb: KnowledgeBase, lexicon: MoodLexicon
) -> None:
    assert set(lexicon.scene_moods) <= set(kb.moods)
    for word in lexicon.words:
        assert kb.mood_words[word] not in lexicon.scene_moods, word


def test_no_word_reads_as_a_mood_its_opposite_forbids(
    kb: KnowledgeBase, lexicon: MoodLexicon
) -> None:
    """Where a mood names an opposite clearly apart on valence (happy and sad), a word read as
    that mood lies on its side of the midpoint between them, never the opposite's."""
    for word, (valence, _) in {**lexicon.words, **lexicon.scenes}.items():
        mood = kb.moods[kb.mood_words[word]]
        for opposite_id in mood.opposites:
            opposite = kb.moods[opposite_id]
            if abs(mood.valence - opposite.valence) < 0.3:
                continue
            midpoint = (mood.valence + opposite.valence) / 2
            assert (valence - midpoint) * (mood.valence - midpoint) > 0, (word, opposite_id)


def test_a_tie_goes_to_the_first_mood_in_file_order() -> None:
    moods = {m.id: m for m in (_mood("tender", 0.7, 0.25), _mood("relaxed", 0.7, 0.25))}
    assert nearest_mood(moods, (0.7, 0.25), moods) == "tender"
    assert nearest_mood(moods, (0.7, 0.25), ["relaxed"]) == "relaxed"


@given(st.floats(0, 1), st.floats(0, 1))
def test_nearest_mood_is_never_farther_than_any_other(valence: float, arousal: float) -> None:
    moods = {
        m.id: m
        for m in (
            _mood("sad", 0.15, 0.25),
            _mood("happy", 0.9, 0.65),
            _mood("angry", 0.1, 0.9),
            _mood("calm", 0.7, 0.15),
        )
    }
    chosen = moods[nearest_mood(moods, (valence, arousal), moods)]
    gap = math.hypot(valence - chosen.valence, arousal - chosen.arousal)
    for other in moods.values():
        assert gap <= math.hypot(valence - other.valence, arousal - other.arousal) + 1e-12


def test_scenes_may_land_on_scene_moods_and_feelings_may_not() -> None:
    moods = {m.id: m for m in (_mood("party", 0.9, 0.85), _mood("joyful", 0.95, 0.75))}
    lexicon = MoodLexicon(
        scene_moods=("party",), words={"gleeful": (0.9, 0.85)}, scenes={"fiesta": (0.9, 0.85)}
    )
    assert lexicon_moods(moods, lexicon) == {"gleeful": "joyful", "fiesta": "party"}


def test_a_word_that_already_names_something_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "mood_lexicon.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["words"]["techno"] = [0.5, 0.8]
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data)
    assert "mood_lexicon.yaml" in str(caught.value)
    assert "techno" in str(caught.value)


def test_the_parser_reads_every_lexicon_word_as_its_mood(
    kb: KnowledgeBase, lexicon: MoodLexicon
) -> None:
    for word in (*lexicon.words, *lexicon.scenes):
        pre = preprocess(f"a {word} tune", check_length=False)
        reading = parse_rules(pre.text, original=pre.original)
        assert kb.mood_words[word] in reading.mood_ids, word
