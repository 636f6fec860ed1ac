"""One writer per part kind: `WRITERS[part.kind](part, ctx)` writes a part's notes.

Every decision is already in the `Part` (see `arrange`); a writer only turns it into notes
over the piece's timeline, in its key and feel, drawing from the part's random stream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from soundstar.engine.composer.arrange import Part, PartKind
from soundstar.engine.composer.bass_part import write_bass
from soundstar.engine.composer.character import Character
from soundstar.engine.composer.comping import write_arp, write_comping, write_texture
from soundstar.engine.composer.drums_part import (
    write_drums,
    write_hand_percussion,
    write_pitched_percussion,
)
from soundstar.engine.composer.feel import Feel
from soundstar.engine.composer.melody import write_melody
from soundstar.engine.composer.partner import write_partner
from soundstar.engine.composer.timeline import Timeline
from soundstar.engine.composer.voicing import into_register
from soundstar.engine.drums import GM_DRUM_NOTES
from soundstar.models import Note


@dataclass(frozen=True)
class WriteContext:
    """What every writer shares: the timeline, the key (scale and tonic pitch class), the
    feel, the part's random stream, the parts written so far (by their place in the
    arrangement, as their writers returned them) for partners and doublings, and the
    piece's character (valence, danceability, energy)."""

    timeline: Timeline
    scale: tuple[int, ...]
    tonic_pc: int
    feel: Feel
    rng: np.random.Generator
    written: Mapping[int, list[Note]]
    character: Character


Writer = Callable[[Part, WriteContext], list[Note]]


def _kit(part: Part, ctx: WriteContext) -> list[Note]:
    if part.drum_groove is None:
        raise ValueError("arrange gives every kit part its groove")
    return write_drums(
        ctx.timeline,
        part.drum_groove,
        GM_DRUM_NOTES,
        ctx.rng,
        swing=ctx.feel.swing,
        tempo_bpm=ctx.feel.tempo_bpm,
        named_voices=part.named_voices,
        named_pieces=part.inside,
        left_out=part.left_out,
    )


def _piece(part: Part, ctx: WriteContext) -> list[Note]:
    groove = part.drum_groove
    return write_hand_percussion(
        ctx.timeline,
        groove,
        part.voices,
        GM_DRUM_NOTES,
        ctx.rng,
        swing=max(ctx.feel.swing, groove.swing if groove is not None else 0.0),
        tempo_bpm=ctx.feel.tempo_bpm,
        fills=part.fills,
    )


def _pitched_percussion(part: Part, ctx: WriteContext) -> list[Note]:
    return write_pitched_percussion(
        ctx.timeline, part.drum_groove, part.register, ctx.rng, tempo_bpm=ctx.feel.tempo_bpm
    )


def _bass(part: Part, ctx: WriteContext) -> list[Note]:
    if part.bass_groove is None:
        raise ValueError("arrange gives every bass part its groove")
    return write_bass(
        ctx.timeline,
        part.bass_groove,
        part.register,
        ctx.scale,
        ctx.rng,
        swing=ctx.feel.swing,
        tonic_pc=ctx.tonic_pc,
        keep_pulse=part.keeps_beat,
    )


def _followed(part: Part, ctx: WriteContext) -> list[Note]:
    return list(ctx.written[part.follows]) if part.follows is not None else []


def _double(part: Part, ctx: WriteContext) -> list[Note]:
    """The same line on another instrument, each note moved by octaves into its register:
    two bass parts that each drew a line of their own would fight over the root."""
    lo, hi = part.register
    return [n.moved_to(into_register(n.pitch, lo, hi)) for n in _followed(part, ctx)]


def _melody(part: Part, ctx: WriteContext) -> list[Note]:
    return write_melody(
        ctx.timeline, part.register, ctx.scale, ctx.tonic_pc, ctx.rng, ctx.character.melody
    )


def _partner(part: Part, ctx: WriteContext) -> list[Note]:
    return write_partner(
        ctx.timeline, _followed(part, ctx), part.register, ctx.scale, voice=part.partner_voice
    )


def _arpeggio(part: Part, ctx: WriteContext) -> list[Note]:
    return write_arp(ctx.timeline, part.register, ctx.rng)


def _chords(part: Part, ctx: WriteContext) -> list[Note]:
    return write_comping(
        ctx.timeline,
        part.register,
        part.style or "block",
        ctx.rng,
        power_chords=part.power_chords,
        on_beats=part.keeps_beat,
        shift=ctx.character.voicing_shift,
    )


def _pad(part: Part, ctx: WriteContext) -> list[Note]:
    return write_comping(
        ctx.timeline,
        part.register,
        part.style or "pad",
        ctx.rng,
        base_velocity=70,
        shift=ctx.character.voicing_shift,
    )


def _texture(part: Part, ctx: WriteContext) -> list[Note]:
    return write_texture(ctx.timeline, part.register, ctx.tonic_pc)


WRITERS: dict[PartKind, Writer] = {
    PartKind.KIT: _kit,
    PartKind.PIECE: _piece,
    PartKind.PITCHED_PERCUSSION: _pitched_percussion,
    PartKind.BASS: _bass,
    PartKind.DOUBLE: _double,
    PartKind.MELODY: _melody,
    PartKind.PARTNER: _partner,
    PartKind.ARPEGGIO: _arpeggio,
    PartKind.CHORDS: _chords,
    PartKind.PAD: _pad,
    PartKind.TEXTURE: _texture,
}
