"""What plays is what was asked, through compose(): nothing left out is in the Score, and an
"only" lineup's Score holds only the named instruments."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
from soundstar.errors import InvalidPromptError
from soundstar.knowledge import load_knowledge
from soundstar.knowledge.exclusion import excludes
from soundstar.models import Score

KB = load_knowledge()
GENRES = sorted(KB.genres)
_NAMES = sorted(i.id for i in KB.instruments.values() if i.family not in ("fx",))
_FORMS = ("without {x}", "no {x}", "leave out the {x}", "hold the {x}", "{x}-free")
_GROUPS = (
    "no drums",
    "drumless",
    "no percussion",
    "no strings",
    "instrumental",
    "no brass",
    "no melody",
)


def _score(prompt: str) -> tuple[Score, object]:
    u = Aurora().understand(prompt, duration_seconds=10.0, check_length=False)
    return compose(u.parameters, u.plan, seed=3), u.parameters


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    genre=st.sampled_from(GENRES),
    kept=st.sampled_from(_NAMES),
    left=st.sampled_from(_NAMES),
    form=st.sampled_from(_FORMS),
    group=st.sampled_from(("", *_GROUPS)),
)
def test_nothing_left_out_is_in_the_score(
    genre: str, kept: str, left: str, form: str, group: str
) -> None:
    """By id, family or role: no track of the Score plays what the prompt left out."""
    prompt = f"{KB.genres[genre].name} with {KB.instruments[kept].name}, " + form.format(
        x=KB.instruments[left].name
    )
    if group:
        prompt += f", {group}"
    try:
        u = Aurora().understand(prompt, duration_seconds=10.0, check_length=False)
    except InvalidPromptError:
        return
    score = compose(u.parameters, u.plan, seed=3)
    for track in score.tracks:
        inst = KB.instruments[track.instrument]
        assert not excludes(u.parameters.exclusions, inst, track.role.value), (prompt, track.name)


@pytest.mark.parametrize(
    "prompt",
    [
        "only piano and cello",
        "just acoustic guitar and violin, a folk song",
        "a string quartet",
        "piano only, a calm nocturne",
        "an a cappella pop song",
        "nothing but strings, a sad film cue",
        "only kick and snare, techno",
    ],
)
def test_an_only_lineups_score_holds_only_what_was_named(prompt: str) -> None:
    u = Aurora().understand(prompt, duration_seconds=10.0, check_length=False)
    assert u.parameters.exclusions.only
    score = compose(u.parameters, u.plan, seed=3)
    named = {i.name for i in u.parameters.instrumentation}
    assert {t.instrument for t in score.tracks} <= named


@pytest.mark.parametrize(
    "prompt", ["a house track with only claps and piano", "trap with only hi-hats and 808 bass"]
)
def test_an_only_lineup_with_a_kit_piece_implies_no_kit(prompt: str) -> None:
    test_an_only_lineups_score_holds_only_what_was_named(prompt)


@pytest.mark.parametrize(
    ("prompt", "piece"),
    [("techno without kick drum", "kick_drum"), ("a rock song without hi-hats", "hi_hat")],
)
def test_a_kit_piece_left_out_is_not_in_the_kit(prompt: str, piece: str) -> None:
    from soundstar.engine.drums import GM_DRUM_NOTES

    u = Aurora().understand(prompt, duration_seconds=10.0, check_length=False)
    assert piece in u.parameters.exclusions.instruments
    score = compose(u.parameters, u.plan, seed=3)
    pitches = {GM_DRUM_NOTES[v] for v in KB.instruments[piece].voices if v in GM_DRUM_NOTES}
    played = {n.pitch for t in score.tracks if t.is_drum for n in t.notes}
    assert not pitches & played
