"""Controls set by name: `NAME=VALUE` overrides applied to parameters and plans.

The one reading of a control's name and value, shared by the CLI's `--set` and the
API's `controls` (and the control fields of the parameters it is sent); a bad name or
value raises a ParameterError naming the control and its range, and changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from soundstar.errors import ParameterError
from soundstar.knowledge import load_knowledge
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    MODES,
    TEMPO_MAX_BPM,
    TEMPO_MIN_BPM,
    InstrumentSpec,
    MusicalParameters,
    Role,
    StructuralPlan,
    split_key,
    split_meter,
)

if TYPE_CHECKING:
    from soundstar.aurora.pipeline import Aurora

_SECTION = re.compile(r"^sections\.(?P<which>[^=]+)\.energy$")
_NUMBERED = re.compile(r"^(?P<base>.+?)\s+\d+$")


class Override(BaseModel):
    """One control set by name, its value still as written; `given_in` is the JSON
    object it came in (None for the CLI's `--set`), so errors name it as it was sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    value: str
    given_in: str | None = None

    @property
    def section(self) -> str | None:
        """The section named or numbered by `sections.WHICH.energy`, else None."""
        match = _SECTION.match(self.name)
        return match.group("which").strip() if match else None

    @property
    def field(self) -> str:
        """Where the control was given: `tempo_bpm`, or `controls.tempo_bpm` in a request."""
        return f"{self.given_in}.{self.name}" if self.given_in else self.name

    @property
    def label(self) -> str:
        """The control as errors name it: `--set tempo_bpm` or `controls.tempo_bpm`."""
        return self.field if self.given_in else f"--set {self.name}"

    def refused(self, exc: ParameterError) -> ParameterError:
        """A reader's refusal, named as this control was given."""
        return ParameterError(f"{self.label}: {exc.message}", field=self.field)


def _unit(name: str) -> Callable[[str], float]:
    def read(text: str) -> float:
        value = _number(name, text)
        if not 0.0 <= value <= 1.0:
            raise _bad(name, text)
        return value

    return read


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(name, text) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _bad(name, text)
    return value


def _bad(name: str, text: str) -> ParameterError:
    allowed = CONTROLS.get(name, SECTION_RANGE)
    return ParameterError(f"{text!r} is not {allowed}", field=name)


def _tempo(text: str) -> dict[str, Any]:
    value = _number("tempo_bpm", text)
    if not TEMPO_MIN_BPM <= value <= TEMPO_MAX_BPM:
        raise _bad("tempo_bpm", text)
    return {"tempo_bpm": value, "tempo_stated": True}


def _duration(text: str) -> dict[str, Any]:
    value = _number("duration_seconds", text)
    if not DURATION_MIN_S <= value <= DURATION_MAX_S:
        raise _bad("duration_seconds", text)
    return {"duration_seconds": value}


def _key(text: str) -> dict[str, Any]:
    try:
        tonic, mode = split_key(text)
    except ValueError:
        raise _bad("key", text) from None
    return {"key": f"{tonic} {mode}", "key_chosen": None}  # a key set keeps its mode


def _meter(text: str) -> dict[str, Any]:
    try:
        num, den = split_meter(text)
    except ValueError:
        raise _bad("time_signature", text) from None
    return {"time_signature": f"{num}/{den}"}


def _genre(text: str) -> dict[str, Any]:
    kb = load_knowledge()
    genre = kb.find_genre(text)
    if genre is None:
        raise _bad("genre", text)
    parent = kb.genres.get(genre.parent) if genre.parent else None
    if parent is not None:
        return {"genre": parent.name, "sub_genre": genre.name}
    return {"genre": genre.name, "sub_genre": None}


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _mood(text: str) -> dict[str, Any]:
    kb = load_knowledge()
    moods = []
    for item in _items(text):
        mood = kb.find_mood(item)
        if mood is None:
            raise _bad("mood", item)
        moods.append(mood.id)
    return {"mood": list(dict.fromkeys(moods))}


def _instruments(text: str) -> dict[str, Any]:
    kb = load_knowledge()
    lineup = []
    for item in _items(text):
        inst = kb.find_instrument(item)
        if inst is None:
            raise _bad("instruments", item)
        lineup.append(InstrumentSpec(name=inst.id, role=Role(inst.role)))
    if not lineup:
        raise _bad("instruments", text)
    return {"instrumentation": lineup}


def _unit_field(name: str) -> Callable[[str], dict[str, Any]]:
    read = _unit(name)
    return lambda text: {name: read(text)}


SECTION_RANGE = "a number from 0 to 1 (a section's energy)"
CONTROLS: dict[str, str] = {
    "tempo_bpm": f"a number of beats per minute from {TEMPO_MIN_BPM:g} to {TEMPO_MAX_BPM:g}",
    "key": f"a key like 'C major' or 'F# minor' (modes: {', '.join(MODES)})",
    "time_signature": "a meter like 4/4, 3/4 or 6/8",
    "energy_level": "a number from 0 to 1",
    "valence": "a number from 0 to 1",
    "danceability": "a number from 0 to 1",
    "genre": "a genre the knowledge base knows (e.g. pop, jazz, techno)",
    "mood": "a comma-separated list of moods the knowledge base knows (e.g. happy,calm)",
    "instruments": "a comma-separated list of instruments the knowledge base knows "
    "(e.g. piano,bass,drums)",
    "duration_seconds": f"a number of seconds from {DURATION_MIN_S:g} to {DURATION_MAX_S:g}",
}
_READERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "tempo_bpm": _tempo,
    "key": _key,
    "time_signature": _meter,
    "energy_level": _unit_field("energy_level"),
    "valence": _unit_field("valence"),
    "danceability": _unit_field("danceability"),
    "genre": _genre,
    "mood": _mood,
    "instruments": _instruments,
    "duration_seconds": _duration,
}


