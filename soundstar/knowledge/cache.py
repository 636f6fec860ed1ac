"""A compiled copy of built data (the validated knowledge base) in the user's cache directory.

Validating the YAML tables costs far more than a command's own work; a pickle of the result,
keyed by a hash of every input it was built from, is read back in milliseconds. A file that
is missing, stale, corrupt or not safely owned is ignored and built again; concurrent
builders each write a private temporary file and rename it into place, so a reader only
ever sees a whole file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import platform
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import VERSION as PYDANTIC_VERSION

T = TypeVar("T")

CACHE_DIR_ENV = "SOUNDSTAR_CACHE_DIR"
"""Where compiled files go; default `$XDG_CACHE_HOME/soundstar`, else `~/.cache/soundstar`."""
FORMAT = 1
"""Bumped when the layout of a cache file changes."""
KEEP = 8
"""Compiled files of one kind kept (several checkouts may share the directory); the least
recently used others are removed."""
_SUFFIX = ".pickle"


def cache_dir() -> Path | None:
    """The directory compiled files are kept in, from the environment at call time; None
    when there is no home to put it in (then nothing is cached)."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "soundstar"
    try:
        return Path.home() / ".cache" / "soundstar"
    except RuntimeError:  # no HOME and no password entry: a service account, a bare container
        return None


def content_key(files: Iterable[Path], *, salt: str = "") -> str:
    """A hash of each file's name and bytes (in name order) and of the interpreter and
    pydantic versions a pickle depends on; any change to any of them gives a new key."""
    digest = hashlib.sha256()
    versions = (FORMAT, platform.python_implementation(), sys.version_info[:2])
    digest.update(f"{versions}|{PYDANTIC_VERSION}|{salt}".encode())
    for path in sorted(files, key=lambda p: p.as_posix()):
        digest.update(b"\0" + path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def _trusted(path: Path) -> bool:
    """A pickle runs code when read: only use files and directories this user owns and no
    one else may write."""
    if not hasattr(os, "getuid"):
        return True
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path, key: str, kind: type[T]) -> T | None:
    try:
        if not _trusted(path):
            return None
        with path.open("rb") as handle:
            stored = pickle.load(handle)
    except Exception:  # missing, unreadable, truncated or from other code: build afresh
        return None
    if (
        isinstance(stored, tuple)
        and len(stored) == 2
        and stored[0] == key
        and isinstance(stored[1], kind)
    ):
        return stored[1]
    return None


def _write(directory: Path, path: Path, key: str, value: object) -> None:
    """Write beside the target and rename, so readers never see a partial file."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump((key, value), out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _prune(directory: Path, name: str, keep: Path) -> None:
    """Leave the KEEP most recently used compiled files of this kind; a file another
    process removes first is simply gone."""
    files = []
    for candidate in directory.glob(f"{name}-*{_SUFFIX}"):
        try:
            files.append((candidate.stat().st_mtime, candidate))
        except OSError:
            continue
    files.sort(reverse=True)
    for _, old in files[KEEP:]:
        if old != keep:
            old.unlink(missing_ok=True)


def load_compiled(name: str, key: str, build: Callable[[], T], kind: type[T]) -> T:
    """The value compiled under `key`, read from the cache or built and stored.

    A cache that cannot be read or written (a read-only home, a full disk) costs only the
    build: the value is always returned.
    """
    directory = cache_dir()
    if directory is None:
        return build()
    path = directory / f"{name}-{key}{_SUFFIX}"
    try:
        usable = not directory.exists() or _trusted(directory)
    except OSError:
        usable = False
    found = _read(path, key, kind) if usable else None
    if found is not None:
        with contextlib.suppress(OSError):
            os.utime(path)  # in use: pruning removes the least recently used first
        return found
    value = build()
    if usable:
        try:
            _write(directory, path, key, value)
            _prune(directory, name, path)
        except OSError:
            pass
    return value
