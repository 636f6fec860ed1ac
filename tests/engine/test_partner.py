"""A second melody instrument harmonises or answers the lead, never plays a tune of its own."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import build_timeline, compose
from soundstar.engine.composer.melody import write_melody
from soundstar.engine.composer.partner import HARMONY_ENERGY, HARSH_INTERVALS, write_partner
from soundstar.models import Note, Role, Score, Track
from soundstar.theory import key_scale, pitch_class

TWO_HORNS = "a jazz quintet playing a cool blues, trumpet and tenor sax in front"
DUET = "a country duet, a male and a female singer, fiddle and acoustic guitar"


@cache
def _score(prompt: str, seed: int) -> Score:
    u = Aurora().understand(prompt, duration_seconds=30.0)
    return compose(u.parameters, u.plan, seed=seed)


def _leads(score: Score) -> list[Track]:
    return [t for t in score.tracks if t.role == Role.LEAD]


def _overlapping(note: Note, others: list[Note]) -> list[Note]:
    end = note.start_beat + note.duration_beats
    return [
        o
        for o in others
        if o.start_beat < end - 1e-6 and o.start_beat + o.duration_beats > note.start_beat + 1e-6
    ]


@settings(max_examples=12, deadline=None)
@given(prompt=st.sampled_from([TWO_HORNS, DUET]), seed=st.integers(0, 10_000))
def test_no_partner_note_sounds_a_semitone_or_a_tritone_against_the_lead(
    prompt: str, seed: int
) -> None:
    lead, *partners = _leads(_score(prompt, seed))
    assert partners, "the prompt names two melody instruments"
    for partner in partners:
        assert partner.notes
        for note in partner.notes:
            for other in _overlapping(note, lead.notes):
                assert abs(note.pitch - other.pitch) % 12 not in HARSH_INTERVALS


def test_in_an_energetic_section_the_partner_plays_with_the_lead_a_third_or_sixth_under() -> None:
    score = _score(TWO_HORNS, 3)
    lead, partner = _leads(score)[:2]
    beats = score.beats_per_bar
    loud = [s for s in score.sections if s.energy_level >= HARMONY_ENERGY]
    assert loud
    together = intervals = thirds_or_sixths = 0
    for section in loud:
        start, end = section.start_bar * beats, section.end_bar * beats
        sung = [n for n in partner.notes if start <= n.start_beat < end]
        onsets = {round(n.start_beat, 6): n for n in lead.notes}
        for note in sung:
            match = onsets.get(round(note.start_beat, 6))
            if match is None:
                continue
            together += 1
            intervals += 1
            thirds_or_sixths += abs(match.pitch - note.pitch) % 12 in (3, 4, 8, 9)
        assert sung
    assert (
        together
        / sum(
            1
            for s in loud
            for n in partner.notes
            if s.start_bar * beats <= n.start_beat < s.end_bar * beats
        )
        >= 0.75
    )
    assert thirds_or_sixths / intervals >= 0.8


def test_in_a_quiet_section_the_partner_answers_only_where_the_lead_holds() -> None:
    u = Aurora().understand(TWO_HORNS, duration_seconds=30.0)
    quiet_plan = u.plan.model_copy(
        update={"sections": [s.model_copy(update={"energy_level": 0.4}) for s in u.plan.sections]}
    )
    timeline = build_timeline(u.parameters, quiet_plan)
    scale = key_scale(u.parameters.key)
    lead = write_melody(
        timeline, (55, 82), scale, pitch_class(u.parameters.tonic), np.random.default_rng(7)
    )
    partner = write_partner(timeline, lead, (50, 77), scale)
    assert partner, "a quiet section is answered, not left silent"
    bars_played = {int(n.start_beat // timeline.beats_per_bar) for n in partner}
    final = timeline.n_bars - 1
    for bar in bars_played - {final}:
        start = timeline.bar_start(bar)
        in_bar = [n for n in lead if start <= n.start_beat < start + timeline.beats_per_bar]
        assert len(in_bar) == 1 and in_bar[0].start_beat == start, f"bar {bar}: lead is not holding"
        answer = [n for n in partner if start <= n.start_beat < start + timeline.beats_per_bar]
        assert min(n.start_beat for n in answer) > start, "the answer waits for the lead's attack"


def test_the_partner_is_silent_where_the_lead_is() -> None:
    score = _score(TWO_HORNS, 5)
    lead, partner = _leads(score)[:2]
    beats = score.beats_per_bar
    for section in score.sections:
        start, end = section.start_bar * beats, section.end_bar * beats
        if not any(start <= n.start_beat < end for n in lead.notes):
            assert not any(start <= n.start_beat < end for n in partner.notes)


def test_a_second_partner_sings_a_different_line_from_the_first() -> None:
    u = Aurora().understand(TWO_HORNS, duration_seconds=30.0)
    timeline = build_timeline(u.parameters, u.plan)
    scale = key_scale(u.parameters.key)
    lead = write_melody(
        timeline, (55, 82), scale, pitch_class(u.parameters.tonic), np.random.default_rng(1)
    )
    first = write_partner(timeline, lead, (50, 80), scale, voice=1)
    second = write_partner(timeline, lead, (50, 80), scale, voice=2)
    assert [n.pitch for n in first] != [n.pitch for n in second]


def test_a_partner_voice_counts_from_one() -> None:
    u = Aurora().understand(TWO_HORNS, duration_seconds=30.0)
    timeline = build_timeline(u.parameters, u.plan)
    with pytest.raises(ValueError, match="counts from 1"):
        write_partner(timeline, [], (50, 80), key_scale(u.parameters.key), voice=0)


def test_the_arrangement_benchmark_counts_the_time_two_parts_clash() -> None:
    from benchmarks.arrangement import pair_counts

    lead = [Note(pitch=64, start_beat=0.0, duration_beats=2.0, velocity=90)]
    third = [Note(pitch=60, start_beat=0.0, duration_beats=1.0, velocity=80)]
    semitone = [Note(pitch=63, start_beat=1.0, duration_beats=2.0, velocity=80)]
    assert pair_counts(lead, third, 4.0) == {"either": 16, "both": 8, "harsh": 0, "mild": 0}
    assert pair_counts(lead, semitone, 4.0) == {"either": 24, "both": 8, "harsh": 8, "mild": 0}
