"""An edit's files: the audio written in the project's format and the project that
names it (with its digest, so the next edit can splice into it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soundstar.audio.export import check_output_path, write_audio
from soundstar.project import AudioRecord, Project, file_digest, save_project


def audio_record(
    audio_path: Path,
    *,
    project_path: Path | None,
    format: str,
    bit_depth: int,
    channels: int,
    n_samples: int,
) -> AudioRecord:
    """The record of an audio file as a project beside it names it: by its file name when
    both share a folder, else by its absolute path."""
    beside = (
        project_path is not None and audio_path.parent.resolve() == project_path.parent.resolve()
    )
    return AudioRecord(
        file=audio_path.name if beside else str(audio_path.resolve()),
        format=format,
        bit_depth=bit_depth,
        channels=channels,
        n_samples=n_samples,
        sha256=file_digest(audio_path),
    )


def write_edit(
    audio: np.ndarray,
    project: Project,
    *,
    output: Path,
    project_path: Path | None,
    format: str | None = None,
) -> Project:
    """Write the edited audio (in the project's bit depth and channels; `format` or the
    project's) and, when asked, the project naming it; returns that project."""
    for path in (output, project_path):
        if path is not None:
            check_output_path(path)
    previous = project.audio
    fmt = format or (previous.format if previous else "wav")
    bit_depth = previous.bit_depth if previous else 16
    channels = int(audio.shape[0])
    write_audio(
        output,
        audio,
        sample_rate=project.engine.sample_rate,
        format=fmt,  # type: ignore[arg-type]
        bit_depth=bit_depth,
        channels=channels,  # type: ignore[arg-type]
    )
    record = audio_record(
        output,
        project_path=project_path,
        format=fmt,
        bit_depth=bit_depth,
        channels=channels,
        n_samples=int(audio.shape[1]),
    )
    written = project.model_copy(update={"audio": record})
    if project_path is not None:
        try:
            save_project(written, project_path)
        except BaseException:
            output.unlink(missing_ok=True)
            raise
    return written
