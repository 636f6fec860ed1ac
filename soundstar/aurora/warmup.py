"""Warm-up at start (spec v1 §9.7): load what the first request would otherwise wait for."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from soundstar.aurora.cache import AuroraCache
from soundstar.aurora.preprocess import preprocess
from soundstar.aurora.rules.matcher import find_mentions
from soundstar.aurora.suggester import suggest_index
from soundstar.encoder.embedding import embed_value
from soundstar.errors import SoundstarError
from soundstar.knowledge import load_knowledge


class Warmable(Protocol):
    """What warm-up needs of the Aurora it warms (the pipeline passes itself: this module
    never imports the pipeline, so the two are no import circle)."""

    @property
    def backends(self) -> Sequence[Any]: ...

    @property
    def cache(self) -> AuroraCache: ...


COMMON_GENRES = ("pop", "rock", "electronic", "jazz", "classical", "hip hop")
COMMON_MOODS = ("happy", "sad", "energetic", "calm", "romantic")
"""The spec's preloaded embeddings (v1 §9.7)."""
SAMPLE_PROMPT = "a calm jazz piano piece at 90 bpm in d minor, no drums"


def _timed(timings: dict[str, float], name: str, start: float) -> None:
    timings[name] = round((time.perf_counter() - start) * 1000, 3)


def warm_up(aurora: Warmable, offline_understand: Callable[[str], object]) -> dict[str, object]:
    """Load the knowledge base and indexes, precompute common embeddings, check the LLMs.
    `offline_understand` runs the offline path end to end, uncached and without an LLM.

    Returns what was done and how long each step took; never raises for an
    unreachable backend (that is what the health check reports).
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    kb = load_knowledge()
    _timed(timings, "knowledge", start)

    start = time.perf_counter()
    preprocess(SAMPLE_PROMPT)
    find_mentions(SAMPLE_PROMPT)
    _timed(timings, "parser_indexes", start)

    start = time.perf_counter()
    index = suggest_index()
    _timed(timings, "suggester_index", start)

    start = time.perf_counter()
    embedded: dict[str, list[str]] = {"genre": [], "mood": []}
    skipped: list[str] = []
    for kind, values in (("genre", COMMON_GENRES), ("mood", COMMON_MOODS)):
        for value in values:
            try:
                embed_value(kind, value)
                embedded[kind].append(value)
            except SoundstarError:
                skipped.append(f"{kind}:{value}")
    _timed(timings, "embeddings", start)

    start = time.perf_counter()
    # the offline path end to end (parse, enhance, map, plan, encoder projections): warm-up
    # must not spend API calls
    offline_understand(SAMPLE_PROMPT)
    _timed(timings, "pipeline", start)

    start = time.perf_counter()
    health: dict[str, bool] = {}
    for backend in aurora.backends:
        check = getattr(backend, "health_check", None)
        if backend.configured and callable(check):
            try:
                health[backend.name.value] = bool(check())
            except Exception:  # a health check reports, it never fails the start
                health[backend.name.value] = False
    _timed(timings, "backends", start)

    report: dict[str, Any] = {
        "knowledge": {
            "genres": len(kb.genres),
            "moods": len(kb.moods),
            "instruments": len(kb.instruments),
            "artists": len(kb.artists),
        },
        "suggester_terms": len(index.keys),
        "embeddings_precomputed": embedded,
        "embeddings_skipped": skipped,
        "backends_healthy": health,
        "cache": aurora.cache.stats(),
        "timings_ms": timings,
    }
    return report
