"""A tiny TorchScript codec with the exported-RAVE interface, for tests (needs torch).

Encoder: Conv1d with stride `ratio` and kernel `2 * ratio` (each latent frame sees two
frames of audio), then a 1x1 conv. Decoder: ConvTranspose1d with stride and kernel
`ratio`. So the whole codec's receptive field is a few latent frames, and its weights are
seeded, making every build of the same arguments identical.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn


class TinyCodec(nn.Module):
    """encode [b, c, t] -> [b, latent, t / ratio]; decode back; forward = decode(encode)."""

    def __init__(self, *, sr: int, ratio: int, latent_size: int, n_channels: int) -> None:
        super().__init__()
        self.sr = sr
        self.latent_size = latent_size
        self.n_channels = n_channels
        self.ratio = ratio
        self.enc = nn.Conv1d(n_channels, latent_size, 2 * ratio, stride=ratio, padding=ratio // 2)
        self.mix = nn.Conv1d(latent_size, latent_size, 1)
        self.dec = nn.ConvTranspose1d(latent_size, n_channels, ratio, stride=ratio)
        self.register_buffer("encode_params", torch.tensor([n_channels, 1, latent_size, ratio]))
        self.register_buffer("decode_params", torch.tensor([latent_size, ratio, n_channels, 1]))
        self.register_buffer("forward_params", torch.tensor([n_channels, 1, n_channels, 1]))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        z = self.enc(x)
        return torch.tanh(self.mix(z[..., : x.shape[-1] // self.ratio]))

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dec(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class NoDecode(nn.Module):
    """Has encode and forward but no decode and no decode_params: an invalid codec."""

    def __init__(self, *, sr: int, ratio: int) -> None:
        super().__init__()
        self.sr = sr
        self.ratio = ratio
        self.register_buffer("encode_params", torch.tensor([1, 1, 4, ratio]))
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., :: self.ratio].repeat(1, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _script(module: nn.Module) -> torch.jit.ScriptModule:
    """torch.jit.script, quiet about its deprecation (exported RAVE models are TorchScript)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*jit.script.* is deprecated")
        scripted: torch.jit.ScriptModule = torch.jit.script(module.eval())
    return scripted


def build_codec(
    path: Path,
    *,
    sr: int = 16000,
    ratio: int = 64,
    latent_size: int = 8,
    n_channels: int = 1,
    seed: int = 0,
    drop_buffer: str | None = None,
) -> Path:
    """Script and save a TinyCodec to `path`; `drop_buffer` removes one `<method>_params`."""
    torch.manual_seed(seed)
    module = TinyCodec(sr=sr, ratio=ratio, latent_size=latent_size, n_channels=n_channels)
    if drop_buffer is not None:
        delattr(module, drop_buffer)
    _script(module).save(str(path))
    return path


def build_codec_without_decode(path: Path, *, sr: int = 16000, ratio: int = 64) -> Path:
    """Save a scripted module that lacks `decode` and `decode_params`."""
    scripted = _script(NoDecode(sr=sr, ratio=ratio))
    scripted.save(str(path))
    return path
