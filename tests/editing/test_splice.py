"""Splicing keeps the base sample for sample outside the joins and crossfades at equal power."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from soundstar.editing.splice import equal_power, splice
from soundstar.errors import ParameterError


@given(st.integers(min_value=1, max_value=5000))
def test_equal_power_fades_keep_the_power(n: int) -> None:
    out, fade_in = equal_power(n)
    np.testing.assert_allclose(out**2 + fade_in**2, 1.0, atol=1e-6)
    assert np.all(np.diff(out) <= 0) and np.all(np.diff(fade_in) >= 0)


@given(
    at=st.integers(0, 200),
    lead=st.integers(0, 100),
    fade=st.integers(0, 50),
    body=st.integers(0, 300),
    fade_out=st.integers(0, 50),
    after=st.integers(0, 200),
)
def test_outside_the_joins_the_base_is_copied_exactly(
    at: int, lead: int, fade: int, body: int, fade_out: int, after: int
) -> None:
    rng = np.random.default_rng(at + body)
    a0 = at + lead
    a1 = a0 + fade
    c0 = a1 + body
    c1 = c0 + fade_out
    base = rng.uniform(-1, 1, (2, c1 + after)).astype(np.float32)
    insert = rng.uniform(-1, 1, (2, c1 - at)).astype(np.float32)
    out = splice(base, insert, at=at, join_in=(a0, a1), join_out=(c0, c1))
    assert out.shape == base.shape
    assert np.array_equal(out[:, :a0], base[:, :a0])
    assert np.array_equal(out[:, c1:], base[:, c1:])
    assert np.array_equal(out[:, a1:c0], insert[:, a1 - at : c0 - at])


def test_without_a_join_out_the_insert_runs_to_its_end() -> None:
    base = np.ones((1, 100), np.float32)
    insert = np.full((1, 150), 0.5, np.float32)
    out = splice(base, insert, at=40, join_in=(60, 70), join_out=None)
    assert out.shape == (1, 190)
    assert np.array_equal(out[:, :60], base[:, :60])
    assert np.all(out[:, 70:] == 0.5)


def test_a_join_outside_the_insert_is_refused() -> None:
    base = np.zeros((2, 100), np.float32)
    with pytest.raises(ParameterError):
        splice(base, np.zeros((2, 10), np.float32), at=50, join_in=(40, 50), join_out=None)
    with pytest.raises(ParameterError):
        splice(base, np.zeros((2, 10), np.float32), at=0, join_in=(0, 0), join_out=(5, 20))
