"""The percussion writers: the kit, a kit piece or hand percussionist on its own, timpani,
and shakers and tambourines. Each plays the strokes of `strokes.strokes` (one velocity
rule, the player's `Policy`), maps voices to pitches and ends in its own way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

from soundstar.engine.composer.feel import FAST_BPM, swing_offset
from soundstar.engine.composer.pulse import Pulse
from soundstar.engine.composer.strokes import (
    DRUMMER,
    FELT_BEATS,
    FROM_THE_KIT,
    PERCUSSIONIST,
    Stroke,
    grid,
    strokes,
)
from soundstar.engine.composer.timeline import Timeline
from soundstar.engine.composer.voicing import nearest_pitch
from soundstar.knowledge import DrumGroove
from soundstar.models import Note
from soundstar.theory import parse_chord

# A hand-clap (a broadband noise burst) on 2 and 4 is heard as a half-time beat from
# FAST_BPM up even when played softly: the kit leaves it out, unless the person asked for
# claps or the groove is felt in half time anyway (trap).
_FAST_DROPPED = frozenset({"clap"})
# A piece named inside the kit is heard when it plays at least this many strokes that are
# not ghost notes: one stroke in a piece (a fill's last snare at a slow tempo) is no part.
_HEARD_STROKES = 2


def _notes(
    timeline: Timeline,
    played: Iterable[Stroke],
    steps: int,
    pitch: Callable[[Stroke], int],
    *,
    swing: float = 0.0,
    min_beats: float = 0.0,
) -> list[Note]:
    """Notes of strokes on a grid of `steps` a bar: off-beats delayed by `swing`, each a
    step long (at least `min_beats`) unless the stroke says."""
    step_beats = timeline.beats_per_bar / steps
    steps_per_beat = steps / timeline.beats_per_bar
    return [
        Note(
            pitch=pitch(s),
            start_beat=round(
                timeline.bar_start(s.bar)
                + s.step * step_beats
                + swing_offset(s.step, steps_per_beat, swing, step_beats),
                6,
            ),
            duration_beats=s.beats or round(max(step_beats, min_beats), 6),
            velocity=s.velocity,
        )
        for s in played
    ]


def _ending(timeline: Timeline, hits: Iterable[tuple[int, int, float]]) -> list[Note]:
    """(pitch, velocity, beats) struck together on the last bar, where there is more than one."""
    if timeline.n_bars < 2 or timeline.final_bar is None:
        return []
    start = timeline.bar_start(timeline.final_bar)
    return [Note(pitch=p, start_beat=start, duration_beats=d, velocity=v) for p, v, d in hits]


def write_drums(
    timeline: Timeline,
    groove: DrumGroove,
    gm_notes: dict[str, int],
    rng: np.random.Generator,
    *,
    swing: float,
    tempo_bpm: float | None = None,
    named_voices: frozenset[str] = frozenset(),
    named_pieces: tuple[tuple[str, ...], ...] = (),
    left_out: frozenset[str] = frozenset(),
) -> list[Note]:
    """The drummer: the groove with its fills and crashes in every bar; the last bar a kick
    and a crash; voices the person left out (`left_out`) never.

    At FAST_BPM and above, claps are left out (see there) unless `named_voices` holds them.
    A piece named inside the kit (`named_pieces`, the voices of each) that the groove and
    the velocity rule leave unheard, with ghost notes, a single stroke or nothing (a
    salsa's off-beat kick below VERY_SLOW_BPM, a jazz drummer's feathered kick, a house
    fill's one snare at 60 BPM), plays the felt beats: a piece asked for is heard."""
    fast = tempo_bpm is not None and tempo_bpm >= FAST_BPM and groove.feel != "half_time"
    silent = left_out | (_FAST_DROPPED - named_voices if fast else frozenset())
    played = list(strokes(timeline, groove, None, rng, tempo_bpm, DRUMMER, silent=silent))
    heard = Counter(s.voice for s in played if s.heard)

    def gm(s: Stroke) -> int:
        return gm_notes[s.voice]

    swing = max(swing, groove.swing)
    notes = _notes(timeline, played, groove.steps, gm, swing=swing)
    notes += _ending(
        timeline,
        (
            (gm_notes[v], 112 if v == "kick" else 100, 1.0)
            for v in ("kick", "crash")
            if v not in left_out
        ),
    )
    for piece in named_pieces:
        if sum(heard[v] for v in piece) < _HEARD_STROKES:
            # cymbals keep the beat on the ride (see `strokes.felt_beat_pattern`)
            voice = next((v for v in piece if v != "crash"), piece[0])
            felt = strokes(timeline, None, (voice,), rng, tempo_bpm, FELT_BEATS, steps=groove.steps)
            beats = _notes(timeline, felt, groove.steps, gm)
            # the felt beats take the place of the voice's ghost notes, not doubling them
            end = max((n.start_beat for n in beats), default=-1.0)
            pitch = gm_notes[voice]
            notes = [n for n in notes if n.pitch != pitch or n.start_beat > end] + beats
    return notes


def write_hand_percussion(
    timeline: Timeline,
    groove: DrumGroove | None,
    voices: tuple[str, ...],
    gm_notes: dict[str, int],
    rng: np.random.Generator,
    *,
    swing: float,
    tempo_bpm: float | None = None,
    fills: bool = False,
) -> list[Note]:
    """A hand percussionist's or a lone kit piece's part (congas, a cajon, hand claps): each
    of the instrument's `voices` plays its pattern in `groove` (the style's, or the
    hand-percussion groove of the meter), else a hit on the felt beats; with `fills`, the
    groove's fill at each section's end and the kit's thinning (a kit piece taken out of
    the kit), else it rests in the quietest sections. It ends on one stroke. Where the
    groove leaves the instrument nothing but ghost notes (a salsa's off-beat kick at a slow
    tempo), it plays the felt beats: an instrument asked for is heard."""
    policy = FROM_THE_KIT if fills else PERCUSSIONIST
    played = list(strokes(timeline, groove, voices, rng, tempo_bpm, policy))
    if not any(s.heard for s in played) and groove is not None:
        groove = None
        played = list(strokes(timeline, None, voices, rng, tempo_bpm, PERCUSSIONIST))
    steps, _ = grid(groove, timeline)
    notes = _notes(timeline, played, steps, lambda s: gm_notes[s.voice], swing=swing)
    return notes + _ending(timeline, [(gm_notes[voices[0]], 100, 1.0)])


def write_pitched_percussion(
    timeline: Timeline,
    groove: DrumGroove | None,
    register: tuple[int, int],
    rng: np.random.Generator,
    *,
    tempo_bpm: float | None = None,
) -> list[Note]:
    """Timpani (or a berimbau): the low drum's pattern of `groove` (an epic ostinato in a
    film score) struck on each bar's chord root, near the bottom of the register; a hit
    on the felt beats where there is no pattern; rests in the quietest sections."""
    lo, hi = register

    def root(bar: int) -> int:
        return nearest_pitch(parse_chord(timeline.chords[bar]).root_pc, lo + 2, lo, hi)

    played = strokes(timeline, groove, ("tom_low",), rng, tempo_bpm, PERCUSSIONIST)
    steps, _ = grid(groove, timeline)
    notes = _notes(timeline, played, steps, lambda s: root(s.bar), min_beats=0.5)
    return notes + _ending(timeline, [(root(timeline.n_bars - 1), 100, 2.0)])


def basic_groove(beats_per_bar: float, numerator: int) -> DrumGroove:
    """A groove for any meter when the genre has none in it: kick on 1, backbeat, eighth hats."""
    steps = numerator * (4 if beats_per_bar / numerator == 1.0 else 2)
    per_beat = steps // numerator
    kick = ["."] * steps
    snare = ["."] * steps
    hats = ["."] * steps
    for beat in range(numerator):
        i = beat * per_beat
        hats[i] = "x"
        if per_beat >= 2:
            hats[i + per_beat // 2] = "o"
    kick[0] = "X"
    if numerator >= 4:
        kick[(numerator // 2) * per_beat] = "x"
        for beat in range(1, numerator, 2):
            snare[beat * per_beat] = "x"
    else:
        snare[(numerator - 1) * per_beat] = "x"
    return DrumGroove.model_validate(
        {
            "id": f"basic_{numerator}",
            "name": f"basic {numerator}",
            "role": "kit",
            "meter": f"{numerator}/{4 if per_beat == 4 else 8}",
            "steps": steps,
            "swing": 0.0,
            "feel": "straight",
            "voices": {"kick": "".join(kick), "snare": "".join(snare), "closed_hat": "".join(hats)},
        }
    )


def _tambourine_beats(pulse: Pulse) -> list[float]:
    """The backbeat: 2 and 4 in 4/4, the second dotted quarter in 6/8; in a bar of three
    beats, 2 and 3 (the waltz's "oom-pah-pah"), as one hit on 2 alone makes the bar
    lopsided and is heard as a pulse a beat and a half long."""
    beats = pulse.onsets()
    return beats[1:] if len(beats) == 3 else beats[1::2]


def shaker_groove(meter: str, *, fast: bool) -> DrumGroove:
    """The shaker's and the tambourine's idiom in any meter, as a groove on an eighth-note
    grid: shaker eighths accenting the felt beats (two dotted quarters in 6/8, not three
    quarters), on the felt beats alone when `fast` (from FAST_BPM its eighths in a fast
    waltz are heard as a beat and a half), and a tambourine on the backbeat."""
    pulse = Pulse.of(meter)
    steps = max(round(pulse.beats_per_bar * 2), 2)
    step_beats = pulse.beats_per_bar / steps
    shaker = [
        "x" if pulse.on_beat(i * step_beats) else ("." if fast else "o") for i in range(steps)
    ]
    tambourine = ["."] * steps
    for onset in _tambourine_beats(pulse):
        tambourine[round(onset / step_beats)] = "x"
    return DrumGroove.model_validate(
        {
            "id": "shaker_and_tambourine",
            "name": "shaker and tambourine",
            "role": "hand_percussion",
            "meter": meter,
            "steps": steps,
            "swing": 0.0,
            "feel": "straight",
            "voices": {"shaker": "".join(shaker), "tambourine": "".join(tambourine)},
        }
    )
