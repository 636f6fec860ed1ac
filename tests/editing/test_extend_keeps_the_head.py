"""Extending keeps everything before the original's last section sample-identical, goes on
with planned sections (a development, the peak section again) and closes with an ending."""

from __future__ import annotations

import numpy as np
import pytest

from soundstar.editing.assemble import project_score
from soundstar.editing.edits import edit_rules, extend
from soundstar.errors import ParameterError
from soundstar.models import DURATION_MAX_S
from tests.editing.original_track import Original


def test_the_head_is_sample_identical_and_the_piece_reaches_its_new_length(
    original: Original,
) -> None:
    project, base = original.project, original.audio
    rate = project.engine.sample_rate
    result = extend(project, base, to_seconds=70, seed=5)
    assert result.audio.shape == (2, 70 * rate)
    ((start, end),) = result.identical_seconds
    head = round(end * rate)
    assert start == 0.0
    assert head == round(project.sections[-1].start_seconds * rate) - round(
        edit_rules().joins.crossfade_seconds * rate
    )
    assert np.array_equal(result.audio[:, :head], base[:, :head])
    assert np.sqrt(np.mean(result.audio[:, -10 * rate : -3 * rate] ** 2)) > 0.01  # music


def test_the_new_sections_follow_the_plan_and_end_it(original: Original) -> None:
    project = original.project
    result = extend(project, original.audio, to_seconds=90, seed=5)
    edited = result.project
    kept = len(project.sections) - 1
    assert [s.name for s in edited.sections[:kept]] == [s.name for s in project.sections[:kept]]
    new = edited.sections[kept:]
    assert result.changed == list(range(kept + 1, len(edited.sections) + 1))
    assert new[-1].name == edit_rules().extend.ending
    assert any(s.name.startswith("bridge") for s in new)
    peak = max(project.sections, key=lambda s: s.energy_level).name.split(" ")[0]
    assert any(s.name.startswith(peak) for s in new)
    assert new[-1].energy_level < max(s.energy_level for s in new)
    assert edited.sections[-1].end_seconds == pytest.approx(90.0)
    assert edited.duration_seconds == 90.0
    assert project_score(edited).duration_seconds == pytest.approx(90.0)


def test_an_extension_can_be_remade_and_extended_again(original: Original) -> None:
    from soundstar.editing.edits import remake

    first = extend(original.project, original.audio, to_seconds=60, seed=5)
    again = remake(first.project, first.audio, section=len(first.project.sections) - 1, seed=8)
    assert again.audio.shape == first.audio.shape
    more = extend(again.project, again.audio, to_seconds=80, seed=9)
    head = round(more.identical_seconds[0][1] * original.project.engine.sample_rate)
    assert np.array_equal(more.audio[:, :head], again.audio[:, :head])


@pytest.mark.parametrize(
    ("to", "needle"),
    [(20.0, "longer than the piece"), (30.0, "longer"), (DURATION_MAX_S + 1.0, "at most")],
)
def test_a_length_it_cannot_reach_is_refused(original: Original, to: float, needle: str) -> None:
    with pytest.raises(ParameterError, match=needle):
        extend(original.project, original.audio, to_seconds=to)
