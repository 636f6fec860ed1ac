"""Writing rendered audio to WAV, FLAC and MP3 files, one file or a set of stems.

Every write is atomic: the data goes to a temporary file beside the target and
is moved into place only when complete, so a failed export never leaves a
partial file where a finished one is expected.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from math import gcd
from pathlib import Path
from typing import Literal, Protocol, get_args

import numpy as np
import soundfile as sf
from numpy.typing import NDArray
from scipy.signal import resample_poly

from soundstar.errors import OutputError, ParameterError

logger = logging.getLogger(__name__)

AudioFormat = Literal["wav", "flac", "mp3"]
BitDepth = Literal[16, 24, 32]
SUPPORTED_FORMATS: tuple[str, ...] = get_args(AudioFormat)
SUPPORTED_SAMPLE_RATES = (22050, 32000, 44100, 48000)
SUPPORTED_BIT_DEPTHS: tuple[int, ...] = get_args(BitDepth)

FILE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "wav": (".wav", ".wave"),
    "flac": (".flac",),
    "mp3": (".mp3",),
}
_OTHER_AUDIO_SUFFIXES = (".ogg", ".oga", ".opus", ".aif", ".aiff", ".m4a", ".aac")
_SF_FORMAT = {"wav": "WAV", "flac": "FLAC", "mp3": "MP3"}
_PCM_SUBTYPE = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}
# LAME VBR quality V2 (about 190 kbit/s on music): transparent for most listeners.
_MP3_BITRATE_MODE = "VARIABLE"
_MP3_COMPRESSION_LEVEL = 0.2
_FILE_MODE = 0o644
_STEM_NAME_MAX_CHARS = 64

FloatArray = NDArray[np.float32]
_BLOCK_FRAMES = 1 << 16  # frames encoded at a time


class AudioBlocks(Protocol):
    """Audio too long to hold: read a block at a time (an engine spool or stem)."""

    @property
    def shape(self) -> tuple[int, int]: ...

    def read(self, start: int, stop: int) -> NDArray[np.float32]: ...


Audio = NDArray[np.floating] | AudioBlocks


def check_output_path(path: Path) -> None:
    """Fail fast, before any rendering, when `path` cannot receive an output file.

    Raises OutputError when the path is a directory, its directory is missing
    or is not a directory, or that directory is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output path {str(path)!r} is a directory, not a file")
    if path.name in ("", ".", ".."):
        raise OutputError(f"output path {str(path)!r} does not name a file")
    _check_writable_directory(path.parent, what="output directory")


def check_output_directory(directory: Path) -> None:
    """Fail fast when `directory` cannot hold stems: it must exist and be
    writable, or be creatable (its parent exists and is writable)."""
    directory = Path(directory)
    if directory.exists():
        if not directory.is_dir():
            raise OutputError(f"stem directory {str(directory)!r} exists and is not a directory")
        _check_writable_directory(directory, what="stem directory")
    else:
        _check_writable_directory(directory.parent, what="parent of the stem directory")


def _check_writable_directory(directory: Path, *, what: str) -> None:
    directory = directory if str(directory) else Path(".")
    if not directory.exists():
        raise OutputError(f"{what} {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise OutputError(f"{what} {str(directory)!r} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {str(directory)!r} is not writable")
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".soundstar-probe-")
    except OSError as exc:
        raise OutputError(f"{what} {str(directory)!r} is not writable: {exc.strerror}") from exc
    os.close(fd)
    os.unlink(probe)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it onto `path`.

    On any failure the temporary file is removed and the target is left as
    it was. OS-level failures are raised as OutputError.
    """
    path = Path(path)
    check_output_path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputError(f"cannot create a file in {str(path.parent)!r}: {exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise OutputError(f"cannot write {str(path)!r}: {exc}") from exc
    except BaseException:
        _remove_quietly(tmp)
        raise


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def write_audio(
    path: Path,
    audio: Audio,
    *,
    sample_rate: int,
    format: AudioFormat = "wav",
    bit_depth: BitDepth = 16,
    channels: Literal[1, 2] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write float audio `(channels, n_samples)` (or 1-D mono) to `path`, atomically.

    `tags` (soundfile's string fields: title, comment, ...) go into the file's metadata.
    `bit_depth` 32 writes float WAV; FLAC holds 16 or 24 bits; MP3 ignores it.
    `channels=1` downmixes to mono (mean), `channels=2` duplicates mono.
    Samples beyond full scale are clipped (with a logged warning) for
    integer and MP3 encodings. Audio read in blocks is encoded a block at a time.
    Returns the path written.
    """
    path = Path(path)
    subtype = _subtype_for(format, bit_depth)
    _check_sample_rate(sample_rate)
    _check_suffix(path, format)
    frames = _frame_blocks(audio, channels=channels, clip=subtype != "FLOAT", label=path.name)
    _write_frames(path, frames, sample_rate=sample_rate, format=format, subtype=subtype, tags=tags)
    return path


