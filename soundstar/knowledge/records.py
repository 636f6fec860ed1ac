"""Typed records of the knowledge base, one pydantic model per YAML table.

Each model checks what a single record can check on its own (ranges, vocabularies,
pattern lengths); references between tables are checked by the loader.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from soundstar.knowledge.numerals import check_numeral
from soundstar.knowledge.vocab import (
    BASS_STEPS,
    DRUM_HITS,
    CompingName,
    DrumGrooveRole,
    DrumVoiceName,
    FamilyName,
    FeelName,
    KitName,
    ModeName,
    PlaysName,
    RoleName,
    TimbreName,
    TransitionName,
)
from soundstar.models import split_key, split_meter

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Midi = Annotated[int, Field(ge=0, le=127)]
Bpm = Annotated[int, Field(ge=40, le=240)]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$")]
Names = tuple[str, ...]

DRUM_KIT_PLAYS = frozenset({"kit", "kit_piece"})
"""How a drum kit and its pieces play: on the drum engine, as a drummer."""
VOICED_PLAYS = frozenset({"kit_piece", "hand_percussion", "shaker"})
"""How the instruments play that are heard as drum voices they name."""


class Record(BaseModel):
    """Immutable, strict: a misspelt field name is an error, not silently ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


def _lowercase_aliases(aliases: Names) -> Names:
    for alias in aliases:
        if alias != alias.lower() or not alias.strip():
            raise ValueError(f"alias {alias!r} must be non-empty lowercase text")
    return aliases


Aliases = Annotated[Names, AfterValidator(_lowercase_aliases)]


def _ordered_pair(pair: tuple[int, int], what: str) -> tuple[int, int]:
    if pair[0] > pair[1]:
        raise ValueError(f"{what} [{pair[0]}, {pair[1]}] must be [low, high]")
    return pair


class Genre(Record):
    """A genre or sub-genre with its inheritance already resolved: every field filled."""

    id: Id
    name: str = Field(min_length=1)
    parent: str | None
    aliases: Aliases = ()
    bpm: tuple[Bpm, Bpm]
    default_bpm: Bpm
    modes: tuple[ModeName, ...] = Field(min_length=1)
    keys: Names = ()
    meters: Names = Field(min_length=1)
    energy: Unit
    valence: Unit
    danceability: Unit
    era: str | None = None
    swing: float = Field(ge=0.0, le=0.5)
    drum_kit: KitName | None
    drum_grooves: Names
    bass_grooves: Names
    comping: tuple[CompingName, ...] = Field(min_length=1)
    instrumentation: dict[RoleName, Names]
    progressions: Names
    structures: Names = Field(min_length=1)
    sidechain: bool
    moods: Names
    description: str = ""
    form_words: Aliases = Field(
        default=(),
        description="names of this genre that name a form any style can take ('ballad', not "
        "'pop ballad'): beside another style they say how that style plays, not replace it",
    )
    form_of: str | None = Field(
        default=None,
        description="the genre whose form this one is a style's own version of "
        "(jazz ballad -> ballad)",
    )

    @field_validator("keys")
    @classmethod
    def _keys_parse(cls, keys: Names) -> Names:
        for key in keys:
            split_key(key)
        return keys

    @field_validator("meters")
    @classmethod
    def _meters_parse(cls, meters: Names) -> Names:
        for meter in meters:
            split_meter(meter)
        return meters

    @model_validator(mode="after")
    def _tempo_consistent(self) -> Self:
        _ordered_pair(self.bpm, "bpm")
        if not self.bpm[0] <= self.default_bpm <= self.bpm[1]:
            raise ValueError(f"default_bpm {self.default_bpm} lies outside bpm {list(self.bpm)}")
        return self


class Mood(Record):
    id: Id
    aliases: Aliases = ()
    valence: Unit
    arousal: Unit
    mode_bias: ModeName | None = None
    tempo_bias: float = Field(ge=-1.0, le=1.0)
    opposites: Names = ()


with warnings.catch_warnings():
    # "register" is the schema's name; it shadows ABCMeta.register, which records never use.
    warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)

    class Instrument(Record):
        """An instrument, and how it plays (`plays`): kits and kit pieces are played by the drum
        engine, hand percussion and shakers by their drum voices, the rest are pitched."""

        id: Id
        name: str = Field(min_length=1)
        aliases: Aliases = ()
        family: FamilyName
        role: RoleName
        plays: PlaysName
        gm_program: Midi
        register: tuple[Midi, Midi]
        timbre: TimbreName | None
        kit: KitName | None = Field(
            default=None, description="drum kit to play it on; null: the genre's kit"
        )
        voices: tuple[DrumVoiceName, ...] = Field(
            default=(),
            description="for kit pieces (hi-hat, snare...), hand percussion (congas...) and "
            "shakers: the drum voices they name",
        )
        variant_of: str | None = Field(
            default=None,
            description="the instrument this is a kind of (distorted guitar -> electric guitar)",
        )
        counts_as: tuple[str, ...] = Field(
            default=(),
            description="instruments whose exclusion leaves this one out too ('without piano': "
            "no electric piano), without it standing in for their name as a variant does",
        )
        hands: Literal[1, 2] = Field(
            default=1,
            description="2: a keyboard played with both hands, whose chord part is laid out "
            "as a keyboard player's (engine/data/comping.yaml two_hands)",
        )

        @property
        def drum(self) -> bool:
            """A drum kit or a piece of one: played by the drum engine, no timbre of its own."""
            return self.plays in DRUM_KIT_PLAYS

        @model_validator(mode="after")
        def _plays_consistent(self) -> Self:
            _ordered_pair(self.register, "register")
            if self.drum:
                if self.timbre is not None:
                    raise ValueError(
                        "a kit or kit piece has timbre null (the drum engine plays it)"
                    )
            elif self.timbre is None:
                raise ValueError(f"an instrument that plays {self.plays} needs a timbre")
            if (self.plays in VOICED_PLAYS) != bool(self.voices):
                raise ValueError(
                    f"an instrument that plays {self.plays} "
                    + ("names its drum voices" if self.plays in VOICED_PLAYS else "has no voices")
                )
            return self


