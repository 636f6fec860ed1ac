"""The shared data contracts (DESIGN.md "Data contracts").

Every stage talks to the next through these pydantic models; the JSON field
names follow the specifications (snake_case). This module imports nothing of
Soundstar's so that every layer may depend on it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

Confidence = Annotated[float, Field(ge=0.0, le=1.0)]
UnitFloat = Annotated[float, Field(ge=0.0, le=1.0)]

TEMPO_MIN_BPM = 40.0
TEMPO_MAX_BPM = 240.0
DURATION_MIN_S = 5.0
DURATION_MAX_S = 600.0
PROMPT_MIN_CHARS = 10
PROMPT_MAX_CHARS = 500

NOTE_NAMES_SHARP = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_TONIC_RE = re.compile(r"^[A-G](#|b)?$")
MODES = (
    "major",
    "minor",
    "dorian",
    "phrygian",
    "lydian",
    "mixolydian",
    "locrian",
    "harmonic minor",
    "melodic minor",
)
_METER_RE = re.compile(r"^(\d{1,2})/(1|2|4|8|16)$")


class Role(StrEnum):
    """What an instrument does in the arrangement."""

    LEAD = "lead"
    CHORDS = "chords"
    PAD = "pad"
    BASS = "bass"
    DRUMS = "drums"
    PERCUSSION = "percussion"
    ARP = "arp"
    TEXTURE = "texture"


class Provenance(StrEnum):
    """Where an instrument in a lineup came from: named by the person, implied by what they
    asked for (an enhancement, an ensemble's size), or the style's default lineup."""

    STATED = "stated"
    INFERRED = "inferred"
    DEFAULT = "default"


InstrumentFamily = Literal[
    "keys",
    "organ",
    "guitar",
    "bass",
    "strings",
    "brass",
    "woodwind",
    "synth",
    "drums",
    "percussion",
    "vocal",
    "plucked",
    "mallet",
    "fx",
]
"""The knowledge base's instrument families (knowledge.vocab.FamilyName is this one)."""
INSTRUMENT_FAMILIES: tuple[str, ...] = get_args(InstrumentFamily)


class Implementation(StrEnum):
    """Which level of the fallback chain answered (spec v2 §9.1)."""

    CODEX = "codex"
    LOCAL_LLM = "local_llm"
    RULE_BASED = "rule_based"
    DEFAULTS = "defaults"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


def split_key(key: str) -> tuple[str, str]:
    """Split "A minor" into ("A", "minor"); raises ValueError when malformed."""
    parts = key.strip().split(" ", 1)
    if len(parts) != 2:
        raise ValueError(f"key must be '<tonic> <mode>', e.g. 'A minor', got {key!r}")
    tonic, mode = parts[0], parts[1].strip().lower()
    if not _TONIC_RE.match(tonic):
        raise ValueError(f"unknown tonic {tonic!r} in key {key!r}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} in key {key!r}; one of {', '.join(MODES)}")
    return tonic, mode


def split_meter(meter: str) -> tuple[int, int]:
    """Split "6/8" into (6, 8); raises ValueError when malformed."""
    match = _METER_RE.match(meter.strip())
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"time signature must look like '4/4' or '6/8', got {meter!r}")
    return int(match.group(1)), int(match.group(2))


# --------------------------------------------------------------------------- parse


class ValueWithConfidence(_Model):
    value: str
    confidence: Confidence


class OptionalValueWithConfidence(_Model):
    value: str | None
    confidence: Confidence


class TempoValue(_Model):
    type: Literal["explicit", "inferred"]
    bpm: float = Field(ge=TEMPO_MIN_BPM, le=TEMPO_MAX_BPM)
    confidence: Confidence


class InstrumentMention(_Model):
    name: str
    role: str
    confidence: Confidence
    descriptor: str | None = None
    provenance: Provenance = Provenance.STATED


class EnergyValue(_Model):
    value: UnitFloat
    confidence: Confidence


class ArtistReference(_Model):
    name: str
    relevance: Confidence


