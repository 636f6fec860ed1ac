"""The project a generation writes describes the track: its score composes again note for
note, its audio is rendered again from it, and a bad file is refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from soundstar.editing.assemble import excerpt, project_score
from soundstar.editing.edits import original_audio
from soundstar.engine.composer import compose
from soundstar.errors import ParameterError
from soundstar.project import load_project
from tests.editing.original_track import Original


def test_the_project_records_sections_seeds_engine_and_master(original: Original) -> None:
    p = original.project
    assert p.prompt.startswith("an upbeat synthwave")
    assert len(p.sections) >= 2
    assert p.sections[0].start_seconds == 0.0
    assert p.sections[-1].end_seconds == pytest.approx(30.0)
    for a, b in zip(p.sections, p.sections[1:], strict=False):
        assert a.end_seconds == pytest.approx(b.start_seconds)
    assert {s.seed for s in p.sections} == {7}
    assert p.engine.sample_rate == 44100 and p.engine.target_lufs == -14.0
    assert p.master.pre_gain_db != 0.0
    assert p.audio is not None and p.audio.file == "a.wav"
    assert [s.name for s in p.plan.sections] == [s.name for s in p.sections]


def test_the_project_composes_the_same_score(original: Original) -> None:
    p = original.project
    again = project_score(p)
    first = compose(p.parameters, p.compositions[0].plan, seed=7)
    assert again.tracks == first.tracks
    assert again.chords == first.chords
    assert again.total_beats == first.total_beats


def test_without_its_audio_file_the_project_renders_the_same_audio(original: Original) -> None:
    bare = original.project.model_copy(update={"audio": None})
    audio, _notices = original_audio(bare, project_dir=original.folder)
    assert audio.shape == original.audio.shape
    assert np.max(np.abs(audio - original.audio)) <= 1.0 / 32768 + 1e-7  # the WAV's 16 bits


def test_an_excerpt_holds_the_notes_sounding_in_its_bars(original: Original) -> None:
    score = project_score(original.project)
    part = excerpt(score, 2, 6)
    bpb = score.beats_per_bar
    assert part.total_beats == pytest.approx(4 * bpb)
    for whole, cut in zip(score.tracks, part.tracks, strict=True):
        starting = [n for n in whole.notes if 2 * bpb <= n.start_beat < 6 * bpb]
        assert len(cut.notes) >= len(starting)
        assert all(0 <= n.start_beat < 4 * bpb for n in cut.notes)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "does not exist"),
        ("not json", "is not JSON"),
        (json.dumps({"prompt": "x"}), "not a valid Soundstar project"),
    ],
)
def test_a_missing_or_invalid_project_file_is_refused(
    tmp_path: Path, content: str | None, needle: str
) -> None:
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ParameterError, match=needle):
        load_project(path)


def test_sections_that_do_not_follow_each_other_are_refused(original: Original) -> None:
    data = json.loads(original.project_file.read_text())
    data["sections"][1]["start_bar"] += 1
    bad = original.folder / "gap.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="does not follow"):
        load_project(bad)


def test_audio_given_beside_a_project_that_names_none_is_read_and_checked(
    original: Original, tmp_path: Path
) -> None:
    bare = original.project.model_copy(update={"audio": None})
    audio, _ = original_audio(bare, project_dir=tmp_path, audio_path=original.audio_file)
    assert np.array_equal(audio, original.audio)
    short = tmp_path / "short.wav"
    import soundfile as sf

    sf.write(str(short), original.audio[:, :1000].T, 44100)
    with pytest.raises(ParameterError, match="not this project's audio"):
        original_audio(bare, project_dir=tmp_path, audio_path=short)
    with pytest.raises(ParameterError, match="does not exist"):
        original_audio(bare, project_dir=tmp_path, audio_path=tmp_path / "none.wav")


def test_a_changed_audio_file_is_not_spliced_into(original: Original, tmp_path: Path) -> None:
    import soundfile as sf

    changed = tmp_path / "changed.wav"
    sf.write(str(changed), original.audio.T * 0.5, 44100)
    with pytest.raises(ParameterError, match="not the audio this project wrote"):
        original_audio(original.project, project_dir=tmp_path, audio_path=changed)
