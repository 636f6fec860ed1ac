"""Conversions from Soundstar's contracts to the specs' response shapes."""

from __future__ import annotations

from typing import Any

from soundstar.api.schemas import (
    ControlEncoderParams,
    DdspHints,
    ErrorDetail,
    Generation,
    GenerationFiles,
    GenerationMetadata,
    HumanReadable,
)
from soundstar.encoder.embedding import tempo_normalized
from soundstar.knowledge import load_knowledge
from soundstar.models import (
    EMBEDDING_SLICES,
    ControlEmbedding,
    MusicalParameters,
    stage_milliseconds,
)
from soundstar.store.schemas import JobRecord

FILE_KINDS = ("audio", "midi", "plan", "project")


def _part(vector: list[float], name: str) -> list[float]:
    lo, hi = EMBEDDING_SLICES[name]
    return [round(v, 6) for v in vector[lo:hi]]


def control_encoder_params(
    embedding: ControlEmbedding, params: MusicalParameters
) -> ControlEncoderParams:
    """The spec's `control_encoder_params`: the parts of the 640-d unified embedding, plus scalars."""
    unified = embedding.unified
    return ControlEncoderParams(
        genre_embedding=_part(unified, "genre"),
        tempo_normalized=round(tempo_normalized(params.tempo_bpm), 6),
        mood_embedding=_part(unified, "mood"),
        instrumentation_embedding=_part(unified, "instrumentation"),
        structure_embedding=_part(unified, "structure"),
        energy_level=params.energy_level,
        valence=params.valence,
        danceability=params.danceability,
    )


def _title(name: str) -> str:
    return " ".join(w if w.isupper() else w.capitalize() for w in name.replace("_", " ").split())


def human_readable(params: MusicalParameters) -> HumanReadable:
    kb = load_knowledge()
    genre = _title(params.genre)
    if params.sub_genre and params.sub_genre != params.genre:
        genre = f"{genre} / {_title(params.sub_genre)}"
    names = []
    for spec in params.instrumentation:
        record = kb.instruments.get(spec.name)
        names.append(_title(record.name if record is not None else spec.name))
    structure = params.structure
    return HumanReadable(
        genre=genre,
        tempo_bpm=round(params.tempo_bpm, 2),
        mood=", ".join(_title(m) for m in params.mood) or "Neutral",
        instrumentation=names,
        structure=structure,
        key=params.key,
        time_signature=params.time_signature,
    )


def _midi_hz(note: float) -> float:
    return float(440.0 * 2 ** ((note - 69) / 12))


def ddsp_hints(params: MusicalParameters) -> DdspHints:
    """Spec v1 §3.2.3 `ddsp_hints`: pitch range of the pitched parts, loudness, harmonic share.

    f0_range spans the registers the knowledge base gives the pitched instruments;
    loudness_target follows the energy; harmonic_mix is the share of pitched
    instruments in the line-up (drums and percussion are noise-like).
    """
    kb = load_knowledge()
    lows, highs, pitched, total = [], [], 0, 0
    for spec in params.instrumentation:
        total += 1
        record = kb.instruments.get(spec.name)
        if record is None or spec.role.value in ("drums", "percussion"):
            continue
        pitched += 1
        lows.append(record.register[0])
        highs.append(record.register[1])
    lo, hi = (min(lows), max(highs)) if lows else (36, 84)
    return DdspHints(
        f0_range=(round(_midi_hz(lo), 2), round(_midi_hz(hi), 2)),
        loudness_target=round(0.35 + 0.6 * params.energy_level, 3),
        harmonic_mix=round(pitched / total, 3) if total else 1.0,
    )


def file_url(base_url: str, generation_id: str, kind: str, name: str | None = None) -> str:
    path = f"api/v1/generations/{generation_id}/{kind}"
    if name is not None:
        path += f"/{name}"
    return base_url.rstrip("/") + "/" + path


def generation_view(job: JobRecord, base_url: str) -> Generation:
    """A job as the API shows it: status and progress while it runs, the whole result after."""
    result = job.result
    files = GenerationFiles()
    stored = job.files or {}
    if job.status == "completed":
        for kind in FILE_KINDS:
            if stored.get(kind):
                setattr(files, kind, file_url(base_url, job.id, kind))
        stems = stored.get("stems") or {}
        if isinstance(stems, dict):
            files.stems = {
                name: file_url(base_url, job.id, "stems", name) for name in sorted(stems)
            }
    request = job.request or {}
    metadata = GenerationMetadata()
    view: dict[str, Any] = {}
    if result is not None:
        timings = result.timings_ms
        _, _, engine_ms = stage_milliseconds(timings)
        metadata = GenerationMetadata(
            total_time_ms=timings.get("total"),
            aurora_enhance_time_ms=timings.get("enhance"),
            aurora_parse_time_ms=timings.get("parse"),
            aurora_plan_time_ms=timings.get("plan"),
            engine_time_ms=round(engine_ms, 3),
            implementation_used=result.implementation_used.value,
        )
        dumped = result.model_dump(mode="json")
        view = {
            "enhanced_prompt": result.enhanced_prompt,
            "parsed_parameters": result.parsed_parameters,
            "parameters_used": result.parameters,
            "structural_plan": result.plan,
            "implementation_used": result.implementation_used.value,
            "fallback_used": result.fallback_used,
            "fallback_reason": result.fallback_reason,
            "notices": result.notices,
            "stages_run": result.stages_run,
            "stages_skipped": result.stages_skipped,
            "engine": {
                "synthesis": dumped.get("synthesis") or {},
                "rave": "run"
                if "rave" in result.stages_run
                else result.stages_skipped.get("rave", "skipped"),
            },
            "measured": result.measured,
            "duration_seconds": result.duration_seconds,
            "seed": result.seed,
        }
    error = None
    if job.status == "failed":
        error = ErrorDetail(
            code=job.error_code or "INTERNAL_ERROR",
            message=job.error_message or "the generation failed",
        )
    return Generation(
        generation_id=job.id,
        status=job.status,
        progress=round(job.progress, 4),
        stage=job.stage,
        audio_url=files.audio,
        files=files,
        prompt=request.get("prompt"),
        generation_metadata=metadata,
        output_format=job.output_format or request.get("output_format"),
        sample_rate=job.sample_rate or request.get("sample_rate"),
        attempts=job.attempts,
        error=error,
        created_at=job.created_at,
        completed_at=job.completed_at,
        **view,
    )
