"""A spool holds its audio in memory while the shared budget lasts and moves to disk when it
would pass it; either way it reads back what was written, and the budget comes back."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.engine.spool import MemoryBudget, Spool
from soundstar.errors import ParameterError


@settings(max_examples=30, deadline=None)
@given(
    channels=st.sampled_from([1, 2]),
    sizes=st.lists(st.integers(1, 70_000), min_size=1, max_size=6),
    limit_kib=st.integers(0, 2048),
)
def test_a_spool_reads_back_what_was_written_in_memory_or_on_disk(
    channels: int, sizes: list[int], limit_kib: int
) -> None:
    budget = MemoryBudget(limit_kib << 10)
    rng = np.random.default_rng(len(sizes))
    parts = [rng.standard_normal((channels, k)).astype(np.float32) for k in sizes]
    whole = np.concatenate(parts, axis=1)
    spool = Spool(channels, budget=budget)
    for part in parts:
        spool.append(part)
    assert budget.used_bytes <= budget.limit_bytes
    np.testing.assert_array_equal(spool.array(), whole)
    np.testing.assert_array_equal(np.concatenate([x for _, x in spool.blocks(777)], axis=1), whole)
    np.testing.assert_array_equal(spool.read(5, 4000), whole[:, 5:4000])
    spool.close()
    assert budget.used_bytes == 0


def test_a_spool_past_the_budget_moves_to_disk_and_gives_its_bytes_back() -> None:
    budget = MemoryBudget(1 << 20)  # 1 MiB: 262144 mono samples
    spool = Spool(1, budget=budget)
    first = np.arange(100_000, dtype=np.float32)
    spool.append(first)
    assert spool.in_memory and spool.path is None and budget.used_bytes > 0
    spool.append(np.ones(300_000, dtype=np.float32))
    assert not spool.in_memory and spool.path is not None
    assert budget.used_bytes == 0
    np.testing.assert_array_equal(spool.read(0, 100_000)[0], first)
    assert float(spool.read(100_000, 400_000).sum()) == 300_000.0


def test_overwriting_in_place_is_read_back_in_memory_and_on_disk() -> None:
    for limit in (0, 1 << 24):
        spool = Spool(2, budget=MemoryBudget(limit))
        spool.append(np.zeros((2, 1000), dtype=np.float32))
        spool.write_at(200, np.full((2, 100), 3.0, dtype=np.float32))
        assert spool.in_memory == (limit > 0)
        got = spool.array()
        assert float(got[:, 200:300].min()) == 3.0 and float(np.abs(got[:, 300:]).max()) == 0.0


def test_spools_share_one_budget_and_a_collected_spool_returns_its_share() -> None:
    budget = MemoryBudget(1 << 20)
    block = np.zeros(200_000, dtype=np.float32)
    first = Spool(1, budget=budget)
    first.append(block)
    second = Spool(1, budget=budget)
    second.append(block)
    assert first.in_memory and not second.in_memory  # the first took most of the budget
    del first
    gc.collect()
    assert budget.used_bytes == 0
    third = Spool(1, budget=budget)
    third.append(block)
    assert third.in_memory


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ParameterError):
        MemoryBudget(-1)