def write_stems(
    directory: Path,
    stems: Mapping[str, Audio],
    *,
    sample_rate: int,
    format: AudioFormat = "wav",
    bit_depth: BitDepth = 16,
) -> dict[str, Path]:
    """Write each stem to `directory/<sanitised name>.<format>`; returns name -> path.

    Stems given as arrays are validated before the first file is written (stems
    read in blocks as they are written); if a write fails, the stems already
    written by this call are removed. The directory
    is created when missing (its parent must exist).
    """
    directory = Path(directory)
    if not stems:
        raise ParameterError("no stems to write")
    subtype = _subtype_for(format, bit_depth)
    _check_sample_rate(sample_rate)
    check_output_directory(directory)
    file_names = stem_file_names(list(stems), format=format)
    prepared = {
        name: _frame_blocks(audio, channels=None, clip=subtype != "FLOAT", label=f"stem {name!r}")
        for name, audio in stems.items()
    }
    for name, blocks in prepared.items():  # arrays are checked now, blocks on their first read
        prepared[name] = _checked_first(blocks)
    try:
        directory.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create stem directory {str(directory)!r}: {exc}") from exc
    written: dict[str, Path] = {}
    try:
        for name, frames in prepared.items():
            target = directory / file_names[name]
            _write_frames(target, frames, sample_rate=sample_rate, format=format, subtype=subtype)
            written[name] = target
    except BaseException:
        for done in written.values():
            _remove_quietly(done)
        raise
    return written


def stem_file_names(names: list[str], *, format: AudioFormat = "wav") -> dict[str, str]:
    """Map stem names to safe, distinct file names (no separators, no leading dots)."""
    if format not in SUPPORTED_FORMATS:
        raise ParameterError(_format_message(format))
    suffix = FILE_SUFFIXES[format][0]
    used: set[str] = set()
    result: dict[str, str] = {}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:_STEM_NAME_MAX_CHARS] or "stem"
        candidate, counter = base, 2
        while candidate.lower() in used:
            candidate = f"{base}_{counter}"
            counter += 1
        used.add(candidate.lower())
        result[name] = candidate + suffix
    return result


def resample(
    audio: NDArray[np.floating], *, orig_sample_rate: int, target_sample_rate: int
) -> FloatArray:
    """Resample along the last axis with a polyphase filter (scipy `resample_poly`).

    Exports never resample on their own: a caller with audio at another rate
    calls this first.
    """
    rates = (("orig_sample_rate", orig_sample_rate), ("target_sample_rate", target_sample_rate))
    for label, rate in rates:
        if isinstance(rate, bool) or not isinstance(rate, int | np.integer) or rate <= 0:
            raise ParameterError(f"{label} must be a positive integer in Hz, got {rate!r}")
    data = np.asarray(audio)
    if data.ndim not in (1, 2) or not np.issubdtype(data.dtype, np.floating):
        raise ParameterError(
            "audio must be a float array shaped (n_samples,) or (channels, n_samples)"
        )
    if not np.all(np.isfinite(data)):
        raise ParameterError("audio contains NaN or infinite samples")
    if orig_sample_rate == target_sample_rate:
        return data.astype(np.float32, copy=True)
    common = gcd(int(orig_sample_rate), int(target_sample_rate))
    up, down = int(target_sample_rate) // common, int(orig_sample_rate) // common
    out = resample_poly(data.astype(np.float64), up, down, axis=-1)
    return np.asarray(out, dtype=np.float32)


def _subtype_for(format: str, bit_depth: int) -> str:
    if format not in SUPPORTED_FORMATS:
        raise ParameterError(_format_message(format))
    if bit_depth not in SUPPORTED_BIT_DEPTHS:
        raise ParameterError(f"bit depth must be one of {SUPPORTED_BIT_DEPTHS}, got {bit_depth!r}")
    if format == "mp3":
        return "MPEG_LAYER_III"
    if format == "flac" and bit_depth == 32:
        raise ParameterError("FLAC holds 16 or 24 bits per sample; use WAV for 32-bit float")
    return _PCM_SUBTYPE[bit_depth]


def _format_message(format: object) -> str:
    return f"unknown audio format {format!r}; one of {', '.join(SUPPORTED_FORMATS)}"


