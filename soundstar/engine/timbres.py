"""Timbre presets: the interpretable synthesis parameters (`p_ddsp`) of each instrument.

A preset says how loud each harmonic is (spectral tilt, odd/even balance, formants,
cut-offs or explicit inharmonic partials), how a note evolves (ADSR, brightness decay,
vibrato), what noise rides on it (breath, bow, pick) and how it is thickened (unison,
drive). The values live in `data/timbres.yaml`; this module only validates and loads them.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from soundstar.engine.data_file import read_data_file
from soundstar.errors import ConfigError, ParameterError
from soundstar.knowledge.vocab import TimbreName

TIMBRE_IDS: tuple[str, ...] = get_args(TimbreName)

Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class Formant(BaseModel):
    """A resonance peak applied to the harmonic amplitudes (fixed in Hz, like a body)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    freq_hz: float = Field(gt=0.0)
    gain_db: float = Field(ge=-40.0, le=40.0)
    bandwidth_oct: float = Field(gt=0.0, le=6.0)


class TimbrePreset(BaseModel):
    """Interpretable synthesis parameters of one instrument (`p_ddsp`).

    Harmonic amplitudes: `tilt_db_per_oct` per octave above the fundamental, even
    harmonics lowered by `odd_even_balance` (1 = odd only, clarinet-like), `formants`
    and 12 dB/oct `lowcut_hz`/`highcut_hz` slopes in Hz. With `partial_ratios` the
    partials sit at those multiples of f0 (bells, mallets) with `partial_gains_db`.
    The dark table used for brightness decay tilts a further `dark_tilt_db_per_oct`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    description: str = ""
    n_harmonics: int = Field(default=40, ge=1, le=256)
    tilt_db_per_oct: float = Field(default=-6.0, ge=-48.0, le=12.0)
    odd_even_balance: float = Field(default=0.0, ge=-1.0, le=1.0)
    formants: tuple[Formant, ...] = ()
    lowcut_hz: float = Field(default=0.0, ge=0.0, le=5000.0)
    highcut_hz: float = Field(default=20000.0, gt=100.0, le=30000.0)
    partial_ratios: tuple[float, ...] | None = None
    partial_gains_db: tuple[float, ...] | None = None
    random_phase: bool = False
    # amplitude envelope
    attack_s: float = Field(default=0.005, ge=0.0, le=5.0)
    decay_s: float = Field(default=0.3, gt=0.0, le=20.0)
    sustain: Unit = 0.7
    release_s: float = Field(default=0.2, ge=0.0, le=10.0)
    # brightness
    brightness_decay_s: float = Field(default=0.0, ge=0.0, le=20.0)
    dark_tilt_db_per_oct: float = Field(default=-6.0, ge=-48.0, le=0.0)
    velocity_brightness: Unit = 0.5
    velocity_range_db: float = Field(default=24.0, ge=0.0, le=60.0)
    # noise component
    noise_level: float = Field(default=0.0, ge=0.0, le=4.0)
    noise_mode: Literal["burst", "sustain"] = "burst"
    noise_center_hz: float = Field(default=3000.0, gt=20.0, le=20000.0)
    noise_bandwidth_oct: float = Field(default=2.0, gt=0.1, le=10.0)
    noise_decay_s: float = Field(default=0.03, gt=0.0, le=5.0)
    # modulation and thickening
    vibrato_rate_hz: float = Field(default=5.5, gt=0.0, le=20.0)
    vibrato_depth_cents: float = Field(default=0.0, ge=0.0, le=100.0)
    vibrato_delay_s: float = Field(default=0.25, ge=0.0, le=5.0)
    unison_voices: int = Field(default=1, ge=1, le=9)
    unison_detune_cents: float = Field(default=0.0, ge=0.0, le=100.0)
    drive: float = Field(default=0.0, ge=0.0, le=50.0)
    # level and image
    gain_db: float = Field(default=0.0, ge=-40.0, le=24.0)
    stereo_width: Unit = 0.0

    @model_validator(mode="after")
    def _partials_match(self) -> TimbrePreset:
        ratios, gains = self.partial_ratios, self.partial_gains_db
        if (ratios is None) != (gains is None):
            raise ValueError("partial_ratios and partial_gains_db go together")
        if ratios is not None and gains is not None:
            if len(ratios) != len(gains) or not ratios:
                raise ValueError(
                    "partial_ratios and partial_gains_db need the same, non-zero length"
                )
            if any(r <= 0 for r in ratios):
                raise ValueError("partial ratios must be positive")
        return self


@cache
def _all_presets() -> dict[str, TimbrePreset]:
    raw = read_data_file("timbres.yaml")
    if not isinstance(raw, dict) or not isinstance(raw.get("timbres"), dict):
        raise ConfigError("timbres.yaml must hold a 'timbres' mapping")
    presets: dict[str, TimbrePreset] = {}
    for timbre_id, params in raw["timbres"].items():
        try:
            presets[timbre_id] = TimbrePreset(id=timbre_id, **(params or {}))
        except ValidationError as exc:
            raise ConfigError(f"timbre {timbre_id!r} in timbres.yaml is invalid: {exc}") from exc
    missing = set(TIMBRE_IDS) - set(presets)
    if missing:
        raise ConfigError(f"timbres.yaml lacks {', '.join(sorted(missing))}")
    return presets


def load_timbre(timbre_id: str) -> TimbrePreset:
    """The preset named `timbre_id` (cached; presets are immutable)."""
    presets = _all_presets()
    if timbre_id not in presets:
        raise ParameterError(
            f"unknown timbre {timbre_id!r}; one of {', '.join(sorted(presets))}", field="timbre"
        )
    return presets[timbre_id]
