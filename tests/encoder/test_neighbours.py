"""Neighbours by control embedding: nearest first, liked ones left out, the liked one
each is nearest to named."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from soundstar.encoder.neighbours import neighbours

vectors = st.lists(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=4, max_size=4).filter(
        lambda v: sum(x * x for x in v) > 1e-6
    ),
    min_size=1,
    max_size=8,
)


def test_the_nearest_comes_first_and_names_its_liked_piece() -> None:
    liked = {"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 0.0]}
    pool = {**liked, "x": [0.9, 0.1, 0.0], "y": [0.0, 0.0, 1.0], "z": [0.3, 1.0, 0.0]}
    got = neighbours(liked, pool, limit=3)
    assert [g[0] for g in got] == ["x", "z", "y"]
    assert [g[2] for g in got[:2]] == ["a", "b"]


@given(vectors, vectors, st.integers(1, 10))
def test_ranked_by_similarity_without_the_liked(
    liked_v: list[list[float]], pool_v: list[list[float]], limit: int
) -> None:
    liked = {f"l{i}": v for i, v in enumerate(liked_v)}
    pool = {**liked, **{f"c{i}": v for i, v in enumerate(pool_v)}}
    got = neighbours(liked, pool, limit=limit)
    assert len(got) == min(limit, len(pool_v))
    assert all(name.startswith("c") for name, _, _ in got)
    sims = [s for _, s, _ in got]
    assert sims == sorted(sims, reverse=True)
    assert all(-1.000001 <= s <= 1.000001 for s in sims)


def test_nothing_liked_gives_nothing() -> None:
    assert neighbours({}, {"x": [1.0]}, limit=5) == []
