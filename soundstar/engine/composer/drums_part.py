"""The drum part: the genre's groove, shaped by section energy, with fills and crashes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from soundstar.engine.composer.feel import FAST_BPM, SLOW_BPM, VERY_SLOW_BPM, swing_offset
from soundstar.engine.composer.pulse import Pulse
from soundstar.engine.composer.timeline import Timeline
from soundstar.engine.composer.voicing import nearest_pitch
from soundstar.knowledge import DrumBar, DrumGroove
from soundstar.models import Note
from soundstar.theory import parse_chord

VELOCITY = {"X": 118, "x": 96, "o": 52}
_FULL_STROKES = frozenset("Xx")
# Below this section energy the kit plays only these voices.
_KIT_THIN_ENERGY = 0.3
_LOW_ENERGY_KEEP = frozenset({"kick", "closed_hat", "pedal_hat", "ride", "shaker", "rim"})
_TIMEKEEPERS = frozenset({"closed_hat", "pedal_hat", "open_hat", "ride", "shaker", "tambourine"})
_BEAT_VOICES = frozenset({"kick", "snare", "clap", "rim"})
_SLOW_OFFBEAT_SCALE = 0.55
_SLOW_GHOST_SCALE = 0.3
_SLOW_BEAT_SCALE = 1.1
# Ghost notes ("o") play from this section energy up.
_GHOST_ENERGY = 0.45
# A hand-clap (a broadband noise burst) on 2 and 4 is heard as a half-time beat from
# FAST_BPM up even when played softly: it is left out, unless the person asked for claps
# or the groove is felt in half time anyway (trap).
_FAST_DROPPED = frozenset({"clap"})


def slow_tempo_scale(voice: str, on_beat: bool, tempo_bpm: float | None) -> float:
    """Velocity factor that keeps the beat, not its subdivision, the strongest pulse:
    between beats, cymbals and shakers play softer and kicks, snares and toms become
    ghost notes; on the beat, kick and snare are lifted."""
    if tempo_bpm is None or tempo_bpm >= SLOW_BPM:
        return 1.0
    if on_beat:
        return _SLOW_BEAT_SCALE if voice in _BEAT_VOICES else 1.0
    if voice in _TIMEKEEPERS:
        return _SLOW_OFFBEAT_SCALE
    return 0.0 if tempo_bpm < VERY_SLOW_BPM else _SLOW_GHOST_SCALE


def _bar_voices(groove: DrumGroove, bar: int, timeline: Timeline) -> dict[str, str]:
    """The patterns of one bar: the fill at a section's end, else the groove's."""
    if timeline.is_section_end(bar) and groove.fill is not None:
        return {str(k): v for k, v in groove.fill.voices.items()}
    return _groove_voices(groove, bar)


def _groove_voices(groove: DrumGroove, bar: int) -> dict[str, str]:
    """The groove's patterns in one bar, with its every-second-bar voices (a clave's other
    side) and, every fourth bar, a variation."""
    merged = {str(k): v for k, v in groove.voices.items()}
    if groove.alternate is not None and bar % 2 == 1:
        merged.update({str(k): v for k, v in groove.alternate.voices.items()})
    if groove.variations and bar % 4 == 3:
        variation = groove.variations[(bar // 4) % len(groove.variations)]
        merged.update({str(k): v for k, v in variation.voices.items()})
    return merged


def pattern_voices(groove: DrumGroove, *, fill: bool = True, ghosts: bool = True) -> frozenset[str]:
    """Every voice the groove has a pattern for in some bar: its variations and alternate
    bar included, its fill unless `fill` is False, and a voice with only ghost notes
    (a techno rim) unless `ghosts` is False."""
    bars: list[DrumGroove | DrumBar | None] = [
        groove,
        groove.fill if fill else None,
        groove.alternate,
        *groove.variations,
    ]
    return frozenset(
        str(voice)
        for bar in bars
        if bar is not None
        for voice, pattern in bar.voices.items()
        if ghosts or any(char in _FULL_STROKES for char in pattern)
    )


def _thinned_out(voice: str, energy: float) -> bool:
    """Whether the kit leaves `voice` out in a section this quiet."""
    return energy < _KIT_THIN_ENERGY and voice not in _LOW_ENERGY_KEEP


def _pattern_hits(
    pattern: str,
    steps: int,
    timeline: Timeline,
    energy: float,
    voice: str,
    rng: np.random.Generator,
    tempo_bpm: float | None,
) -> list[tuple[int, int, bool]]:
    """(step, velocity, heard) of a drum or percussion pattern in one bar: ghost notes only
    from _GHOST_ENERGY up, softer in quieter sections, reshaped at slow tempi
    (slow_tempo_scale). `heard` marks a stroke that is not a ghost note, as written or as
    a slow tempo makes it: the strokes by which a listener knows the instrument plays."""
    steps_per_beat = steps / timeline.beats_per_bar
    scale = 0.72 + 0.28 * energy
    hits = []
    for step, char in enumerate(pattern[:steps]):
        if char not in VELOCITY or (char == "o" and energy < _GHOST_ENERGY):
            continue
        on_beat = abs(step / steps_per_beat - round(step / steps_per_beat)) < 1e-9
        slow = slow_tempo_scale(voice, on_beat, tempo_bpm)
        if slow == 0.0:
            continue
        velocity = VELOCITY[char] * scale * slow + rng.normal(0.0, 4.0)
        heard = char in _FULL_STROKES and slow >= _SLOW_OFFBEAT_SCALE
        hits.append((step, int(np.clip(velocity, 20, 127)), heard))
    return hits


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
    """Notes on the GM drum map for every bar; the last bar is a hit and a crash, and a
    lively section opens on a crash, unless the person left those voices out (`left_out`).

    With `tempo_bpm` below SLOW_BPM, off-beat hats and shakers are softened and on-beat
    kicks and snares lifted, so the beat is the pulse heard, not its double. At FAST_BPM
    and above, claps are left out (see there) unless `named_voices` holds them. A piece
    named inside the kit (`named_pieces`, the voices of each) that the groove and these
    rules leave unheard, with ghost notes or nothing (a salsa's off-beat kick below
    VERY_SLOW_BPM, a jazz drummer's feathered kick), plays the felt beats: a piece asked
    for is heard."""
    notes, heard = _groove_notes(
        timeline, groove, gm_notes, rng, swing, tempo_bpm, named_voices, left_out
    )
    for piece in named_pieces:
        if not heard & set(piece):
            # cymbals keep the beat on the ride (see `_felt_beat_pattern`)
            voice = next((v for v in piece if v != "crash"), piece[0])
            beats = _felt_beat_notes(timeline, voice, groove.steps, gm_notes, rng, tempo_bpm)
            # the felt beats take the place of the voice's ghost notes, not doubling them
            end = max((n.start_beat for n in beats), default=-1.0)
            pitch = gm_notes[voice]
            notes = [n for n in notes if n.pitch != pitch or n.start_beat > end] + beats
    return notes


def _felt_beat_notes(
    timeline: Timeline,
    voice: str,
    steps: int,
    gm_notes: dict[str, int],
    rng: np.random.Generator,
    tempo_bpm: float | None,
) -> list[Note]:
    """`voice` on every felt beat of every bar but the last, where the kit plays it."""
    pattern = _felt_beat_pattern(0, timeline.pulse, steps, voice)
    step_beats = timeline.beats_per_bar / steps
    return [
        Note(
            pitch=gm_notes[voice],
            start_beat=round(timeline.bar_start(bar) + step * step_beats, 6),
            duration_beats=round(step_beats, 6),
            velocity=velocity,
        )
        for bar in range(timeline.n_bars - 1 if timeline.n_bars > 1 else 1)
        if not _thinned_out(voice, energy := timeline.section_of(bar).energy)
        for step, velocity, _ in _pattern_hits(
            pattern, steps, timeline, energy, voice, rng, tempo_bpm
        )
    ]


def _groove_notes(
    timeline: Timeline,
    groove: DrumGroove,
    gm_notes: dict[str, int],
    rng: np.random.Generator,
    swing: float,
    tempo_bpm: float | None,
    named_voices: frozenset[str],
    left_out: frozenset[str],
) -> tuple[list[Note], set[str]]:
    """The kit's notes from the groove, its fills, crashes and last-bar hit, and the voices
    heard before the last bar (see `_pattern_hits`)."""
    notes: list[Note] = []
    heard: set[str] = set()
    dropped = (
        _FAST_DROPPED - named_voices
        if tempo_bpm is not None and tempo_bpm >= FAST_BPM and groove.feel != "half_time"
        else frozenset()
    )
    steps = groove.steps
    step_beats = timeline.beats_per_bar / steps
    steps_per_beat = steps / timeline.beats_per_bar
    swing = max(swing, groove.swing)
    for bar in range(timeline.n_bars):
        span = timeline.section_of(bar)
        start = timeline.bar_start(bar)
        energy = span.energy
        if bar == timeline.n_bars - 1 and timeline.n_bars > 1:
            for voice, vel in (("kick", 112), ("crash", 100)):
                if voice in left_out:
                    continue
                notes.append(
                    Note(pitch=gm_notes[voice], start_beat=start, duration_beats=1.0, velocity=vel)
                )
            continue
        voices = _bar_voices(groove, bar, timeline)
        for voice, pattern in voices.items():
            if _thinned_out(voice, energy) or voice in dropped:
                continue
            for step, velocity, full in _pattern_hits(
                pattern, steps, timeline, energy, voice, rng, tempo_bpm
            ):
                if full:
                    heard.add(voice)
                onset = (
                    start
                    + step * step_beats
                    + swing_offset(step, steps_per_beat, swing, step_beats)
                )
                notes.append(
                    Note(
                        pitch=gm_notes[voice],
                        start_beat=round(onset, 6),
                        duration_beats=round(step_beats, 6),
                        velocity=velocity,
                    )
                )
        lively = timeline.is_section_start(bar) and bar > 0 and energy >= 0.55
        if lively and "crash" not in left_out:
            heard.add("crash")
            notes.append(
                Note(pitch=gm_notes["crash"], start_beat=start, duration_beats=1.0, velocity=100)
            )
    return notes, heard


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


SHAKER_AND_TAMBOURINE = ("shaker", "tambourine")
# The grooves (one per meter) a hand percussionist plays from when the style has none.
HAND_PERCUSSION = "hand_percussion"
# Percussion plays from these section energies up (the shaker, the tambourine, hand
# percussion), or in the piece's liveliest sections where none reaches them: an
# instrument asked for is always heard.
_SHAKER_ENERGY = 0.4
_TAMBOURINE_ENERGY = 0.6
_HAND_REST_ENERGY = 0.3


def _plays_from(energy: float, timeline: Timeline) -> float:
    """The section energy a percussion part plays from: `energy`, or the piece's highest."""
    return min(energy, max(span.energy for span in timeline.sections))


def _tambourine_beats(pulse: Pulse) -> list[float]:
    """The backbeat: 2 and 4 in 4/4, the second dotted quarter in 6/8; in a bar of three
    beats, 2 and 3 (the waltz's "oom-pah-pah"), as one hit on 2 alone makes the bar
    lopsided and is heard as a pulse a beat and a half long."""
    beats = pulse.onsets()
    return beats[1:] if len(beats) == 3 else beats[1::2]


def write_percussion(
    timeline: Timeline,
    gm_notes: dict[str, int],
    rng: np.random.Generator,
    *,
    swing: float,
    tempo_bpm: float | None = None,
    voices: tuple[str, ...] = SHAKER_AND_TAMBOURINE,
) -> list[Note]:
    """Shaker eighths and a tambourine on the backbeat, in the livelier sections: both
    accent the felt beats (two dotted quarters in 6/8, not three quarters); from FAST_BPM
    up the shaker moves on the felt beats only (its eighths would be heard as a beat and a
    half in a fast waltz). `voices` chooses which of the two play."""
    notes: list[Note] = []
    pulse = timeline.pulse
    fast = tempo_bpm is not None and tempo_bpm >= FAST_BPM
    shaker_from = _plays_from(_SHAKER_ENERGY, timeline)
    tambourine_from = _plays_from(_TAMBOURINE_ENERGY, timeline)
    for bar in range(max(timeline.n_bars - 1, 1)):
        energy = timeline.section_of(bar).energy
        if energy < min(shaker_from, tambourine_from):
            continue
        start = timeline.bar_start(bar)
        shaking = "shaker" in voices and energy >= shaker_from
        for i in range(round(timeline.beats_per_bar * 2) if shaking else 0):
            on_beat = pulse.on_beat(i * 0.5)
            if fast and not on_beat:
                continue
            onset = start + i * 0.5 + swing_offset(i, 2, swing, 0.5)
            vel = (70 if on_beat else 52) * (0.7 + 0.3 * energy) * slow_tempo_scale(
                "shaker", on_beat, tempo_bpm
            ) + rng.normal(0, 4)
            notes.append(
                Note(
                    pitch=gm_notes["shaker"],
                    start_beat=round(onset, 6),
                    duration_beats=0.25,
                    velocity=int(np.clip(vel, 20, 127)),
                )
            )
        if energy >= tambourine_from and "tambourine" in voices:
            for onset in _tambourine_beats(pulse):
                notes.append(
                    Note(
                        pitch=gm_notes["tambourine"],
                        start_beat=start + onset,
                        duration_beats=0.5,
                        velocity=int(70 + 20 * energy),
                    )
                )
    return notes


def _felt_beat_pattern(voice_index: int, pulse: Pulse, steps: int, voice: str = "") -> str:
    """A pattern for a voice the meter's grooves have none for: the first voice on every
    felt beat (accented on one), the others, and a crash (a crash on every beat is noise,
    not a pulse), on the downbeat; an open hi-hat between the beats, where it sings."""
    chars = ["."] * steps
    per_beat = steps / pulse.beats_per_bar
    if voice == "open_hat":
        for onset in pulse.onsets():
            step = round((onset + pulse.beat / 2) * per_beat)
            if step < steps:
                chars[step] = "x"
        return "".join(chars)
    every_beat = voice_index == 0 and voice != "crash"
    for k, onset in enumerate(pulse.onsets()):
        if every_beat or k == 0:
            chars[round(onset * per_beat)] = "X" if k == 0 else "x"
    return "".join(chars)


def _percussion_grid(groove: DrumGroove | None, timeline: Timeline) -> tuple[int, float]:
    """Steps in a bar and their length in beats: the groove's, else sixteenths."""
    steps = groove.steps if groove is not None else round(timeline.beats_per_bar * 4)
    return steps, timeline.beats_per_bar / steps


def _percussion_strokes(
    timeline: Timeline,
    groove: DrumGroove | None,
    voices: tuple[str, ...],
    rng: np.random.Generator,
    tempo_bpm: float | None,
    *,
    fills: bool = False,
) -> Iterator[tuple[int, str, int, int, bool]]:
    """(bar, voice, step, velocity, heard) of a percussionist's part in every bar but the
    last: each voice's pattern in `groove` (a fill is the kit's, so the groove goes on
    under it), else, where the groove has none of the voices, a hit on the felt beats;
    nothing in the sections quieter than hand percussion plays in. With `fills` (a piece
    taken out of the kit) it plays the groove's fills and thins out as the kit does.
    `heard`: see `_pattern_hits`."""
    steps, _ = _percussion_grid(groove, timeline)
    # a groove with patterns for some of the voices leaves the others out (a ride, not a
    # crash on every beat); one with none gives them the felt beats
    covered = groove is not None and bool(pattern_voices(groove) & set(voices))
    fallback = {
        v: "" if covered else _felt_beat_pattern(i, timeline.pulse, steps, v)
        for i, v in enumerate(voices)
    }
    rest_below = _plays_from(_HAND_REST_ENERGY, timeline)
    for bar in range(timeline.n_bars - 1 if timeline.n_bars > 1 else 1):
        energy = timeline.section_of(bar).energy
        if groove is None or not fills:
            if energy < rest_below:
                continue
            written = {} if groove is None else _groove_voices(groove, bar)
        else:
            written = _bar_voices(groove, bar, timeline)
        for voice in voices:
            if fills and _thinned_out(voice, energy):
                continue
            pattern = written.get(voice, fallback[voice])
            for step, velocity, heard in _pattern_hits(
                pattern, steps, timeline, energy, voice, rng, tempo_bpm
            ):
                yield bar, voice, step, velocity, heard


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
    groove's fill at each section's end (a kit piece taken out of the kit). It rests in the
    quietest sections and ends on one stroke. Where the groove leaves the instrument
    nothing but ghost notes (a salsa's off-beat kick at a slow tempo), it plays the felt
    beats: an instrument asked for is heard."""
    strokes = list(_percussion_strokes(timeline, groove, voices, rng, tempo_bpm, fills=fills))
    if not any(heard for *_, heard in strokes) and groove is not None:
        groove = None
        strokes = list(_percussion_strokes(timeline, None, voices, rng, tempo_bpm))
    steps, step_beats = _percussion_grid(groove, timeline)
    steps_per_beat = steps / timeline.beats_per_bar
    notes = [
        Note(
            pitch=gm_notes[voice],
            start_beat=round(
                timeline.bar_start(bar)
                + step * step_beats
                + swing_offset(step, steps_per_beat, swing, step_beats),
                6,
            ),
            duration_beats=round(step_beats, 6),
            velocity=velocity,
        )
        for bar, voice, step, velocity, _ in strokes
    ]
    if timeline.n_bars > 1:
        last = timeline.bar_start(timeline.n_bars - 1)
        notes.append(
            Note(pitch=gm_notes[voices[0]], start_beat=last, duration_beats=1.0, velocity=100)
        )
    return notes


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

    _, step_beats = _percussion_grid(groove, timeline)
    notes = [
        Note(
            pitch=root(bar),
            start_beat=round(timeline.bar_start(bar) + step * step_beats, 6),
            duration_beats=round(max(step_beats, 0.5), 6),
            velocity=velocity,
        )
        for bar, _, step, velocity, _ in _percussion_strokes(
            timeline, groove, ("tom_low",), rng, tempo_bpm
        )
    ]
    if timeline.n_bars > 1:
        last = timeline.n_bars - 1
        start = timeline.bar_start(last)
        notes.append(Note(pitch=root(last), start_beat=start, duration_beats=2.0, velocity=100))
    return notes
