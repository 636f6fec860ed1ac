"""808 slides: a bass note marked in its groove glides in from the note before it, and
the glide is heard (DDSP, SoundFont) and written (MIDI) as a pitch that moves."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from soundstar.aurora.pipeline import Aurora
from soundstar.engine.bar_render import Bar, BarPart, BarRenderer
from soundstar.engine.composer import compose
from soundstar.engine.composer.bass_part import write_bass
from soundstar.engine.composer.timeline import SectionSpan, Timeline
from soundstar.engine.ddsp import glide_positions, render_notes
from soundstar.engine.production import default_production
from soundstar.engine.sampler import SoundFontSampler, find_soundfont
from soundstar.engine.timbres import load_timbre
from soundstar.errors import ParameterError
from soundstar.knowledge import BassGroove
from soundstar.live.play import play, start_session
from soundstar.models import Note, Role, Score


def _score(prompt: str, seed: int = 1) -> Score:
    u = Aurora().understand(prompt, duration_seconds=30.0, check_length=False)
    return compose(u.parameters, u.plan, seed=seed)


def _bass(score: Score) -> list[Note]:
    return sorted(
        (n for t in score.tracks if t.role == Role.BASS for n in t.notes),
        key=lambda n: n.start_beat,
    )


# --------------------------------------------------------------------------- composer


@pytest.mark.parametrize(
    "prompt",
    [
        "a dark trap beat with hard 808s",
        "a drill beat, ominous",
        "a trap beat with electric bass",  # sampled: the glides are the groove's, not the 808's
        "a boom bap hip hop beat with sliding 808",  # asked for in a style that does not slide
    ],
)
def test_a_trap_808_slides_from_the_note_it_last_sounded(prompt: str) -> None:
    bass = _bass(_score(prompt))
    glides = [(i, n) for i, n in enumerate(bass) if n.glide_from is not None]
    assert len(glides) >= 4, "a trap 808 line slides"
    assert any(n.glide_from is not None and n.glide_from < n.pitch for _, n in glides)
    assert any(n.glide_from is not None and n.glide_from > n.pitch for _, n in glides)
    for i, note in glides:
        assert i > 0
        assert note.glide_from == bass[i - 1].pitch != note.pitch
        assert 0 < note.glide_beats <= note.duration_beats
        assert Note.model_validate(note.model_dump()) == note


@pytest.mark.parametrize("prompt", ["a hard rock song with electric guitars", "a funky disco"])
def test_styles_that_do_not_slide_have_no_glides(prompt: str) -> None:
    score = _score(prompt)
    assert not [n for t in score.tracks for n in t.notes if n.glide_from is not None]


def _timeline(chords: tuple[str, ...]) -> Timeline:
    n = len(chords)
    return Timeline(
        beats_per_bar=4.0,
        n_bars=n,
        total_beats=4.0 * n,
        sections=(SectionSpan(0, "verse", 0, n, 0.8),),
        chords=chords,
        loops=True,
    )


def _groove(pattern: str, glides: str) -> BassGroove:
    return BassGroove(
        id="test", name="test", meter="4/4", steps=len(pattern), pattern=pattern, glides=glides
    )


def test_a_glide_on_the_first_step_comes_from_the_previous_bar_and_none_from_nothing() -> None:
    groove = _groove("R-5-", "~.~.")
    notes = write_bass(
        _timeline(("C", "F")), groove, (24, 60), (0, 2, 4, 5, 7, 9, 11), np.random.default_rng(0),
        swing=0.0,
    )  # fmt: skip
    assert [n.pitch % 12 for n in notes] == [0, 7, 5, 0]
    assert notes[0].glide_from is None  # nothing sounded before the piece's first note
    assert notes[1].glide_from == notes[0].pitch
    assert notes[2].glide_from == notes[1].pitch  # over the bar line
    assert notes[3].glide_from == notes[2].pitch
    assert all(n.glide_beats == 0.25 for n in notes[1:])


def test_no_glide_to_the_pitch_already_sounding() -> None:
    notes = write_bass(
        _timeline(("C",)), _groove("R-R-", "..~."), (24, 60), (0, 2, 4, 5, 7, 9, 11),
        np.random.default_rng(0), swing=0.0,
    )  # fmt: skip
    assert [n.glide_from for n in notes] == [None, None]


def test_a_glide_never_outlasts_its_note() -> None:
    notes = write_bass(
        _timeline(("C",)), _groove("R58" + "." * 13, ".~~" + "." * 13), (24, 60), (0, 2, 4, 5, 7, 9, 11),
        np.random.default_rng(0), swing=0.0,
    )  # fmt: skip
    assert notes[1].glide_beats == notes[1].duration_beats < 0.25


# --------------------------------------------------------------------------- DDSP

SR = 22050


def _pitch_track(
    audio: np.ndarray,
    sample_rate: int,
    lo_hz: float,
    hi_hz: float,
    *,
    win: int = 1024,
    harmonics: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """(window centres in s, MIDI pitch of the f0 in [lo_hz, hi_hz] whose first
    `harmonics` harmonics hold most (their product, on a zero-padded FFT: a sampled bass's
    second or third harmonic can outweigh its first)) over windows hopping by win / 4."""
    hop, pad = win // 4, 16
    freqs = np.fft.rfftfreq(pad * win, 1.0 / sample_rate)
    band = np.flatnonzero((freqs >= lo_hz) & (freqs <= hi_hz))
    times, pitches = [], []
    for start in range(0, audio.size - win, hop):
        spectrum = np.abs(np.fft.rfft(audio[start : start + win] * np.hanning(win), pad * win))
        product = np.prod([spectrum[h * band] for h in range(1, harmonics + 1)], axis=0)
        times.append((start + win / 2) / sample_rate)
        pitches.append(69.0 + 12.0 * np.log2(freqs[band[np.argmax(product)]] / 440.0))
    return np.array(times), np.array(pitches)


def test_glide_positions_read_at_the_rate_of_the_moving_pitch() -> None:
    pos = glide_positions(1000, 400, -12.0)
    rate = np.diff(pos)
    assert rate[0] == pytest.approx(0.5)
    assert rate[199] == pytest.approx(2.0 ** (-6.0 * 201 / 200 / 12.0), rel=1e-3)
    np.testing.assert_allclose(rate[400:], 1.0)
    assert pos[0] == 0.0


@pytest.mark.parametrize(
    ("timbre", "start", "end"),
    [("bass_808", 36.0, 48.0), ("bass_808", 50.0, 38.0), ("flute", 79.0, 72.0)],
)
def test_a_rendered_glide_moves_in_a_line_from_where_it_starts_to_its_pitch(
    timbre: str, start: float, end: float
) -> None:
    glide_s, held_s = 0.4, 1.2
    audio = render_notes(
        np.array([end]), np.array([0.0]), np.array([held_s]), np.array([0.9]),
        preset=load_timbre(timbre), sample_rate=SR, n_samples=int(1.3 * SR),
        rng=np.random.default_rng(0), glide_semitones=np.array([start - end]),
        glide_s=np.array([glide_s]),
    )  # fmt: skip
    lo = 440.0 * 2.0 ** ((min(start, end) - 72.0) / 12.0)
    hi = 440.0 * 2.0 ** ((max(start, end) - 66.0) / 12.0)
    times, pitch = _pitch_track(audio, SR, lo, hi)
    expected = end + (start - end) * np.clip(1.0 - times / glide_s, 0.0, 1.0)
    gliding = (times > 0.03) & (times < glide_s - 0.03)
    settled = (times > glide_s + 0.05) & (times < held_s - 0.05)
    assert abs(pitch[0] - start) < 1.5, "starts near where the glide starts"
    assert np.max(np.abs(pitch[gliding] - expected[gliding])) < 0.6
    assert np.max(np.abs(pitch[settled] - end)) < 0.3, "ends at the note's pitch"


def test_no_glide_renders_as_before_and_half_given_glides_are_refused() -> None:
    args = (
        np.array([40.0, 43.0]),
        np.array([0.0, 0.5]),
        np.array([0.4, 0.4]),
        np.array([0.8, 0.8]),
    )
    kw = {"preset": load_timbre("bass_808"), "sample_rate": SR, "n_samples": SR}
    plain = render_notes(*args, rng=np.random.default_rng(3), **kw)
    zero = render_notes(
        *args, rng=np.random.default_rng(3), glide_semitones=np.zeros(2), glide_s=np.zeros(2), **kw
    )
    assert plain.tobytes() == zero.tobytes()
    with pytest.raises(ParameterError, match="together"):
        render_notes(*args, rng=np.random.default_rng(3), glide_s=np.ones(2), **kw)
    with pytest.raises(ParameterError, match="glide_s must have the shape"):
        render_notes(
            *args, rng=np.random.default_rng(3), glide_semitones=np.ones(2), glide_s=np.ones(3),
            **kw,
        )  # fmt: skip


# --------------------------------------------------------------------------- sampler

HAVE_SF2 = find_soundfont(None) is not None and importlib.util.find_spec("tinysoundfont")


@pytest.mark.skipif(not HAVE_SF2, reason="needs tinysoundfont and a General MIDI SoundFont")
@pytest.mark.parametrize(("start", "end"), [(36.0, 48.0), (45.0, 38.0)])
def test_a_sampled_bass_glides_too(start: float, end: float) -> None:
    sampler = SoundFontSampler.load(find_soundfont(None) or Path(), sample_rate=SR)
    glide_s, held_s = 0.4, 1.2
    args = (np.array([end]), np.array([0.0]), np.array([held_s]), np.array([0.9]))
    kw = {"program": 33, "is_drum": False, "n_samples": int(1.3 * SR)}
    audio = sampler.render_notes(
        *args, glide_semitones=np.array([start - end]), glide_s=np.array([glide_s]), **kw
    )
    lo = 440.0 * 2.0 ** ((min(start, end) - 72.0) / 12.0)
    hi = 440.0 * 2.0 ** ((max(start, end) - 66.0) / 12.0)
    times, pitch = _pitch_track(audio, SR, lo, hi, win=2048, harmonics=3)
    expected = end + (start - end) * np.clip(1.0 - times / glide_s, 0.0, 1.0)
    off = pitch - expected
    gliding = (times > 0.05) & (times < glide_s - 0.05)
    settled = (times > glide_s + 0.05) & (times < held_s - 0.05)
    assert np.max(np.abs(off[gliding])) < 0.6
    assert np.max(np.abs(off[settled])) < 0.3
    plain = sampler.render_notes(*args, **kw)  # the same note without its glide
    _, unglided = _pitch_track(plain, SR, lo, hi, win=2048, harmonics=3)
    assert np.max(np.abs(unglided - expected)[gliding]) > 2.0


@pytest.mark.skipif(not HAVE_SF2, reason="needs tinysoundfont and a General MIDI SoundFont")
def test_glides_on_their_own_channels_leave_the_other_notes_as_they_were() -> None:
    sampler = SoundFontSampler.load(find_soundfont(None) or Path(), sample_rate=SR)
    rng = np.random.default_rng(4)
    onset = np.sort(rng.uniform(0.0, 4.0, 24))
    args = (rng.integers(36, 52, 24).astype(float), onset, np.full(24, 0.3), np.full(24, 0.8))
    kw = {"program": 33, "is_drum": False, "n_samples": 5 * SR}
    semitones = np.where(np.arange(24) % 3 == 0, 5.0, 0.0)
    gliding = sampler.render_notes(*args, glide_semitones=semitones, glide_s=np.full(24, 0.1), **kw)
    keep = semitones == 0.0
    others = sampler.render_notes(*(a[keep] for a in args), **kw)
    alone = sampler.render_notes(
        *(a[~keep] for a in args), glide_semitones=semitones[~keep],
        glide_s=np.full(int((~keep).sum()), 0.1), **kw,
    )  # fmt: skip
    np.testing.assert_allclose(gliding, others + alone, atol=1e-5)


# --------------------------------------------------------------------------- live


def test_a_bar_rendered_live_glides_as_the_whole_render_does() -> None:
    part = BarPart(
        name="808", role="bass", is_drum=False, sound="bass_808", pitch=np.array([45.0]),
        onset_s=np.array([0.0]), duration_s=np.array([1.2]), velocity=np.array([0.9]),
        glide_semitones=np.array([-12.0]), glide_s=np.array([0.4]),
    )  # fmt: skip
    bar = Bar(n_samples=int(1.3 * SR), energy=1.0, key_pc=9, parts=(part,))
    audio = BarRenderer(sample_rate=SR).render(
        bar, production=default_production(), rng=np.random.default_rng(0)
    )
    times, pitch = _pitch_track(audio.mean(axis=0), SR, 30.0, 200.0)
    expected = 45.0 - 12.0 * np.clip(1.0 - times / 0.4, 0.0, 1.0)
    gliding = (times > 0.03) & (times < 0.37)
    assert np.max(np.abs(pitch[gliding] - expected[gliding])) < 0.6
    assert abs(pitch[(times > 0.5) & (times < 1.1)].mean() - 45.0) < 0.3


def test_a_live_trap_session_plays_its_808_slides() -> None:
    session = start_session(Aurora(), "a dark trap beat with hard 808s", seed=2, sample_rate=SR)
    blocks = list(play(session, 12.0, []))
    glides = [
        n for b in blocks for t in b.tracks if t.role == "bass" for n in t.notes if n.glide_from
    ]
    assert glides, "the 808 slides live too"
    assert all(np.isfinite(b.audio).all() for b in blocks)
