"""RAVE codec stage: pass a stem through a TorchScript RAVE model's latent space (timbre transfer).

Optional twice over: torch is an optional extra (imported lazily, so this module imports
without it) and a model must be configured. An exported RAVE model (acids-ircam/RAVE,
nn_tilde) is TorchScript with `encode(x)`, `decode(z)`, `forward(x)`, a `<method>_params`
buffer per method (`[in_channels, in_ratio, out_channels, out_ratio]`) and an `sr`
attribute; tensors are float32 `[batch, channels, time]`.

Security: a TorchScript file is executable code. Load only from the path the operator
configured (`engine.rave_model_path`), never from anything a user uploads or names.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from soundstar.errors import ParameterError, RenderError

_METHODS = ("encode", "decode", "forward")
_DEFAULT_CHUNK_S = 4.0
_DEFAULT_CONTEXT_S = 0.5
_CACHE_SIZE = 2


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise RenderError(
            "the RAVE stage needs torch, an optional extra (pip install torch)"
        ) from exc
    return torch


@dataclass(frozen=True)
class MethodParams:
    """A `<method>_params` buffer: channels and time ratio in and out of one method."""

    in_channels: int
    in_ratio: int
    out_channels: int
    out_ratio: int


class RaveCodec:
    """A loaded, checked RAVE TorchScript model; `process` runs audio through encode→decode.

    The model is assumed stateless between calls (RAVE's default, non-streaming export):
    long audio is cut into chunks that each carry `context_s` of neighbouring audio on
    both sides, which is then dropped. With a context at least the model's receptive
    field, chunked output equals whole-signal output up to float rounding. A model
    exported with `--streaming` (cached convolutions, internal state) needs
    `context_s=0`, so each sample is fed exactly once and in order.
    """

    def __init__(
        self,
        module: Any,
        *,
        path: Path,
        sample_rate: int,
        n_channels: int,
        latent_size: int,
        ratio: int,
        params: dict[str, MethodParams],
    ) -> None:
        self._module = module
        self.path = path
        self.sample_rate = sample_rate
        self.n_channels = n_channels
        self.latent_size = latent_size
        self.ratio = ratio
        self.params = params

    def __repr__(self) -> str:
        return (
            f"RaveCodec(path={str(self.path)!r}, sample_rate={self.sample_rate}, "
            f"n_channels={self.n_channels}, latent_size={self.latent_size}, ratio={self.ratio})"
        )

    @classmethod
    def load(cls, path: Path) -> RaveCodec:
        """Load and check a TorchScript RAVE model from an operator-configured path.

        Raises RenderError if torch is missing, ParameterError if the file is missing,
        is not TorchScript, or lacks part of the interface (each missing thing named).
        Loads are cached per (resolved path, size, modification time).
        """
        if not path.is_file():
            raise ParameterError(f"RAVE model {path} does not exist", field="rave_model_path")
        stat = path.stat()
        return _load_cached(path.resolve(), stat.st_size, stat.st_mtime_ns)

    def process(
        self,
        audio: np.ndarray,
        *,
        sample_rate: int,
        mix: float = 1.0,
        chunk_s: float = _DEFAULT_CHUNK_S,
        context_s: float = _DEFAULT_CONTEXT_S,
        seed: int = 0,
    ) -> np.ndarray:
        """Encode and decode `audio` through the model, dry/wet mixed.

        Parameters
        ----------
        audio : float audio, mono [n_samples] or [channels, n_samples]. A mono model
            takes each channel on its own; a model with c channels takes c-channel audio,
            or mono copied to every channel and averaged back.
        sample_rate : rate of `audio` (Hz); resampled to the model's rate and back.
        mix : wet share in [0, 1] (0 returns the input unchanged).
        chunk_s, context_s : chunk length and context on each side (s, at model rate),
            rounded up to whole latent frames; they bound memory for long stems.
        seed : seeds torch's generator for models that sample their latent.

        Returns float32 audio of the input's shape, finite.
        """
        x = _check_audio(audio, sample_rate=sample_rate, mix=mix)
        if chunk_s <= 0 or context_s < 0:
            raise ParameterError("chunk_s must be positive and context_s non-negative")
        dry = np.asarray(audio, dtype=np.float32)
        if mix == 0.0 or x.shape[-1] == 0:
            return dry.copy()
        n_in = x.shape[-1]
        g = math.gcd(self.sample_rate, sample_rate)
        up, down = self.sample_rate // g, sample_rate // g
        at_model = resample_poly(x, up, down, axis=-1) if up != down else x
        wet_model = self._run(
            at_model.astype(np.float32),
            chunk=_frames(chunk_s * self.sample_rate, self.ratio, minimum=1),
            context=_frames(context_s * self.sample_rate, self.ratio, minimum=0),
            seed=seed,
        )
        wet = resample_poly(wet_model, down, up, axis=-1) if up != down else wet_model
        wet = _fit_length(wet, n_in).astype(np.float32)
        wet = wet.reshape(dry.shape)
        if not np.all(np.isfinite(wet)):
            raise RenderError(f"RAVE model {self.path} produced NaN or infinite samples")
        out = (1.0 - mix) * dry + mix * wet if mix < 1.0 else wet
        return np.asarray(out, dtype=np.float32)

    def warm_up(
        self, *, chunk_s: float = _DEFAULT_CHUNK_S, context_s: float = _DEFAULT_CONTEXT_S
    ) -> None:
        """Run one chunk of silence, so the first real stem does not pay the backend's
        first-shape set-up (seconds for some convolutions); call once after `load`."""
        chunk = _frames(chunk_s * self.sample_rate, self.ratio, minimum=1)
        context = _frames(context_s * self.sample_rate, self.ratio, minimum=0)
        self._run(np.zeros((1, chunk), dtype=np.float32), chunk=chunk, context=context, seed=0)

    def _run(self, x: np.ndarray, *, chunk: int, context: int, seed: int) -> np.ndarray:
        """[channels, n] at the model rate -> decoded [channels, n], chunk by chunk.

        Every chunk has the same shape (the last is zero-padded), so a model meets one
        input shape per call, whatever the stem's length.
        """
        torch = _import_torch()
        n = x.shape[-1]
        chunk = min(chunk, n + (-n % self.ratio))
        n_chunks = -(-n // chunk)
        padded = np.pad(x, ((0, 0), (context, n_chunks * chunk - n + context)))
        batch = self._to_batch(padded)
        out = np.empty((batch.shape[0], batch.shape[1], n_chunks * chunk), dtype=np.float32)
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            for start in range(0, n_chunks * chunk, chunk):
                piece = torch.from_numpy(batch[..., start : start + chunk + 2 * context])
                y = self._module.decode(self._module.encode(piece)).detach().cpu().numpy()
                if y.shape[:2] != out.shape[:2] or y.shape[-1] < chunk + context:
                    raise RenderError(
                        f"RAVE model {self.path} returned shape {tuple(y.shape)} for input "
                        f"{tuple(piece.shape)}; expected {out.shape[:2]} and time "
                        f"{chunk + 2 * context}"
                    )
                out[..., start : start + chunk] = y[..., context : context + chunk]
        return self._from_batch(out[..., :n], x.shape[0])

    def _to_batch(self, x: np.ndarray) -> np.ndarray:
        """[channels, n] -> [batch, model channels, n]."""
        c = x.shape[0]
        if self.n_channels == 1:
            return np.ascontiguousarray(x[:, None, :])
        if c == self.n_channels:
            return np.ascontiguousarray(x[None])
        if c == 1:
            return np.ascontiguousarray(np.repeat(x[None], self.n_channels, axis=1))
        raise ParameterError(
            f"RAVE model {self.path} takes {self.n_channels} channels; audio has {c}"
        )

    def _from_batch(self, y: np.ndarray, n_channels_in: int) -> np.ndarray:
        if self.n_channels == 1:
            return np.asarray(y[:, 0, :])
        if n_channels_in == self.n_channels:
            return np.asarray(y[0])
        return np.asarray(y[0].mean(axis=0, keepdims=True))


def rave_status(path: Path | None) -> tuple[bool, str]:
    """(runs, why) for the RAVE stage: loads and checks the model when one is configured."""
    if path is None:
        return False, "skipped: no RAVE model configured (engine.rave_model_path)"
    try:
        import torch  # noqa: F401
    except ImportError:
        return False, "skipped: torch is not installed (optional extra)"
    if not path.is_file():
        return False, f"skipped: RAVE model {path} does not exist"
    try:
        codec = RaveCodec.load(path)
    except (ParameterError, RenderError) as exc:
        return False, f"skipped: invalid RAVE model: {exc.message}"
    return True, f"run: {codec!r}"


def _check_audio(audio: np.ndarray, *, sample_rate: int, mix: float) -> np.ndarray:
    """Validate and return audio as float64 [channels, n]."""
    if sample_rate <= 0:
        raise ParameterError(f"sample_rate must be positive, got {sample_rate}")
    if not 0.0 <= mix <= 1.0:
        raise ParameterError(f"mix must be in [0, 1], got {mix}", field="mix")
    arr = np.asarray(audio)
    bad_layout = arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[0] == 0)
    if bad_layout or not np.issubdtype(arr.dtype, np.floating):
        raise ParameterError(
            f"audio must be float [n_samples] or [channels, n_samples], got {arr.dtype} {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ParameterError("audio holds NaN or infinite samples", field="audio")
    return np.atleast_2d(arr.astype(np.float64))


def _frames(n_samples: float, ratio: int, *, minimum: int) -> int:
    """Samples rounded up to whole latent frames of `ratio` samples, at least `minimum` frames."""
    return max(math.ceil(n_samples / ratio), minimum) * ratio


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    if y.shape[-1] >= n:
        return y[..., :n]
    return np.pad(y, ((0, 0), (0, n - y.shape[-1])))


def _int_attr(module: Any, name: str) -> int | None:
    value = getattr(module, name, None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _method_params(module: Any, name: str) -> MethodParams | str:
    """The checked `<name>_params` buffer, or a description of what is wrong with it."""
    buffers = dict(module.named_buffers())
    key = f"{name}_params"
    if key not in buffers:
        return f"buffer {key}"
    values = [int(v) for v in buffers[key].reshape(-1).tolist()]
    if len(values) != 4 or min(values) < 1:
        return f"buffer {key} as 4 positive ints (got {values})"
    return MethodParams(*values)


def _check_interface(module: Any, path: Path) -> RaveCodec:
    """Build a RaveCodec, or raise ParameterError listing every missing or bad part."""
    problems = [f"method {m}" for m in _METHODS if not hasattr(module, m)]
    params: dict[str, MethodParams] = {}
    for m in _METHODS:
        found = _method_params(module, m)
        if isinstance(found, str):
            problems.append(found)
        else:
            params[m] = found
    sr = _int_attr(module, "sr")
    if sr is None or sr <= 0:
        problems.append("attribute sr (positive int sample rate)")
    if problems or sr is None:
        raise ParameterError(
            f"RAVE model {path} is missing: {'; '.join(problems)}", field="rave_model_path"
        )
    enc, dec = params["encode"], params["decode"]
    ratio = enc.out_ratio // enc.in_ratio
    n_channels = _int_attr(module, "n_channels") or enc.in_channels
    latent_size = _int_attr(module, "latent_size") or enc.out_channels
    mismatches = []
    if enc.out_ratio % enc.in_ratio or dec.in_ratio % dec.out_ratio:
        mismatches.append("encode/decode ratios are not whole")
    elif dec.in_ratio // dec.out_ratio != ratio:
        mismatches.append(f"decode ratio {dec.in_ratio // dec.out_ratio} != encode ratio {ratio}")
    if dec.in_channels != enc.out_channels:
        mismatches.append(
            f"decode takes {dec.in_channels} latents, encode gives {enc.out_channels}"
        )
    if not enc.in_channels == dec.out_channels == n_channels:
        mismatches.append(
            f"channels disagree (encode in {enc.in_channels}, decode out {dec.out_channels}, "
            f"n_channels {n_channels})"
        )
    if mismatches:
        raise ParameterError(
            f"RAVE model {path} is inconsistent: {'; '.join(mismatches)}", field="rave_model_path"
        )
    return RaveCodec(
        module,
        path=path,
        sample_rate=sr,
        n_channels=n_channels,
        latent_size=latent_size,
        ratio=ratio,
        params=params,
    )


@lru_cache(maxsize=_CACHE_SIZE)
def _load_cached(path: Path, size: int, mtime_ns: int) -> RaveCodec:
    del size, mtime_ns  # cache key only: a replaced file is loaded again
    torch = _import_torch()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*jit.load.* is deprecated")
            module = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as exc:
        raise ParameterError(
            f"RAVE model {path} is not a TorchScript file ({str(exc).splitlines()[0]})",
            field="rave_model_path",
        ) from exc
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return _check_interface(module, path)
