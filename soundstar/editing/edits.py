"""Remake a section, extend a piece, vary it: a project in, audio and the next project out.

Remake and extend render only the bars they change (plus a pre-roll, and the new
material's tail into what follows) with the original's master gains, and splice that
into the original audio, which stays sample-identical outside the joins. The original
audio is the file the project names (checked by its digest); without it the project is
rendered again with its master gains.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml
from pydantic import BaseModel, ConfigDict, Field

from soundstar.aurora.refit import as_played
from soundstar.aurora.rules.plan import plan_rules
from soundstar.editing.assemble import excerpt, project_score
from soundstar.editing.splice import Join, splice
from soundstar.engine.composer import compose
from soundstar.engine.render import RenderResult, render_score
from soundstar.errors import ParameterError
from soundstar.models import DURATION_MAX_S, DURATION_MIN_S, Score
from soundstar.project import (
    Composition,
    Edit,
    Project,
    ProjectSection,
    file_digest,
    sections_of,
)
from soundstar.sections import bars_in

_DATA = Path(__file__).parent / "data" / "edit.yaml"
_NUMBERED = re.compile(r"\s+\d+$")
_LOSSLESS = ("wav", "flac")


class Joins(BaseModel):
    model_config = ConfigDict(extra="forbid")

    crossfade_seconds: float = Field(gt=0.0, le=1.0)
    tail_seconds: float = Field(ge=0.0, le=10.0)
    preroll_bars: int = Field(ge=1, le=8)


class ExtendRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cycle: list[str] = Field(min_length=1)
    ending: str
    min_section_bars: int = Field(ge=1)
    max_section_bars: int = Field(ge=1)


class EditRules(BaseModel):
    """data/edit.yaml: how joins are made and how an extended piece goes on."""

    model_config = ConfigDict(extra="forbid")

    joins: Joins
    extend: ExtendRules


@cache
def edit_rules() -> EditRules:
    return EditRules.model_validate(yaml.safe_load(_DATA.read_text(encoding="utf-8")))


@dataclass
class EditResult:
    """The edited audio (channels, n) and its project, what changed and what stayed."""

    audio: np.ndarray
    project: Project
    changed: list[int]  # 1-based sections new or rewritten
    kept: list[int]  # 1-based sections kept (sample-identical outside the joins)
    joins_seconds: list[tuple[float, float]]  # where kept audio meets new audio
    identical_seconds: list[tuple[float, float]]  # spans copied sample for sample
    timings_ms: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """The project's last history entry records what stayed and what changed."""
        history = self.project.history
        if history:
            last = history[-1].model_copy(
                update={
                    "sections": self.changed,
                    "kept": self.kept,
                    "identical_seconds": [
                        (round(a, 6), round(b, 6)) for a, b in self.identical_seconds
                    ],
                    "joins_seconds": [(round(a, 6), round(b, 6)) for a, b in self.joins_seconds],
                }
            )
            self.project = self.project.model_copy(update={"history": [*history[:-1], last]})

    def summary(self) -> dict[str, object]:
        """What stayed and what changed, for a person (CLI, API, page)."""
        names = [s.name for s in self.project.sections]
        return {
            "changed": [{"section": n, "name": names[n - 1]} for n in self.changed],
            "kept": [{"section": n, "name": names[n - 1]} for n in self.kept],
            "joins_seconds": [[round(a, 3), round(b, 3)] for a, b in self.joins_seconds],
            "identical_seconds": [[round(a, 3), round(b, 3)] for a, b in self.identical_seconds],
            "duration_seconds": round(self.project.duration_seconds, 3),
        }


def _new_seed(avoid: set[int]) -> int:
    while (seed := secrets.randbelow(2**31)) in avoid:
        pass
    return seed


def _channels(audio: np.ndarray, channels: int) -> np.ndarray:
    return audio.mean(axis=0, keepdims=True) if channels == 1 else audio


def _render(project: Project, score: Score, *, seed: int, fixed: bool = True) -> RenderResult:
    engine = project.engine
    return render_score(
        score,
        sample_rate=engine.sample_rate,
        seed=seed,
        target_lufs=engine.target_lufs,
        ceiling_dbtp=engine.ceiling_dbtp,
        options=engine.options,
        master_gains=project.master if fixed else None,
    )


