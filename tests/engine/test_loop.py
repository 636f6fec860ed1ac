"""Seamless loops: exact length in samples, tails folded onto the head, a seam as smooth as
the loop's inside, and harmony and parts that turn back to the first bar instead of ending."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import build_timeline, compose
from soundstar.engine.loop import render_loop, wrap_tail
from soundstar.errors import ParameterError
from soundstar.loops import loop_parameters, loop_plan, loop_samples
from soundstar.models import MusicalParameters, StructuralPlan
from soundstar.theory import dominant_chord, parse_chord

SR = 22050
PROMPTS = (
    "an upbeat 80s synthwave track with pulsing bass and dreamy pads",
    "a jazz trio in 3/4 at 97 bpm with brushes and upright bass",
)


def _loop(prompt: str, bars: int) -> tuple[MusicalParameters, StructuralPlan]:
    understood = Aurora().understand(prompt)
    params = loop_parameters(understood.parameters, bars)
    return params, loop_plan(understood.plan, params)


@settings(max_examples=60, deadline=None)
@given(
    audio=arrays(
        np.float32, st.tuples(st.just(2), st.integers(1, 400)), elements=st.floats(-1, 1, width=32)
    ),
    n=st.integers(1, 120),
)
def test_wrapping_keeps_every_sample_and_cuts_to_the_loop(audio: np.ndarray, n: int) -> None:
    """Folding loses nothing: the wrapped loop sums to what was rendered, and its head holds
    each later sample at its position modulo the loop's length."""
    wrapped = wrap_tail(audio, n)
    assert wrapped.shape == (2, min(n, audio.shape[1]))
    np.testing.assert_allclose(wrapped.sum(axis=1), audio.sum(axis=1), atol=1e-3)
    if audio.shape[1] > n:
        expected = sum(audio[:, k] for k in range(0, audio.shape[1], n))
        np.testing.assert_allclose(wrapped[:, 0], expected, atol=1e-4)


def test_a_loop_of_no_samples_is_refused() -> None:
    with pytest.raises(ParameterError):
        wrap_tail(np.zeros((2, 10), dtype=np.float32), 0)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_a_rendered_loop_is_exact_and_its_seam_as_smooth_as_its_inside(prompt: str) -> None:
    params, plan = _loop(prompt, 8)
    score = compose(params, plan, seed=5, loops=True)
    rendered = render_loop(score, sample_rate=SR, seed=5)
    audio = rendered.audio
    assert audio.shape[1] == loop_samples(8, params.time_signature, params.tempo_bpm, SR)
    exact = 8 * score.beats_per_bar * 60.0 / params.tempo_bpm * SR
    assert abs(audio.shape[1] - exact) <= 0.5
    steps = np.abs(np.diff(audio, axis=1))
    seam = float(np.abs(audio[:, 0] - audio[:, -1]).max())
    assert seam <= float(np.percentile(steps, 99)), (seam, np.median(steps))
    assert rendered.true_peak_dbtp <= -1.0 + 1e-3
    assert "loop" in rendered.stages_run


def test_a_loop_turns_back_to_its_first_bar_and_plays_no_ending() -> None:
    params, plan = _loop(PROMPTS[0], 8)
    timeline = build_timeline(params, plan, loops=True)
    assert timeline.final_bar is None
    assert (
        parse_chord(timeline.chords[-1]).root_pc == parse_chord(dominant_chord(params.key)).root_pc
    )
    assert timeline.is_section_end(timeline.n_bars - 1)  # the last bar leads on, with a fill
    looped = compose(params, plan, seed=2, loops=True)
    ended = compose(params, plan, seed=2)
    last_bar = (timeline.n_bars - 1) * timeline.beats_per_bar

    def struck_on_last_downbeat(score_tracks: list) -> int:
        return sum(1 for t in score_tracks if t.is_drum for n in t.notes
                   if n.start_beat == last_bar and n.duration_beats == 1.0)  # fmt: skip

    assert struck_on_last_downbeat(ended.tracks) > 0  # the ending's kick and crash
    drums = [n for t in looped.tracks if t.is_drum for n in t.notes]
    assert any(n.start_beat > last_bar for n in drums)  # the groove plays on through bar 8


def test_loop_lengths_outside_the_piece_limits_are_refused_with_the_bounds() -> None:
    params = Aurora().understand("a techno track at 128 bpm").parameters
    with pytest.raises(ParameterError, match="ask for more or fewer bars"):
        loop_parameters(params, 1)
    with pytest.raises(ParameterError, match="1 to 256 bars"):
        loop_parameters(params, 0)
