"""The control embedding: right dimensions, deterministic, and similar music nearby."""

from __future__ import annotations

from soundstar.aurora.pipeline import Aurora
from soundstar.encoder.embedding import cosine, encode, rbf_code, token_vector
from soundstar.models import (
    CONTROL_DIM,
    EMBEDDING_SLICES,
    GUIDANCE_DIM,
    UNIFIED_DIM,
    ControlEmbedding,
)


def _embed(prompt: str) -> ControlEmbedding:
    u = Aurora().understand(prompt)
    return encode(u.parameters, u.plan)


def _part(e: ControlEmbedding, name: str) -> list[float]:
    start, end = EMBEDDING_SLICES[name]
    return e.unified[start:end]


def test_dimensions_follow_the_spec() -> None:
    e = _embed("an upbeat 80s synthwave track at 118 BPM in A minor")
    assert (len(e.unified), len(e.guidance), len(e.control)) == (
        UNIFIED_DIM,
        GUIDANCE_DIM,
        CONTROL_DIM,
    )


def test_same_input_same_vector() -> None:
    assert _embed("dark techno at 130 bpm") == _embed("dark techno at 130 bpm")


def test_token_vectors_are_stable_across_runs() -> None:
    v = token_vector("genre:house", 8)
    assert round(float(v[0]), 6) == round(float(token_vector("genre:house", 8)[0]), 6)
    assert abs(float((v**2).sum()) - 1.0) < 1e-9


def test_similar_music_is_nearer_than_different_music() -> None:
    synthwave = _embed("an upbeat synthwave track with pulsing bass, 118 bpm")
    outrun = _embed("energetic outrun retro synth track, 120 bpm")
    baroque = _embed("a calm baroque harpsichord minuet, 90 bpm")
    assert cosine(synthwave.control, outrun.control) > cosine(synthwave.control, baroque.control)
    assert cosine(_part(synthwave, "genre"), _part(outrun, "genre")) > cosine(
        _part(synthwave, "genre"), _part(baroque, "genre")
    )


def test_nearby_tempos_give_nearby_codes() -> None:
    base = rbf_code(0.4, 32)
    assert float(base @ rbf_code(0.42, 32)) > float(base @ rbf_code(0.8, 32))