class Exclusions(_Model):
    """What the person left out, kept apart by kind; `knowledge.exclusion.excludes` is the one
    rule that says whether an instrument falls under it."""

    instruments: list[str] = Field(default_factory=list, description="canonical instrument ids")
    families: list[str] = Field(default_factory=list, description="knowledge-base families")
    roles: list[Role] = Field(default_factory=list)
    moods: list[str] = Field(default_factory=list, description="mood ids never to apply")
    only: bool = Field(
        default=False,
        description="'only X', 'just X and Y', 'nothing else': nothing beyond the named lineup",
    )

    @classmethod
    def from_words(cls, words: list[str]) -> Exclusions:
        """The typed value of an old-style `excluded` list ("drums", "vocal", "piano",
        "mood:sad"): role words are roles, family words families (a word that is both, such as
        "bass", is both), "mood:" words moods, any other word an instrument."""
        instruments: list[str] = []
        families: list[str] = []
        roles: list[Role] = []
        moods: list[str] = []
        for raw in words:
            word = raw.strip().lower()
            if word.startswith("mood:"):
                moods.append(word.split(":", 1)[1])
                continue
            if word in Role.__members__.values():
                roles.append(Role(word))
            if word in INSTRUMENT_FAMILIES:
                families.append(word)
            if word and word not in Role.__members__.values() and word not in INSTRUMENT_FAMILIES:
                instruments.append(word)
        return cls(
            instruments=list(dict.fromkeys(instruments)),
            families=list(dict.fromkeys(families)),
            roles=list(dict.fromkeys(roles)),
            moods=list(dict.fromkeys(moods)),
        )

    def merged(self, other: Exclusions) -> Exclusions:
        """Everything either leaves out; `only` when either says so."""
        return Exclusions(
            instruments=list(dict.fromkeys([*self.instruments, *other.instruments])),
            families=list(dict.fromkeys([*self.families, *other.families])),
            roles=list(dict.fromkeys([*self.roles, *other.roles])),
            moods=list(dict.fromkeys([*self.moods, *other.moods])),
            only=self.only or other.only,
        )

    def describe(self) -> str:
        """One line for people: "roles drums; instruments piano; nothing but the named"."""
        parts = [
            f"{name} {', '.join(str(v) for v in values)}"
            for name, values in (
                ("roles", self.roles),
                ("families", self.families),
                ("instruments", self.instruments),
                ("moods", self.moods),
            )
            if values
        ]
        if self.only:
            parts.append("nothing but the named")
        return "; ".join(parts)

    def is_empty(self) -> bool:
        return not (self.instruments or self.families or self.roles or self.moods or self.only)


def _legacy_excluded(data: object) -> object:
    """Input that still says `excluded: [words]` (an older client, an LLM following an older
    template) is read once into `exclusions`; nothing downstream sees the words."""
    if isinstance(data, dict) and "excluded" in data:
        data = dict(data)
        words = data.pop("excluded")
        if isinstance(words, list) and all(isinstance(w, str) for w in words):
            old = Exclusions.from_words(words)
            given = data.get("exclusions")
            if isinstance(given, Exclusions):
                data["exclusions"] = given.merged(old)
            elif isinstance(given, dict):
                data["exclusions"] = Exclusions.model_validate(given).merged(old)
            else:
                data["exclusions"] = old
        else:
            data["excluded"] = words  # let validation name the bad value
    return data


class ParsedParameters(_Model):
    """What the parser read in the prompt (spec v2 §5.2.2 `parsed_parameters`).

    The ten spec fields come first; the rest are Soundstar's additions, which
    the spec's response shape tolerates as extra keys.
    """

    genre: ValueWithConfidence
    sub_genre: OptionalValueWithConfidence
    tempo: TempoValue
    mood: list[ValueWithConfidence]
    instrumentation: list[InstrumentMention]
    structure: ValueWithConfidence
    key_signature: OptionalValueWithConfidence
    time_signature: ValueWithConfidence
    energy_level: EnergyValue
    reference_artists: list[ArtistReference]
    era: OptionalValueWithConfidence | None = None
    duration_seconds: float | None = Field(default=None, gt=0)
    exclusions: Exclusions = Field(default_factory=Exclusions)
    chord_progression: list[str] | None = None
    section_names: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_excluded(cls, data: object) -> object:
        return _legacy_excluded(data)


class EnhancementAddition(_Model):
    """One thing the enhancer added, and why (spec v2 §5.2.1)."""

    type: str = Field(
        description="genre, sub_genre, tempo, key, mood, instrumentation, structure, production, ..."
    )
    value: str
    reasoning: str
    confidence: Confidence


