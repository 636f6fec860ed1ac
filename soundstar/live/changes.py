"""Changes to a live piece: `T:NAME=VALUE`, a control (as `--set` reads it) set at time T.

A change takes effect at the first bar boundary at or after T. The controls are those of
`soundstar.controls` that a piece without an end can follow (not its duration, nor its
sections, which the live timeline makes), and `mute`: the roles silenced from then on
(`mute=drums,bass`; `mute=` unmutes all).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from soundstar.controls import CONTROLS, Override, apply_to_parameters
from soundstar.errors import ParameterError
from soundstar.models import MusicalParameters, Role

MUTE = "mute"
_NOT_LIVE = frozenset({"duration_seconds"})
ROLE_NAMES = tuple(r.value for r in Role)
LIVE_CONTROLS: dict[str, str] = {
    **{name: text for name, text in CONTROLS.items() if name not in _NOT_LIVE},
    MUTE: "a comma-separated list of roles to silence (" + ", ".join(ROLE_NAMES) + "), "
    "or nothing to unmute all",
}


class LiveChange(BaseModel):
    """One control set at `at_seconds` of the piece's playing time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at_seconds: float = Field(ge=0.0)
    name: str
    value: str

    @property
    def override(self) -> Override:
        return Override(name=self.name, value=self.value)


def live_control_names() -> str:
    return ", ".join(LIVE_CONTROLS)


def read_control(text: str) -> Override:
    """`NAME=VALUE` with NAME a live control; the value is checked when applied."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in LIVE_CONTROLS:
        raise ParameterError(
            f"unknown live control {text!r}; NAME=VALUE with NAME one of {live_control_names()}",
            field=name or "change",
        )
    return Override(name=name, value=value.strip())


def parse_change(text: str) -> LiveChange:
    """`T:NAME=VALUE` (T in seconds) read into a LiveChange; a bad T or NAME raises
    ParameterError naming what is allowed."""
    when, sep, rest = text.partition(":")
    try:
        at = float(when) if sep else math.nan
    except ValueError:
        at = math.nan
    if not math.isfinite(at) or at < 0:
        raise ParameterError(
            f"--change takes T:NAME=VALUE with T in seconds (>= 0), got {text!r}", field="change"
        )
    override = read_control(rest)
    return LiveChange(at_seconds=at, name=override.name, value=override.value)


def read_mutes(value: str) -> frozenset[str]:
    """The roles `mute=VALUE` names; an unknown role is an error naming the roles."""
    roles = [item.strip().casefold() for item in value.split(",") if item.strip()]
    unknown = [r for r in roles if r not in ROLE_NAMES]
    if unknown:
        raise ParameterError(
            f"mute: unknown role {unknown[0]!r}; {LIVE_CONTROLS[MUTE]}", field=MUTE
        )
    return frozenset(roles)


def applied(
    params: MusicalParameters, muted: frozenset[str], override: Override
) -> tuple[MusicalParameters, frozenset[str]]:
    """The parameters and mutes once `override` is set (the value checked here)."""
    if override.name == MUTE:
        return params, read_mutes(override.value)
    try:
        return apply_to_parameters(params, [override]), muted
    except ParameterError as exc:  # the reading is `--set`'s; the words fit any surface
        raise ParameterError(exc.message.removeprefix("--set "), field=override.name) from None