class Era(Record):
    id: str = Field(pattern=r"^(19|20)\d0s$")
    aliases: Aliases = ()
    genres: Names
    instruments: Names
    production: Names
    bpm_bias: float | None = Field(
        default=None, ge=-1.0, le=1.0, description="tempo tendency, like a mood's tempo_bias"
    )


class Artist(Record):
    name: str = Field(min_length=1)
    aliases: Aliases = ()
    genres: Names = Field(min_length=1)
    era: str | None = Field(description="decade id; null for composers before the 1920s")
    bpm: tuple[Bpm, Bpm]
    instruments: Names
    moods: Names

    @model_validator(mode="after")
    def _range(self) -> Self:
        _ordered_pair(self.bpm, "bpm")
        return self


class Articulation(Record):
    """Words for how an instrument plays: a pattern (comping style), a bass groove, an octave
    shift, or several of them."""

    words: tuple[str, ...] = Field(min_length=1)
    style: CompingName | None = None
    bass_groove: str | None = None
    octave: int = Field(default=0, ge=-1, le=1)

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if self.style is None and self.bass_groove is None and self.octave == 0:
            raise ValueError("an articulation sets a style, a bass groove, an octave, or some")
        for word in self.words:
            if word != word.lower() or not word.isalpha():
                raise ValueError(f"word {word!r} must be one lowercase word")
        return self


class Ensemble(Record):
    """A word for a group of players and how many it states ("duet": 2, "quartet": 4)."""

    word: str = Field(min_length=1)
    size: int = Field(ge=2, le=12)
    genre: str | None = Field(
        default=None,
        description="genre id the word implies only when the prompt names no style "
        "(a quintet: chamber music; a jazz quintet: jazz)",
    )

    @model_validator(mode="after")
    def _one_word(self) -> Self:
        if self.word != self.word.lower() or not self.word.isalpha():
            raise ValueError(f"word {self.word!r} must be one lowercase word")
        return self


class GenericInstrument(Record):
    """Words that name an instrument in general rather than one kind of it ("bass", "drums").

    The genre picks the kind: a "bass" in jazz is its double bass. The kinds are
    `instrument`, its variants, and each of `kinds` with its variants; where the genre
    lists `instrument` itself, or none of the kinds, the word reads as `instrument`.
    """

    words: tuple[str, ...] = Field(min_length=1)
    instrument: Id
    kinds: tuple[Id, ...] = Field(
        default=(),
        description="other instruments that are a kind of it though not its variants "
        "(double bass and synth bass for a bass)",
    )

    @field_validator("words")
    @classmethod
    def _lowercase_words(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        return _lowercase_aliases(words)


class NamedEnsemble(Record):
    """A group known by name ("string quartet"): its instruments, each in the part it plays,
    and the genre it implies when a prompt names none."""

    id: Id
    name: str = Field(min_length=1)
    aliases: Aliases = ()
    members: dict[Id, RoleName] = Field(
        min_length=2, description="instrument id -> its role, lead first, bass last"
    )
    second_players: tuple[Id, ...] = Field(
        default=(),
        description="members played by two (a string quartet's violins); the second partners the first",
    )
    genre: str | None = Field(
        default=None, description="genre id used when the prompt names no genre"
    )

    @model_validator(mode="after")
    def _seconds_are_members(self) -> Self:
        strangers = [iid for iid in self.second_players if iid not in self.members]
        if strangers:
            raise ValueError(f"second_players {strangers} are not members of the ensemble")
        return self


class TempoTerm(Record):
    """A word for tempo: either a BPM range or a multiplier of the current tempo."""

    term: str = Field(min_length=1)
    bpm: tuple[Bpm, Bpm] | None = None
    multiplier: float | None = Field(default=None, gt=0.0, le=4.0)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.bpm is None) == (self.multiplier is None):
            raise ValueError("a tempo term has exactly one of bpm and multiplier")
        if self.bpm is not None:
            _ordered_pair(self.bpm, "bpm")
        if self.term != self.term.lower():
            raise ValueError(f"term {self.term!r} must be lowercase")
        return self


