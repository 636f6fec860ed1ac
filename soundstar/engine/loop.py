"""Seamless loops: render past the loop's end, then add the tail onto its head.

What rings on after the last bar (note releases, the reverb) is what a listener hears over
the first bar when the loop repeats, so it is folded onto the start; the loop is then an
exact number of samples and repeats without a click or a gap.
"""

from __future__ import annotations

import numpy as np

from soundstar.audio.loudness import integrated_loudness, true_peak_dbtp
from soundstar.engine.options import EngineOptions
from soundstar.engine.render import ProgressFn, RenderResult, render_score
from soundstar.engine.spool import spool_of
from soundstar.errors import ParameterError
from soundstar.models import Score

# the longest reverb impulse response (effects._reverb_ir caps it at 8 s) and a release
TAIL_SECONDS = 9.0


def wrap_tail(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """The first `n_samples` of `audio` (…, n) with every later sample added onto the
    position it falls at modulo `n_samples`: the tail, folded onto the head."""
    if n_samples <= 0:
        raise ParameterError(f"a loop needs at least one sample, got {n_samples}")
    out = np.array(audio[..., :n_samples], dtype=np.float32, copy=True)
    for start in range(n_samples, audio.shape[-1], n_samples):
        piece = audio[..., start : start + n_samples]
        out[..., : piece.shape[-1]] += piece
    return out


def render_loop(
    score: Score,
    *,
    sample_rate: int,
    seed: int,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    progress: ProgressFn | None = None,
    options: EngineOptions | None = None,
    tail_seconds: float = TAIL_SECONDS,
) -> RenderResult:
    """`score` (a whole number of bars) rendered as a loop of exactly its length in samples,
    its tails wrapped onto its head; the master is lowered where the wrap would pass the
    true-peak ceiling, and the loudness is measured again on the loop as it repeats."""
    n_samples = round(score.duration_seconds * sample_rate)
    tail_beats = tail_seconds / score.seconds_per_beat
    longer = score.model_copy(update={"total_beats": score.total_beats + tail_beats})
    rendered = render_score(
        longer,
        sample_rate=sample_rate,
        seed=seed,
        target_lufs=target_lufs,
        ceiling_dbtp=ceiling_dbtp,
        progress=progress,
        options=options,
    )
    audio = wrap_tail(rendered.audio, n_samples)
    stems = {name: wrap_tail(stem, n_samples) for name, stem in rendered.stems.items()}
    peak = true_peak_dbtp(audio, sample_rate=sample_rate)
    if peak > ceiling_dbtp:
        gain = np.float32(10.0 ** ((ceiling_dbtp - peak) / 20.0))
        audio *= gain
        for stem in stems.values():
            stem *= gain
        peak = true_peak_dbtp(audio, sample_rate=sample_rate)
    rendered.master_audio = spool_of(audio)
    rendered.stem_audio = {name: spool_of(stem) for name, stem in stems.items()}
    rendered.true_peak_dbtp = peak
    rendered.lufs = integrated_loudness(audio, sample_rate=sample_rate)
    rendered.stages_run = [*rendered.stages_run, "loop"]
    return rendered
