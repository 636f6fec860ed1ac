"""RAVE codec stage: interface checks, resampling, padding, chunked streaming (needs torch)."""

from __future__ import annotations

import importlib.abc
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from soundstar.engine.rave import RaveCodec, rave_status
from soundstar.errors import ParameterError, RenderError

HAVE_TORCH = importlib.util.find_spec("torch") is not None
if HAVE_TORCH:
    import torch

    from tests.engine.rave_fixture import build_codec, build_codec_without_decode

needs_torch = pytest.mark.skipif(
    not HAVE_TORCH, reason="torch is not installed (optional extra: pip install torch)"
)
SR = 16000
RATIO = 64


def test_status_without_a_configured_model() -> None:
    ok, why = rave_status(None)
    assert not ok and "no RAVE model configured" in why


class _BlockTorch(importlib.abc.MetaPathFinder):
    """Makes `import torch` fail as it does where the optional extra is not installed."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"No module named {name!r} (blocked by test)")


def test_status_without_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_BlockTorch(), *sys.meta_path])
    ok, why = rave_status(tmp_path / "model.ts")
    assert not ok and "torch is not installed" in why


def test_module_imports_and_reports_without_torch() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from pathlib import Path\n"
        "import soundstar.engine.rave as rave\n"
        "print(rave.rave_status(Path('m.ts'))[1])\n"
        "print('torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["skipped: torch is not installed (optional extra)", "False"]


@pytest.fixture(scope="module")
def codec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_codec(tmp_path_factory.mktemp("rave") / "tiny.ts", sr=SR, ratio=RATIO)


@pytest.fixture(scope="module")
def codec(codec_path: Path) -> RaveCodec:
    return RaveCodec.load(codec_path)


def _noise(n: int, *, channels: int = 0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (channels, n) if channels else (n,)
    return (0.3 * rng.standard_normal(shape)).astype(np.float32)


@needs_torch
def test_load_reads_the_interface(codec: RaveCodec) -> None:
    assert codec.sample_rate == SR
    assert codec.ratio == RATIO
    assert codec.latent_size == 8 and codec.n_channels == 1
    assert codec.params["decode"].in_ratio == RATIO
    assert RaveCodec.load(codec.path) is codec  # cached


@needs_torch
@pytest.mark.parametrize("n", [1, 63, 65, 1000, 4097])
def test_output_length_equals_input_length(codec: RaveCodec, n: int) -> None:
    y = codec.process(_noise(n), sample_rate=SR)
    assert y.shape == (n,) and y.dtype == np.float32
    assert np.all(np.isfinite(y))
    assert np.any(y != 0)


@needs_torch
def test_multichannel_audio_keeps_its_layout(codec: RaveCodec) -> None:
    x = _noise(3000, channels=2)
    y = codec.process(x, sample_rate=SR)
    assert y.shape == (2, 3000) and y.dtype == np.float32
    left = codec.process(x[0], sample_rate=SR)
    np.testing.assert_allclose(y[0], left, atol=1e-5)


@needs_torch
def test_other_sample_rate_is_resampled_and_returned_at_input_rate(codec: RaveCodec) -> None:
    t = np.arange(44100) / 44100.0
    x = (0.5 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
    y = codec.process(x, sample_rate=44100)
    assert y.shape == x.shape
    # the same signal at the model's rate gives the same sound, resampled back
    t16 = np.arange(SR) / SR
    y16 = codec.process((0.5 * np.sin(2 * np.pi * 220.0 * t16)).astype(np.float32), sample_rate=SR)
    from scipy.signal import resample_poly

    back = resample_poly(y16, 441, 160)[: y.size]
    mid = slice(4410, 39690)
    err = np.sqrt(np.mean((y[mid] - back[mid]) ** 2)) / np.sqrt(np.mean(back[mid] ** 2))
    assert err < 0.1


@needs_torch
@pytest.mark.parametrize(("rate", "n"), [(44100, 1001), (22050, 777), (48000, 5)])
def test_resampled_output_keeps_the_input_length(codec: RaveCodec, rate: int, n: int) -> None:
    y = codec.process(_noise(n, channels=2), sample_rate=rate)
    assert y.shape == (2, n) and y.dtype == np.float32


@needs_torch
def test_chunked_equals_whole_when_context_covers_receptive_field(codec: RaveCodec) -> None:
    x = _noise(20000)
    whole = codec.process(x, sample_rate=SR, chunk_s=10.0)
    # receptive field is under two latent frames each side; 2 frames of context suffice
    chunked = codec.process(x, sample_rate=SR, chunk_s=0.05, context_s=2 * RATIO / SR)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


@needs_torch
def test_chunks_without_context_differ_at_boundaries(codec: RaveCodec) -> None:
    x = _noise(20000)
    whole = codec.process(x, sample_rate=SR, chunk_s=10.0)
    bare = codec.process(x, sample_rate=SR, chunk_s=0.05, context_s=0.0)
    assert not np.allclose(bare, whole, atol=1e-3)


@needs_torch
def test_mix_blends_dry_and_wet(codec: RaveCodec) -> None:
    x = _noise(2000)
    np.testing.assert_array_equal(codec.process(x, sample_rate=SR, mix=0.0), x)
    wet = codec.process(x, sample_rate=SR)
    half = codec.process(x, sample_rate=SR, mix=0.5)
    np.testing.assert_allclose(half, 0.5 * x + 0.5 * wet, atol=1e-6)


@needs_torch
def test_processing_is_deterministic(codec: RaveCodec) -> None:
    x = _noise(5000)
    np.testing.assert_array_equal(
        codec.process(x, sample_rate=SR), codec.process(x, sample_rate=SR)
    )


@needs_torch
def test_bad_arguments_are_rejected(codec: RaveCodec) -> None:
    x = _noise(100)
    with pytest.raises(ParameterError, match="mix"):
        codec.process(x, sample_rate=SR, mix=1.5)
    with pytest.raises(ParameterError, match="NaN"):
        codec.process(np.full(100, np.nan, dtype=np.float32), sample_rate=SR)
    with pytest.raises(ParameterError, match="float"):
        codec.process(np.zeros(100, dtype=np.int16), sample_rate=SR)
    with pytest.raises(ParameterError, match="channels"):
        codec.process(np.zeros((0, 100), dtype=np.float32), sample_rate=SR)
    with pytest.raises(ParameterError, match="chunk_s"):
        codec.process(x, sample_rate=SR, chunk_s=0.0)


@needs_torch
def test_stereo_model_rejects_three_channel_audio(tmp_path: Path) -> None:
    stereo = RaveCodec.load(build_codec(tmp_path / "st.ts", n_channels=2))
    assert stereo.n_channels == 2
    assert stereo.process(_noise(500, channels=2), sample_rate=SR).shape == (2, 500)
    assert stereo.process(_noise(500), sample_rate=SR).shape == (500,)
    with pytest.raises(ParameterError, match="takes 2 channels"):
        stereo.process(_noise(500, channels=3), sample_rate=SR)


@needs_torch
def test_model_without_decode_names_what_is_missing(tmp_path: Path) -> None:
    path = build_codec_without_decode(tmp_path / "nodecode.ts")
    with pytest.raises(ParameterError) as info:
        RaveCodec.load(path)
    assert "method decode" in info.value.message
    assert "buffer decode_params" in info.value.message
    assert "encode" not in info.value.message.replace(str(path), "")


@needs_torch
def test_model_without_params_buffer_names_it(tmp_path: Path) -> None:
    path = build_codec(tmp_path / "nobuf.ts", drop_buffer="forward_params")
    with pytest.raises(ParameterError, match="buffer forward_params"):
        RaveCodec.load(path)


@needs_torch
def test_non_torchscript_file_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"not a model")
    with pytest.raises(ParameterError, match="not a TorchScript file"):
        RaveCodec.load(junk)
    pickled = tmp_path / "state.pt"
    torch.save({"weights": torch.zeros(3)}, str(pickled))
    with pytest.raises(ParameterError, match="not a TorchScript file"):
        RaveCodec.load(pickled)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        RaveCodec.load(tmp_path / "absent.ts")


@needs_torch
def test_status_for_each_case(tmp_path: Path, codec_path: Path) -> None:
    ok, why = rave_status(codec_path)
    assert ok and "run" in why and "ratio=64" in why
    ok, why = rave_status(tmp_path / "absent.ts")
    assert not ok and "does not exist" in why
    ok, why = rave_status(build_codec_without_decode(tmp_path / "nd.ts"))
    assert not ok and "invalid RAVE model" in why and "method decode" in why
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"\x00" * 10)
    ok, why = rave_status(junk)
    assert not ok and "not a TorchScript file" in why


@needs_torch
def test_nan_from_the_model_is_a_render_error(tmp_path: Path, codec: RaveCodec) -> None:
    broken = RaveCodec(
        _NanModule(),
        path=tmp_path / "nan.ts",
        sample_rate=SR,
        n_channels=1,
        latent_size=8,
        ratio=RATIO,
        params=codec.params,
    )
    with pytest.raises(RenderError, match="NaN"):
        broken.process(_noise(256), sample_rate=SR)


class _NanModule:
    def encode(self, x: Any) -> Any:
        return x

    def decode(self, z: Any) -> Any:
        return z * float("nan")


class _Identity:
    """encode/decode that hand back their input and record the shapes they were given."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def encode(self, x: Any) -> Any:
        self.shapes.append(tuple(x.shape))
        return x

    def decode(self, z: Any) -> Any:
        return z


