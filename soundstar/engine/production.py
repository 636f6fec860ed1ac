"""Production as data: each role's mix chain and the bus, with per-genre overrides.

`data/mix.yaml` holds a default production and the genres that need their own (a nearer
genre in the parent chain wins). A role's mix is a channel (pan, gain, reverb send, whether
it ducks under the kick) and a chain of typed processors run in order, in the spirit of
pedalboard's `Pedalboard([...])`; units are in the parameter names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstar.engine.effects import EqBand, biquad_eq, compress
from soundstar.errors import ConfigError
from soundstar.knowledge.vocab import ROLES, RoleName

if TYPE_CHECKING:
    from soundstar.knowledge import KnowledgeBase

Hz = Annotated[float, Field(gt=0.0, lt=22050.0)]
_BUTTERWORTH_Q = 0.7071


class _Processor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.model_dump(exclude={"type"}).items())
        return f"{type(self).__name__}({fields})"


class HighpassFilter(_Processor):
    type: Literal["highpass"] = "highpass"
    cutoff_hz: Hz

    def band(self) -> EqBand:
        return EqBand("highpass", self.cutoff_hz)


class LowpassFilter(_Processor):
    type: Literal["lowpass"] = "lowpass"
    cutoff_hz: Hz

    def band(self) -> EqBand:
        return EqBand("lowpass", self.cutoff_hz)


class LowShelfFilter(_Processor):
    type: Literal["low_shelf"] = "low_shelf"
    cutoff_hz: Hz
    gain_db: float = Field(ge=-24.0, le=24.0)

    def band(self) -> EqBand:
        return EqBand("low_shelf", self.cutoff_hz, self.gain_db)


class HighShelfFilter(_Processor):
    type: Literal["high_shelf"] = "high_shelf"
    cutoff_hz: Hz
    gain_db: float = Field(ge=-24.0, le=24.0)

    def band(self) -> EqBand:
        return EqBand("high_shelf", self.cutoff_hz, self.gain_db)


class PeakFilter(_Processor):
    type: Literal["peak"] = "peak"
    cutoff_hz: Hz
    gain_db: float = Field(ge=-24.0, le=24.0)
    q: float = Field(default=_BUTTERWORTH_Q, gt=0.0, le=20.0)

    def band(self) -> EqBand:
        return EqBand("peaking", self.cutoff_hz, self.gain_db, self.q)


class Compressor(_Processor):
    """A peak compressor whose threshold is set from the stem's own peak, so that it acts
    the same on a quiet or a loud stem."""

    type: Literal["compressor"] = "compressor"
    threshold_below_peak_db: float = Field(ge=0.0, le=60.0)
    ratio: float = Field(ge=1.0, le=30.0)
    attack_ms: float = Field(ge=0.0, le=500.0)
    release_ms: float = Field(ge=0.0, le=5000.0)
    knee_db: float = Field(default=6.0, ge=0.0, le=24.0)


Filter = HighpassFilter | LowpassFilter | LowShelfFilter | HighShelfFilter | PeakFilter
Processor = Annotated[Filter | Compressor, Field(discriminator="type")]
Chain = tuple[Processor, ...]


def run_chain(audio: np.ndarray, chain: Sequence[Processor], *, sample_rate: int) -> np.ndarray:
    """Mono or stereo audio through `chain` in order, as a new float32 array; consecutive
    filters run as one cascade of second-order sections."""
    out = np.asarray(audio, dtype=np.float32)
    bands: list[EqBand] = []
    for processor in chain:
        if not isinstance(processor, Compressor):
            bands.append(processor.band())
            continue
        if bands:
            out, bands = biquad_eq(out, sample_rate=sample_rate, bands=bands), []
        out = _compressed(out, processor, sample_rate)
    return biquad_eq(out, sample_rate=sample_rate, bands=bands)  # no bands left: a copy


def _compressed(audio: np.ndarray, compressor: Compressor, sample_rate: int) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0.0:
        return audio
    return compress(
        audio, sample_rate=sample_rate,
        threshold_db=20.0 * float(np.log10(peak)) - compressor.threshold_below_peak_db,
        ratio=compressor.ratio, attack_ms=compressor.attack_ms,
        release_ms=compressor.release_ms, knee_db=compressor.knee_db,
    ).astype(np.float32, copy=False)  # fmt: skip


class RoleMix(BaseModel):
    """One role's channel: where it sits, how loud, how wet, and its chain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pan: float = Field(ge=-1.0, le=1.0)
    gain_db: float = Field(ge=-60.0, le=24.0)
    reverb_send: float = Field(ge=0.0, le=1.0)
    ducked: bool = Field(description="ducks under the kick when the genre side-chains")
    chain: Chain = ()
    featured_gain_db: float = Field(
        default=0.0,
        ge=0.0,
        le=12.0,
        description="lift of a part whose instrument the person named, over the role's gain",
    )

    def gain_for(self, *, featured: bool) -> float:
        """The channel's gain (dB) for a part, named by the person or not."""
        return self.gain_db + (self.featured_gain_db if featured else 0.0)