class Enhancement(_Model):
    original_prompt: str
    enhanced_prompt: str
    additions: list[EnhancementAddition] = Field(default_factory=list)
    confidence: Confidence = 0.5


# --------------------------------------------------------------------------- parameters


class InstrumentSpec(_Model):
    name: str = Field(min_length=1, description="canonical instrument id from the knowledge base")
    role: Role
    descriptor: str | None = None
    provenance: Provenance = Provenance.STATED


class Stated(_Model):
    """What the words themselves said of the piece's character: the valence of the mood
    words that name one, the energy of energy words. A control set later moves within
    reach of these, never against them (see `soundstar.settle`)."""

    valence: UnitFloat | None = None
    energy_level: UnitFloat | None = None


class MusicalParameters(_Model):
    """The validated, complete parameter set every later stage uses."""

    genre: str = Field(min_length=1)
    sub_genre: str | None = None
    tempo_bpm: float = Field(ge=TEMPO_MIN_BPM, le=TEMPO_MAX_BPM)
    tempo_stated: bool = Field(
        default=False,
        description="the person named this tempo: the composer makes it the beat heard, "
        "even where no drums play",
    )
    key: str = "C major"
    time_signature: str = "4/4"
    mood: list[str] = Field(default_factory=list)
    valence: UnitFloat = 0.5
    energy_level: UnitFloat = 0.5
    danceability: UnitFloat = 0.5
    instrumentation: list[InstrumentSpec] = Field(min_length=1)
    structure: str = "verse-chorus"
    reference_artists: list[str] = Field(default_factory=list)
    era: str | None = None
    duration_seconds: float = Field(default=30.0, ge=DURATION_MIN_S, le=DURATION_MAX_S)
    exclusions: Exclusions = Field(default_factory=Exclusions)
    chord_progression: list[str] | None = None
    section_names: list[str] | None = None
    stated: Stated = Field(default_factory=Stated)
    key_chosen: str | None = Field(
        default=None,
        description="the key Soundstar chose where none was stated: while the key is still "
        "this one, the valence may turn it to its parallel major or minor",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_excluded(cls, data: object) -> object:
        return _legacy_excluded(data)

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str) -> str:
        tonic, mode = split_key(value)
        return f"{tonic} {mode}"

    @field_validator("time_signature")
    @classmethod
    def _check_meter(cls, value: str) -> str:
        num, den = split_meter(value)
        return f"{num}/{den}"

    @property
    def tonic(self) -> str:
        return split_key(self.key)[0]

    @property
    def mode(self) -> str:
        return split_key(self.key)[1]


# --------------------------------------------------------------------------- plan


class PlanSection(_Model):
    name: str = Field(min_length=1)
    duration_ratio: float = Field(gt=0.0, le=1.0)
    energy_level: UnitFloat
    description: str = ""
    chords: list[str] | None = Field(
        default=None, description="chord symbols for this section, overriding the progression"
    )


class Transition(_Model):
    from_: str = Field(alias="from")
    to: str
    type: str


class ChordProgression(_Model):
    key: str = Field(description="the tonic, e.g. 'A'")
    mode: str
    chords: list[str] = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _check_tonic(cls, value: str) -> str:
        if not _TONIC_RE.match(value):
            raise ValueError(
                f"chord progression key must be a tonic like 'A' or 'F#', got {value!r}"
            )
        return value

    @field_validator("mode")
    @classmethod
    def _check_mode(cls, value: str) -> str:
        if value.lower() not in MODES:
            raise ValueError(f"unknown mode {value!r}")
        return value.lower()


class StructuralPlan(_Model):
    """Sections, energies, transitions and harmony (spec v2 §5.2.3)."""

    structure_type: str
    sections: list[PlanSection] = Field(min_length=1)
    transitions: list[Transition] = Field(default_factory=list)
    chord_progression: ChordProgression

    @model_validator(mode="after")
    def _ratios_sum_to_one(self) -> StructuralPlan:
        total = sum(s.duration_ratio for s in self.sections)
        if abs(total - 1.0) > 1e-3:
            raise ValueError(f"section duration ratios must sum to 1, they sum to {total:.4f}")
        return self

    def energy_curve(self) -> list[float]:
        return [s.energy_level for s in self.sections]


