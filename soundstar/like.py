"""`--like CLIP`: what was heard in a clip, taken as controls wherever the prompt is silent.

The words win where they state something (an explicit BPM, a key, a meter, an energy the
words imply), the same rule `aurora.precedence` keeps for an enhancement; the rest are
`controls` overrides, so they are read, checked and applied as `--set` would be.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from soundstar.audio.listen import ClipAnalysis
from soundstar.aurora.precedence import STATED
from soundstar.controls import Override
from soundstar.models import Notice, ParsedParameters

_ENERGY_STATED = 0.6  # the parser's confidence in an energy the words imply ("calm")


class LikeChoice(BaseModel):
    """One control `--like` offered: the clip's value and whether it was taken."""

    model_config = ConfigDict(frozen=True)

    name: str
    clip_value: str
    taken: bool
    reason: str


class Like(BaseModel):
    """The overrides taken from a clip, and for each control what stayed and what changed."""

    model_config = ConfigDict(frozen=True)

    overrides: list[Override]
    choices: list[LikeChoice]


def like(analysis: ClipAnalysis, parsed: ParsedParameters | None) -> Like:
    """The controls `analysis` sets for a prompt read as `parsed` (None: the prompt states
    nothing, e.g. parameters were given)."""
    offered = {
        "tempo_bpm": f"{analysis.tempo_bpm:g}",
        "key": analysis.key,
        "time_signature": analysis.time_signature,
        "energy_level": f"{analysis.energy_level:g}",
    }
    stated = _stated(parsed)
    choices = [
        LikeChoice(
            name=name,
            clip_value=value,
            taken=name not in stated,
            reason=stated.get(name, "from the clip"),
        )
        for name, value in offered.items()
    ]
    overrides = [Override(name=c.name, value=c.clip_value) for c in choices if c.taken]
    return Like(overrides=overrides, choices=choices)


def _stated(parsed: ParsedParameters | None) -> dict[str, str]:
    """Controls the prompt states, with what it says."""
    if parsed is None:
        return {}
    out: dict[str, str] = {}
    if parsed.tempo.type == "explicit":
        out["tempo_bpm"] = f"the prompt says {parsed.tempo.bpm:g} BPM"
    if parsed.key_signature.value:
        out["key"] = f"the prompt says {parsed.key_signature.value}"
    if parsed.time_signature.confidence >= STATED:
        out["time_signature"] = f"the prompt says {parsed.time_signature.value}"
    if parsed.energy_level.confidence >= _ENERGY_STATED:
        out["energy_level"] = f"the prompt implies energy {parsed.energy_level.value:g}"
    return out


def like_notice(taken: Like) -> Notice:
    """What stayed and what changed, in one line for the person."""
    parts = [
        f"{c.name} {c.clip_value} taken" if c.taken else f"{c.name} kept ({c.reason})"
        for c in taken.choices
    ]
    return Notice(level="info", message="Like the clip: " + "; ".join(parts) + ".")