@needs_torch
def test_chunks_all_have_one_shape_and_cover_the_signal_once(
    tmp_path: Path, codec: RaveCodec
) -> None:
    identity = _Identity()
    ident = RaveCodec(
        identity,
        path=tmp_path / "id.ts",
        sample_rate=SR,
        n_channels=1,
        latent_size=1,
        ratio=RATIO,
        params=codec.params,
    )
    x = _noise(10001, channels=2)
    y = ident.process(x, sample_rate=SR, chunk_s=0.1, context_s=0.01)
    np.testing.assert_array_equal(y, x)
    chunk, context = 1600, 192  # 0.1 s (25 frames) and 0.01 s rounded up to 3 frames of 64
    assert len(identity.shapes) == -(-10001 // chunk)
    assert set(identity.shapes) == {(2, 1, chunk + 2 * context)}


@needs_torch
def test_warm_up_runs_one_chunk_of_the_processing_shape(tmp_path: Path, codec: RaveCodec) -> None:
    identity = _Identity()
    ident = RaveCodec(
        identity,
        path=tmp_path / "id.ts",
        sample_rate=SR,
        n_channels=1,
        latent_size=1,
        ratio=RATIO,
        params=codec.params,
    )
    ident.warm_up(chunk_s=0.1, context_s=0.01)
    assert identity.shapes == [(1, 1, 1600 + 2 * 192)]
