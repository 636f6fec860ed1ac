"""The reference for the service load benchmark: a minimal FastAPI endpoint, no work, no auth.

Answers a suggest-shaped body so the JSON cost is comparable; run with uvicorn
exactly as `soundstar serve` runs, so the ratio measures what Soundstar adds.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Partial(BaseModel):
    partial_prompt: str
    cursor_position: int | None = None
    suggestion_count: int = 3


@app.post("/suggest")
def suggest(body: Partial) -> dict[str, Any]:
    return {
        "suggestions": [
            {
                "text": "synthwave",
                "type": "completion",
                "insert_position": len(body.partial_prompt),
                "confidence": 0.9,
            }
        ],
        "inferred_context": {"likely_genre": None, "likely_mood": None},
    }
