"""Audio export: formats, bit depths, channel handling, validation and atomic writes."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from soundstar.audio.export import (
    SUPPORTED_SAMPLE_RATES,
    BitDepth,
    check_output_directory,
    check_output_path,
    resample,
    stem_file_names,
    write_audio,
    write_stems,
)
from soundstar.errors import OutputError, ParameterError

SR = 44100


def sine(freq_hz: float = 440.0, duration_s: float = 0.5, sample_rate: int = SR) -> np.ndarray:
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def stereo() -> np.ndarray:
    left = sine(440.0)
    return np.stack([left, 0.5 * sine(660.0)])


def dir_listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize(
    ("bit_depth", "subtype", "atol"),
    [(16, "PCM_16", 1.0 / 32768), (24, "PCM_24", 1.0 / 8388608), (32, "FLOAT", 0.0)],
)
def test_wav_round_trips_at_each_bit_depth(
    tmp_path: Path, bit_depth: BitDepth, subtype: str, atol: float
) -> None:
    audio = stereo()
    path = write_audio(tmp_path / "a.wav", audio, sample_rate=SR, bit_depth=bit_depth)
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", subtype, 2, SR)
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    np.testing.assert_allclose(data.T, audio, atol=atol * 1.01)


@pytest.mark.parametrize(("bit_depth", "subtype"), [(16, "PCM_16"), (24, "PCM_24")])
def test_flac_round_trips(tmp_path: Path, bit_depth: BitDepth, subtype: str) -> None:
    audio = stereo()
    path = write_audio(
        tmp_path / "a.flac", audio, sample_rate=48000, format="flac", bit_depth=bit_depth
    )
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.samplerate) == ("FLAC", subtype, 48000)
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    np.testing.assert_allclose(data.T, audio, atol=1.01 / 2 ** (bit_depth - 1))


def test_flac_refuses_32_bit(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="FLAC"):
        write_audio(tmp_path / "a.flac", stereo(), sample_rate=SR, format="flac", bit_depth=32)
    assert dir_listing(tmp_path) == []


def test_mp3_is_written_and_decodes_to_the_same_signal(tmp_path: Path) -> None:
    audio = stereo()
    path = write_audio(tmp_path / "a.mp3", audio, sample_rate=SR, format="mp3", bit_depth=24)
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.channels) == ("MP3", "MPEG_LAYER_III", 2)
    decoded, rate = sf.read(str(path), dtype="float32", always_2d=True)
    assert rate == SR
    assert abs(decoded.shape[0] - audio.shape[1]) <= 1152
    n = min(decoded.shape[0], audio.shape[1])
    for ch in range(2):
        r = np.corrcoef(decoded[:n, ch], audio[ch, :n])[0, 1]
        assert r > 0.99


def test_mono_1d_input_writes_one_channel(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "m.wav", sine(), sample_rate=22050)
    assert sf.info(str(path)).channels == 1


def test_channels_two_duplicates_mono(tmp_path: Path) -> None:
    mono = sine()
    path = write_audio(tmp_path / "d.wav", mono, sample_rate=SR, channels=2, bit_depth=32)
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    assert data.shape == (mono.size, 2)
    np.testing.assert_array_equal(data[:, 0], mono)
    np.testing.assert_array_equal(data[:, 1], mono)


def test_channels_one_downmixes_stereo_to_the_mean(tmp_path: Path) -> None:
    audio = stereo()
    path = write_audio(tmp_path / "d.wav", audio, sample_rate=SR, channels=1, bit_depth=32)
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    assert data.shape == (audio.shape[1], 1)
    np.testing.assert_allclose(data[:, 0], audio.mean(axis=0), atol=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"format": "ogg"}, "unknown audio format"),
        ({"sample_rate": 16000}, "not supported"),
        ({"sample_rate": 96000}, "resample"),
        ({"sample_rate": 44100.0}, "not supported"),
        ({"bit_depth": 8}, "bit depth"),
        ({"channels": 3}, "channels"),
    ],
)
def test_bad_parameters_raise_parameter_error(
    tmp_path: Path, kwargs: dict[str, object], match: str
) -> None:
    call: dict[str, object] = {"sample_rate": SR, **kwargs}
    with pytest.raises(ParameterError, match=match):
        write_audio(tmp_path / "x", stereo(), **call)  # type: ignore[arg-type]
    assert dir_listing(tmp_path) == []


@pytest.mark.parametrize(
    ("audio", "match"),
    [
        (np.array([0.0, np.nan, 0.1], dtype=np.float32), "NaN or infinite"),
        (np.array([0.0, np.inf], dtype=np.float32), "NaN or infinite"),
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.zeros(10, dtype=np.int16), "floating point"),
        (np.zeros((1000, 2), dtype=np.float32), r"\(channels, n_samples\)"),
        (np.zeros((3, 1000), dtype=np.float32), "1 or 2"),
        (np.zeros((1, 2, 3), dtype=np.float32), "shape"),
    ],
)
def test_bad_audio_raises_parameter_error(tmp_path: Path, audio: np.ndarray, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        write_audio(tmp_path / "x.wav", audio, sample_rate=SR)
    assert dir_listing(tmp_path) == []


def test_file_suffix_must_match_the_format(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="does not match"):
        write_audio(tmp_path / "x.wav", stereo(), sample_rate=SR, format="mp3")
    write_audio(tmp_path / "x.WAV", stereo(), sample_rate=SR)
    write_audio(tmp_path / "noext", stereo(), sample_rate=SR, format="flac")
    assert sf.info(str(tmp_path / "noext")).format == "FLAC"


def test_samples_beyond_full_scale_are_clipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loud = np.array([0.5, 1.5, -2.0, 0.25], dtype=np.float32)
    with caplog.at_level(logging.WARNING, logger="soundstar.audio.export"):
        path = write_audio(tmp_path / "c.wav", loud, sample_rate=SR, bit_depth=24)
    data, _ = sf.read(str(path), dtype="float32")
    assert data.max() <= 1.0 and data.min() >= -1.0
    assert data[1] > 0.999 and data[2] == -1.0
    assert "clipping 2 samples" in caplog.text


def test_float_wav_keeps_samples_beyond_full_scale(tmp_path: Path) -> None:
    loud = np.array([0.5, 1.5, -2.0], dtype=np.float32)
    path = write_audio(tmp_path / "f.wav", loud, sample_rate=SR, bit_depth=32)
    data, _ = sf.read(str(path), dtype="float32")
    np.testing.assert_array_equal(data, loud)


# --------------------------------------------------------------------------- output paths


def test_check_output_path_accepts_a_writable_location_and_leaves_nothing(tmp_path: Path) -> None:
    check_output_path(tmp_path / "out.wav")
    assert dir_listing(tmp_path) == []


def test_check_output_path_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "out.wav")


def test_check_output_path_rejects_a_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory"):
        check_output_path(tmp_path)


def test_check_output_path_rejects_a_file_as_parent(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a directory"):
        check_output_path(tmp_path / "file" / "out.wav")


def test_check_output_path_rejects_an_unwritable_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("soundstar.audio.export.tempfile.mkstemp", refuse)
    with pytest.raises(OutputError, match="not writable"):
        check_output_path(tmp_path / "out.wav")


def test_write_to_missing_directory_raises_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        write_audio(tmp_path / "nope" / "x.wav", stereo(), sample_rate=SR)


def test_failed_write_leaves_previous_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "track.wav"
    target.write_bytes(b"previous render")

    def half_write(self: sf.SoundFile, data: np.ndarray) -> None:
        Path(self.name).write_bytes(b"RIFF partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr("soundstar.audio.export.sf.SoundFile.write", half_write)
    with pytest.raises(RuntimeError, match="disk full"):
        write_audio(target, stereo(), sample_rate=SR)
    assert target.read_bytes() == b"previous render"
    assert dir_listing(tmp_path) == ["track.wav"]


def test_os_failure_on_replace_becomes_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("soundstar.audio.export.os.replace", no_space)
    with pytest.raises(OutputError, match="No space left"):
        write_audio(tmp_path / "x.wav", stereo(), sample_rate=SR)
    assert dir_listing(tmp_path) == []


# --------------------------------------------------------------------------- stems


def test_write_stems_writes_each_stem_inside_the_directory(tmp_path: Path) -> None:
    stems = {
        "drums": stereo(),
        "Drums": sine(),
        "../../etc/passwd": sine(),
        "lead/synth": stereo(),
        ".hidden": sine(),
        "": sine(),
    }
    out = tmp_path / "stems"
    paths = write_stems(out, stems, sample_rate=SR, format="flac", bit_depth=24)
    assert set(paths) == set(stems)
    assert len({p.name for p in paths.values()}) == len(stems)
    for name, path in paths.items():
        assert path.parent == out
        assert path.suffix == ".flac" and not path.name.startswith(".")
        data, _ = sf.read(str(path), dtype="float32", always_2d=True)
        assert data.shape[1] == np.atleast_2d(stems[name]).shape[0]
    assert paths["../../etc/passwd"].name == "etc_passwd.flac"


def test_write_stems_validates_every_stem_before_writing_any(tmp_path: Path) -> None:
    bad = sine()
    bad[10] = np.nan
    with pytest.raises(ParameterError, match="stem 'pad'"):
        write_stems(tmp_path, {"bass": sine(), "pad": bad}, sample_rate=SR)
    assert dir_listing(tmp_path) == []


def test_write_stems_removes_its_files_when_a_later_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = sf.SoundFile.write
    calls = {"n": 0}

    def fail_second(self: sf.SoundFile, data: np.ndarray) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("encoder failed")
        real_write(self, data)

    monkeypatch.setattr("soundstar.audio.export.sf.SoundFile.write", fail_second)
    with pytest.raises(RuntimeError, match="encoder failed"):
        write_stems(tmp_path, {"bass": sine(), "pad": sine()}, sample_rate=SR)
    assert dir_listing(tmp_path) == []


def test_write_stems_needs_an_existing_parent(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_stems(tmp_path / "a" / "b", {"bass": sine()}, sample_rate=SR)
    with pytest.raises(ParameterError, match="no stems"):
        write_stems(tmp_path, {}, sample_rate=SR)
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="not a directory"):
        check_output_directory(tmp_path / "f")


@given(st.lists(st.text(max_size=40), max_size=12, unique=True))
def test_stem_file_names_are_safe_and_distinct(names: list[str]) -> None:
    files = stem_file_names(names, format="mp3")
    assert set(files) == set(names)
    lowered = [f.lower() for f in files.values()]
    assert len(set(lowered)) == len(lowered)
    for file_name in files.values():
        assert file_name.endswith(".mp3")
        stem = file_name[: -len(".mp3")]
        assert stem and not stem.startswith(".")
        assert "/" not in file_name and "\\" not in file_name and ".." not in file_name


# --------------------------------------------------------------------------- resampling


def dominant_hz(signal: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    return float(np.fft.rfftfreq(signal.size, 1.0 / sample_rate)[np.argmax(spectrum)])


def test_resample_keeps_pitch_and_scales_length() -> None:
    audio = np.stack([sine(1000.0, 1.0, 48000), sine(1500.0, 1.0, 48000)])
    out = resample(audio, orig_sample_rate=48000, target_sample_rate=44100)
    assert out.dtype == np.float32 and out.shape == (2, 44100)
    assert dominant_hz(out[0], 44100) == pytest.approx(1000.0, abs=2.0)
    assert dominant_hz(out[1], 44100) == pytest.approx(1500.0, abs=2.0)
    assert np.max(np.abs(out[:, 1000:-1000])) == pytest.approx(0.5, abs=0.01)


def test_resample_at_the_same_rate_returns_a_copy() -> None:
    audio = sine()
    out = resample(audio, orig_sample_rate=SR, target_sample_rate=SR)
    np.testing.assert_array_equal(out, audio)
    assert out is not audio


@pytest.mark.parametrize(
    ("orig", "target"), [(0, 44100), (44100, -1), (44100.0, 48000), (True, 48000)]
)
def test_resample_rejects_bad_rates(orig: object, target: object) -> None:
    with pytest.raises(ParameterError, match="positive integer"):
        resample(sine(), orig_sample_rate=orig, target_sample_rate=target)  # type: ignore[arg-type]


def test_resample_rejects_non_finite_audio() -> None:
    audio = sine()
    audio[3] = np.inf
    with pytest.raises(ParameterError, match="NaN or infinite"):
        resample(audio, orig_sample_rate=48000, target_sample_rate=44100)


@given(
    st.sampled_from([8000, 16000, *SUPPORTED_SAMPLE_RATES, 96000]),
    st.sampled_from(SUPPORTED_SAMPLE_RATES),
    st.integers(min_value=1, max_value=3000),
)
def test_resample_length_follows_the_rate_ratio(orig: int, target: int, n: int) -> None:
    out = resample(np.zeros(n, dtype=np.float32), orig_sample_rate=orig, target_sample_rate=target)
    assert out.shape == (int(np.ceil(n * target / orig)),)


@pytest.mark.parametrize("sample_rate", SUPPORTED_SAMPLE_RATES)
def test_mp3_encodes_at_every_supported_rate(tmp_path: Path, sample_rate: int) -> None:
    audio = sine(440.0, 0.25, sample_rate)
    path = write_audio(tmp_path / "r.mp3", audio, sample_rate=sample_rate, format="mp3")
    info = sf.info(str(path))
    assert (info.samplerate, info.frames) == (sample_rate, audio.size)