# --------------------------------------------------------------------------- embedding

UNIFIED_DIM = 640
GUIDANCE_DIM = 512
CONTROL_DIM = 512
EMBEDDING_SLICES = {
    "genre": (0, 128),
    "tempo": (128, 160),
    "mood": (160, 288),
    "instrumentation": (288, 544),
    "structure": (544, 608),
    "energy": (608, 640),
}


class ControlEmbedding(_Model):
    """Unified (640), guidance (512) and control (512) vectors."""

    unified: list[float]
    guidance: list[float]
    control: list[float]

    @model_validator(mode="after")
    def _dims(self) -> ControlEmbedding:
        for name, vec, dim in (
            ("unified", self.unified, UNIFIED_DIM),
            ("guidance", self.guidance, GUIDANCE_DIM),
            ("control", self.control, CONTROL_DIM),
        ):
            if len(vec) != dim:
                raise ValueError(f"{name} embedding must have {dim} values, has {len(vec)}")
        return self


# --------------------------------------------------------------------------- score


class Note(_Model):
    """One note; beats are quarter notes from the start of the piece.

    A note may glide (portamento, an 808's slide): it starts at `glide_from` and moves to
    `pitch` in a straight line of semitones over its first `glide_beats`. A note that does
    not glide leaves both out of its JSON, as it was before glides existed.
    """

    pitch: int = Field(ge=0, le=127)
    start_beat: float = Field(ge=0.0)
    duration_beats: float = Field(gt=0.0)
    velocity: int = Field(ge=1, le=127)
    glide_from: int | None = Field(
        default=None, ge=0, le=127, description="the MIDI pitch the note starts at, gliding"
    )
    glide_beats: float = Field(
        default=0.0, ge=0.0, description="how long the glide into `pitch` takes (beats)"
    )

    @model_validator(mode="after")
    def _glide_whole(self) -> Note:
        if self.glide_from is None:
            if self.glide_beats != 0.0:
                raise ValueError("glide_beats is set but glide_from is not: give both or neither")
        elif not 0.0 < self.glide_beats <= self.duration_beats:
            raise ValueError(
                f"a gliding note needs 0 < glide_beats <= duration_beats, got glide_beats "
                f"{self.glide_beats} for a note of {self.duration_beats} beats"
            )
        return self

    @model_serializer(mode="wrap")
    def _drop_no_glide(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave the glide out of a note that does not glide: Score JSON and its digests
        stay what they were before glides existed."""
        data: dict[str, Any] = handler(self)
        if self.glide_from is None:
            data.pop("glide_from", None)
            data.pop("glide_beats", None)
        return data

    @property
    def glide_semitones(self) -> float:
        """Where the note starts, in semitones from its pitch (0 when it does not glide)."""
        return 0.0 if self.glide_from is None else float(self.glide_from - self.pitch)

    def moved_to(self, pitch: int) -> Note:
        """The note at another pitch, its glide moved with it (a part doubled an octave
        away, a line moved into a register), kept within MIDI's range."""
        update: dict[str, Any] = {"pitch": pitch}
        if self.glide_from is not None:
            update["glide_from"] = min(max(self.glide_from + pitch - self.pitch, 0), 127)
        return self.model_copy(update=update)

    def retimed(
        self,
        *,
        start_beat: float | None = None,
        duration_beats: float | None = None,
        glide: bool = True,
    ) -> Note:
        """The note moved or cut, its glide kept within its length; `glide=False` leaves
        the glide out (a note struck again, or entered after its glide was over)."""
        update: dict[str, Any] = {}
        if start_beat is not None:
            update["start_beat"] = start_beat
        length = self.duration_beats if duration_beats is None else duration_beats
        update["duration_beats"] = length
        if self.glide_from is not None:
            if glide:
                update["glide_beats"] = min(self.glide_beats, length)
            else:
                update["glide_from"], update["glide_beats"] = None, 0.0
        return self.model_copy(update=update)


class Track(_Model):
    name: str
    instrument: str
    role: Role
    program: int = Field(ge=0, le=127, description="General MIDI program (0-based)")
    is_drum: bool = False
    featured: bool = Field(
        default=False, description="the person named this instrument: the mix brings it forward"
    )
    notes: list[Note] = Field(default_factory=list)


class ScoreSection(_Model):
    name: str
    start_bar: int = Field(ge=0)
    end_bar: int = Field(gt=0, description="exclusive")
    energy_level: UnitFloat


class ChordEvent(_Model):
    symbol: str
    start_beat: float = Field(ge=0.0)
    duration_beats: float = Field(gt=0.0)


class Score(_Model):
    """The composed piece: what every synthesizer plays and what the MIDI file holds."""

    tempo_bpm: float = Field(ge=TEMPO_MIN_BPM, le=TEMPO_MAX_BPM)
    time_signature: str
    key: str
    total_beats: float = Field(gt=0.0)
    sections: list[ScoreSection]
    chords: list[ChordEvent]
    tracks: list[Track]
    drum_kit: str = Field(
        default="acoustic", description="the kit the style's drums are played on (render)"
    )
    sidechain: bool = Field(
        default=False, description="the style ducks its other parts under the kick (render)"
    )
    genre: str | None = Field(
        default=None, description="the knowledge-base style whose production the render uses"
    )
    timing_spread: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="the share of the style's humanised timing its players keep (render): "
        "less in a piece asked to be more danceable than its style",
    )

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo_bpm

    @property
    def duration_seconds(self) -> float:
        return self.total_beats * self.seconds_per_beat

    @property
    def beats_per_bar(self) -> float:
        num, den = split_meter(self.time_signature)
        return num * 4.0 / den


