"""The live socket's messages: JSON text frames one way and the other, and audio blocks as
binary frames (a little-endian u32 header length, a JSON header, then 16-bit PCM)."""

from __future__ import annotations

import struct
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from soundstar.live.session import LiveBlock
from soundstar.models import PROMPT_MAX_CHARS, MusicalParameters

SampleRate = Literal[22050, 32000, 44100, 48000]
_HEADER = struct.Struct("<I")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartMessage(_Message):
    """Begin playing what `prompt` asks for."""

    type: Literal["start"]
    prompt: str = Field(min_length=1, max_length=PROMPT_MAX_CHARS)
    seed: int | None = Field(default=None, ge=0, lt=2**31)
    sample_rate: SampleRate = 44100
    lead_seconds: float = Field(
        default=1.0, ge=0.2, le=10.0, description="how far ahead of playback to render"
    )
    block_beats: float | None = Field(
        default=1.0, gt=0.0, le=64.0,
        description="beats per audio block (the first comes sooner); null: a bar each",
    )  # fmt: skip
    parameters: MusicalParameters | None = Field(
        default=None, description="play these parameters (as the person adjusted them)"
    )


class SetMessage(_Message):
    """Set a live control (`soundstar live --change` names): heard from the next bar."""

    type: Literal["set"]
    name: str = Field(min_length=1, max_length=64)
    value: str = Field(max_length=512)


class StopMessage(_Message):
    type: Literal["stop"]


class PingMessage(_Message):
    type: Literal["ping"]


ClientMessage = Annotated[
    StartMessage | SetMessage | StopMessage | PingMessage, Field(discriminator="type")
]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


class BlockHeader(BaseModel):
    """What a binary audio frame says about the block (a bar, or beats of one) it carries."""

    index: int
    start_s: float
    frames: int
    channels: int = 2
    sample_rate: int
    tempo_bpm: float
    key: str
    time_signature: str
    beats: float
    section: str
    energy: float
    changed: list[str]


def encode_block(block: LiveBlock, *, sample_rate: int) -> bytes:
    """A bar as one binary frame: header length, JSON header, interleaved int16 PCM."""
    header = BlockHeader(
        index=block.index, start_s=round(block.start_s, 6), frames=block.audio.shape[1],
        sample_rate=sample_rate, tempo_bpm=block.tempo_bpm, key=block.key,
        time_signature=block.time_signature, beats=block.beats, section=block.section,
        energy=block.energy, changed=list(block.changed),
    ).model_dump_json().encode("utf-8")  # fmt: skip
    pcm = np.clip(block.audio.T, -1.0, 1.0) * 32767.0
    samples: bytes = np.round(pcm).astype("<i2").tobytes()
    return _HEADER.pack(len(header)) + header + samples


def decode_block(data: bytes) -> tuple[BlockHeader, np.ndarray]:
    """A binary frame back into its header and (2, frames) float32 audio."""
    (size,) = _HEADER.unpack_from(data)
    header = BlockHeader.model_validate_json(data[_HEADER.size : _HEADER.size + size])
    pcm = np.frombuffer(data[_HEADER.size + size :], dtype="<i2").reshape(-1, header.channels)
    return header, (pcm.T / 32767.0).astype(np.float32)


def started(
    *, sample_rate: int, seed: int, tempo_bpm: float, key: str, time_signature: str
) -> dict[str, Any]:
    return {
        "type": "started", "sample_rate": sample_rate, "channels": 2, "seed": seed,
        "tempo_bpm": tempo_bpm, "key": key, "time_signature": time_signature,
        "format": "binary frames: u32 LE header length, JSON header, int16 LE interleaved PCM",
    }  # fmt: skip


def parse_client_message(text_json: dict[str, Any]) -> ClientMessage:
    return CLIENT_MESSAGE.validate_python(text_json)
