"""Audio kept on disk instead of in memory: written a block at a time, read back in blocks.

A render holds its stems, its bus and its master as spools, so that its memory does not
grow with the length of the piece. The file is float32 frames `(n, channels)` in a private
temporary file, removed when the spool is garbage collected or closed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from collections.abc import Iterator

import numpy as np

from soundstar.errors import ParameterError, RenderError

READ_FRAMES = 1 << 16  # frames read at a time by `blocks`: about 0.5 MiB of stereo


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class BlockAudio:
    """Audio read a block at a time: `read(start, stop)` gives samples [start, stop) as
    (channels, k) float32. A spool, or audio computed on demand from spools."""

    channels: int
    n_samples: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.channels, self.n_samples)

    def read(self, start: int, stop: int) -> np.ndarray:
        raise NotImplementedError

    def blocks(self, size: int = READ_FRAMES) -> Iterator[tuple[int, np.ndarray]]:
        """(start, (channels, k) samples) over the whole audio, `size` samples at a time."""
        for start in range(0, self.n_samples, size):
            yield start, self.read(start, start + size)

    def array(self) -> np.ndarray:
        """The whole audio as one (channels, n) array (memory for all of it)."""
        out = np.empty(self.shape, dtype=np.float32)
        for start, x in self.blocks():
            out[:, start : start + x.shape[1]] = x
        return out


class Spool(BlockAudio):
    """A temporary file of float32 audio with `channels` channels, appended to in blocks."""

    def __init__(self, channels: int, *, directory: str | None = None) -> None:
        if channels not in (1, 2):
            raise ParameterError(f"a spool holds 1 or 2 channels, got {channels}")
        fd, path = tempfile.mkstemp(prefix="soundstar-", suffix=".f32", dir=directory)
        self._file = os.fdopen(fd, "w+b")
        self.path = path
        self.channels = channels
        self.n_samples = 0
        self._remover = weakref.finalize(self, _remove, path)

    def __repr__(self) -> str:
        return f"Spool({self.channels} ch, {self.n_samples} samples)"

    def append(self, block: np.ndarray) -> None:
        """Add `block` ((channels, k), or (k,) for one channel) at the end."""
        self.write_at(self.n_samples, block)

    def write_at(self, start: int, block: np.ndarray) -> None:
        """Write `block` from sample `start` (at most the current end: no holes)."""
        x = np.asarray(block, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.shape[0] != self.channels or not 0 <= start <= self.n_samples:
            raise RenderError(f"cannot write {x.shape} at {start} into {self!r}")
        self._file.seek(start * self.channels * 4)
        self._file.write(np.ascontiguousarray(x.T).data)
        self.n_samples = max(self.n_samples, start + x.shape[1])

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) as a new (channels, k) float32 array (a view of frames)."""
        start, stop = max(0, start), min(stop, self.n_samples)
        if stop <= start:
            return np.zeros((self.channels, 0), dtype=np.float32)
        self._file.flush()
        frames = np.empty((stop - start, self.channels), dtype=np.float32)
        self._file.seek(start * self.channels * 4)
        self._file.readinto(frames.data.cast("B"))
        return frames.T

    def array(self) -> np.ndarray:
        """The whole spool as a read-only (channels, n) array mapped from the file: only the
        pages a caller touches are read (into the page cache, not the heap)."""
        if self.n_samples == 0:
            return np.zeros((self.channels, 0), dtype=np.float32)
        self._file.flush()
        mapped = np.memmap(
            self.path, dtype=np.float32, mode="r", shape=(self.n_samples, self.channels)
        )
        return np.asarray(mapped).T

    def close(self) -> None:
        """Close and remove the file (arrays already mapped from it stay readable)."""
        self._file.close()
        self._remover()


def spool_of(audio: np.ndarray) -> Spool:
    """A spool holding `audio` ((channels, n) or mono (n,))."""
    x = np.asarray(audio)
    spool = Spool(1 if x.ndim == 1 else x.shape[0])
    for start in range(0, x.shape[-1], READ_FRAMES):
        spool.append(x[..., start : start + READ_FRAMES])
    return spool
