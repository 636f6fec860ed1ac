"""Edits of a generation: remake a section, extend, vary (each queued like a generation),
and the project a generation keeps; only its owner reaches them (others get 404)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from soundstar.api import editing, service
from soundstar.api.schemas import ERROR_RESPONSES, Generation
from soundstar.api.shapes import generation_view
from soundstar.api.state import Caller, State
from soundstar.models import DURATION_MAX_S

router = APIRouter(prefix="/api/v1/generations", tags=["edits"], responses=ERROR_RESPONSES)


class _EditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int | None = Field(default=None, ge=0, lt=2**63, description="seed of the new material")
    wait_seconds: float = Field(
        default=0.0, ge=0.0, le=60.0, description="wait this long for the edit to finish"
    )


class RemakeBody(_EditBody):
    """Remake one section with a new seed (a fresh one when none is given)."""


class ExtendBody(_EditBody):
    """Carry the piece on to `to_seconds`."""

    to_seconds: float = Field(gt=0.0, le=DURATION_MAX_S)


class VaryBody(_EditBody):
    """The same plan, lineup, tempo and key with new parts."""


async def _queued(
    state: State, caller: Caller, request: Request, generation_id: str, wait: float, **edit: Any
) -> Generation:
    job_id = await run_in_threadpool(
        lambda: editing.submit_edit(state, caller, generation_id, **edit)
    )
    job = await service.wait_for_job(state, caller, job_id, wait)
    return generation_view(job, str(request.base_url))


@router.post("/{generation_id}/sections/{section}/remake", response_model=Generation)
async def remake(
    generation_id: str,
    section: int,
    request: Request,
    state: State,
    caller: Caller,
    body: RemakeBody | None = None,
) -> Generation:
    """Rewrite section `section` (1-based, as the plan lists it); every other section stays
    sample-identical outside short joins. A new generation; the original is kept."""
    body = body or RemakeBody()
    return await _queued(
        state, caller, request, generation_id, body.wait_seconds,
        kind="remake", section=section, seed=body.seed,
    )  # fmt: skip


@router.post("/{generation_id}/extend", response_model=Generation)
async def extend(
    generation_id: str, body: ExtendBody, request: Request, state: State, caller: Caller
) -> Generation:
    """Continue the piece to `to_seconds`: all before its last section kept sample for
    sample, new sections planned after it and an ending."""
    return await _queued(
        state, caller, request, generation_id, body.wait_seconds,
        kind="extend", to_seconds=body.to_seconds, seed=body.seed,
    )  # fmt: skip


@router.post("/{generation_id}/vary", response_model=Generation)
async def vary(
    generation_id: str,
    request: Request,
    state: State,
    caller: Caller,
    body: VaryBody | None = None,
) -> Generation:
    """A variation: the same song played again differently."""
    body = body or VaryBody()
    return await _queued(
        state, caller, request, generation_id, body.wait_seconds, kind="vary", seed=body.seed
    )


@router.get("/liked/neighbours")
def liked_neighbours(
    state: State, caller: Caller, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> dict[str, Any]:
    """More like this: the caller's generations nearest (control embedding, cosine) to the
    ones they liked, nearest first, each with the liked one it is nearest to."""
    return editing.like_liked(state, caller, limit)


@router.get("/{generation_id}/project")
def project(generation_id: str, state: State, caller: Caller) -> dict[str, Any]:
    """The generation's project: parameters, plan, sections with their seeds and times,
    engine settings, master gains and its history of edits."""
    return editing.owned_project(state, caller, generation_id).model_dump(
        mode="json", by_alias=True
    )
