"""What a storage failure means for a caller: bad input, a full store or one that refuses writes.

The database driver and the file system report faults in their own words; the service
answers each with one of Soundstar's errors (4xx for input the store cannot hold, 503
for a store that cannot work now), never with the driver's text or a server path.
"""

from __future__ import annotations

import errno

from sqlalchemy.exc import DataError, DBAPIError, OperationalError

from soundstar.errors import (
    ParameterError,
    SoundstarError,
    StorageFullError,
    StorageUnavailableError,
)

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_REFUSED_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
_FULL_WORDS = ("disk is full", "no space left", "could not extend file", "disk full")
_READ_ONLY_WORDS = ("readonly", "read-only", "read only")


def storage_fault(exc: BaseException) -> SoundstarError | None:
    """The error to answer for `exc` when it is a storage fault, else None."""
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in _FULL_ERRNOS:
            return StorageFullError("there is no space left to store this; try again later")
        if exc.errno in _REFUSED_ERRNOS:
            return StorageUnavailableError("the data store refuses writes; try again later")
        return None
    if isinstance(exc, DataError):
        return ParameterError("the request holds text or numbers the store cannot keep")
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).lower() if exc.orig is not None else ""
        if any(word in text for word in _FULL_WORDS):
            return StorageFullError("the database has no space left; try again later")
        if any(word in text for word in _READ_ONLY_WORDS):
            return StorageUnavailableError("the database refuses writes; try again later")
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            return StorageUnavailableError("the database cannot be reached; try again later")
    return None
