"""Stage 4: ParsedParameters → MusicalParameters — normalized, defaulted, coherence-checked.

Every rule that changes what was asked is reported as a notice; nothing is
changed silently (spec v1 §4.4–4.5, v2 §6.2 stage 4).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from soundstar.aurora.infer import (
    ensemble_is_the_band,
    fitting_instruments,
    genre_kind,
    placed_by_word,
    players,
    refers_back,
)
from soundstar.keys import key_of_chords
from soundstar.knowledge import Genre, Instrument, KnowledgeBase, NamedEnsemble, load_knowledge
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    TEMPO_MAX_BPM,
    TEMPO_MIN_BPM,
    InstrumentSpec,
    MusicalParameters,
    ParsedParameters,
    Role,
)

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
_CORE_ROLES = ("drums", "bass", "chords", "lead")
_TEMPO_OUTSIDE_FACTOR = (0.75, 1.3)
_GENRE_DEFAULT_TEMPO_CONFIDENCE = 0.5


@dataclass(frozen=True)
class MapHints:
    """What the offline parser knows beyond ParsedParameters (an LLM answer has none of it)."""

    tempo_multiplier: float | None = None
    tempo_cap: float | None = None
    solo: bool = False
    mode_hint: str | None = None
    tonic_hint: str | None = None
    ensemble_size: int | None = None
    """Players an ensemble word states when fewer are named: the genre fills up to it."""
    names_resolved: bool = False
    """The instrument names are knowledge-base ids the parser already chose for the genre (a
    generic "bass" is already its double bass in jazz); otherwise (an LLM, a caller) they
    are words, and a generic one is resolved here with the same rule (`genre_kind`)."""
    repeats_are_players: bool = False
    """A name given twice is two players: the offline parser counts them ("two violins"),
    and so does a caller listing fields; an LLM's repeated name is one player."""


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


def _excluded(inst_id: str, role: str, kb: KnowledgeBase, excluded: set[str]) -> bool:
    inst = kb.instruments.get(inst_id)
    family = inst.family if inst else ""
    if inst_id in excluded or family in excluded or role in excluded:
        return True
    return "drums" in excluded and (
        role in ("drums", "percussion") or family in ("drums", "percussion")
    )


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


