"""A plan refitted to the parameters it is rendered with, and restated as played."""

from __future__ import annotations

import pytest

from soundstar.aurora.refit import as_played, bars_in, move_chord, refit
from soundstar.aurora.rules.plan import plan_rules
from soundstar.engine.composer import compose
from soundstar.models import (
    ChordProgression,
    InstrumentSpec,
    MusicalParameters,
    PlanSection,
    Role,
    StructuralPlan,
)


def _params(**update: object) -> MusicalParameters:
    base = MusicalParameters(
        genre="Pop",
        tempo_bpm=120,
        key="C major",
        instrumentation=[
            InstrumentSpec(name="piano", role=Role.CHORDS),
            InstrumentSpec(name="electric_bass", role=Role.BASS),
        ],
        duration_seconds=60,
    )
    return base.model_copy(update=update)


def _plan(chords: list[str], key: str = "C", mode: str = "major") -> StructuralPlan:
    return StructuralPlan(
        structure_type="verse-chorus",
        sections=[
            PlanSection(name="verse", duration_ratio=0.4, energy_level=0.4),
            PlanSection(name="chorus", duration_ratio=0.4, energy_level=0.8, chords=["F", "G"]),
            PlanSection(name="outro", duration_ratio=0.2, energy_level=0.3),
        ],
        chord_progression=ChordProgression(key=key, mode=mode, chords=chords),
    )


@pytest.mark.parametrize(
    ("chord", "old", "new", "moved"),
    [
        ("C", "C major", "D major", "D"),
        ("Am7", "C major", "E major", "C#m7"),
        ("G7", "C major", "F major", "C7"),
        ("C", "C major", "C minor", "Cm"),
        ("F", "C major", "A minor", "Dm"),
        ("Dm7", "C major", "C minor", "Dm7b5"),
        ("Bb", "C major", "G major", "F"),
        ("C/E", "C major", "G major", "G/B"),
        ("Am", "A minor", "C major", "C"),
    ],
)
def test_a_chord_moves_by_scale_degree(chord: str, old: str, new: str, moved: str) -> None:
    assert move_chord(chord, old, new) == moved


def test_a_key_change_rewrites_every_chord_and_says_so() -> None:
    plan = _plan(["C", "Am", "F", "G"])
    fitted = refit(_params(key="D major"), plan)
    assert fitted.plan.chord_progression.chords == ["D", "Bm", "G", "A"]
    assert (fitted.plan.chord_progression.key, fitted.plan.chord_progression.mode) == (
        "D",
        "major",
    )
    assert fitted.plan.sections[1].chords == ["G", "A"]
    assert [s.name for s in fitted.plan.sections] == ["verse", "chorus", "outro"]
    assert [s.energy_level for s in fitted.plan.sections] == [0.4, 0.8, 0.3]
    assert fitted.notice is not None and "C major to D major" in fitted.notice.message


def test_a_plan_that_fits_is_returned_unchanged_without_a_notice() -> None:
    plan = _plan(["C", "Am", "F", "G"])
    fitted = refit(_params(), plan)
    assert fitted.plan is plan and fitted.notice is None


def test_an_enharmonic_key_is_the_same_key() -> None:
    plan = _plan(["Db", "Gb"], key="Db")
    assert refit(_params(key="C# major"), plan).notice is None


def test_a_shorter_duration_keeps_names_energies_and_ratios_where_bars_allow() -> None:
    plan = _plan(["C", "G"])
    fitted = refit(_params(duration_seconds=40), plan)  # 20 bars hold all three
    assert fitted.plan == plan
    short = refit(_params(duration_seconds=16, tempo_bpm=120), plan)  # 8 bars: 4 + 3 + 1
    assert [s.name for s in short.plan.sections] == ["verse", "chorus"]
    assert [s.energy_level for s in short.plan.sections] == [0.4, 0.8]
    assert [s.duration_ratio * 8 for s in short.plan.sections] == [4, 4]
    assert short.plan.sections[1].chords == ["F", "G"]
    assert short.notice is not None and "'outro' merged" in short.notice.message


def test_a_meter_with_longer_bars_holds_fewer_sections() -> None:
    plan = _plan(["C", "G"])
    params = _params(duration_seconds=9, tempo_bpm=120, time_signature="12/8")
    assert bars_in(params) == 3  # 18 beats in bars of 6
    assert len(refit(params, plan).plan.sections) == 1
    assert len(refit(params.model_copy(update={"time_signature": "3/4"}), plan).plan.sections) > 1


def test_the_plan_as_played_states_the_bars_and_chords_the_score_plays() -> None:
    params = _params(duration_seconds=20)
    plan = plan_rules(params)
    score = compose(params, plan, seed=3)
    played = as_played(plan, score)
    n_bars = max(s.end_bar for s in score.sections)
    assert [s.name for s in played.sections] == [s.name for s in score.sections]
    assert [round(s.duration_ratio * n_bars, 6) for s in played.sections] == [
        s.end_bar - s.start_bar for s in score.sections
    ]
    assert played.chord_progression.chords == [c.symbol for c in score.chords]
