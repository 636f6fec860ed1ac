"""Nearest neighbours by control embedding: which pieces sit closest to the ones a person
liked (cosine similarity; pure numpy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def neighbours(
    liked: Mapping[str, Sequence[float]],
    candidates: Mapping[str, Sequence[float]],
    *,
    limit: int,
) -> list[tuple[str, float, str]]:
    """The `limit` candidates nearest to any liked vector, nearest first, as (candidate,
    cosine similarity, the liked one it is nearest to); liked ids are not candidates."""
    names = [c for c in candidates if c not in liked]
    if not liked or not names or limit < 1:
        return []
    keys = list(liked)
    a = np.asarray([liked[k] for k in keys], dtype=np.float64)
    b = np.asarray([candidates[c] for c in names], dtype=np.float64)
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b /= np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    sims = b @ a.T
    best = sims.argmax(axis=1)
    score = sims[np.arange(len(names)), best]
    order = sorted(range(len(names)), key=lambda i: (-score[i], names[i]))[:limit]
    return [(names[i], round(float(score[i]), 6), keys[int(best[i])]) for i in order]
