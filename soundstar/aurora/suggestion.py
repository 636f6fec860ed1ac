"""A suggestion for a prompt being typed (codex spec v1 §3.2.2): the shape every suggester
answers with, apart from the LLM post-processing that only an LLM backend needs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SUGGESTION_TYPES = ("completion", "addition", "replacement")


class Suggestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    type: Literal["completion", "addition", "replacement"]
    insert_position: int = Field(ge=0)
    confidence: float = Field(ge=0.0, le=1.0)
