"""Generation status and file downloads; only the owner can see a generation (others get 404)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from soundstar.api import service
from soundstar.api.schemas import ERROR_RESPONSES, Generation
from soundstar.api.shapes import generation_view
from soundstar.api.state import Caller, State
from soundstar.errors import NotFoundError
from soundstar.loops import loop_file_name

router = APIRouter(prefix="/api/v1/generations", tags=["generations"], responses=ERROR_RESPONSES)

_MEDIA = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".mid": "audio/midi",
    ".json": "application/json",
}
_STEM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@router.get("/{generation_id}", response_model=Generation)
def status(generation_id: str, request: Request, state: State, caller: Caller) -> Generation:
    """Status, progress and — once completed — the whole result of a generation."""
    return generation_view(service.get_job(state, caller, generation_id), str(request.base_url))


def _send(state: State, path_text: object, download_name: str) -> FileResponse:
    if not isinstance(path_text, str) or not path_text:
        raise NotFoundError("that file is not part of this generation")
    path = Path(path_text).resolve()
    root = state.settings.data_dir.resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFoundError("that file is no longer available")
    return FileResponse(
        path, media_type=_MEDIA.get(path.suffix, "application/octet-stream"), filename=download_name
    )


def _completed_files(state: State, caller: Caller, generation_id: str) -> dict[str, object]:
    job = service.get_job(state, caller, generation_id)
    if job.status != "completed" or not job.files:
        raise NotFoundError(f"generation {generation_id} has no files yet (status: {job.status})")
    return job.files


@router.get("/{generation_id}/audio", response_class=FileResponse)
def audio(generation_id: str, state: State, caller: Caller) -> FileResponse:
    """The rendered track in the format that was asked for."""
    files = _completed_files(state, caller, generation_id)
    suffix = Path(str(files.get("audio", ""))).suffix
    job = service.get_job(state, caller, generation_id)
    params = job.result.parameters if job.result is not None else None
    name = f"soundstar-{generation_id}"
    if job.request.get("loop") and params is not None:  # a loop says its tempo
        return _send(state, files.get("audio"), loop_file_name(name, params.tempo_bpm, suffix[1:]))
    return _send(state, files.get("audio"), f"{name}{suffix}")


@router.get("/{generation_id}/midi", response_class=FileResponse)
def midi(generation_id: str, state: State, caller: Caller) -> FileResponse:
    """The score as a standard MIDI file."""
    files = _completed_files(state, caller, generation_id)
    return _send(state, files.get("midi"), f"soundstar-{generation_id}.mid")


@router.get("/{generation_id}/plan", response_class=FileResponse)
def plan(generation_id: str, state: State, caller: Caller) -> FileResponse:
    """The structural plan the piece was composed from, as JSON."""
    files = _completed_files(state, caller, generation_id)
    return _send(state, files.get("plan"), f"soundstar-{generation_id}-plan.json")


@router.get("/{generation_id}/stems/{stem}", response_class=FileResponse)
def stem(generation_id: str, stem: str, state: State, caller: Caller) -> FileResponse:
    """One instrument's stem."""
    if not _STEM_NAME.match(stem):
        raise NotFoundError(f"no stem {stem!r}")
    files = _completed_files(state, caller, generation_id)
    stems = files.get("stems") or {}
    if not isinstance(stems, dict) or stem not in stems:
        raise NotFoundError(f"no stem {stem!r} in generation {generation_id}")
    suffix = Path(str(stems[stem])).suffix
    return _send(state, stems[stem], f"soundstar-{generation_id}-{stem}{suffix}")