# --------------------------------------------------------------------------- result


class GenerationStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Notice(_Model):
    """A message shown to the person (spec v1 §8.6)."""

    level: Literal["info", "warning", "error"]
    message: str
    indicator: Literal["none", "yellow_badge", "orange_banner", "red_banner"] = "none"


class ErrorInfo(_Model):
    code: str
    message: str


class OutputFiles(_Model):
    audio: str | None = None
    midi: str | None = None
    stems: dict[str, str] = Field(default_factory=dict)
    plan: str | None = None
    project: str | None = None


class GenerationResult(_Model):
    id: str
    status: GenerationStatus
    prompt: str
    enhanced_prompt: str | None = None
    parsed_parameters: ParsedParameters | None = None
    parameters: MusicalParameters | None = None
    plan: StructuralPlan | None = None
    files: OutputFiles = Field(default_factory=OutputFiles)
    output_format: Literal["wav", "flac", "mp3"] = "wav"
    sample_rate: int = 44100
    duration_seconds: float | None = None
    seed: int | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    implementation_used: Implementation = Implementation.RULE_BASED
    implementations: dict[str, Implementation] = Field(
        default_factory=dict, description="which implementation answered, per Aurora module"
    )
    fallback_used: bool = False
    fallback_reason: str | None = None
    stages_run: list[str] = Field(default_factory=list)
    stages_skipped: dict[str, str] = Field(default_factory=dict)
    synthesis: dict[str, Literal["sampler", "ddsp"]] = Field(
        default_factory=dict, description="per track: played from the SoundFont or by DDSP"
    )
    notices: list[Notice] = Field(default_factory=list)
    measured: dict[str, float] = Field(
        default_factory=dict, description="what was measured on the output (LUFS, true peak)"
    )
    error: ErrorInfo | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


AURORA_STAGES = frozenset({"preprocess", "enhance", "parse", "map", "plan", "embed", "suggest"})
"""Timed stages of understanding; every other top-level stage is the engine's."""
SYNTHESIS_PARTS = frozenset({"ddsp", "drums", "sampler", "eq"})
"""Timings that are parts of the `synthesis` stage, not stages of their own."""


def stage_milliseconds(timings_ms: dict[str, float]) -> tuple[float, float, float]:
    """(total, understanding, engine) milliseconds from per-stage timings, counting each
    stage once (the synthesis parts are inside `synthesis`)."""
    stages = {k: v for k, v in timings_ms.items() if k != "total" and k not in SYNTHESIS_PARTS}
    aurora = sum(v for k, v in stages.items() if k in AURORA_STAGES)
    engine = sum(v for k, v in stages.items() if k not in AURORA_STAGES)
    return timings_ms.get("total", aurora + engine), aurora, engine
