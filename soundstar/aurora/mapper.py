"""Stage 4: ParsedParameters → MusicalParameters — normalized, defaulted, coherence-checked.

Every rule that changes what was asked is reported as a notice; nothing is
changed silently (spec v1 §4.4–4.5, v2 §6.2 stage 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from soundstar.aurora.lineup import resolve_lineup
from soundstar.keys import key_of_chords
from soundstar.knowledge import Genre, KnowledgeBase, load_knowledge
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    TEMPO_MAX_BPM,
    TEMPO_MIN_BPM,
    Exclusions,
    MusicalParameters,
    ParsedParameters,
    Stated,
)
from soundstar.settle import settle

DEFAULT_DURATION_S = 30.0
_DEFAULT_TONIC = {
    "minor": "A",
    "major": "C",
    "dorian": "D",
    "phrygian": "E",
    "lydian": "F",
    "mixolydian": "G",
    "locrian": "B",
    "harmonic minor": "A",
    "melodic minor": "A",
}
DEFAULT_TONIC = _DEFAULT_TONIC
"""The tonic used for a mode when neither the person nor the genre names one."""
_TEMPO_OUTSIDE_FACTOR = (0.75, 1.3)
# A mood word states a valence when it leans this far from neutral ("happy", "sad"; not
# "calm"); an energy reading this confident came from energy words.
_VALENCE_STATED_LEAN = 0.25
_ENERGY_STATED_CONFIDENCE = 0.6
_GENRE_DEFAULT_TEMPO_CONFIDENCE = 0.5


@dataclass(frozen=True)
class MapHints:
    """Readings of tempo, mode and size words that ParsedParameters has no field for (an LLM
    answer has none of them)."""

    tempo_multiplier: float | None = None
    tempo_cap: float | None = None
    mode_hint: str | None = None
    tonic_hint: str | None = None
    ensemble_size: int | None = None
    """Players an ensemble word states when fewer are named: the genre fills up to it."""


@dataclass
class Mapped:
    parameters: MusicalParameters
    notices: list[str] = field(default_factory=list)


def _genres(kb: KnowledgeBase, parsed: ParsedParameters) -> tuple[Genre, Genre | None]:
    genre = kb.find_genre(parsed.genre.value) or kb.find_genre("pop")
    sub = kb.find_genre(parsed.sub_genre.value) if parsed.sub_genre.value else None
    if genre is None:  # pragma: no cover - the knowledge base always has pop
        raise LookupError("the knowledge base has no 'pop' genre")
    return genre, sub


def _tempo(
    parsed: ParsedParameters,
    genre: Genre,
    hints: MapHints,
    notices: list[str],
    *,
    mood_tempo_bias: float = 0.0,
) -> float:
    bpm = parsed.tempo.bpm
    lo, hi = genre.bpm
    if parsed.tempo.type == "explicit":
        if bpm < lo * _TEMPO_OUTSIDE_FACTOR[0] or bpm > hi * _TEMPO_OUTSIDE_FACTOR[1]:
            notices.append(
                f"{bpm:g} BPM is far from the {lo}–{hi} BPM usual for {genre.name}; kept as asked"
            )
        return min(max(bpm, TEMPO_MIN_BPM), TEMPO_MAX_BPM)
    if parsed.tempo.confidence <= _GENRE_DEFAULT_TEMPO_CONFIDENCE and mood_tempo_bias:
        # Only the genre's default was known: let the moods move it within the genre's range.
        bpm = min(max(bpm + mood_tempo_bias * (hi - lo) / 2, lo), hi)
    if hints.tempo_multiplier:
        bpm *= hints.tempo_multiplier
        notices.append(
            f"tempo set to {bpm:g} BPM for the {'double' if hints.tempo_multiplier > 1 else 'half'}-time feel"
        )
    if hints.tempo_cap is not None and bpm > hints.tempo_cap:
        notices.append(
            f"tempo lowered from {bpm:g} to {hints.tempo_cap:g} BPM: not too fast was asked"
        )
        bpm = hints.tempo_cap
    return float(round(min(max(bpm, TEMPO_MIN_BPM), TEMPO_MAX_BPM), 2))


def _key(parsed: ParsedParameters, genre: Genre, mood_bias: str | None, hints: MapHints) -> str:
    if parsed.key_signature.value:
        return parsed.key_signature.value
    mode = hints.mode_hint or mood_bias or (genre.modes[0] if genre.modes else "major")
    if hints.tonic_hint:
        return f"{hints.tonic_hint} {mode}"
    if parsed.chord_progression:  # the key the chords are in, so they play as written
        chosen = key_of_chords(
            parsed.chord_progression,
            hints.mode_hint or mood_bias,
            mode_stated=bool(hints.mode_hint),
        )
        if chosen is not None:
            return chosen
    for key in genre.keys:
        if key.split(" ", 1)[1] == mode:
            return key
    return f"{_DEFAULT_TONIC.get(mode, 'C')} {mode}"


def _canonical(kb: KnowledgeBase, exclusions: Exclusions) -> Exclusions:
    """Exclusions with instrument words as knowledge-base ids ("electric piano": rhodes)."""
    ids = []
    for word in exclusions.instruments:
        inst = kb.instruments.get(word) or kb.find_instrument(word)
        ids.append(inst.id if inst is not None else word)
    return exclusions.model_copy(update={"instruments": list(dict.fromkeys(ids))})


def map_parameters(
    parsed: ParsedParameters,
    *,
    hints: MapHints | None = None,
    duration_seconds: float | None = None,
) -> Mapped:
    """Resolve names against the knowledge base, fill defaults, settle contradictions."""
    hints = hints or MapHints()
    kb = load_knowledge()
    notices: list[str] = []
    genre, sub = _genres(kb, parsed)
    effective = sub or genre

    moods = [
        kb.moods[m.value] if m.value in kb.moods else kb.find_mood(m.value) for m in parsed.mood
    ]
    mood_records = [m for m in moods if m is not None]
    exclusions = _canonical(kb, parsed.exclusions)
    mood_records = [m for m in mood_records if m.id not in exclusions.moods]
    if mood_records:
        valence = sum(m.valence for m in mood_records) / len(mood_records)
        arousal = sum(m.arousal for m in mood_records) / len(mood_records)
        biases: list[str] = [m.mode_bias for m in mood_records if m.mode_bias]
        mood_bias = max(biases, key=biases.count) if biases else None  # ties: the first named
    else:
        valence, arousal, mood_bias = effective.valence, effective.energy, None

    energy = parsed.energy_level.value
    energy_stated = parsed.energy_level.confidence >= _ENERGY_STATED_CONFIDENCE
    if mood_records and abs(energy - arousal) > 0.45 and energy_stated:
        settled = round((energy + arousal) / 2, 3)
        notices.append(
            f"the moods ({', '.join(m.id for m in mood_records)}) and the energy asked for disagree; "
            f"energy set to {settled:.2f}, between the two"
        )
        energy = settled

    tempo_bias = (
        sum(m.tempo_bias for m in mood_records) / len(mood_records) if mood_records else 0.0
    )
    tempo = _tempo(parsed, effective, hints, notices, mood_tempo_bias=tempo_bias)
    key = _key(parsed, effective, mood_bias, hints)

    lineup = resolve_lineup(
        parsed.instrumentation,
        effective,
        exclusions,
        ensemble_size=hints.ensemble_size,
        kb=kb,
    )
    notices.extend(lineup.notices)

    structure = kb.find_structure(parsed.structure.value)
    structure_id = (
        structure.id
        if structure
        else (effective.structures[0] if effective.structures else "verse_chorus")
    )

    duration = duration_seconds if duration_seconds is not None else parsed.duration_seconds
    if duration is None:
        duration = DEFAULT_DURATION_S
    elif not DURATION_MIN_S <= duration <= DURATION_MAX_S:
        clamped = min(max(duration, DURATION_MIN_S), DURATION_MAX_S)
        notices.append(
            f"a duration of {duration:g} s is outside {DURATION_MIN_S:g}–{DURATION_MAX_S:g} s; using {clamped:g} s"
        )
        duration = clamped

    danceability = effective.danceability
    if not parsed.time_signature.value.startswith(("4/", "2/")):
        danceability *= 0.7
    danceability = min(1.0, max(0.0, danceability + 0.2 * (energy - 0.5)))

    params = MusicalParameters(
        genre=genre.name,
        sub_genre=sub.name if sub else None,
        tempo_bpm=tempo,
        tempo_stated=parsed.tempo.type == "explicit",
        key=key,
        time_signature=parsed.time_signature.value,
        mood=[m.id for m in mood_records],
        valence=round(min(max(valence, 0.0), 1.0), 3),
        energy_level=round(min(max(energy, 0.0), 1.0), 3),
        danceability=round(danceability, 3),
        instrumentation=lineup.instruments,
        structure=structure_id,
        reference_artists=[a.name for a in parsed.reference_artists],
        era=parsed.era.value if parsed.era else effective.era,
        duration_seconds=float(duration),
        exclusions=exclusions,
        chord_progression=parsed.chord_progression,
        section_names=parsed.section_names,
        stated=Stated(
            valence=round(valence, 3)
            if any(abs(m.valence - 0.5) >= _VALENCE_STATED_LEAN for m in mood_records)
            else None,
            energy_level=round(min(max(energy, 0.0), 1.0), 3) if energy_stated else None,
        ),
        key_chosen=None if parsed.key_signature.value or hints.mode_hint else key,
    )
    ruled = settle(params)
    return Mapped(ruled.parameters, notices + [n.message for n in ruled.notices])
