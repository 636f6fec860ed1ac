"""`POST /api/v1/embeddings/batch` (spec v1 §9.4): many values in one call, an embedding or an error each."""

from __future__ import annotations

from fastapi import APIRouter

from soundstar.api.schemas import ERROR_RESPONSES, BatchEmbeddingsRequest, EmbeddingResult
from soundstar.api.state import Caller, State
from soundstar.errors import SoundstarError

router = APIRouter(prefix="/api/v1/embeddings", tags=["embeddings"], responses=ERROR_RESPONSES)


@router.post("/batch", response_model=list[EmbeddingResult])
def batch(body: BatchEmbeddingsRequest, state: State, caller: Caller) -> list[EmbeddingResult]:
    """Embeddings of genre / mood / instrumentation values, in request order (the spec reads
    `results[i].embedding` or `results[i].error`); one bad value never fails the others."""
    from soundstar.encoder.embedding import embed_value

    results = []
    for item in body.requests:
        try:
            vector = embed_value(item.type, item.value)
            results.append(
                EmbeddingResult(
                    type=item.type, value=item.value, embedding=[round(v, 6) for v in vector]
                )
            )
        except SoundstarError as exc:
            results.append(EmbeddingResult(type=item.type, value=item.value, error=exc.message))
    return results
