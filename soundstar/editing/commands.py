"""The bodies of `soundstar remake | extend | vary`: read the project, edit, write the
audio and the next project, and say what stayed and what changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from soundstar.editing.edits import EditResult, extend, original_audio, remake, vary
from soundstar.editing.files import write_edit
from soundstar.project import Project, load_project

Edit = Callable[[Project, np.ndarray], EditResult]


def _spliced(
    project_file: Path,
    edit: Edit,
    *,
    output: Path,
    project_out: Path | None,
    audio: Path | None,
    format: str,
) -> tuple[EditResult, Project]:
    project = load_project(project_file)
    base, notices = original_audio(project, project_dir=project_file.parent, audio_path=audio)
    result = edit(project, base)
    result.notices[:0] = notices
    written = write_edit(
        result.audio, result.project, output=output, project_path=project_out, format=format
    )
    return result, written


def run_remake(
    project_file: Path,
    *,
    section: int,
    seed: int | None,
    output: Path,
    project_out: Path | None,
    audio: Path | None,
    format: str,
) -> tuple[EditResult, Project]:
    """Remake one section of the project's track into `output`."""
    return _spliced(
        project_file,
        lambda p, base: remake(p, base, section=section, seed=seed),
        output=output,
        project_out=project_out,
        audio=audio,
        format=format,
    )


def run_extend(
    project_file: Path,
    *,
    to_seconds: float,
    seed: int | None,
    output: Path,
    project_out: Path | None,
    audio: Path | None,
    format: str,
) -> tuple[EditResult, Project]:
    """Carry the project's track on to `to_seconds` into `output`."""
    return _spliced(
        project_file,
        lambda p, base: extend(p, base, to_seconds=to_seconds, seed=seed),
        output=output,
        project_out=project_out,
        audio=audio,
        format=format,
    )


def run_vary(
    project_file: Path,
    *,
    seed: int | None,
    output: Path,
    project_out: Path | None,
    format: str,
) -> tuple[EditResult, Project]:
    """A variation of the project's track (same plan, lineup, tempo, key) into `output`."""
    project = load_project(project_file)
    channels = project.audio.channels if project.audio is not None else 2
    result = vary(project, seed=seed, channels=channels)
    written = write_edit(
        result.audio, result.project, output=output, project_path=project_out, format=format
    )
    return result, written


def describe(kind: str, result: EditResult, output: Path) -> list[str]:
    """Lines for a person: what was written, what changed and what stayed."""
    names = [s.name for s in result.project.sections]

    def listed(numbers: list[int]) -> str:
        return ", ".join(f"{n} ({names[n - 1]})" for n in numbers) or "none"

    seconds = result.timings_ms.get(kind, 0.0) / 1000
    lines = [
        f"wrote {output}: {result.project.duration_seconds:.2f} s, {kind} in {seconds:.2f} s",
        f"  changed: {listed(result.changed)}",
        f"  kept:    {listed(result.kept)}",
    ]
    if result.identical_seconds:
        spans = ", ".join(f"{a:.2f}–{b:.2f} s" for a, b in result.identical_seconds)
        lines.append(f"  sample-identical to the original: {spans}")
    if result.joins_seconds:
        spans = ", ".join(f"{a:.2f}–{b:.2f} s" for a, b in result.joins_seconds)
        lines.append(f"  joins: {spans}")
    return lines