def original_audio(
    project: Project, *, project_dir: Path, audio_path: Path | None = None
) -> tuple[np.ndarray, list[str]]:
    """The project's audio as (channels, n) float32: the file it names when that file is
    there, lossless and unchanged (`audio_path` overrides where it is); else rendered again
    from the project with its master gains (exact for a generation; an edited project's
    earlier joins come out slightly otherwise, which a notice says)."""
    record = project.audio
    notices: list[str] = []
    if record is None and audio_path is not None:
        return _read_given(project, audio_path), notices
    if record is not None:
        path = audio_path or Path(record.file)
        path = path if path.is_absolute() else project_dir / path
        if audio_path is not None and not path.is_file():
            raise ParameterError(f"audio file {str(path)!r} does not exist", field="audio")
        if path.is_file() and record.format in _LOSSLESS:
            if file_digest(path) == record.sha256:
                data, rate = sf.read(str(path), dtype="float32", always_2d=True)
                if rate == project.engine.sample_rate and data.shape[0] == record.n_samples:
                    return np.ascontiguousarray(data.T), notices
            if audio_path is not None:
                raise ParameterError(
                    f"audio file {str(path)!r} is not the audio this project wrote", field="audio"
                )
            notices.append(f"{path.name} differs from the audio the project wrote")
        elif record.format not in _LOSSLESS:
            notices.append(f"the project's audio is {record.format}, which cannot be spliced")
    if len(project.history) > 1:
        notices.append("the project's audio was rendered again: earlier joins may differ slightly")
    score = project_score(project)
    rendered = _render(project, score, seed=project.engine.render_seed)
    channels = record.channels if record is not None else 2
    return _channels(rendered.audio, channels), notices


def _read_given(project: Project, path: Path) -> np.ndarray:
    """Audio a person pointed at for a project that names none: it must be there and at
    the project's sample rate and length."""
    if not path.is_file():
        raise ParameterError(f"audio file {str(path)!r} does not exist", field="audio")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        raise ParameterError(
            f"audio file {str(path)!r} cannot be read: {exc}", field="audio"
        ) from exc
    expected = round(project.duration_seconds * project.engine.sample_rate)
    if rate != project.engine.sample_rate or abs(data.shape[0] - expected) > 1:
        raise ParameterError(
            f"audio file {str(path)!r} is not this project's audio ({rate} Hz, "
            f"{data.shape[0]} samples; the project has {project.engine.sample_rate} Hz, "
            f"{expected})",
            field="audio",
        )
    return np.ascontiguousarray(data.T)


def _at(project: Project, bar: int, n_samples: int) -> int:
    """The sample where `bar` of the project starts (at most the piece's length)."""
    params = project.parameters
    seconds = bar * 60.0 / params.tempo_bpm * _beats_per_bar(project)
    return min(round(seconds * project.engine.sample_rate), n_samples)


def _beats_per_bar(project: Project) -> float:
    num, den = (int(x) for x in project.parameters.time_signature.split("/"))
    return num * 4.0 / den


def _bars_for(project: Project, samples: int) -> int:
    bar_samples = 60.0 / project.parameters.tempo_bpm * _beats_per_bar(project)
    return math.ceil(samples / (bar_samples * project.engine.sample_rate))


def _fit(audio: np.ndarray, n: int) -> np.ndarray:
    """`audio` cut or padded with silence to n samples."""
    if audio.shape[1] >= n:
        return audio[:, :n]
    return np.pad(audio, ((0, 0), (0, n - audio.shape[1])))


def _seconds(project: Project, span: Join) -> tuple[float, float]:
    rate = project.engine.sample_rate
    return span[0] / rate, span[1] / rate


