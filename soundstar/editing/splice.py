"""Splicing new audio into a piece: the piece kept sample for sample outside the joins,
an equal-power crossfade inside them. Pure numpy."""

from __future__ import annotations

import numpy as np

from soundstar.errors import ParameterError

Join = tuple[int, int]


def equal_power(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(fade-out, fade-in) gains over n samples whose squares sum to one."""
    theta = (np.arange(n, dtype=np.float64) + 0.5) / max(n, 1) * (np.pi / 2.0)
    return np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)


def splice(
    base: np.ndarray,
    insert: np.ndarray,
    *,
    at: int,
    join_in: Join,
    join_out: Join | None,
) -> np.ndarray:
    """`base` (channels, n) with `insert` (channels, m), which starts at sample `at`, put in
    its place from `join_in` to `join_out`: base → insert crossfaded over `join_in`,
    insert → base over `join_out`. Without `join_out` the insert runs to its end and the
    result ends with it (an extension). Samples outside the joins are copied exactly."""
    if base.ndim != 2 or insert.ndim != 2 or base.shape[0] != insert.shape[0]:
        raise ParameterError("splice needs (channels, n) arrays with the same channels")
    a0, a1 = join_in
    end = at + insert.shape[1]
    if not at <= a0 <= a1 <= base.shape[1]:
        raise ParameterError(f"join {join_in} lies outside the base or before the insert")
    if join_out is not None:
        c0, c1 = join_out
        if not a1 <= c0 <= c1 <= min(end, base.shape[1]):
            raise ParameterError(f"join {join_out} lies outside the insert or the base")
        length = base.shape[1]
    else:
        c0 = c1 = length = end
    out = np.empty((base.shape[0], length), dtype=np.float32)
    out[:, :a0] = base[:, :a0]
    fade_out, fade_in = equal_power(a1 - a0)
    out[:, a0:a1] = base[:, a0:a1] * fade_out + insert[:, a0 - at : a1 - at] * fade_in
    out[:, a1:c0] = insert[:, a1 - at : c0 - at]
    if join_out is not None:
        fade_out, fade_in = equal_power(c1 - c0)
        out[:, c0:c1] = insert[:, c0 - at : c1 - at] * fade_out + base[:, c0:c1] * fade_in
        out[:, c1:] = base[:, c1:]
    return out