class ReverbRoom(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    room_size: float = Field(ge=0.0, le=1.0)
    decay_s: float = Field(ge=0.05, le=8.0)
    damping: float = Field(ge=0.0, le=1.0)


class BusCompressor(BaseModel):
    """The mix bus's glue; `threshold_db` is for a -14 LUFS target (it follows the target)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold_db: float = Field(ge=-40.0, le=0.0)
    ratio: float = Field(ge=1.0, le=30.0)
    attack_ms: float = Field(ge=0.0, le=500.0)
    release_ms: float = Field(ge=0.0, le=5000.0)
    knee_db: float = Field(ge=0.0, le=24.0)


class Sidechain(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    depth_db: float = Field(ge=0.0, le=30.0)
    release_ms: float = Field(gt=0.0, le=2000.0)


class Vinyl(BaseModel):
    """A record's surface under the mix (see `effects.vinyl_noise`): a sampled-from-vinyl
    colour, as boom-bap and lo-fi are made."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    crackles_per_s: float = Field(ge=0.0, le=200.0)
    crackle_db: float = Field(ge=-80.0, le=-6.0)
    hiss_db: float = Field(ge=-100.0, le=-20.0)


class Production(BaseModel):
    """A whole mix: every role's channel, the shared reverb, the bus and the kit played."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: dict[RoleName, RoleMix]
    reverb: ReverbRoom
    bus: BusCompressor
    sidechain: Sidechain
    energy_range_db: float = Field(
        ge=0.0, le=24.0, description="level between the quietest and loudest section"
    )
    drum_kit_program: int | None = Field(
        default=None, ge=0, le=127,
        description="GM percussion kit (bank 128) a sampled kit plays; None: the kit's own",
    )  # fmt: skip
    vinyl: Vinyl | None = Field(default=None, description="a record's surface, or none")


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`: maps merge key by key, anything else (a chain) is replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


class _MixFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: dict[str, Any]
    genres: dict[str, dict[str, Any]] = Field(default_factory=dict)


def parse_mix(text: str) -> tuple[Production, dict[str, Production]]:
    """(the default production, each genre's) from the text of a mix.yaml; ConfigError
    names what is wrong."""
    try:
        raw = _MixFile.model_validate(yaml.safe_load(text))
        default = Production.model_validate(raw.default)
        genres = {
            genre: Production.model_validate(_merged(raw.default, over))
            for genre, over in raw.genres.items()
        }
    except (ValidationError, yaml.YAMLError) as exc:
        raise ConfigError(f"mix.yaml is invalid: {exc}") from exc
    for name, production in [("default", default), *genres.items()]:
        missing = [r for r in ROLES if r not in production.roles]
        if missing:
            raise ConfigError(f"mix.yaml: production {name!r} lacks roles {missing}")
    return default, genres


@cache
def _productions() -> tuple[Production, dict[str, Production]]:
    return parse_mix(
        resources.files("soundstar.engine").joinpath("data/mix.yaml").read_text("utf-8")
    )


def default_production() -> Production:
    """The production every genre starts from."""
    return _productions()[0]


def production_for(genre_chain: Sequence[str]) -> Production:
    """The production of the nearest genre in `genre_chain` (the genre, then its parents)
    that mix.yaml names, else the default."""
    default, genres = _productions()
    for genre in genre_chain:
        if genre in genres:
            return genres[genre]
    return default


def genre_production(kb: KnowledgeBase, genre: str | None) -> Production:
    """The production of `genre` or of its nearest ancestor that mix.yaml names; the
    default for no genre or one the knowledge base does not know."""
    lineage = [genre, *kb.genre_ancestors(genre)] if genre in kb.genres else []
    return production_for([g for g in lineage if g is not None])


def production_genres() -> frozenset[str]:
    """The genres mix.yaml gives a production of their own."""
    return frozenset(_productions()[1])