def remake(
    project: Project, base: np.ndarray, *, section: int, seed: int | None = None
) -> EditResult:
    """Section `section` (1-based) written anew with `seed` (a fresh one if None); the rest
    of `base` (the project's audio) kept outside a crossfade before the section and the
    new material's tail plus a crossfade after it."""
    count = len(project.sections)
    if not 1 <= section <= count:
        raise ParameterError(
            f"section {section} is out of range: the plan has {count} sections (1 to {count})",
            field="section",
        )
    old = project.sections[section - 1]
    seed = seed if seed is not None else _new_seed({old.seed})
    started = time.perf_counter()
    sections = list(project.sections)
    sections[section - 1] = old.model_copy(update={"seed": seed})
    edited = project.model_copy(
        update={
            "sections": sections,
            "history": [*project.history, Edit(kind="remake", sections=[section], seed=seed)],
        }
    )
    score = project_score(edited)
    rules = edit_rules().joins
    rate = project.engine.sample_rate
    n = base.shape[1]
    fade = round(rules.crossfade_seconds * rate)
    b0, b1 = _at(project, old.start_bar, n), _at(project, old.end_bar, n)
    last = section == count
    n_bars = project.sections[-1].end_bar
    tail = 0
    if not last:
        room = _at(project, project.sections[section].end_bar, n) - b1 - fade
        tail = max(0, min(round(rules.tail_seconds * rate), room))
    first_bar = max(0, old.start_bar - rules.preroll_bars)
    end_bar = n_bars if last else min(n_bars, old.end_bar + _bars_for(project, tail + fade))
    at = _at(project, first_bar, n)
    rendered = _render(edited, excerpt(score, first_bar, end_bar), seed=seed)
    insert = _channels(rendered.audio, base.shape[0])
    if end_bar == n_bars:
        insert = _fit(insert, n - at)
    join_in = (max(at, b0 - fade), b0)
    join_out = (n, n) if last else (b1 + tail, b1 + tail + fade)
    audio = splice(base, insert, at=at, join_in=join_in, join_out=join_out)
    joins = [j for j in (join_in, (b1, join_out[1]) if not last else (n, n)) if j[1] > j[0]]
    return EditResult(
        audio=audio,
        project=edited,
        changed=[section],
        kept=[k for k in range(1, count + 1) if k != section],
        joins_seconds=[_seconds(project, j) for j in joins],
        identical_seconds=[
            _seconds(project, s) for s in ((0, join_in[0]), (join_out[1], n)) if s[1] > s[0]
        ],
        timings_ms={"remake": (time.perf_counter() - started) * 1000, **rendered.timings_ms},
        notices=list(rendered.notices),
    )


def _base_name(name: str) -> str:
    return _NUMBERED.sub("", name)


def continuation_names(project: Project, bars: int) -> list[str]:
    """The sections that carry a piece on for `bars` bars: the cycle of edit.yaml (a
    development, the piece's peak section again) and the ending last."""
    rules = edit_rules().extend
    peak = max(project.sections, key=lambda s: s.energy_level)
    cycle = [_base_name(peak.name) if name == "peak" else name for name in rules.cycle]
    sizes = [s.end_bar - s.start_bar for s in project.sections]
    size = min(max(round(sum(sizes) / len(sizes)), rules.min_section_bars), rules.max_section_bars)
    count = max(1, round(bars / size))
    return [cycle[i % len(cycle)] for i in range(count - 1)] + [rules.ending]


def check_extension(project: Project, to_seconds: float) -> None:
    """Refuse a length an extension cannot reach: not longer than the piece, over the
    longest piece, or leaving under the shortest piece after the last section's start."""
    head_seconds = project.sections[-1].start_seconds
    if to_seconds <= project.duration_seconds or to_seconds > DURATION_MAX_S:
        raise ParameterError(
            f"the length to extend to (--to, to_seconds) must be longer than the piece "
            f"({project.duration_seconds:g} s) and at most {DURATION_MAX_S:g} s, got {to_seconds:g}",
            field="to_seconds",
        )
    if to_seconds - head_seconds < DURATION_MIN_S:
        raise ParameterError(
            f"the length to extend to (--to, to_seconds) must leave at least "
            f"{DURATION_MIN_S:g} s after the last section's start ({head_seconds:g} s)",
            field="to_seconds",
        )


