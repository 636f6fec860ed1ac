"""Engine options: which synthesis plays each track (SoundFont sampler or DDSP) and RAVE.

Built once from the operator's settings (`engine_options_from_settings`) and passed to
`render_score`. The per-track choice follows `data/synthesis.yaml`: in "auto" mode the
acoustic instruments (by knowledge-base family and GM program) and acoustic drum kits are
played from the SoundFont when one is available; synths stay with DDSP. "ddsp" forces DDSP.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstar.config import EngineConfig
from soundstar.engine.data_file import load_data_file
from soundstar.engine.sampler import find_soundfont, prefers_sampler
from soundstar.errors import ConfigError
from soundstar.knowledge.vocab import DRUM_KITS, FAMILIES, RoleName

RenderMode = Literal["auto", "ddsp"]
Synthesis = Literal["sampler", "ddsp"]

GM_FAMILY_NAMES: tuple[str, ...] = (
    "piano",
    "chromatic_percussion",
    "organ",
    "guitar",
    "bass",
    "strings",
    "ensemble",
    "brass",
    "reed",
    "pipe",
    "synth_lead",
    "synth_pad",
    "synth_effects",
    "ethnic",
    "percussive",
    "sound_effects",
)
"""GM program families, 8 programs each, in program order (program // 8 indexes this)."""


class SynthesisTable(BaseModel):
    """The contents of data/synthesis.yaml, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sampled_families: frozenset[str]
    sampled_kits: dict[str, int] = Field(description="drum kit -> GM percussion kit program")
    sampler_gain_db: dict[str, float] = Field(description="GM family (or 'drums') -> dB")

    def gain_db(self, program: int, *, is_drum: bool) -> float:
        """Level (dB) that brings a sampler stem of this program to the DDSP presets' level."""
        family = "drums" if is_drum else GM_FAMILY_NAMES[program // 8]
        return self.sampler_gain_db.get(family, 0.0)


@cache
def synthesis_table() -> SynthesisTable:
    """Load and check data/synthesis.yaml (once per process)."""
    table = load_data_file("synthesis.yaml", SynthesisTable)
    unknown = (
        [f"family {f!r}" for f in sorted(table.sampled_families) if f not in FAMILIES]
        + [f"kit {k!r}" for k in sorted(table.sampled_kits) if k not in DRUM_KITS]
        + [
            f"gain family {g!r}"
            for g in sorted(table.sampler_gain_db)
            if g not in GM_FAMILY_NAMES and g != "drums"
        ]
    )
    if unknown:
        raise ConfigError(f"synthesis.yaml names unknown values: {', '.join(unknown)}")
    return table


class EngineOptions(BaseModel):
    """How the engine renders: the SoundFont (None: DDSP only), the mode and the RAVE stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    soundfont_path: Path | None = Field(
        default=None, description="resolved General MIDI SF2; None: every track uses DDSP"
    )
    mode: RenderMode = Field(
        default="auto",
        description="auto: acoustic instruments sampled, synths DDSP; ddsp: all DDSP",
    )
    rave_model_path: Path | None = Field(
        default=None, description="TorchScript RAVE model (.ts); None: the RAVE stage is skipped"
    )
    rave_roles: tuple[RoleName, ...] = Field(
        default=("lead",), description="roles of the stems passed through RAVE"
    )
    rave_mix: float = Field(default=1.0, ge=0.0, le=1.0, description="RAVE wet share")

    def synthesis_for(
        self,
        *,
        family: str | None,
        program: int,
        is_drum: bool,
        kit: str | None,
        kit_program: int | None = None,
    ) -> Synthesis:
        """Which synthesis plays one track (before checking the SoundFont can be loaded);
        a drum track whose production names a GM kit (`kit_program`) is sampled from it."""
        if self.soundfont_path is None or self.mode == "ddsp":
            return "ddsp"
        table = synthesis_table()
        if is_drum:
            return "sampler" if kit in table.sampled_kits or kit_program is not None else "ddsp"
        if family in table.sampled_families and prefers_sampler(program):
            return "sampler"
        return "ddsp"


def engine_options_from_settings(
    engine: EngineConfig,
    *,
    mode: RenderMode | None = None,
    rave_roles: tuple[RoleName, ...] | None = None,
) -> EngineOptions:
    """Options from the `engine` settings: the configured SoundFont, else Debian's standard one;
    `mode` and `rave_roles` override the configured render mode and RAVE roles.

    A configured SoundFont or RAVE path that is not a file, or an unknown RAVE role, is a
    ConfigError (the operator asked for it); no SoundFont configured or installed: DDSP only.
    """
    if engine.rave_model_path is not None and not engine.rave_model_path.is_file():
        raise ConfigError(
            f"configured RAVE model {engine.rave_model_path} does not exist or is not a file",
            field="rave_model_path",
        )
    try:
        return EngineOptions(
            soundfont_path=find_soundfont(engine.soundfont_path),
            mode=mode or engine.render_mode,
            rave_model_path=engine.rave_model_path,
            rave_roles=rave_roles if rave_roles is not None else tuple(engine.rave_roles),
            rave_mix=engine.rave_mix,
        )
    except ValidationError as exc:
        unknown = [r for r in engine.rave_roles if r not in get_args(RoleName)]
        raise ConfigError(
            f"engine.rave_roles names unknown roles {unknown}; use {', '.join(get_args(RoleName))}",
            field="rave_roles",
        ) from exc