def _named_instruments(
    kb: KnowledgeBase,
    parsed: ParsedParameters,
    style: Genre,
    notices: list[str],
    *,
    resolved: bool,
    repeats: bool,
    excluded: set[str],
) -> tuple[list[tuple[Instrument, str, str | None]], bool]:
    """(instrument, role, descriptor) for each name, and whether a named ensemble made the
    lineup whole (see `ensemble_is_the_band`). A name an LLM or a caller gives for an
    ensemble ("string quartet") is its members in their parts; the offline parser already
    names them one by one. Unless the names are `resolved` ids, a generic word ("bass")
    is the style's kind of the instrument, as the offline parser reads it (`genre_kind`),
    passing over kinds already named or `excluded`. With `repeats`, a name given twice is
    two players."""
    out: list[tuple[Instrument, str, str | None]] = []
    ensembles: list[NamedEnsemble] = []
    by_word: dict[str, str] = {}  # instruments a generic word stood for, and the word
    for mention in parsed.instrumentation:
        named = [i.id for i, _, _ in out]
        if not resolved and refers_back(kb, mention.name, named) is not None:
            continue  # "male vocals" ... "vocals": the singer already named
        kind = None if resolved else genre_kind(kb, mention.name, style, taken={*named, *excluded})
        inst = kind or kb.instruments.get(mention.name) or kb.find_instrument(mention.name)
        if inst is not None:
            placed = (
                None
                if kind is not None or inst.id in named
                else placed_by_word(kb, inst.id, by_word)
            )
            if placed is not None:  # "vocals" ... "female vocals": the kind takes its place
                del by_word[placed]
                k = named.index(placed)
                out[k] = (inst, mention.role, mention.descriptor or out[k][2])
                continue
            out.append((inst, mention.role, mention.descriptor))
            if kind is not None:
                by_word[inst.id] = mention.name
            continue
        ensemble = kb.find_ensemble(mention.name)
        if ensemble is None:
            notices.append(f"unknown instrument {mention.name!r} left out")
            continue
        ensembles.append(ensemble)
        out.extend(
            (kb.instruments[iid], role, mention.descriptor)
            for iid, role in ensemble.members.items()
            for _ in range(2 if iid in ensemble.second_players else 1)
        )
    if repeats:
        return out, ensemble_is_the_band(kb, ensembles, style)
    # An instrument an LLM names twice, or beside its ensemble, is one player (two for an
    # ensemble's second players).
    seconds = {iid for e in ensembles for iid in e.second_players}
    played: Counter[str] = Counter()
    kept = []
    for entry in out:
        iid = entry[0].id
        if played[iid] < (2 if iid in seconds else 1):
            kept.append(entry)
            played[iid] += 1
    return kept, ensemble_is_the_band(kb, ensembles, style)


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
    excluded = {e for e in parsed.excluded if not e.startswith("mood:")}
    excluded_moods = {e.split(":", 1)[1] for e in parsed.excluded if e.startswith("mood:")}
    mood_records = [m for m in mood_records if m.id not in excluded_moods]
    if mood_records:
        valence = sum(m.valence for m in mood_records) / len(mood_records)
        arousal = sum(m.arousal for m in mood_records) / len(mood_records)
        biases: list[str] = [m.mode_bias for m in mood_records if m.mode_bias]
        mood_bias = max(biases, key=biases.count) if biases else None  # ties: the first named
    else:
        valence, arousal, mood_bias = effective.valence, effective.energy, None

    energy = parsed.energy_level.value
    if mood_records and abs(energy - arousal) > 0.45 and parsed.energy_level.confidence >= 0.6:
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

    instrumentation: list[InstrumentSpec] = []
    named, whole = _named_instruments(
        kb,
        parsed,
        effective,
        notices,
        resolved=hints.names_resolved,
        repeats=hints.names_resolved or hints.repeats_are_players,
        excluded=excluded,
    )
    solo = hints.solo or whole
    for inst, role, descriptor in named:
        role_text = role if role in Role.__members__.values() else inst.role
        if _excluded(inst.id, role_text, kb, excluded):
            notices.append(f"{inst.name} was both asked for and excluded; left out")
            continue
        instrumentation.append(
            InstrumentSpec(name=inst.id, role=Role(role_text), descriptor=descriptor)
        )
    if hints.ensemble_size is not None and not solo:
        for inst, role in fitting_instruments(
            effective,
            present_roles=[i.role.value for i in instrumentation],
            present_ids=[i.name for i in instrumentation],
            excluded=excluded,
            limit=hints.ensemble_size - players(kb, [i.name for i in instrumentation]),
            kb=kb,
            fill=True,
        ):
            instrumentation.append(InstrumentSpec(name=inst.id, role=Role(role)))
    elif not solo:
        present = {i.role.value for i in instrumentation}
        for role in (*_CORE_ROLES, "pad"):
            if role in present or role in excluded:
                continue
            if role == "pad" and "pad" not in effective.instrumentation:
                continue
            if role == "chords" and "pad" in present:
                continue
            for candidate in {str(k): v for k, v in effective.instrumentation.items()}.get(
                role, ()
            ):
                if any(i.name == candidate for i in instrumentation):
                    continue  # already playing another role
                if candidate in kb.instruments and not _excluded(candidate, role, kb, excluded):
                    instrumentation.append(InstrumentSpec(name=candidate, role=Role(role)))
                    break
    if not instrumentation:
        fallback = (
            "piano"
            if "piano" in kb.instruments and not _excluded("piano", "chords", kb, excluded)
            else None
        )
        fallback = fallback or next(
            (
                i.id
                for i in kb.instruments.values()
                if not i.drum and not _excluded(i.id, i.role, kb, excluded)
            ),
            "piano",
        )
        instrumentation.append(InstrumentSpec(name=fallback, role=Role.CHORDS))
        notices.append(f"no instrument left to play; using {kb.instruments[fallback].name}")

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
        instrumentation=instrumentation,
        structure=structure_id,
        reference_artists=[a.name for a in parsed.reference_artists],
        era=parsed.era.value if parsed.era else effective.era,
        duration_seconds=float(duration),
        excluded=sorted(excluded),
        chord_progression=parsed.chord_progression,
        section_names=parsed.section_names,
    )
    return Mapped(params, notices)
