"""The project record of a generation: everything needed to reproduce and edit a track.

A project names the parameters and plan, the compositions the sections were taken from
(each a plan composed over its own bars) with the seed of each section, the engine
settings, the gains the master applied and each section's bars and seconds. Remake,
extend and vary (`soundstar.editing`) read one and write the next.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from soundstar.engine.master import MasterGains
from soundstar.engine.options import EngineOptions
from soundstar.errors import ParameterError
from soundstar.models import MusicalParameters, Score, StructuralPlan

PROJECT_VERSION: Literal[1] = 1
MAX_PROJECT_BYTES = 4 * 1024 * 1024


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Composition(_Model):
    """A plan composed over `duration_seconds`, its bar 0 at `start_bar` of the piece."""

    plan: StructuralPlan
    duration_seconds: float = Field(gt=0.0)
    start_bar: int = Field(default=0, ge=0)


class ProjectSection(_Model):
    """One section as played: bars (end exclusive), seconds, energy, and where its notes
    come from (a composition and the seed it was composed with)."""

    name: str
    start_bar: int = Field(ge=0)
    end_bar: int = Field(gt=0)
    start_seconds: float = Field(ge=0.0)
    end_seconds: float = Field(gt=0.0)
    energy_level: float = Field(ge=0.0, le=1.0)
    seed: int = Field(ge=0, lt=2**63)
    composition: int = Field(default=0, ge=0)


class EngineRecord(_Model):
    """How the audio was rendered: rate, loudness target, ceiling, options and what
    synthesis each track used."""

    sample_rate: int
    render_seed: int = Field(ge=0, lt=2**63, description="the seed the synthesis drew from")
    target_lufs: float
    ceiling_dbtp: float = -1.0
    options: EngineOptions = Field(default_factory=EngineOptions)
    synthesis: dict[str, Literal["sampler", "ddsp"]] = Field(default_factory=dict)


class AudioRecord(_Model):
    """The audio file written beside the project (a file name relative to the project's
    folder, or absolute) and its digest, so an edit can splice into it."""

    file: str
    format: Literal["wav", "flac", "mp3"] = "wav"
    bit_depth: Literal[16, 24, 32] = 16
    channels: Literal[1, 2] = 2
    n_samples: int = Field(ge=1)
    sha256: str


class Edit(_Model):
    """One step of the project's history: what was done and to which sections."""

    kind: Literal["generate", "remake", "extend", "vary"]
    sections: list[int] = Field(default_factory=list, description="1-based sections changed")
    kept: list[int] = Field(default_factory=list, description="1-based sections kept")
    seed: int | None = None
    identical_seconds: list[tuple[float, float]] = Field(
        default_factory=list, description="spans sample-identical to the audio before the edit"
    )
    joins_seconds: list[tuple[float, float]] = Field(
        default_factory=list, description="where kept audio meets new audio"
    )


class Project(_Model):
    """The record of one generation (or edit): prompt, parameters, plan as played, the
    compositions and the seed of each section, engine settings, master gains, section times."""

    version: Literal[1] = PROJECT_VERSION
    prompt: str
    parameters: MusicalParameters
    plan: StructuralPlan
    compositions: list[Composition] = Field(min_length=1)
    sections: list[ProjectSection] = Field(min_length=1)
    engine: EngineRecord
    master: MasterGains
    duration_seconds: float = Field(gt=0.0)
    audio: AudioRecord | None = None
    history: list[Edit] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sections_tile(self) -> Project:
        bar = 0
        for number, section in enumerate(self.sections, start=1):
            if section.start_bar != bar or section.end_bar <= section.start_bar:
                raise ValueError(f"section {number} does not follow the one before it")
            if section.composition >= len(self.compositions):
                raise ValueError(f"section {number} names a composition the project lacks")
            bar = section.end_bar
        return self

    @property
    def section_seeds(self) -> list[int]:
        return [s.seed for s in self.sections]


def sections_of(score: Score, seeds: list[int], compositions: list[int]) -> list[ProjectSection]:
    """The project's sections for a score: its bars and seconds with each section's seed
    and composition."""
    seconds_per_bar = score.beats_per_bar * score.seconds_per_beat
    duration = score.duration_seconds
    return [
        ProjectSection(
            name=s.name,
            start_bar=s.start_bar,
            end_bar=s.end_bar,
            start_seconds=round(min(s.start_bar * seconds_per_bar, duration), 6),
            end_seconds=round(
                duration if i == len(score.sections) - 1 else s.end_bar * seconds_per_bar, 6
            ),
            energy_level=s.energy_level,
            seed=seed,
            composition=composition,
        )
        for i, (s, seed, composition) in enumerate(
            zip(score.sections, seeds, compositions, strict=True)
        )
    ]


def file_digest(path: Path) -> str:
    """The sha256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_project(path: Path) -> Project:
    """A project file read and checked; a missing, oversized or invalid file is a
    ParameterError that says which and why."""
    if not path.is_file():
        raise ParameterError(f"project file {str(path)!r} does not exist", field="project")
    if path.stat().st_size > MAX_PROJECT_BYTES:
        raise ParameterError(f"project file {str(path)!r} is too large", field="project")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(
            f"project file {str(path)!r} is not JSON: {exc}", field="project"
        ) from exc
    return parse_project(data, label=str(path))


def parse_project(data: object, *, label: str = "project") -> Project:
    """A project from decoded JSON; invalid content is a ParameterError naming the field."""
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "project"
        raise ParameterError(
            f"{label} is not a valid Soundstar project: {where}: {first['msg']}",
            field="project",
        ) from exc


def save_project(project: Project, path: Path) -> Path:
    """Write the project as JSON, atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(project.model_dump_json(indent=2, by_alias=True), encoding="utf-8")
    tmp.replace(path)
    return path
