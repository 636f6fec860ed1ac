"""`POST /api/v1/analyze`: hear an audio clip a person uploads (tempo, key, meter, loudness,
energy by section, brightness), for `like` on generate.

The clip is the request body itself (Content-Type audio/wav, audio/flac, audio/mpeg or
application/octet-stream): it is decoded in memory, never written to disk, never executed,
and forgotten once answered; its size has its own limit (api.max_upload_bytes).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from soundstar.api.schemas import ERROR_RESPONSES
from soundstar.api.state import Caller, State
from soundstar.audio.listen import ClipAnalysis, analyze_upload
from soundstar.errors import ParameterError

ANALYZE_PATH = "/api/v1/analyze"
_AUDIO_TYPES = (
    "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/flac", "audio/x-flac",
    "audio/mpeg", "audio/mp3", "application/octet-stream",
)  # fmt: skip

router = APIRouter(tags=["analyze"], responses=ERROR_RESPONSES)


@router.post(
    ANALYZE_PATH,
    response_model=ClipAnalysis,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in _AUDIO_TYPES
            },
        }
    },
)
async def analyze(request: Request, state: State, caller: Caller) -> ClipAnalysis:
    """What is heard in the uploaded clip (WAV, FLAC or MP3, the body of the request); pass
    the answer as `like` to generate to make music like it."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _AUDIO_TYPES:
        raise ParameterError(
            f"send the clip itself as the body, as one of {', '.join(_AUDIO_TYPES)}; "
            f"got {kind or 'no content type'}",
            field="body",
        )
    data = await request.body()
    if not data:
        raise ParameterError("the body is empty: send the clip", field="body")
    return await run_in_threadpool(
        analyze_upload, data, max_bytes=state.settings.api.max_upload_bytes
    )