def control_names() -> str:
    """Every name `--set` takes, for messages and help."""
    return ", ".join([*CONTROLS, "sections.NAME.energy", "sections.N.energy"])


def _known(override: Override) -> Override:
    if override.name not in CONTROLS and override.section is None:
        where = override.given_in or "--set"
        raise ParameterError(
            f"{where}: unknown control {override.name!r}; names: {control_names()}",
            field=override.field,
        )
    return override


def parse_override(text: str) -> Override:
    """`NAME=VALUE` read and its name checked; the value is checked when applied."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ParameterError(
            f"--set takes NAME=VALUE, got {text!r}; names: {control_names()}", field="set"
        )
    return _known(Override(name=name, value=value.strip()))


def parse_overrides(texts: Iterable[str]) -> list[Override]:
    return [parse_override(text) for text in texts]


ControlValue = str | float | int | list[str]


def _as_text(value: ControlValue) -> str:
    """A JSON value as `--set` would take it: a list comma-joined, a number as written."""
    if isinstance(value, list):
        return ",".join(value)
    return value if isinstance(value, str) else repr(value)


def overrides_from_json(controls: Mapping[str, ControlValue], given_in: str) -> list[Override]:
    """`{"tempo_bpm": 100, "sections.chorus.energy": 0.9}` as the Overrides `--set`
    would give, in order; an unknown name is refused naming `given_in.NAME`."""
    return [
        _known(Override(name=name.strip(), value=_as_text(value).strip(), given_in=given_in))
        for name, value in controls.items()
    ]


def check_parameter_fields(fields: Mapping[str, Any], given_in: str) -> None:
    """The control fields of a parameters object (a number or text where a control of
    that name reads one) checked by the control's own reader, so a bad value there gets
    the error `--set` gives; other fields are left to the model."""
    for name, value in fields.items():
        if (
            name in _READERS
            and isinstance(value, str | int | float)
            and not isinstance(value, bool)
        ):
            override = Override(name=name, value=_as_text(value), given_in=given_in)
            try:
                _READERS[name](override.value)
            except ParameterError as exc:
                raise override.refused(exc) from None


def apply_to_parameters(
    params: MusicalParameters, overrides: Iterable[Override]
) -> MusicalParameters:
    """Parameters with each parameter control set as given (later ones win); section
    controls are left for `apply_to_plan`."""
    update: dict[str, Any] = {}
    for override in overrides:
        if override.section is None:
            try:
                update.update(_READERS[override.name](override.value))
            except ParameterError as exc:
                raise override.refused(exc) from None
    if not update:
        return params
    try:
        return MusicalParameters.model_validate({**params.model_dump(), **update})
    except ValidationError as exc:  # pragma: no cover - each reader checks its own range
        raise ParameterError(str(exc.errors()[0]["msg"]), field="parameters") from exc


def _base_name(name: str) -> str:
    match = _NUMBERED.match(name)
    return (match.group("base") if match else name).casefold()


def _sections_meant(plan: StructuralPlan, which: str) -> list[int]:
    """Indexes of the sections `which` names: a 1-based number, an exact name, or a
    name shared by numbered sections ('chorus' for 'chorus 1' and 'chorus 2')."""
    if which.isdigit():
        number = int(which)
        return [number - 1] if 1 <= number <= len(plan.sections) else []
    wanted = which.casefold()
    return [
        i for i, s in enumerate(plan.sections) if wanted in (s.name.casefold(), _base_name(s.name))
    ]


def has_section_overrides(overrides: Iterable[Override]) -> bool:
    return any(o.section is not None for o in overrides)


def apply_to_plan(plan: StructuralPlan, overrides: Iterable[Override]) -> StructuralPlan:
    """The plan with each `sections.WHICH.energy` set; a section not in the plan is an
    error that names the sections it has."""
    sections = list(plan.sections)
    for override in overrides:
        which = override.section
        if which is None:
            continue
        meant = _sections_meant(plan, which)
        if not meant:
            names = ", ".join(f"{i + 1} {s.name!r}" for i, s in enumerate(plan.sections))
            raise ParameterError(
                f"{override.label}: the plan has no section {which!r}; it has {names}",
                field=override.field,
            )
        try:
            energy = _unit(override.name)(override.value)
        except ParameterError as exc:
            raise override.refused(exc) from None
        for i in meant:
            sections[i] = sections[i].model_copy(update={"energy_level": energy})
    if sections == list(plan.sections):
        return plan
    return plan.model_copy(update={"sections": sections})


_Loaded = TypeVar("_Loaded", MusicalParameters, StructuralPlan)


def _load(path: Path, model: type[_Loaded], wrappers: tuple[str, ...], option: str) -> _Loaded:
    """A model read from a JSON file: the model itself, or the object the CLI's
    `--json` output wraps it in."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{option}: cannot read {path}: {exc}", field=option) from None
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{option}: {path} is not JSON: {exc}", field=option) from None
    if isinstance(data, dict):
        for key in wrappers:
            if isinstance(data.get(key), dict):
                data = data[key]
                break
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise ParameterError(f"{option}: {path}: {where}: {first['msg']}", field=option) from None


