"""A variation keeps the plan, lineup, tempo and key and writes every part anew."""

from __future__ import annotations

from soundstar.editing.assemble import project_score
from soundstar.editing.edits import vary
from tests.editing.original_track import Original


def test_a_variation_is_the_same_song_played_differently(original: Original) -> None:
    project = original.project
    result = vary(project, seed=3)
    edited = result.project
    assert edited.plan == project.plan
    assert edited.parameters == project.parameters
    assert edited.section_seeds == [3] * len(project.sections)
    before, after = project_score(project), project_score(edited)
    assert (after.tempo_bpm, after.key, after.time_signature) == (
        before.tempo_bpm,
        before.key,
        before.time_signature,
    )
    assert [(t.name, t.instrument) for t in after.tracks] == [
        (t.name, t.instrument) for t in before.tracks
    ]
    assert [t.notes for t in after.tracks] != [t.notes for t in before.tracks]
    assert after.sections == before.sections
    assert result.audio.shape == original.audio.shape
    assert result.kept == [] and result.changed == list(range(1, len(project.sections) + 1))