def _check_sample_rate(sample_rate: int) -> None:
    if not isinstance(sample_rate, int | np.integer) or sample_rate not in SUPPORTED_SAMPLE_RATES:
        rates = ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES)
        raise ParameterError(
            f"sample rate {sample_rate!r} Hz is not supported; one of {rates} "
            "(call resample() first to convert)"
        )


def _check_suffix(path: Path, format: str) -> None:
    suffix = path.suffix.lower()
    known = {s for suffixes in FILE_SUFFIXES.values() for s in suffixes}
    known.update(_OTHER_AUDIO_SUFFIXES)
    if suffix in known and suffix not in FILE_SUFFIXES[format]:
        raise ParameterError(f"file name {path.name!r} does not match the format {format!r}")


def _frame_blocks(
    audio: Audio, *, channels: int | None, clip: bool, label: str
) -> Iterator[FloatArray]:
    """`_prepare` of the whole array, or of each block of audio read in blocks."""
    if isinstance(audio, np.ndarray):
        yield _prepare(audio, channels=channels, clip=clip, label=label)
        return
    n = int(audio.shape[-1])
    if n == 0:
        raise ParameterError(f"{label}: audio is empty")
    for start in range(0, n, _BLOCK_FRAMES):
        block = audio.read(start, min(start + _BLOCK_FRAMES, n))
        yield _prepare(block, channels=channels, clip=clip, label=label)


def _checked_first(blocks: Iterator[FloatArray]) -> Iterator[FloatArray]:
    """`blocks` with the first block prepared now (so an array's faults show before writing)."""
    first = next(blocks)

    def rest() -> Iterator[FloatArray]:
        yield first
        yield from blocks

    return rest()


def _prepare(
    audio: NDArray[np.floating], *, channels: int | None, clip: bool, label: str
) -> FloatArray:
    """Validate and shape audio into soundfile's `(n_samples, channels)` float32 frames."""
    data = np.asarray(audio)
    if not np.issubdtype(data.dtype, np.floating):
        raise ParameterError(f"{label}: audio must be floating point in [-1, 1], got {data.dtype}")
    if data.ndim == 1:
        data = data[np.newaxis, :]
    if data.ndim != 2 or data.shape[0] not in (1, 2):
        raise ParameterError(
            f"{label}: audio must be shaped (n_samples,) or (channels, n_samples) with 1 or 2 "
            f"channels, got shape {np.shape(audio)}"
        )
    if data.shape[1] == 0:
        raise ParameterError(f"{label}: audio is empty")
    if not np.all(np.isfinite(data)):
        raise ParameterError(f"{label}: audio contains NaN or infinite samples")
    if channels not in (None, 1, 2):
        raise ParameterError(f"channels must be 1, 2 or None, got {channels!r}")
    if channels == 1 and data.shape[0] == 2:
        data = data.mean(axis=0, keepdims=True)
    elif channels == 2 and data.shape[0] == 1:
        data = np.repeat(data, 2, axis=0)
    frames = np.ascontiguousarray(data.T, dtype=np.float32)
    if clip:
        over = int(np.count_nonzero(np.abs(frames) > 1.0))
        if over:
            logger.warning("%s: clipping %d samples beyond full scale", label, over)
            np.clip(frames, -1.0, 1.0, out=frames)
    return frames


_TAG_NAMES = ("title", "copyright", "software", "artist", "comment", "date", "album", "license")


def _write_frames(
    path: Path,
    frames: Iterator[FloatArray],
    *,
    sample_rate: int,
    format: str,
    subtype: str,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Encode the frame blocks into `path` with `tags` in its metadata, atomically."""
    unknown = set(tags or {}) - set(_TAG_NAMES)
    if unknown:
        raise ParameterError(f"unknown audio tags {sorted(unknown)}; use {', '.join(_TAG_NAMES)}")
    extra: dict[str, object] = {}
    if format == "mp3":
        extra = {"bitrate_mode": _MP3_BITRATE_MODE, "compression_level": _MP3_COMPRESSION_LEVEL}
    first = next(frames)
    with atomic_output(path) as tmp:
        try:
            with sf.SoundFile(
                tmp, "w", sample_rate, first.shape[1], subtype=subtype,
                format=_SF_FORMAT[format], **extra,
            ) as out:  # fmt: skip
                for name, value in (tags or {}).items():
                    setattr(out, name, value)
                out.write(first)
                for block in frames:
                    out.write(block)
        except sf.LibsndfileError as exc:
            raise OutputError(f"cannot encode {str(path)!r} as {format}: {exc}") from exc
