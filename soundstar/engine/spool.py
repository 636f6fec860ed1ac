"""Audio kept out of the way: written a block at a time, read back in blocks.

A render holds its stems, its bus and its master as spools, so that its memory does not
grow with the length of the piece. A spool holds its audio in memory while a process-wide
budget of bytes (`MemoryBudget`, shared by every spool) lasts, and moves it to a private
temporary file of float32 frames `(n, channels)` when it would pass it: a short piece is
read from memory, a long one from disk, and what is held never passes the budget. The
file is removed, and the budget given back, when the spool is garbage collected or closed.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator

import numpy as np

from soundstar.errors import ParameterError, RenderError

READ_FRAMES = 1 << 16  # frames read at a time by `blocks`: about 0.5 MiB of stereo
MEMORY_BUDGET_BYTES = 128 << 20  # audio all spools together may hold in memory
_MIN_FRAMES = 1 << 16  # the first allocation of a spool in memory


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class MemoryBudget:
    """Bytes that spools may hold in memory, shared between them (and threads)."""

    def __init__(self, limit_bytes: int) -> None:
        if limit_bytes < 0:
            raise ParameterError(f"a memory budget is at least 0 bytes, got {limit_bytes}")
        self.limit_bytes = limit_bytes
        self.used_bytes = 0
        self._lock = threading.Lock()

    def take(self, n_bytes: int) -> bool:
        """Reserve `n_bytes` if they fit; whether they did."""
        with self._lock:
            if self.used_bytes + n_bytes > self.limit_bytes:
                return False
            self.used_bytes += n_bytes
            return True

    def give(self, n_bytes: int) -> None:
        with self._lock:
            self.used_bytes -= n_bytes


SHARED_BUDGET = MemoryBudget(MEMORY_BUDGET_BYTES)


class _Held:
    """The bytes a spool holds of a budget; given back once, by `release`."""

    def __init__(self, budget: MemoryBudget) -> None:
        self.budget = budget
        self.n_bytes = 0

    def release(self) -> None:
        self.budget.give(self.n_bytes)
        self.n_bytes = 0


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
    """float32 audio with `channels` channels, appended to in blocks: in memory within
    `budget` (default: the process's shared one), else in a temporary file. A spool told
    its length (`expected_samples`) takes memory for all of it at its first write, or
    goes to disk at once, instead of growing and copying."""

    def __init__(
        self,
        channels: int,
        *,
        directory: str | None = None,
        budget: MemoryBudget | None = None,
        expected_samples: int = 0,
    ) -> None:
        if channels not in (1, 2):
            raise ParameterError(f"a spool holds 1 or 2 channels, got {channels}")
        self.channels = channels
        self.n_samples = 0
        self.path: str | None = None
        self._directory = directory
        self._expected = max(0, expected_samples)
        self._file: io.BufferedRandom | None = None
        self._memory: np.ndarray | None = np.zeros((channels, 0), dtype=np.float32)
        self._held = _Held(budget or SHARED_BUDGET)
        self._releaser = weakref.finalize(self, self._held.release)
        self._remover: Callable[[], object] | None = None

    def __repr__(self) -> str:
        on_disk = self._file is not None and not self._file.closed
        where = "memory" if self._memory is not None else "disk" if on_disk else "closed"
        return f"Spool({self.channels} ch, {self.n_samples} samples, in {where})"

    @property
    def in_memory(self) -> bool:
        return self._memory is not None

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
        stop = start + x.shape[1]
        if self._memory is not None and self._room_for(stop):
            self._memory[:, start:stop] = x
        else:
            file = self._disk()
            file.seek(start * self.channels * 4)
            file.write(np.ascontiguousarray(x.T).data)
        self.n_samples = max(self.n_samples, stop)

    def _room_for(self, stop: int) -> bool:
        """Grow the memory to hold `stop` samples within the budget; False if it cannot."""
        memory = self._memory
        assert memory is not None
        if stop <= memory.shape[1]:
            return True
        frames = max(stop, self._expected, 2 * memory.shape[1], _MIN_FRAMES)
        extra = (frames - memory.shape[1]) * self.channels * 4
        if not self._held.budget.take(extra):
            return False
        self._held.n_bytes += extra
        grown = np.empty((self.channels, frames), dtype=np.float32)
        grown[:, : self.n_samples] = memory[:, : self.n_samples]
        self._memory = grown
        return True

    def _disk(self) -> io.BufferedRandom:
        """The spool's file, moving what is in memory there (and giving its bytes back)."""
        if self._file is not None:
            return self._file
        fd, path = tempfile.mkstemp(prefix="soundstar-", suffix=".f32", dir=self._directory)
        self._file = os.fdopen(fd, "w+b")
        self.path = path
        self._remover = weakref.finalize(self, _remove, path)
        if self._memory is not None and self.n_samples:
            for begin in range(0, self.n_samples, READ_FRAMES):
                part = self._memory[:, begin : min(begin + READ_FRAMES, self.n_samples)]
                self._file.write(np.ascontiguousarray(part.T).data)
        self._memory = None
        self._held.release()
        return self._file

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) as a new (channels, k) float32 array."""
        start, stop = max(0, start), min(stop, self.n_samples)
        if stop <= start:
            return np.zeros((self.channels, 0), dtype=np.float32)
        if self._memory is not None:
            return self._memory[:, start:stop].copy()
        file = self._disk()
        file.flush()
        frames = np.empty((stop - start, self.channels), dtype=np.float32)
        file.seek(start * self.channels * 4)
        file.readinto(frames.data.cast("B"))
        return frames.T

    def array(self) -> np.ndarray:
        """The whole spool as a read-only (channels, n) array: a view of the memory, or
        mapped from the file (only the pages a caller touches are read)."""
        if self.n_samples == 0:
            return np.zeros((self.channels, 0), dtype=np.float32)
        if self._memory is not None:
            view = self._memory[:, : self.n_samples]
            view.flags.writeable = False
            return view
        file = self._disk()
        file.flush()
        assert self.path is not None
        mapped = np.memmap(
            self.path, dtype=np.float32, mode="r", shape=(self.n_samples, self.channels)
        )
        return np.asarray(mapped).T

    def close(self) -> None:
        """Give back its memory, close and remove its file (arrays already taken from it
        stay readable)."""
        self._memory = None
        self._releaser()
        if self._file is not None:
            self._file.close()
        if self._remover is not None:
            self._remover()


def spool_of(audio: np.ndarray) -> Spool:
    """A spool holding `audio` ((channels, n) or mono (n,))."""
    x = np.asarray(audio)
    spool = Spool(1 if x.ndim == 1 else x.shape[0], expected_samples=x.shape[-1])
    for start in range(0, x.shape[-1], READ_FRAMES):
        spool.append(x[..., start : start + READ_FRAMES])
    return spool
