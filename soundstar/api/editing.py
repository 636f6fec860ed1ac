"""Queueing edits of a person's generation (remake a section, extend, vary) and reading
its project; only the owner reaches a generation, and what an edit would refuse is
refused before anything is queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soundstar.api.auth import Principal
from soundstar.api.state import AppState
from soundstar.editing.jobs import JobEdit, check_edit
from soundstar.encoder.embedding import encode
from soundstar.encoder.neighbours import neighbours
from soundstar.errors import NotFoundError, ParameterError, QueueUnavailableError
from soundstar.models import DURATION_MAX_S
from soundstar.project import Project, load_project

NEIGHBOUR_POOL = 200  # the caller's latest completed generations searched


def owned_project(state: AppState, principal: Principal, generation_id: str) -> Project:
    """The project of the caller's completed generation (404 for anyone else's)."""
    from soundstar.api.service import get_job

    job = get_job(state, principal, generation_id)
    files = job.files or {}
    path_text = files.get("project")
    if job.status != "completed" or not isinstance(path_text, str):
        raise NotFoundError(f"generation {generation_id} has no project (status: {job.status})")
    path = Path(path_text).resolve()
    if not path.is_relative_to(state.settings.data_dir.resolve()) or not path.is_file():
        raise NotFoundError(f"the project of generation {generation_id} is no longer available")
    return load_project(path)


def submit_edit(
    state: AppState, principal: Principal, generation_id: str, **edit_fields: Any
) -> str:
    """Check the edit (kind, section, to_seconds, seed) against the source's project and
    queue it; the job id is the new generation's id. A queue that cannot take it leaves no
    row behind (503)."""
    from soundstar.api.service import get_job

    project = owned_project(state, principal, generation_id)
    section = edit_fields.get("section")
    if section is not None and section < 1:
        raise ParameterError(
            f"section {section} is out of range: sections count from 1", field="section"
        )
    edit = JobEdit(source=generation_id, **edit_fields)
    check_edit(edit, project)
    source = get_job(state, principal, generation_id)
    request: dict[str, Any] = {
        "prompt": project.prompt,
        "duration_seconds": min(edit.to_seconds or project.duration_seconds, DURATION_MAX_S),
        "output_format": project.audio.format if project.audio is not None else "wav",
        "sample_rate": project.engine.sample_rate,
        "seed": edit.seed,
        "stems": False,
        "edit": edit.model_dump(mode="json"),
    }
    job_id = state.store.jobs.enqueue(principal.user.id, request, session_id=source.session_id)
    try:
        state.queue.submit(job_id)
    except Exception as exc:
        state.store.jobs.withdraw(job_id)
        raise QueueUnavailableError(
            "edits cannot be queued right now; nothing was started, try again shortly"
        ) from exc
    return job_id


def like_liked(state: AppState, principal: Principal, limit: int) -> dict[str, Any]:
    """ "More like this": the caller's own generations nearest, by control embedding, to
    the ones they liked (latest feedback positive or audio rated 4 or 5)."""
    liked_ids = state.store.feedback.liked_results(principal.user.id)
    vectors: dict[str, list[float]] = {}
    prompts: dict[str, str] = {}
    for job in state.store.jobs.completed(principal.user.id, limit=NEIGHBOUR_POOL):
        result = job.result
        if result is None or result.parameters is None:
            continue
        vectors[job.id] = encode(result.parameters, result.plan).control
        prompts[job.id] = result.prompt
    liked = {i: vectors[i] for i in liked_ids if i in vectors}
    return {
        "liked": list(liked),
        "neighbours": [
            {"generation_id": gid, "prompt": prompts[gid], "similarity": sim, "nearest_liked": of}
            for gid, sim, of in neighbours(liked, vectors, limit=limit)
        ],
    }
