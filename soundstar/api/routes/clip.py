"""`POST /api/v1/analyze`: hear an audio clip a person uploads (tempo, key, meter, loudness,
energy by section, brightness), for `like` on generate.

The clip is the request body itself (Content-Type audio/wav, audio/flac, audio/mpeg or
application/octet-stream) or the one file of a multipart/form-data form (a browser's file
upload, `curl -F file=@clip.mp3`): it is decoded in memory, never written to disk, never
executed, and forgotten once answered; its size has its own limit (api.max_upload_bytes).
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

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

_FORM = "multipart/form-data"


def file_of_form(content_type: str, body: bytes) -> bytes:
    """The one file of a multipart/form-data body (its bytes), read in memory with the
    standard library's MIME parser; a form without exactly one file is refused."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ParameterError("the form could not be read: send the clip as one file", field="body")
    files = [
        part
        for part in message.iter_parts()
        if part.get_content_disposition() == "form-data" and part.get_filename() is not None
    ]
    if len(files) != 1:
        raise ParameterError(
            f"send one clip in the form (a file field); got {len(files)} files", field="body"
        )
    data = files[0].get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


router = APIRouter(tags=["analyze"], responses=ERROR_RESPONSES)


@router.post(
    ANALYZE_PATH,
    response_model=ClipAnalysis,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                **{t: {"schema": {"type": "string", "format": "binary"}} for t in _AUDIO_TYPES},
                _FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def analyze(request: Request, state: State, caller: Caller) -> ClipAnalysis:
    """What is heard in the uploaded clip (WAV, FLAC or MP3: the body of the request, or the
    file of a form); pass the answer as `like` to generate to make music like it."""
    header = request.headers.get("content-type", "")
    kind = header.split(";")[0].strip().lower()
    if kind not in (*_AUDIO_TYPES, _FORM):
        raise ParameterError(
            f"send the clip itself as the body, as one of {', '.join(_AUDIO_TYPES)}, or as "
            f"the file of a {_FORM} form; got {kind or 'no content type'}",
            field="body",
        )
    data = await request.body()
    if kind == _FORM:
        data = file_of_form(header, data)
    if not data:
        raise ParameterError("the body is empty: send the clip", field="body")
    return await run_in_threadpool(
        analyze_upload, data, max_bytes=state.settings.api.max_upload_bytes
    )
