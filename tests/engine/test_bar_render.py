"""Bars rendered one at a time: what a bar leaves ringing sounds on in the bars after it,
without a seam, and the master gain, once set, holds."""

from __future__ import annotations

import numpy as np

from soundstar.engine.bar_render import Bar, BarPart, BarRenderer
from soundstar.engine.production import default_production

SR = 22050
BAR = SR  # one-second bars


def _pad(onsets: list[float], durations: list[float]) -> BarPart:
    n = len(onsets)
    return BarPart(
        name="pad", role="pad", is_drum=False, sound="piano",
        pitch=np.full(n, 60.0), onset_s=np.array(onsets), duration_s=np.array(durations),
        velocity=np.full(n, 0.8),
    )  # fmt: skip


def _render(bars: list[Bar]) -> list[np.ndarray]:
    renderer = BarRenderer(sample_rate=SR)
    rng = np.random.default_rng(1)
    return [renderer.render(b, production=default_production(), rng=rng) for b in bars]


def test_a_note_held_over_the_bar_line_sounds_on_without_a_seam() -> None:
    held = Bar(n_samples=BAR, energy=1.0, key_pc=0, parts=(_pad([0.5], [1.2]),))
    empty = Bar(n_samples=BAR, energy=1.0, key_pc=0, parts=())
    first, second, third = _render([held, empty, empty])
    rms = [float(np.sqrt(np.mean(b**2))) for b in (first, second, third)]
    assert rms[1] > 0.2 * rms[0]  # the note goes on into the next bar
    assert rms[2] < rms[1]  # and dies away after it
    joined = np.concatenate([first, second], axis=1)
    steps = np.abs(np.diff(joined, axis=1)).max(axis=0)
    around = steps[BAR - 200 : BAR + 200]
    assert float(around.max()) <= 1.5 * float(steps[BAR // 2 + 2000 : BAR - 400].max()) + 1e-6


def test_the_master_gain_is_measured_on_the_opening_then_held() -> None:
    renderer = BarRenderer(sample_rate=SR, calibration_s=3.0)
    rng = np.random.default_rng(2)
    production = default_production()
    silent = Bar(n_samples=BAR, energy=1.0, key_pc=0, parts=())
    out = renderer.render(silent, production=production, rng=rng)
    assert renderer.master_gain_db is None and not np.any(out)
    loud = Bar(n_samples=BAR, energy=1.0, key_pc=0, parts=(_pad([0.0, 0.5], [0.4, 0.4]),))
    renderer.render(loud, production=production, rng=rng)
    first = renderer.master_gain_db
    busier = Bar(n_samples=BAR, energy=1.0, key_pc=0,
                 parts=(_pad([0.0, 0.25, 0.5, 0.75], [0.2] * 4),))  # fmt: skip
    renderer.render(busier, production=production, rng=rng)
    settled = renderer.master_gain_db
    assert first is not None and settled is not None and settled < first  # louder opening
    quiet = Bar(n_samples=BAR, energy=0.2, key_pc=0, parts=(_pad([0.0], [0.2]),))
    for _ in range(3):
        renderer.render(quiet, production=production, rng=rng)
        assert renderer.master_gain_db == settled