def load_parameters(path: Path) -> MusicalParameters:
    """Parameters from a file `--json` wrote (its `parameters`) or a bare parameter set."""
    return _load(path, MusicalParameters, ("parameters",), "--params")


def load_plan(path: Path) -> StructuralPlan:
    """A plan from a file `--plan` wrote, or the `plan` / `structural_plan` of JSON output."""
    return _load(path, StructuralPlan, ("plan", "structural_plan"), "--plan-in")


def controlled(
    aurora: Aurora,
    prompt: str,
    overrides: list[Override],
    *,
    parameters: MusicalParameters | None = None,
    plan: StructuralPlan | None = None,
    duration_seconds: float | None = None,
    enhance: bool = False,
    enhancement_level: str = "moderate",
) -> tuple[MusicalParameters | None, StructuralPlan | None]:
    """The parameters and plan to generate with once the controls are set: parameter
    controls act on the given parameters (else on those read from the prompt, enhanced
    first when asked), section controls on the given plan (else on the plan made from the
    parameters). None where nothing was given or set, so the pipeline reads and plans as
    usual; a plan the parameters no longer fit is left for the pipeline to refit."""

    def read_prompt() -> MusicalParameters:
        return aurora.understand(
            prompt,
            duration_seconds=duration_seconds,
            enhance=enhance,
            enhancement_level=enhancement_level,
        ).parameters

    if any(o.section is None for o in overrides):
        parameters = apply_to_parameters(
            parameters if parameters is not None else read_prompt(), overrides
        )
    if has_section_overrides(overrides):
        if plan is None:
            parameters = parameters if parameters is not None else read_prompt()
            if duration_seconds is not None:
                parameters = parameters.model_copy(update={"duration_seconds": duration_seconds})
            plan = aurora.plan(parameters).value
        plan = apply_to_plan(plan, overrides)
    return parameters, plan
