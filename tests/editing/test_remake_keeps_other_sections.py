"""Remaking a section rewrites it and leaves every other sample of the track as it was,
outside a crossfade before it and the new material's tail and crossfade after it."""

from __future__ import annotations

import numpy as np
import pytest

from soundstar.editing.assemble import project_score
from soundstar.editing.edits import edit_rules, remake
from soundstar.errors import ParameterError
from tests.editing.original_track import Original


def _samples(span: tuple[float, float], rate: int) -> tuple[int, int]:
    return round(span[0] * rate), round(span[1] * rate)


@pytest.mark.parametrize("number", [1, 2, 3])
def test_a_remade_section_changes_and_the_rest_is_sample_identical(
    original: Original, number: int
) -> None:
    project, base = original.project, original.audio
    rate = project.engine.sample_rate
    result = remake(project, base, section=number, seed=1234)
    assert result.audio.shape == base.shape
    assert result.changed == [number]
    kept = [(0, 0), *(_samples(s, rate) for s in result.identical_seconds)]
    for a, b in kept:
        assert np.array_equal(result.audio[:, a:b], base[:, a:b])
    covered = sum(b - a for a, b in kept)
    section = project.sections[number - 1]
    s0, s1 = _samples((section.start_seconds, section.end_seconds), rate)
    assert covered >= base.shape[1] - (s1 - s0) - 2 * rate  # joins: at most 2 s
    assert np.max(np.abs(result.audio[:, s0:s1] - base[:, s0:s1])) > 0.05


def test_joins_are_a_crossfade_and_the_new_tail(original: Original) -> None:
    result = remake(original.project, original.audio, section=2, seed=99)
    rules = edit_rules().joins
    start_join, end_join = result.joins_seconds
    assert start_join[1] - start_join[0] == pytest.approx(rules.crossfade_seconds, abs=1e-4)
    assert end_join[1] - end_join[0] == pytest.approx(
        rules.crossfade_seconds + rules.tail_seconds, abs=1e-4
    )


def test_the_remade_project_keeps_the_other_seeds_and_composes_the_new_notes(
    original: Original,
) -> None:
    project = original.project
    result = remake(project, original.audio, section=2, seed=99)
    assert result.project.section_seeds == [7, 99, 7][: len(project.sections)]
    before, after = project_score(project), project_score(result.project)
    bpb = before.beats_per_bar
    s = project.sections[1]

    def notes_in(score, lo: int, hi: int) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
        return sorted(
            (n.pitch, n.start_beat)
            for t in score.tracks
            for n in t.notes
            if lo * bpb <= n.start_beat < hi * bpb
        )

    assert notes_in(before, 0, s.start_bar) == notes_in(after, 0, s.start_bar)
    assert notes_in(before, s.end_bar, 10**6) == notes_in(after, s.end_bar, 10**6)
    assert notes_in(before, s.start_bar, s.end_bar) != notes_in(after, s.start_bar, s.end_bar)


def test_the_remade_section_is_mastered_with_the_original_gains(original: Original) -> None:
    """Same seed again: the section comes back at the level it had (not normalised on its
    own), the same music (its noise drawn afresh: drums' noise, not the notes, differ)."""
    project, base = original.project, original.audio
    rate = project.engine.sample_rate
    result = remake(project, base, section=2, seed=7)
    assert result.project.master == project.master
    s = project.sections[1]
    a, b = round((s.start_seconds + 0.5) * rate), round((s.end_seconds - 0.1) * rate)
    new, old = result.audio[:, a:b], base[:, a:b]
    level_db = 10 * np.log10(np.mean(new.astype(np.float64) ** 2) / np.mean(old**2))
    assert abs(level_db) < 0.5
    assert np.corrcoef(new.ravel(), old.ravel())[0, 1] > 0.5


@pytest.mark.parametrize("number", [0, 4, -1])
def test_a_section_out_of_range_is_refused(original: Original, number: int) -> None:
    with pytest.raises(ParameterError, match="out of range"):
        remake(original.project, original.audio, section=number)