def extend(
    project: Project, base: np.ndarray, *, to_seconds: float, seed: int | None = None
) -> EditResult:
    """The piece carried on to `to_seconds`: everything before its last section kept, then
    new sections planned by the rules (development, the peak again) and an ending."""
    check_extension(project, to_seconds)
    last = project.sections[-1]
    rest = to_seconds - last.start_seconds
    started = time.perf_counter()
    seed = seed if seed is not None else _new_seed(set(project.section_seeds))
    params = project.parameters
    n_rest = bars_in(params.time_signature, params.tempo_bpm, rest)
    names = continuation_names(project, n_rest)
    more = params.model_copy(update={"duration_seconds": rest, "section_names": names})
    plan = plan_rules(more)
    composed = compose(more, plan, seed=seed)
    head_bars = last.start_bar
    shift = head_bars * _beats_per_bar(project) * 60.0 / params.tempo_bpm
    new_sections = [
        s.model_copy(
            update={
                "start_bar": s.start_bar + head_bars,
                "end_bar": s.end_bar + head_bars,
                "start_seconds": round(s.start_seconds + shift, 6),
                "end_seconds": round(s.end_seconds + shift, 6),
            }
        )
        for s in sections_of(
            composed,
            [seed] * len(composed.sections),
            [len(project.compositions)] * len(composed.sections),
        )
    ]
    head = list(project.sections[:-1])
    sections: list[ProjectSection] = [*head, *new_sections]
    numbers = list(range(len(head) + 1, len(sections) + 1))
    edited = project.model_copy(
        update={
            "parameters": params.model_copy(update={"duration_seconds": to_seconds}),
            "compositions": [
                *project.compositions,
                Composition(plan=plan, duration_seconds=rest, start_bar=head_bars),
            ],
            "sections": sections,
            "duration_seconds": to_seconds,
            "history": [*project.history, Edit(kind="extend", sections=numbers, seed=seed)],
        }
    )
    score = project_score(edited)
    edited = edited.model_copy(update={"plan": as_played(project.plan, score)})
    rules = edit_rules().joins
    rate = project.engine.sample_rate
    n = base.shape[1]
    b0 = _at(project, head_bars, n)
    fade = round(rules.crossfade_seconds * rate) if head_bars else 0
    first_bar = max(0, head_bars - rules.preroll_bars)
    at = _at(project, first_bar, n)
    n_bars = sections[-1].end_bar
    rendered = _render(edited, excerpt(score, first_bar, n_bars), seed=seed)
    insert = _fit(_channels(rendered.audio, base.shape[0]), round(to_seconds * rate) - at)
    join_in = (max(at, b0 - fade), b0)
    audio = splice(base, insert, at=at, join_in=join_in, join_out=None)
    return EditResult(
        audio=audio,
        project=edited,
        changed=numbers,
        kept=list(range(1, len(head) + 1)),
        joins_seconds=[_seconds(project, join_in)] if fade else [],
        identical_seconds=[_seconds(project, (0, join_in[0]))] if join_in[0] else [],
        timings_ms={"extend": (time.perf_counter() - started) * 1000, **rendered.timings_ms},
        notices=list(rendered.notices),
    )


def vary(project: Project, *, seed: int | None = None, channels: int = 2) -> EditResult:
    """The same plan, lineup, tempo and key with every part written anew from `seed`;
    rendered whole and mastered to the project's loudness target."""
    started = time.perf_counter()
    seed = seed if seed is not None else _new_seed(set(project.section_seeds))
    edited = project.model_copy(
        update={
            "sections": [s.model_copy(update={"seed": seed}) for s in project.sections],
            "history": [
                *project.history,
                Edit(kind="vary", sections=list(range(1, len(project.sections) + 1)), seed=seed),
            ],
        }
    )
    rendered = _render(edited, project_score(edited), seed=seed, fixed=False)
    edited = edited.model_copy(
        update={
            "master": rendered.master_gains,
            "engine": edited.engine.model_copy(
                update={"render_seed": seed, "synthesis": rendered.synthesis}
            ),
        }
    )
    return EditResult(
        audio=_channels(rendered.audio, channels),
        project=edited,
        changed=list(range(1, len(project.sections) + 1)),
        kept=[],
        joins_seconds=[],
        identical_seconds=[],
        timings_ms={"vary": (time.perf_counter() - started) * 1000, **rendered.timings_ms},
        notices=list(rendered.notices),
    )