class Abbreviation(Record):
    short: str = Field(min_length=1)
    expansion: str = Field(min_length=1)


class Progression(Record):
    id: Id
    name: str = Field(min_length=1)
    mode: ModeName
    numerals: Names = Field(min_length=1)
    aliases: Aliases = ()
    genres: Names = ()
    moods: Names = ()

    @field_validator("numerals")
    @classmethod
    def _numerals_parse(cls, numerals: Names) -> Names:
        for numeral in numerals:
            check_numeral(numeral)
        return numerals


class Section(Record):
    name: str = Field(min_length=1)
    ratio: float = Field(gt=0.0, le=1.0)
    energy: Unit
    description: str = ""


class SectionTransition(Record):
    from_: str = Field(alias="from")
    to: str
    type: TransitionName


class Structure(Record):
    id: Id
    name: str = Field(min_length=1)
    aliases: Aliases = ()
    sections: tuple[Section, ...] = Field(min_length=1)
    transitions: tuple[SectionTransition, ...] = ()

    @model_validator(mode="after")
    def _sections_consistent(self) -> Self:
        total = sum(s.ratio for s in self.sections)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"section ratios sum to {total:g}, not 1")
        names = {s.name for s in self.sections}
        for t in self.transitions:
            for end in (t.from_, t.to):
                if end not in names:
                    raise ValueError(f"transition names section {end!r}, not in the sections")
        return self


def _check_patterns(
    patterns: Iterable[tuple[str, str]], steps: int, allowed: frozenset[str]
) -> None:
    for name, pattern in patterns:
        if len(pattern) != steps:
            raise ValueError(f"pattern {name!r} has {len(pattern)} characters, steps is {steps}")
        bad = set(pattern) - allowed
        if bad:
            raise ValueError(f"pattern {name!r} uses {''.join(sorted(bad))!r}")


class DrumBar(Record):
    voices: dict[DrumVoiceName, str] = Field(min_length=1)


class DrumGroove(Record):
    """A bar of drum patterns. `role` says who plays it: a drummer on a kit, or a hand
    percussionist (the patterns where the style's groove has none for the instrument).
    `plain` marks the meter's plain kit groove, played by a style with none in the meter."""

    id: Id
    name: str = Field(min_length=1)
    role: DrumGrooveRole
    plain: bool = False
    meter: str
    steps: int = Field(ge=2, le=64)
    swing: float = Field(ge=0.0, le=0.5)
    feel: FeelName = "straight"
    voices: dict[DrumVoiceName, str] = Field(min_length=1)
    variations: tuple[DrumBar, ...] = ()
    fill: DrumBar | None = None
    alternate: DrumBar | None = Field(
        default=None,
        description="voices for every second bar, for two-bar patterns such as a clave",
    )
    aliases: Aliases = ()

    @model_validator(mode="after")
    def _patterns_fit(self) -> Self:
        split_meter(self.meter)
        if self.plain and self.role != "kit":
            raise ValueError("only a kit groove is a meter's plain groove")
        _check_patterns(self.voices.items(), self.steps, DRUM_HITS)
        extra = [bar for bar in (self.fill, self.alternate) if bar is not None]
        for bar in (*self.variations, *extra):
            _check_patterns(bar.voices.items(), self.steps, DRUM_HITS)
        return self


GLIDE_MARK = "~"
"""In a bass groove's `glides` mask: the step's note slides in from the note before it."""


class BassGroove(Record):
    """A bar of a bass line. `plain` marks the meter's plain groove, played by a style with
    none in the meter. `glides`, a mask as long as `pattern`, marks with `~` the notes that
    slide in from the note sounding before them (an 808's slide), over `glide_beats`; on
    the bar's first step, from the previous bar's last note."""

    id: Id
    name: str = Field(min_length=1)
    plain: bool = False
    meter: str
    steps: int = Field(ge=2, le=64)
    pattern: str
    glides: str | None = None
    glide_beats: float = Field(default=0.25, gt=0.0, le=4.0)
    aliases: Aliases = ()

    @model_validator(mode="after")
    def _pattern_fits(self) -> Self:
        split_meter(self.meter)
        _check_patterns([("pattern", self.pattern)], self.steps, BASS_STEPS)
        if self.pattern[0] in "-":
            raise ValueError("pattern cannot start by holding a note that was never played")
        if self.glides is not None:
            _check_patterns([("glides", self.glides)], self.steps, frozenset(GLIDE_MARK + "."))
            silent = [
                f"{step} ({self.pattern[step]!r})"
                for step, mark in enumerate(self.glides)
                if mark == GLIDE_MARK and self.pattern[step] in "-."
            ]
            if silent:
                raise ValueError(
                    f"glides mark step {', '.join(silent)} of the pattern, which plays no note: "
                    "a glide can only fall on a step that plays one"
                )
        return self

    def glides_at(self, step: int) -> bool:
        """Whether the note the pattern plays on `step` slides in from the one before."""
        return self.glides is not None and self.glides[step] == GLIDE_MARK
